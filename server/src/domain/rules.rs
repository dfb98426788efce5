//! Field rules shared by the domain types. Each returns the value to store
//! (trimmed, lower-cased) or a sentence naming the field.

use std::{collections::HashSet, sync::LazyLock};

use regex::Regex;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{Object, ObjectBuilder, RefOr, Schema, Type, schema::SchemaType},
};

use super::ValidationError;

/// Credentials of an engagement or email platform: a free-form JSON object.
pub type Credentials = serde_json::Map<String, serde_json::Value>;

pub const NAME_MAX_CHARS: usize = 100;
pub const URL_MAX_CHARS: usize = 2048;
pub const AUTHORIZED_DOMAINS_MAX: usize = 100;
pub const RETENTION_DAYS_MIN: i32 = 1;
pub const RETENTION_DAYS_MAX: i32 = 3650;

/// A name or label, as the spec's `pattern` states it: no control character
/// (C0, DEL, C1) and no bidirectional formatting character (U+061C,
/// U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) anywhere, and one character
/// that is neither those nor white space as `str::trim` understands it
/// (Unicode `White_Space`, spelled out because `\s` differs between regex
/// engines). Names are shown in lists and
/// terminals, where an escape sequence rewrites the screen and a bidi
/// override makes `evil` read as `live`; nobody needs either in a name.
pub const NAME_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*[^\u0000-\u0020\u007F-\u00A0\u061C\u1680\u2000-\u200A\u200E\u200F\u2028\u2029\u202A-\u202F\u205F\u2066-\u2069\u3000][^\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$";

/// Free text (an app's `description` and `context_info`), as the spec's
/// `pattern` states it: no control character but tab, line feed and
/// carriage return, which multi-line prose uses. Bidi formatting characters
/// are allowed here, unlike in names: right-to-left prose legitimately
/// embeds them, and the CLI escapes them when it prints a table.
pub const FREE_TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Any string the API stores where no stricter rule applies (credential
/// values): no NUL, which PostgreSQL cannot store.
pub const NO_NUL_PATTERN: &str = r"^[^\u0000]*$";

/// Whether `character` is refused anywhere in a name: see [`NAME_PATTERN`].
fn is_refused_in_names(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `character` is refused in free text: see [`FREE_TEXT_PATTERN`].
fn is_refused_in_free_text(character: char) -> bool {
    character.is_control() && !matches!(character, '\t' | '\n' | '\r')
}

/// A name of 1-100 characters with something besides white space and no
/// control or bidi formatting character (see [`NAME_PATTERN`]), stored
/// trimmed; `what` is the sentence's subject. The length is the sent one,
/// as the spec's `maxLength` counts it.
pub fn trimmed_name(value: &str, what: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > NAME_MAX_CHARS {
        return Err(ValidationError::new(format!(
            "{what} is required and must be 1-{NAME_MAX_CHARS} characters, not only white space"
        )));
    }
    if let Some(character) = value.chars().find(|character| is_refused_in_names(*character)) {
        return Err(ValidationError::new(format!(
            "{what} must not contain control or bidirectional formatting characters (found U+{:04X})",
            u32::from(character)
        )));
    }
    Ok(trimmed.to_owned())
}

/// The request schema of a field [`trimmed_name`] checks. utoipa's
/// `#[schema(pattern)]` takes only a literal, so the fields that share
/// [`NAME_PATTERN`] take their whole schema from here (`schema_with`), which
/// leaves their doc comments out: `description` says it instead.
pub fn name_schema(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(1))
        .max_length(Some(NAME_MAX_CHARS))
        .pattern(Some(NAME_PATTERN))
        .build()
}

/// Optional free text of at most `max_chars` characters, without control
/// characters but tab and line breaks (see [`FREE_TEXT_PATTERN`]).
pub fn optional_text(value: Option<String>, field: &str, max_chars: usize) -> Result<Option<String>, ValidationError> {
    let Some(text) = value else { return Ok(None) };
    if text.chars().count() > max_chars {
        return Err(ValidationError::new(format!("`{field}` must be at most {max_chars} characters")));
    }
    if let Some(character) = text.chars().find(|character| is_refused_in_free_text(*character)) {
        return Err(ValidationError::new(format!(
            "`{field}` must not contain control characters other than tab and line breaks (found U+{:04X})",
            u32::from(character)
        )));
    }
    Ok(Some(text))
}

/// The request schema of a nullable field [`optional_text`] checks against
/// `max_chars`; see [`name_schema`] for why it is built here.
pub fn free_text_schema(max_chars: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(max_chars))
        .pattern(Some(FREE_TEXT_PATTERN))
        .build()
}

/// The most bytes a credentials object may take, serialized as compact JSON.
pub const CREDENTIALS_MAX_BYTES: usize = 16 * 1024;

/// The request schema of a credentials object: flat, string values only
/// (free of NUL), at most [`CREDENTIALS_MAX_BYTES`] as compact JSON (which
/// OpenAPI 3.0 cannot state, so its description does).
pub struct CredentialsInput;

impl PartialSchema for CredentialsInput {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new().schema_type(Type::String).pattern(Some(NO_NUL_PATTERN));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(value))
            .description(Some(
                "A platform's credentials: a flat object of string values, at most 16 KiB (16,384 bytes) as compact \
                 JSON.",
            ))
            .into()
    }
}

impl ToSchema for CredentialsInput {}

/// Credentials as [`CredentialsInput`] states them; the size has a code of
/// its own, as a client treats "too large" apart from "not a string".
pub fn credentials(value: &Credentials, field: &str) -> Result<(), ValidationError> {
    if let Some((key, _)) = value.iter().find(|(_, value)| !value.is_string()) {
        return Err(ValidationError::new(format!(
            "`{field}.{key}` must be a string: credentials are a flat object of string values"
        )));
    }
    let size = serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len());
    if size > CREDENTIALS_MAX_BYTES {
        return Err(ValidationError::with_code(
            "credentials_too_large",
            format!("`{field}` must be at most {CREDENTIALS_MAX_BYTES} bytes as JSON, not {size}"),
        ));
    }
    Ok(())
}

/// Optional credentials, checked by [`credentials`] when present.
pub fn optional_credentials(value: Option<Credentials>, field: &str) -> Result<Option<Credentials>, ValidationError> {
    if let Some(object) = &value {
        credentials(object, field)?;
    }
    Ok(value)
}

// What follows the scheme in both URL patterns.
macro_rules! url_after_scheme {
    () => {
        r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?([/?]([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    };
}

/// An absolute http(s) URL as the spec's `pattern` states it, so that what
/// a client may validate before sending is exactly what the server accepts:
/// a host name (no user info, no IP-literal brackets), an optional port of
/// 0-65535, then an optional path and query of RFC 3986 characters with
/// well-formed percent escapes; no fragment.
pub const HTTP_URL_PATTERN: &str = concat!("^https?://", url_after_scheme!());
/// [`HTTP_URL_PATTERN`] with https only.
pub const HTTPS_URL_PATTERN: &str = concat!("^https://", url_after_scheme!());

/// The request schema of an http(s) URL field: [`HTTP_URL_PATTERN`], at most
/// 2,048 characters.
pub struct HttpUrl;

/// The request schema of an https URL field: [`HTTPS_URL_PATTERN`].
pub struct HttpsUrl;

fn url_schema(pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(URL_MAX_CHARS)).pattern(Some(pattern)).into()
}

impl PartialSchema for HttpUrl {
    fn schema() -> RefOr<Schema> {
        url_schema(HTTP_URL_PATTERN)
    }
}

impl ToSchema for HttpUrl {}

impl PartialSchema for HttpsUrl {
    fn schema() -> RefOr<Schema> {
        url_schema(HTTPS_URL_PATTERN)
    }
}

impl ToSchema for HttpsUrl {}

/// Which schemes a URL field accepts.
#[derive(Clone, Copy)]
pub enum Schemes {
    HttpOrHttps,
    HttpsOnly,
}

impl Schemes {
    fn pattern(self) -> &'static Regex {
        static HTTP: LazyLock<Regex> = LazyLock::new(|| Regex::new(HTTP_URL_PATTERN).expect("a valid pattern"));
        static HTTPS: LazyLock<Regex> = LazyLock::new(|| Regex::new(HTTPS_URL_PATTERN).expect("a valid pattern"));
        match self {
            Self::HttpOrHttps => &HTTP,
            Self::HttpsOnly => &HTTPS,
        }
    }
}

/// An optional absolute URL (see [`HTTP_URL_PATTERN`]) of at most 2,048 characters.
pub fn optional_url(value: Option<String>, field: &str, schemes: Schemes) -> Result<Option<String>, ValidationError> {
    let Some(url) = value else { return Ok(None) };
    if url.len() <= URL_MAX_CHARS && schemes.pattern().is_match(&url) {
        return Ok(Some(url));
    }
    let kind = match schemes {
        Schemes::HttpOrHttps => "http(s)",
        Schemes::HttpsOnly => "https",
    };
    Err(ValidationError::new(format!("`{field}` must be an absolute {kind} URL of at most {URL_MAX_CHARS} characters")))
}

/// One `authorized_domains` entry: an RFC 1123 host name (labels of letters,
/// digits and inner hyphens, at most 63 characters each), optionally
/// starting with `*.`; at most [`AUTHORIZED_DOMAIN_MAX_CHARS`] in all.
pub const AUTHORIZED_DOMAIN_PATTERN: &str =
    r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";
pub const AUTHORIZED_DOMAIN_MAX_CHARS: usize = 253;

/// The request schema of an `authorized_domains` entry.
pub struct AuthorizedDomain;

impl PartialSchema for AuthorizedDomain {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(AUTHORIZED_DOMAIN_MAX_CHARS))
            .pattern(Some(AUTHORIZED_DOMAIN_PATTERN))
            .into()
    }
}

impl ToSchema for AuthorizedDomain {}

/// Host names as [`AUTHORIZED_DOMAIN_PATTERN`] states them; stored
/// lower-case, unique whatever their case.
pub fn authorized_domains(domains: Vec<String>) -> Result<Vec<String>, ValidationError> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(AUTHORIZED_DOMAIN_PATTERN).expect("a valid pattern"));
    if domains.len() > AUTHORIZED_DOMAINS_MAX {
        return Err(ValidationError::new(format!(
            "`authorized_domains` may hold at most {AUTHORIZED_DOMAINS_MAX} host names"
        )));
    }
    let mut seen = HashSet::with_capacity(domains.len());
    let mut normalized = Vec::with_capacity(domains.len());
    for domain in domains {
        if domain.len() > AUTHORIZED_DOMAIN_MAX_CHARS || !PATTERN.is_match(&domain) {
            return Err(ValidationError::new(format!(
                "`authorized_domains` entry `{domain}` is not a host name (a leading `*.` is allowed)"
            )));
        }
        let lower = domain.to_ascii_lowercase();
        if !seen.insert(lower.clone()) {
            return Err(ValidationError::new(format!("`authorized_domains` lists `{lower}` more than once")));
        }
        normalized.push(lower);
    }
    Ok(normalized)
}

pub fn retention_days(days: i32) -> Result<i32, ValidationError> {
    if (RETENTION_DAYS_MIN..=RETENTION_DAYS_MAX).contains(&days) {
        Ok(days)
    } else {
        Err(ValidationError::new(format!(
            "`data_retention_days` must be between {RETENTION_DAYS_MIN} and {RETENTION_DAYS_MAX}"
        )))
    }
}

/// An IANA time zone name, such as `Europe/Paris` or `UTC`.
pub fn timezone(name: String) -> Result<String, ValidationError> {
    if name.parse::<chrono_tz::Tz>().is_ok() {
        Ok(name)
    } else {
        Err(ValidationError::new(format!("`timezone` `{name}` is not an IANA time zone name")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(trimmed_name("  Shop ", "App name").unwrap(), "Shop");
        assert!(trimmed_name("   ", "App name").is_err());
        assert!(trimmed_name(&"é".repeat(100), "App name").is_ok());
        let error = trimmed_name(&"a".repeat(101), "App name").unwrap_err();
        assert_eq!(error.message, "App name is required and must be 1-100 characters, not only white space");
        assert!(trimmed_name(&format!(" {}", "a".repeat(100)), "App name").is_err(), "the sent length counts");
        assert!(trimmed_name("\u{3000}\u{85}", "App name").is_err());
    }

    #[test]
    fn the_spec_states_the_patterns_the_rules_check() {
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        for (schema, field) in [
            ("CreateAppRequest", "name"),
            ("UpdateAppRequest", "name"),
            ("CreateApiTokenRequest", "label"),
            ("UpdateApiTokenRequest", "label"),
            ("UpdateOrganizationRequest", "name"),
        ] {
            assert_eq!(schemas[schema]["properties"][field]["pattern"], NAME_PATTERN, "{schema}.{field}");
        }
        for schema in ["CreateAppRequest", "UpdateAppRequest"] {
            for field in ["description", "context_info"] {
                assert_eq!(schemas[schema]["properties"][field]["pattern"], FREE_TEXT_PATTERN, "{schema}.{field}");
            }
        }
        assert_eq!(schemas["CredentialsInput"]["additionalProperties"]["pattern"], NO_NUL_PATTERN);
        assert_eq!(schemas["HttpUrl"]["pattern"], HTTP_URL_PATTERN);
        assert_eq!(schemas["HttpsUrl"]["pattern"], HTTPS_URL_PATTERN);
        assert_eq!(schemas["AuthorizedDomain"]["pattern"], AUTHORIZED_DOMAIN_PATTERN);
    }

    /// Every character up to U+3100 (past every control, white space and
    /// bidi character), alone, between letters and at either end.
    fn placements() -> impl Iterator<Item = (char, String)> {
        (0..=0x3100).filter_map(char::from_u32).flat_map(|character| {
            [format!("{character}"), format!("a{character}b"), format!("{character}ab"), format!("ab{character}")]
                .into_iter()
                .map(move |text| (character, text))
        })
    }

    #[test]
    fn the_name_pattern_accepts_exactly_what_the_name_rule_accepts() {
        let pattern = Regex::new(NAME_PATTERN).unwrap();
        for (character, text) in placements() {
            let rule = trimmed_name(&text, "Name").is_ok();
            assert_eq!(pattern.is_match(&text), rule, "U+{:04X} in {text:?}", u32::from(character));
        }
    }

    #[test]
    fn the_free_text_pattern_accepts_exactly_what_the_text_rule_accepts() {
        let pattern = Regex::new(FREE_TEXT_PATTERN).unwrap();
        for (character, text) in placements() {
            let rule = optional_text(Some(text.clone()), "description", 10).is_ok();
            assert_eq!(pattern.is_match(&text), rule, "U+{:04X} in {text:?}", u32::from(character));
        }
    }

    #[test]
    fn names_refuse_control_and_bidi_characters_anywhere() {
        for refused in [
            "a\u{1b}[2J",
            "\tShop",
            "Shop\n",
            "a\u{0}",
            "a\u{7f}",
            "a\u{9b}",
            "evil\u{202e}",
            "\u{2066}x",
            "a\u{200f}",
            "a\u{61c}",
        ] {
            assert!(trimmed_name(refused, "App name").is_err(), "{refused:?}");
        }
        assert_eq!(
            trimmed_name(" Caf\u{e9} \u{5e9}\u{5dc}\u{5d5}\u{5dd} ", "App name").unwrap(),
            "Caf\u{e9} \u{5e9}\u{5dc}\u{5d5}\u{5dd}"
        );
    }

    #[test]
    fn credentials_are_flat_strings_within_the_cap() {
        let credentials = |value: serde_json::Value| value.as_object().unwrap().clone();
        assert!(super::credentials(&credentials(serde_json::json!({"api_key": "k"})), "email_credentials").is_ok());
        let nested = super::credentials(&credentials(serde_json::json!({"a": {"b": "c"}})), "email_credentials");
        assert_eq!(nested.unwrap_err().code, "validation_failed");
        let number = super::credentials(&credentials(serde_json::json!({"a": 1})), "email_credentials");
        assert!(number.is_err());
        let exact = credentials(serde_json::json!({"k": "x".repeat(CREDENTIALS_MAX_BYTES - 8)}));
        assert!(super::credentials(&exact, "email_credentials").is_ok());
        let over = credentials(serde_json::json!({"k": "x".repeat(CREDENTIALS_MAX_BYTES - 7)}));
        assert_eq!(super::credentials(&over, "email_credentials").unwrap_err().code, "credentials_too_large");
    }

    #[test]
    fn optional_text_counts_characters() {
        assert_eq!(optional_text(None, "description", 3).unwrap(), None);
        assert!(optional_text(Some("ééé".into()), "description", 3).is_ok());
        assert!(optional_text(Some("abcd".into()), "description", 3).is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        let check = |url: &str, schemes| optional_url(Some(url.to_owned()), "website_url", schemes);
        assert!(check("https://example.com/a?b=c", Schemes::HttpOrHttps).is_ok());
        assert!(check("http://example.com", Schemes::HttpOrHttps).is_ok());
        assert!(check("http://example.com", Schemes::HttpsOnly).is_err());
        assert!(check("ftp://example.com", Schemes::HttpOrHttps).is_err());
        assert!(check("/relative/path", Schemes::HttpOrHttps).is_err());
        assert!(check("example.com", Schemes::HttpOrHttps).is_err());
        assert!(check("https://", Schemes::HttpOrHttps).is_err());
        assert!(check("https://exa mple.com", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com:8443/", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://example.com:99999/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com:65535/", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://example.com:65536/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://shop.example.com/a%20b/c?x=1&y=%2F", Schemes::HttpOrHttps).is_ok());
        assert!(check("https://shop.example.com/a%2", Schemes::HttpOrHttps).is_err());
        assert!(check("https://user:pw@example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com/#fragment", Schemes::HttpOrHttps).is_err());
        assert!(check("https://-example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("HTTPS://example.com/", Schemes::HttpOrHttps).is_err());
        assert!(check("https://example.com/\n", Schemes::HttpOrHttps).is_err());
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS));
        assert!(check(&long, Schemes::HttpOrHttps).is_err());
    }

    #[test]
    fn domains_are_lowercased_and_unique() {
        let domains = authorized_domains(vec!["Shop.Example.com".into(), "*.example.com".into()]).unwrap();
        assert_eq!(domains, vec!["shop.example.com", "*.example.com"]);
        assert!(authorized_domains(vec!["a.com".into(), "A.com".into()]).is_err());
        assert!(authorized_domains(vec!["bad domain".into()]).is_err());
        assert!(authorized_domains(vec!["-bad.com".into()]).is_err());
        assert!(authorized_domains(vec!["*.".into()]).is_err());
        assert!(authorized_domains(vec!["https://a.com".into()]).is_err());
        assert!(authorized_domains(vec![" a.com".into()]).is_err(), "no white space, as the pattern says");
        assert!(authorized_domains(vec![format!("{}.com", "a".repeat(64))]).is_err(), "labels of at most 63");
        assert!(authorized_domains(vec![["a".repeat(63).as_str(); 4].join(".")]).is_err(), "at most 253 in all");
        assert!(authorized_domains((0..101).map(|index| format!("h{index}.com")).collect()).is_err());
        assert!(authorized_domains((0..100).map(|index| format!("h{index}.com")).collect()).is_ok());
    }

    #[test]
    fn retention_is_bounded() {
        assert!(retention_days(0).is_err());
        assert!(retention_days(1).is_ok());
        assert!(retention_days(3650).is_ok());
        assert!(retention_days(3651).is_err());
    }

    #[test]
    fn timezones_are_iana_names() {
        assert!(timezone("UTC".into()).is_ok());
        assert!(timezone("Europe/Paris".into()).is_ok());
        assert!(timezone("Mars/Olympus".into()).is_err());
        assert!(timezone(String::new()).is_err());
    }
}
