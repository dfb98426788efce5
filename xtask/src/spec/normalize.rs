//! Turns an OpenAPI document, 3.0 (the spec) or 3.1 (what utoipa writes),
//! into one canonical form in which two documents that mean the same on the
//! wire are equal JSON values.
//!
//! The canonical form keeps the document's shape (`paths`, `components`),
//! so a JSON pointer into it reads like one into `openapi.yaml`, with these
//! changes:
//! - operations hold their effective `security` and the path's parameters;
//!   `parameters` is an object keyed `in:name`, not a list;
//! - component `responses`, `parameters`, `headers` and `requestBodies` are
//!   resolved into the operations; schema `$ref`s stay references, written
//!   as the component's name, and component schemas are compared on their own;
//! - prose (descriptions, summaries, examples, titles) and response `links`
//!   are dropped: they live only in `openapi.yaml`, and `spec lint` checks
//!   them there;
//! - nullability is `nullable: true` whatever the source form (3.1
//!   `type: [T, "null"]`, `oneOf: [X, {type: "null"}]`, or 3.0
//!   `allOf: [X]` with `nullable`);
//! - values that mean the same as their absence are removed
//!   (`required: false`, `additionalProperties: true`, `nullable: false`, …);
//! - sets (`required`, `enum`, `tags`, security alternatives) are sorted.

use serde_json::{Map, Value, json};

pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Schema keywords that reach the wire. Everything else is prose or tooling.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "nullable",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "default",
    "readOnly",
    "writeOnly",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "discriminator",
    "$ref",
];

/// The canonical form of a whole document.
pub fn document(source: &Value) -> Value {
    let global_security = source.get("security").cloned().unwrap_or(Value::Array(Vec::new()));
    let mut paths = Map::new();
    for (path, item) in entries(source.get("paths")) {
        let item = resolve(source, item);
        let shared_parameters = item.get("parameters").cloned().unwrap_or(Value::Array(Vec::new()));
        let mut operations = Map::new();
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert(
                    method.to_owned(),
                    self::operation(source, operation, &shared_parameters, &global_security),
                );
            }
        }
        paths.insert(path.clone(), Value::Object(operations));
    }
    let components = source.get("components");
    let schemas: Map<String, Value> = entries(components.and_then(|c| c.get("schemas")))
        .map(|(name, schema)| (name.clone(), self::schema(schema)))
        .collect();
    let security_schemes: Map<String, Value> = entries(components.and_then(|c| c.get("securitySchemes")))
        .map(|(name, scheme)| (name.clone(), security_scheme(scheme)))
        .collect();
    json!({
        "paths": paths,
        "components": { "schemas": schemas, "securitySchemes": security_schemes },
    })
}

fn operation(source: &Value, operation: &Value, shared_parameters: &Value, global_security: &Value) -> Value {
    let mut canonical = Map::new();
    if let Some(id) = operation.get("operationId") {
        canonical.insert("operationId".into(), id.clone());
    }
    let mut tags: Vec<Value> = operation.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
    tags.sort_by_key(|tag| tag.to_string());
    if !tags.is_empty() {
        canonical.insert("tags".into(), Value::Array(tags));
    }

    let mut parameters = Map::new();
    for list in [shared_parameters, operation.get("parameters").unwrap_or(&Value::Null)] {
        for parameter in list.as_array().into_iter().flatten() {
            let parameter = resolve(source, parameter);
            let location = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
            let key = if location == "header" { name.to_ascii_lowercase() } else { name.to_owned() };
            parameters.insert(format!("{location}:{key}"), self::parameter(parameter));
        }
    }
    canonical.insert("parameters".into(), Value::Object(parameters));

    if let Some(body) = operation.get("requestBody") {
        let body = resolve(source, body);
        let mut canonical_body = Map::new();
        if body.get("required") == Some(&Value::Bool(true)) {
            canonical_body.insert("required".into(), Value::Bool(true));
        }
        canonical_body.insert("content".into(), content(body.get("content")));
        canonical.insert("requestBody".into(), Value::Object(canonical_body));
    }

    let mut responses = Map::new();
    for (status, response) in entries(operation.get("responses")) {
        let response = resolve(source, response);
        let mut canonical_response = Map::new();
        if response.get("content").is_some() {
            canonical_response.insert("content".into(), content(response.get("content")));
        }
        let headers: Map<String, Value> = entries(response.get("headers"))
            .map(|(name, header)| (name.to_ascii_lowercase(), self::parameter(resolve(source, header))))
            .collect();
        // Always present, so that a header missing on one side is named by the pointer.
        canonical_response.insert("headers".into(), Value::Object(headers));
        responses.insert(status.clone(), Value::Object(canonical_response));
    }
    canonical.insert("responses".into(), Value::Object(responses));

    let security = operation.get("security").unwrap_or(global_security);
    canonical.insert("security".into(), self::security(security));
    Value::Object(canonical)
}

/// A parameter or a header: whether it is required, and its schema.
fn parameter(parameter: &Value) -> Value {
    let mut canonical = Map::new();
    if parameter.get("required") == Some(&Value::Bool(true)) {
        canonical.insert("required".into(), Value::Bool(true));
    }
    if let Some(schema) = parameter.get("schema") {
        canonical.insert("schema".into(), self::schema(schema));
    }
    if parameter.get("deprecated") == Some(&Value::Bool(true)) {
        canonical.insert("deprecated".into(), Value::Bool(true));
    }
    Value::Object(canonical)
}

fn content(content: Option<&Value>) -> Value {
    let media_types: Map<String, Value> = entries(content)
        .map(|(media_type, body)| {
            let schema = body.get("schema").map(schema).unwrap_or(Value::Null);
            (media_type.to_ascii_lowercase(), json!({ "schema": schema }))
        })
        .collect();
    Value::Object(media_types)
}

/// Security alternatives: each a sorted object of scheme name → sorted scopes.
fn security(requirements: &Value) -> Value {
    let mut alternatives: Vec<Value> = requirements
        .as_array()
        .into_iter()
        .flatten()
        .map(|requirement| {
            let schemes: Map<String, Value> =
                entries(Some(requirement)).map(|(name, scopes)| (name.clone(), sorted(scopes.clone()))).collect();
            Value::Object(schemes)
        })
        .collect();
    alternatives.sort_by_key(|alternative| alternative.to_string());
    Value::Array(alternatives)
}

fn security_scheme(scheme: &Value) -> Value {
    let mut canonical = Map::new();
    for key in ["type", "in", "name", "bearerFormat", "openIdConnectUrl"] {
        if let Some(value) = scheme.get(key) {
            canonical.insert(key.into(), value.clone());
        }
    }
    if let Some(http_scheme) = scheme.get("scheme").and_then(Value::as_str) {
        // RFC 7235: auth scheme names are case-insensitive.
        canonical.insert("scheme".into(), Value::String(http_scheme.to_ascii_lowercase()));
    }
    if let Some(name) = canonical.get("name").and_then(Value::as_str).map(str::to_owned)
        && scheme.get("in").and_then(Value::as_str) == Some("header")
    {
        canonical.insert("name".into(), Value::String(name.to_ascii_lowercase()));
    }
    Value::Object(canonical)
}

/// The canonical form of one schema.
pub fn schema(source: &Value) -> Value {
    let Some(object) = source.as_object() else {
        // `true`/`false` schemas (3.1) stand for "anything" and "nothing".
        return source.clone();
    };
    let mut schema = Map::new();
    for (key, value) in object {
        if SCHEMA_KEYWORDS.contains(&key.as_str()) {
            schema.insert(key.clone(), value.clone());
        }
    }
    let mut nullable = schema.remove("nullable") == Some(Value::Bool(true));

    // 3.1: `type: [T, "null"]`.
    if let Some(Value::Array(types)) = schema.get("type").cloned() {
        let (nulls, others): (Vec<Value>, Vec<Value>) = types.into_iter().partition(|t| t == "null");
        nullable |= !nulls.is_empty();
        match others.len() {
            0 => schema.remove("type"),
            1 => schema.insert("type".into(), others[0].clone()),
            _ => schema.insert("type".into(), sorted(Value::Array(others))),
        };
    }
    // 3.1: `oneOf`/`anyOf` of one schema and `{type: "null"}`.
    for combinator in ["oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = schema.get(combinator).cloned() {
            let (nulls, others): (Vec<Value>, Vec<Value>) = members.into_iter().partition(is_null_schema);
            if !nulls.is_empty() && others.len() == 1 {
                nullable = true;
                schema.remove(combinator);
                merge_into(&mut schema, &others[0]);
            }
        }
    }
    // 3.0: `allOf: [X]`, the only way to put `nullable` (or any sibling) on a `$ref`.
    if let Some(Value::Array(members)) = schema.get("allOf").cloned()
        && members.len() == 1
    {
        schema.remove("allOf");
        merge_into(&mut schema, &members[0]);
    }

    if let Some(Value::String(reference)) = schema.get("$ref") {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
        schema.insert("$ref".into(), Value::String(name));
    }
    if nullable {
        schema.insert("nullable".into(), Value::Bool(true));
    }
    for key in ["readOnly", "writeOnly", "uniqueItems"] {
        if schema.get(key) == Some(&Value::Bool(false)) {
            schema.remove(key);
        }
    }
    if schema.get("additionalProperties").is_some_and(|value| value == &Value::Bool(true) || value == &json!({})) {
        schema.remove("additionalProperties");
    }
    if let Some(additional) = schema.get("additionalProperties").cloned()
        && additional.is_object()
    {
        schema.insert("additionalProperties".into(), self::schema(&additional));
    }
    if let Some(Value::Object(properties)) = schema.get("properties").cloned() {
        let properties: Map<String, Value> =
            properties.iter().map(|(name, property)| (name.clone(), self::schema(property))).collect();
        schema.insert("properties".into(), Value::Object(properties));
    }
    if let Some(items) = schema.get("items").cloned() {
        schema.insert("items".into(), self::schema(&items));
    }
    if let Some(not) = schema.get("not").cloned() {
        schema.insert("not".into(), self::schema(&not));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(members)) = schema.get(combinator).cloned() {
            let members = members.iter().map(self::schema).collect();
            schema.insert(combinator.into(), Value::Array(members));
        }
    }
    for set in ["required", "enum"] {
        if let Some(values) = schema.get(set).cloned() {
            schema.insert(set.into(), sorted(values));
        }
    }
    if schema.get("required").and_then(Value::as_array).is_some_and(Vec::is_empty) {
        schema.remove("required");
    }
    for bound in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"] {
        if let Some(number) = schema.get(bound).and_then(Value::as_f64) {
            schema.insert(bound.into(), json!(number));
        }
    }
    Value::Object(schema)
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// Copies `from`'s wire keywords into `into`, keeping what `into` already has.
fn merge_into(into: &mut Map<String, Value>, from: &Value) {
    for (key, value) in entries(Some(from)) {
        if SCHEMA_KEYWORDS.contains(&key.as_str()) && !into.contains_key(key) {
            into.insert(key.clone(), value.clone());
        }
    }
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Array(mut values) => {
            values.sort_by_key(|value| value.to_string());
            Value::Array(values)
        }
        other => other,
    }
}

/// Follows a `$ref` to a component that is not a schema (response,
/// parameter, header, request body), however many hops; a cycle stops at
/// the first repeat.
fn resolve<'a>(source: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    let mut seen = Vec::new();
    while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
        if seen.contains(&reference) {
            break;
        }
        seen.push(reference);
        let Some(pointer) = reference.strip_prefix('#') else { break };
        match source.pointer(pointer) {
            Some(target) => current = target,
            None => break,
        }
    }
    current
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value.and_then(Value::as_object).into_iter().flatten()
}
