//! `spec check`: compares the canonical forms of `openapi.yaml` and of the
//! document utoipa derives from the server, and reports each difference on
//! one line, with where, what each side says, and what to do.

use std::fmt;

use serde_json::Value;

use super::normalize;

/// One place where `openapi.yaml` and the code disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// JSON pointer into the canonical document (see `normalize`).
    pub pointer: String,
    /// The operation the pointer is in, when it is in one.
    pub operation_id: Option<String>,
    /// What `openapi.yaml` says; `None` when it says nothing there.
    pub spec: Option<Value>,
    /// What the code says; `None` when it says nothing there.
    pub code: Option<Value>,
}

impl fmt::Display for Difference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operation = self.operation_id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default();
        write!(
            formatter,
            "{}{operation}: openapi.yaml has {}, the code has {}; fix: {}",
            self.pointer,
            describe(self.spec.as_ref()),
            describe(self.code.as_ref()),
            self.fix(),
        )
    }
}

impl Difference {
    /// Where in the code the matching change goes, read off the pointer.
    fn fix(&self) -> String {
        let segments: Vec<String> = self.pointer.split('/').skip(1).map(unescape).collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let handler = self.operation_id.as_deref().unwrap_or("the handler");
        let place = match segments.as_slice() {
            ["paths", path, method] => {
                format!("a handler for {} {path} (#[utoipa::path] + api_routes)", method.to_uppercase())
            }
            ["paths", path] => format!("the handlers of {path}"),
            ["paths", _, _, "operationId"] => format!("operation_id = \"…\" in the #[utoipa::path] of {handler}"),
            ["paths", _, _, "tags", ..] => format!("tag = \"…\" in the #[utoipa::path] of {handler}"),
            ["paths", _, _, "security", ..] => {
                format!("security(...) in the #[utoipa::path] of {handler} or of ApiDoc")
            }
            ["paths", _, _, "parameters", parameter, ..] => {
                format!("params(...) of {handler} (parameter `{parameter}`) or its IntoParams type")
            }
            ["paths", _, _, "requestBody", ..] => format!("request_body = … of {handler} or that type's ToSchema"),
            ["paths", _, _, "responses", status, "headers", ..] => {
                format!("the headers of response {status} of {handler} (see api::RequestIdHeader for X-Request-Id)")
            }
            ["paths", _, _, "responses", status, ..] => {
                format!("(status = {status}, …) in responses(...) of the #[utoipa::path] of {handler}")
            }
            ["components", "schemas", name] => format!("a ToSchema type named {name}, reachable from a handler"),
            ["components", "schemas", name, "properties", property, ..] => {
                format!("field `{property}` of the ToSchema type {name} (its type or #[schema(...)] attributes)")
            }
            ["components", "schemas", name, ..] => {
                format!("the ToSchema type {name} (its derive and #[schema(...)] attributes)")
            }
            ["components", "securitySchemes", ..] => "the SecuritySchemes modifier in server/src/api/mod.rs".to_owned(),
            _ => "the server's annotations".to_owned(),
        };
        match (&self.spec, &self.code) {
            (Some(_), None) => format!("add it to {place}, or remove it from openapi.yaml on purpose"),
            (None, Some(_)) => format!("remove it from {place}, or add it to openapi.yaml first (the contract leads)"),
            _ => format!("make {place} say what openapi.yaml says, or change openapi.yaml on purpose"),
        }
    }
}

fn describe(value: Option<&Value>) -> String {
    const LIMIT: usize = 160;
    match value {
        None => "nothing".to_owned(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > LIMIT {
                format!("{}…", text.chars().take(LIMIT).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// Every difference on the wire between two documents, in pointer order.
pub fn compare(spec: &Value, code: &Value) -> Vec<Difference> {
    let spec = normalize::document(spec);
    let code = normalize::document(code);
    let mut differences = Vec::new();
    walk(String::new(), Some(&spec), Some(&code), &mut differences);
    for difference in &mut differences {
        difference.operation_id =
            operation_id(&difference.pointer, &spec).or_else(|| operation_id(&difference.pointer, &code));
    }
    differences
}

fn walk(pointer: String, spec: Option<&Value>, code: Option<&Value>, out: &mut Vec<Difference>) {
    match (spec, code) {
        (Some(Value::Object(spec_map)), Some(Value::Object(code_map))) => {
            let mut keys: Vec<&String> = spec_map.keys().chain(code_map.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                walk(format!("{pointer}/{}", escape(key)), spec_map.get(key), code_map.get(key), out);
            }
        }
        (spec, code) if spec == code => {}
        (spec, code) => out.push(Difference { pointer, operation_id: None, spec: spec.cloned(), code: code.cloned() }),
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn operation_id(pointer: &str, canonical: &Value) -> Option<String> {
    let mut segments = pointer.split('/').skip(1);
    if segments.next()? != "paths" {
        return None;
    }
    let operation_pointer = format!("/paths/{}/{}/operationId", segments.next()?, segments.next()?);
    canonical.pointer(&operation_pointer)?.as_str().map(str::to_owned)
}
