//! Reading a request body as the spec types it, whatever the request type's
//! derived `Deserialize` would tolerate.
//!
//! serde's derived struct visitors also build a struct from a JSON array
//! (`{"features": [true]}` would set `push`), and serde_json reads an enum
//! from `{"staging": null}` as well as from `"staging"`. The spec says
//! `type: object` and `type: string`. Rather than a deserializer per field,
//! the body is deserialized through [`Strict`], a `Deserializer` over the
//! parsed value that offers a struct only an object, an enum only a string,
//! and hands the same strictness down to every nested value; the request
//! types keep their plain derives. [`parse`] also refuses what the derived
//! code never sees: a key given twice (parsers disagree on which one wins)
//! and NUL, which PostgreSQL cannot store in text or `jsonb`.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_json::{Map, Value};

/// What is wrong with a body before its fields are looked at.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyProblem {
    /// Not JSON (serde_json's words, with line and column), or a key given twice.
    Syntax(String),
    /// A string or key holds U+0000; the JSON path of the first one.
    Nul(String),
}

/// The JSON value of `body`, refusing duplicate keys and NUL anywhere.
pub fn parse(body: &[u8]) -> Result<Value, BodyProblem> {
    let UniqueKeys(value) = serde_json::from_slice(body).map_err(|error| BodyProblem::Syntax(error.to_string()))?;
    match nul_path(&value, "") {
        Some(path) => Err(BodyProblem::Nul(path)),
        None => Ok(value),
    }
}

/// The path of the first string or key holding NUL: `name`,
/// `authorized_domains[2]`, `email_credentials.api_key`.
fn nul_path(value: &Value, at: &str) -> Option<String> {
    let join = |key: &str| if at.is_empty() { key.to_owned() } else { format!("{at}.{key}") };
    match value {
        Value::String(text) if text.contains('\0') => Some(if at.is_empty() { ".".to_owned() } else { at.to_owned() }),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| nul_path(item, &format!("{at}[{index}]")))
        }
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            // The key is printed escaped: it is the thing that is wrong.
            if key.contains('\0') { Some(join(&key.escape_debug().to_string())) } else { nul_path(item, &join(key)) }
        }),
        _ => None,
    }
}

/// A JSON value whose objects have no key twice.
struct UniqueKeys(Value);

impl<'de> de::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = sequence.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(item) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{}`", key.escape_debug())));
            }
            object.insert(key, item);
        }
        Ok(Value::Object(object))
    }
}

/// A `Deserializer` over a parsed value that gives a struct only an
/// object and an enum only a string, at every depth.
pub struct Strict(pub Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for Strict {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

fn kind(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(value) => Unexpected::Bool(*value),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(text) => Unexpected::Str(text),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(StrictSeq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(StrictMap { entries: map.into_iter(), next: None }),
            // Scalars have nothing nested to be strict about.
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(Strict(value)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(StrictMap { entries: map.into_iter(), next: None }),
            other => Err(de::Error::invalid_type(kind(&other), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(StrictMap { entries: map.into_iter(), next: None }),
            other => Err(de::Error::invalid_type(kind(&other), &visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(StrictSeq(items.into_iter())),
            other => Err(de::Error::invalid_type(kind(&other), &visitor)),
        }
    }

    /// The request types' enums are all unit variants, written as strings.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(StrictVariant(variant)),
            other => Err(de::Error::invalid_type(kind(&other), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct StrictSeq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for StrictSeq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|item| seed.deserialize(Strict(item))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct StrictMap {
    entries: serde_json::map::IntoIter,
    next: Option<Value>,
}

impl<'de> MapAccess<'de> for StrictMap {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.next = Some(value);
        seed.deserialize(Value::String(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self.next.take().ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(Strict(value))
    }
}

struct StrictVariant(String);

impl<'de> EnumAccess<'de> for StrictVariant {
    type Error = serde_json::Error;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, UnitOnly), Self::Error> {
        seed.deserialize(Value::String(self.0)).map(|variant| (variant, UnitOnly))
    }
}

/// The variant of an enum read from a string: it has no content.
struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Self::Error> {
        Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a variant with content"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a tuple variant"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(de::Error::invalid_type(Unexpected::UnitVariant, &"a struct variant"))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        flag: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Colour {
        Red,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: String,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        colour: Option<Colour>,
        #[serde(default)]
        tags: Option<Vec<String>>,
        #[serde(default)]
        count: Option<i32>,
    }

    fn read(body: &str) -> Result<Outer, String> {
        let value = parse(body.as_bytes()).map_err(|problem| format!("{problem:?}"))?;
        Outer::deserialize(Strict(value)).map_err(|error| error.to_string())
    }

    #[test]
    fn objects_enums_lists_and_numbers_read_as_usual() {
        let outer = read(r#"{"name":"a","inner":{"flag":true},"colour":"red","tags":["x"],"count":3}"#).unwrap();
        assert_eq!(outer.inner, Some(Inner { flag: Some(true) }));
        assert_eq!(outer.colour, Some(Colour::Red));
        assert_eq!(outer.tags, Some(vec!["x".to_owned()]));
        assert_eq!(outer.count, Some(3));
        assert_eq!(read(r#"{"name":"a","inner":null}"#).unwrap().inner, None);
    }

    #[test]
    fn a_struct_is_never_read_from_an_array() {
        assert!(read(r#"{"name":"a","inner":[true]}"#).unwrap_err().contains("invalid type: sequence"));
        assert!(Outer::deserialize(Strict(serde_json::json!(["a"]))).is_err());
    }

    #[test]
    fn an_enum_is_read_only_from_a_string() {
        assert!(read(r#"{"name":"a","colour":{"red":null}}"#).unwrap_err().contains("invalid type: map"));
        assert!(read(r#"{"name":"a","colour":["red"]}"#).is_err());
    }

    #[test]
    fn wrong_scalar_types_are_refused() {
        assert!(read(r#"{"name":1}"#).is_err());
        assert!(read(r#"{"name":"a","count":1.5}"#).is_err());
        assert!(read(r#"{"name":"a","count":4294967296}"#).is_err());
        assert!(read(r#"{"name":"a","tags":"x"}"#).is_err());
        assert!(read(r#"{"name":"a","tags":{"0":"x"}}"#).is_err());
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(read(r#"{"name":"a","name":"b"}"#).unwrap_err().contains("duplicate key `name`"));
        assert!(read(r#"{"name":"a","inner":{"flag":true,"flag":false}}"#).unwrap_err().contains("duplicate key"));
    }

    #[test]
    fn nul_is_refused_in_any_string_or_key_with_its_path() {
        assert_eq!(parse(br#"{"name":"a\u0000"}"#), Err(BodyProblem::Nul("name".into())));
        assert_eq!(parse(br#"{"tags":["ok","\u0000"]}"#), Err(BodyProblem::Nul("tags[1]".into())));
        assert_eq!(parse(br#"{"c":{"k":"v\u0000"}}"#), Err(BodyProblem::Nul("c.k".into())));
        assert_eq!(parse(br#"{"c":{"k\u0000":"v"}}"#), Err(BodyProblem::Nul("c.k\\0".into())));
        assert!(parse(br#"{"name":"\u0001 is not NUL"}"#).is_ok());
    }
}
