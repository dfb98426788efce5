//! `spec breaking`: classifies the changes from a released spec to
//! `openapi.yaml` by what they do to existing clients, after oasdiff's rules.
//! Both documents are compared in canonical form (see `normalize`), so a
//! reformatted or re-spelled spec shows no change.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{check::escape, normalize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Breaks existing clients: fails unless acknowledged.
    Breaking,
    /// May surprise existing clients.
    Warning,
    /// Compatible; listed for review.
    Info,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub severity: Severity,
    /// A stable rule name, used by acknowledgements.
    pub rule: &'static str,
    /// Where, in the canonical form of the newer document (the older one when removed).
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Breaking => "BREAKING",
            Severity::Warning => "warning ",
            Severity::Info => "info    ",
        };
        write!(formatter, "{severity} {} {}: {}", self.rule, self.pointer, self.message)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// The client sends it: anything the server stops accepting breaks clients.
    Request,
    /// The server sends it: anything clients may not expect breaks them.
    Response,
}

struct Comparison<'a> {
    old: &'a Value,
    new: &'a Value,
    changes: Vec<Change>,
    /// Pairs of component schemas already compared in a direction, so cycles end.
    visited: BTreeSet<(String, String, bool)>,
}

/// Every classified change from `old` to `new`.
pub fn compare(old: &Value, new: &Value) -> Vec<Change> {
    let old = normalize::document(old);
    let new = normalize::document(new);
    let mut comparison = Comparison { old: &old, new: &new, changes: Vec::new(), visited: BTreeSet::new() };
    comparison.paths();
    let mut changes = comparison.changes;
    changes.sort_by(|a, b| (a.severity, &a.pointer).cmp(&(b.severity, &b.pointer)));
    changes
}

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

impl Comparison<'_> {
    fn record(&mut self, severity: Severity, rule: &'static str, pointer: &str, message: String) {
        self.changes.push(Change { severity, rule, pointer: pointer.to_owned(), message });
    }

    fn paths(&mut self) {
        let (old, new) = (self.old, self.new);
        for (path, old_item) in entries(&old["paths"]) {
            for (method, old_operation) in entries(old_item) {
                let pointer = format!("/paths/{}/{method}", escape(path));
                match new["paths"].get(path).and_then(|item| item.get(method)) {
                    None => self.record(
                        Severity::Breaking,
                        "operation-removed",
                        &pointer,
                        format!("{} {path} is gone", method.to_uppercase()),
                    ),
                    Some(new_operation) => self.operation(&pointer, old_operation, new_operation),
                }
            }
        }
        for (path, new_item) in entries(&new["paths"]) {
            for (method, _) in entries(new_item) {
                if old["paths"].get(path).and_then(|item| item.get(method)).is_none() {
                    let pointer = format!("/paths/{}/{method}", escape(path));
                    self.record(
                        Severity::Info,
                        "operation-added",
                        &pointer,
                        format!("{} {path} is new", method.to_uppercase()),
                    );
                }
            }
        }
    }

    fn operation(&mut self, pointer: &str, old: &Value, new: &Value) {
        self.parameters(pointer, old, new);
        self.request_body(pointer, old, new);
        self.responses(pointer, old, new);
        self.security(pointer, old, new);
    }

    fn parameters(&mut self, pointer: &str, old: &Value, new: &Value) {
        for (key, new_parameter) in entries(&new["parameters"]) {
            let at = format!("{pointer}/parameters/{}", escape(key));
            let is_required = new_parameter["required"] == Value::Bool(true);
            match old["parameters"].get(key) {
                None if is_required => {
                    self.record(
                        Severity::Breaking,
                        "new-required-parameter",
                        &at,
                        format!("`{key}` is new and required"),
                    );
                }
                None => self.record(Severity::Info, "optional-parameter-added", &at, format!("`{key}` is new")),
                Some(old_parameter) => {
                    if is_required && old_parameter["required"] != Value::Bool(true) {
                        self.record(
                            Severity::Breaking,
                            "parameter-became-required",
                            &at,
                            format!("`{key}` was optional"),
                        );
                    }
                    self.schema(
                        &format!("{at}/schema"),
                        &old_parameter["schema"],
                        &new_parameter["schema"],
                        Direction::Request,
                    );
                }
            }
        }
        for (key, _) in entries(&old["parameters"]) {
            if new["parameters"].get(key).is_none() {
                let at = format!("{pointer}/parameters/{}", escape(key));
                self.record(Severity::Warning, "parameter-removed", &at, format!("`{key}` is no longer read"));
            }
        }
    }

    fn request_body(&mut self, pointer: &str, old: &Value, new: &Value) {
        let at = format!("{pointer}/requestBody");
        let (old_body, new_body) = (&old["requestBody"], &new["requestBody"]);
        if new_body.is_null() {
            return;
        }
        let now_required = new_body["required"] == Value::Bool(true);
        if now_required && old_body["required"] != Value::Bool(true) {
            self.record(Severity::Breaking, "request-body-became-required", &at, "a body is now required".into());
        }
        for (media_type, old_content) in entries(&old_body["content"]) {
            let content_at = format!("{at}/content/{}", escape(media_type));
            match new_body["content"].get(media_type) {
                None => self.record(
                    Severity::Breaking,
                    "request-media-type-removed",
                    &content_at,
                    format!("`{media_type}` bodies are no longer accepted"),
                ),
                Some(new_content) => self.schema(
                    &format!("{content_at}/schema"),
                    &old_content["schema"],
                    &new_content["schema"],
                    Direction::Request,
                ),
            }
        }
    }

    fn responses(&mut self, pointer: &str, old: &Value, new: &Value) {
        for (status, old_response) in entries(&old["responses"]) {
            let at = format!("{pointer}/responses/{status}");
            let Some(new_response) = new["responses"].get(status) else {
                if status.starts_with('2') {
                    self.record(
                        Severity::Breaking,
                        "success-status-removed",
                        &at,
                        format!("{status} is no longer answered"),
                    );
                } else {
                    self.record(
                        Severity::Info,
                        "error-status-removed",
                        &at,
                        format!("{status} is no longer documented"),
                    );
                }
                continue;
            };
            for (header, _) in entries(&old_response["headers"]) {
                if new_response["headers"].get(header).is_none() {
                    let header_at = format!("{at}/headers/{}", escape(header));
                    self.record(
                        Severity::Breaking,
                        "response-header-removed",
                        &header_at,
                        format!("`{header}` is no longer sent"),
                    );
                }
            }
            for (media_type, old_content) in entries(&old_response["content"]) {
                let content_at = format!("{at}/content/{}", escape(media_type));
                match new_response["content"].get(media_type) {
                    None => self.record(
                        Severity::Breaking,
                        "response-media-type-removed",
                        &content_at,
                        format!("`{media_type}` is no longer returned"),
                    ),
                    Some(new_content) => self.schema(
                        &format!("{content_at}/schema"),
                        &old_content["schema"],
                        &new_content["schema"],
                        Direction::Response,
                    ),
                }
            }
        }
        for (status, _) in entries(&new["responses"]) {
            if old["responses"].get(status).is_none() {
                let at = format!("{pointer}/responses/{status}");
                self.record(Severity::Info, "response-status-added", &at, format!("{status} is newly documented"));
            }
        }
    }

    /// A client that authenticated one way must still be able to.
    fn security(&mut self, pointer: &str, old: &Value, new: &Value) {
        let at = format!("{pointer}/security");
        let old_alternatives = old["security"].as_array().cloned().unwrap_or_default();
        let new_alternatives = new["security"].as_array().cloned().unwrap_or_default();
        if old_alternatives.is_empty() && !new_alternatives.is_empty() {
            self.record(Severity::Breaking, "security-added", &at, "the operation now needs authentication".into());
            return;
        }
        for alternative in &old_alternatives {
            if !new_alternatives.contains(alternative) {
                self.record(
                    Severity::Breaking,
                    "security-changed",
                    &at,
                    format!("{alternative} is no longer accepted"),
                );
            }
        }
    }

    /// Follows a schema `$ref` to the component, in the document it belongs to.
    fn resolve<'v>(document: &'v Value, schema: &'v Value) -> (&'v Value, Option<String>) {
        match schema["$ref"].as_str() {
            Some(name) => (&document["components"]["schemas"][name], Some(name.to_owned())),
            None => (schema, None),
        }
    }

    fn schema(&mut self, at: &str, old: &Value, new: &Value, direction: Direction) {
        let (old_nullable, new_nullable) = (old["nullable"] == Value::Bool(true), new["nullable"] == Value::Bool(true));
        let (old, old_name) = Self::resolve(self.old, old);
        let (new, new_name) = Self::resolve(self.new, new);
        // A component is reported once per direction, at its own pointer, so
        // one change reads as one line and acknowledgements stay stable.
        let component_pointer;
        let at = if let (Some(old_name), Some(new_name)) = (&old_name, &new_name) {
            let key = (old_name.clone(), new_name.clone(), direction == Direction::Request);
            if !self.visited.insert(key) {
                return;
            }
            component_pointer = format!("/components/schemas/{}", escape(new_name));
            component_pointer.as_str()
        } else {
            at
        };
        let old_nullable = old_nullable || old["nullable"] == Value::Bool(true);
        let new_nullable = new_nullable || new["nullable"] == Value::Bool(true);

        for keyword in ["type", "format"] {
            if old[keyword] != new[keyword] {
                self.record(
                    Severity::Breaking,
                    if keyword == "type" { "type-changed" } else { "format-changed" },
                    &format!("{at}/{keyword}"),
                    format!("{keyword} was {}, is {}", old[keyword], new[keyword]),
                );
            }
        }
        match direction {
            Direction::Request => self.request_constraints(at, old, new, old_nullable, new_nullable),
            Direction::Response => self.response_constraints(at, old, new, old_nullable, new_nullable),
        }

        let (old_properties, new_properties) = (properties(old), properties(new));
        for (name, new_property) in &new_properties {
            if let Some(old_property) = old_properties.get(name) {
                self.schema(&format!("{at}/properties/{}", escape(name)), old_property, new_property, direction);
            }
        }
        for key in ["items", "additionalProperties"] {
            if old[key].is_object() && new[key].is_object() {
                self.schema(&format!("{at}/{key}"), &old[key], &new[key], direction);
            }
        }
    }

    fn request_constraints(&mut self, at: &str, old: &Value, new: &Value, old_nullable: bool, new_nullable: bool) {
        if old_nullable && !new_nullable {
            self.record(Severity::Breaking, "request-nullable-removed", at, "null is no longer accepted".into());
        }
        let old_required = string_set(&old["required"]);
        let new_required = string_set(&new["required"]);
        let old_properties = properties(old);
        for name in new_required.difference(&old_required) {
            let property_at = format!("{at}/properties/{}", escape(name));
            if old_properties.contains_key(name) {
                self.record(
                    Severity::Breaking,
                    "request-property-became-required",
                    &property_at,
                    format!("`{name}` was optional"),
                );
            } else {
                self.record(
                    Severity::Breaking,
                    "new-required-request-property",
                    &property_at,
                    format!("`{name}` is new and required"),
                );
            }
        }
        let new_properties = properties(new);
        let closed = new["additionalProperties"] == Value::Bool(false);
        for name in old_properties.keys().filter(|name| !new_properties.contains_key(*name)) {
            let property_at = format!("{at}/properties/{}", escape(name));
            let (severity, message) = if closed {
                (Severity::Breaking, format!("`{name}` is gone and unknown properties are refused"))
            } else {
                (Severity::Warning, format!("`{name}` is gone and will be ignored"))
            };
            self.record(severity, "request-property-removed", &property_at, message);
        }
        if closed && old["additionalProperties"] != Value::Bool(false) {
            self.record(
                Severity::Breaking,
                "request-additional-properties-refused",
                &format!("{at}/additionalProperties"),
                "unknown properties are now refused".into(),
            );
        }
        // Normalized, an object that takes any extra property has no
        // `additionalProperties`; a schema there now limits what it takes.
        if old["type"] == "object" && old["additionalProperties"].is_null() && new["additionalProperties"].is_object() {
            self.record(
                Severity::Breaking,
                "request-additional-properties-constrained",
                &format!("{at}/additionalProperties"),
                "the values of extra properties must now match a schema".into(),
            );
        }
        let old_enum = value_set(&old["enum"]);
        let new_enum = value_set(&new["enum"]);
        if !new_enum.is_empty() {
            for removed in old_enum.difference(&new_enum) {
                self.record(
                    Severity::Breaking,
                    "request-enum-value-removed",
                    &format!("{at}/enum"),
                    format!("{removed} is no longer accepted"),
                );
            }
            if old_enum.is_empty() {
                self.record(
                    Severity::Breaking,
                    "request-enum-added",
                    &format!("{at}/enum"),
                    "values are now restricted to a list".into(),
                );
            }
        }
        for bound in ["maxLength", "maximum", "maxItems", "maxProperties"] {
            let (old_bound, new_bound) = (old[bound].as_f64(), new[bound].as_f64());
            if let Some(new_bound) = new_bound
                && old_bound.is_none_or(|old_bound| new_bound < old_bound)
            {
                let was = old_bound.map_or("none".to_owned(), |value| value.to_string());
                self.record(
                    Severity::Breaking,
                    "request-max-tightened",
                    &format!("{at}/{bound}"),
                    format!("{bound} was {was}, is {new_bound}"),
                );
            }
        }
        for bound in ["minLength", "minimum", "minItems", "minProperties"] {
            let (old_bound, new_bound) = (old[bound].as_f64(), new[bound].as_f64());
            if let Some(new_bound) = new_bound
                && old_bound.is_none_or(|old_bound| new_bound > old_bound)
            {
                let was = old_bound.map_or("none".to_owned(), |value| value.to_string());
                self.record(
                    Severity::Breaking,
                    "request-min-tightened",
                    &format!("{at}/{bound}"),
                    format!("{bound} was {was}, is {new_bound}"),
                );
            }
        }
        if new["pattern"].is_string() && old["pattern"] != new["pattern"] {
            self.record(
                Severity::Breaking,
                "request-pattern-added",
                &format!("{at}/pattern"),
                format!("pattern was {}, is {}", old["pattern"], new["pattern"]),
            );
        }
    }

    fn response_constraints(&mut self, at: &str, old: &Value, new: &Value, old_nullable: bool, new_nullable: bool) {
        if new_nullable && !old_nullable {
            self.record(Severity::Breaking, "response-became-nullable", at, "may now be null".into());
        }
        let old_required = string_set(&old["required"]);
        let new_required = string_set(&new["required"]);
        let new_properties = properties(new);
        for name in old_required.difference(&new_required) {
            let property_at = format!("{at}/properties/{}", escape(name));
            if new_properties.contains_key(name) {
                self.record(
                    Severity::Breaking,
                    "response-property-became-optional",
                    &property_at,
                    format!("`{name}` may now be absent"),
                );
            } else {
                self.record(
                    Severity::Breaking,
                    "response-required-property-removed",
                    &property_at,
                    format!("`{name}` is no longer sent"),
                );
            }
        }
        // oasdiff only warns here, but the clients this project ships and
        // tests are generated from the spec and refuse a value it does not
        // list: progenitor's serde enums, openapi-python-client's enums.
        // `cargo xtask compat`'s self-test shows a 1.0.0 client of each
        // language failing on one.
        let old_enum = value_set(&old["enum"]);
        for added in value_set(&new["enum"]).difference(&old_enum) {
            if !old_enum.is_empty() {
                self.record(
                    Severity::Breaking,
                    "response-enum-value-added",
                    &format!("{at}/enum"),
                    format!("{added} may now be returned; generated clients refuse a value their spec does not list"),
                );
            }
        }
    }
}

fn properties(schema: &Value) -> Map<String, Value> {
    schema["properties"].as_object().cloned().unwrap_or_default()
}

fn string_set(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn value_set(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().map(Value::to_string).collect()
}
