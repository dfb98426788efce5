//! `spec lint`: rules `openapi.yaml` must follow beyond agreeing with the
//! code — what integrators and generators rely on being there.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value;

use super::normalize;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One broken rule: where, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.pointer, self.message)
    }
}

pub fn lint(spec: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    operations(spec, &mut findings);
    links(spec, &mut findings);
    examples(spec, &mut findings);
    unused_components(spec, &mut findings);
    inline_duplicates(spec, &mut findings);
    findings.extend(super::code_samples::lint(spec).into_iter().map(|(pointer, message)| Finding { pointer, message }));
    findings
}

fn escape(segment: &str) -> String {
    super::check::escape(segment)
}

fn each_operation(spec: &Value) -> Vec<(String, &Value, &Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((format!("/paths/{}/{method}", escape(path)), item, operation));
            }
        }
    }
    found
}

fn operations(spec: &Value, findings: &mut Vec<Finding>) {
    let declared_tags: BTreeSet<&str> =
        spec["tags"].as_array().into_iter().flatten().filter_map(|tag| tag["name"].as_str()).collect();
    let mut operation_ids = BTreeMap::new();
    for (pointer, item, operation) in each_operation(spec) {
        let mut complain = |message: String| findings.push(Finding { pointer: pointer.clone(), message });
        match operation["operationId"].as_str() {
            None => complain("has no operationId".into()),
            Some(id) => {
                if !is_snake_case(id) {
                    complain(format!("operationId `{id}` is not snake_case"));
                }
                if let Some(previous) = operation_ids.insert(id.to_owned(), pointer.clone()) {
                    complain(format!("operationId `{id}` is also used by {previous}"));
                }
            }
        }
        if operation["summary"].as_str().is_none_or(|summary| summary.trim().is_empty()) {
            complain("has no summary".into());
        }
        let tags: Vec<&str> = operation["tags"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        if tags.is_empty() {
            complain("has no tag".into());
        }
        for tag in tags.iter().filter(|tag| !declared_tags.contains(*tag)) {
            complain(format!("tag `{tag}` is not declared in the top-level `tags`"));
        }

        let responses = operation["responses"].as_object().cloned().unwrap_or_default();
        let mut require_status = |status: &str, why: &str| {
            if !responses.contains_key(status) {
                findings
                    .push(Finding { pointer: pointer.clone(), message: format!("does not document {status} ({why})") });
            }
        };
        let security = operation.get("security").or(spec.get("security"));
        let is_authenticated = security.and_then(Value::as_array).is_some_and(|alternatives| {
            !alternatives.is_empty()
                && alternatives.iter().all(|alternative| alternative.as_object().is_some_and(|a| !a.is_empty()))
        });
        if is_authenticated {
            require_status("401", "it needs a token");
            require_status("403", "a token can be disabled or lack the role");
            require_status("429", "an address that fails authentication too often is refused");
        }
        let has_parameters = [item.get("parameters"), operation.get("parameters")]
            .into_iter()
            .flatten()
            .any(|parameters| parameters.as_array().is_some_and(|list| !list.is_empty()));
        let has_body = operation.get("requestBody").is_some();
        if has_parameters || has_body {
            require_status("400", "it takes input");
        }
        if has_body {
            require_status("413", "it takes a body");
            require_status("415", "it takes a JSON body");
        }
    }
}

/// Every response `link` names an operation that exists, only parameters
/// that operation has, and a `$response.body#/...` value the response's
/// schema holds: the stateful contract tests follow them.
fn links(spec: &Value, findings: &mut Vec<Finding>) {
    let operations = each_operation(spec);
    for (pointer, _, operation) in &operations {
        for (status, response) in operation["responses"].as_object().into_iter().flatten() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let at = format!("{pointer}/responses/{status}/links/{}", escape(name));
                let mut complain = |message: String| findings.push(Finding { pointer: at.clone(), message });
                let target_id = link["operationId"].as_str().unwrap_or_default();
                let Some((_, target_item, target)) =
                    operations.iter().find(|(_, _, candidate)| candidate["operationId"] == target_id)
                else {
                    complain(format!("links to operationId `{target_id}`, which no operation has"));
                    continue;
                };
                let parameter_names: BTreeSet<String> = [target_item.get("parameters"), target.get("parameters")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten()
                    .filter_map(|parameter| resolve(spec, parameter)["name"].as_str().map(str::to_owned))
                    .collect();
                let body_schema = &response["content"]["application/json"]["schema"];
                for (parameter, expression) in link["parameters"].as_object().into_iter().flatten() {
                    if !parameter_names.contains(parameter) {
                        complain(format!("sets parameter `{parameter}`, which `{target_id}` does not take"));
                    }
                    let holds = expression
                        .as_str()
                        .and_then(|expression| expression.strip_prefix("$response.body#/"))
                        .is_some_and(|path| schema_holds(spec, body_schema, path.split('/')));
                    if !holds {
                        complain(format!("`{parameter}` is {expression}, not a field of the response body"));
                    }
                }
            }
        }
    }
}

/// Follows a `$ref` (and a one-member `allOf`, the 3.0 way to annotate one).
fn resolve<'a>(spec: &'a Value, node: &'a Value) -> &'a Value {
    if let Some(target) =
        node["$ref"].as_str().and_then(|reference| reference.strip_prefix('#')).and_then(|at| spec.pointer(at))
    {
        return resolve(spec, target);
    }
    match node["allOf"].as_array().map(Vec::as_slice) {
        Some([only]) => resolve(spec, only),
        _ => node,
    }
}

fn schema_holds<'a>(spec: &Value, schema: &Value, mut path: impl Iterator<Item = &'a str>) -> bool {
    let schema = resolve(spec, schema);
    match path.next() {
        None => !schema.is_null(),
        Some(field) => schema["properties"].get(field).is_some_and(|inner| schema_holds(spec, inner, path)),
    }
}

fn is_snake_case(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every `example` in the document, with the schema it must satisfy.
fn examples(spec: &Value, findings: &mut Vec<Finding>) {
    let mut pairs: Vec<(String, Value, Value)> = Vec::new();
    collect_examples("", spec, &mut pairs);
    for (pointer, example, schema) in pairs {
        for error in validate(spec, &example, &schema, "") {
            findings.push(Finding {
                pointer: pointer.clone(),
                message: format!("example does not fit its schema: {error}"),
            });
        }
    }
}

fn collect_examples(pointer: &str, node: &Value, out: &mut Vec<(String, Value, Value)>) {
    match node {
        Value::Object(map) => {
            if let Some(example) = map.get("example") {
                // A media type or a parameter holds its schema beside its example;
                // a schema is its own.
                let schema = if map.contains_key("schema") { map["schema"].clone() } else { node.clone() };
                out.push((format!("{pointer}/example"), example.clone(), schema));
            }
            for (key, child) in map {
                if key != "example" {
                    collect_examples(&format!("{pointer}/{}", escape(key)), child, out);
                }
            }
        }
        Value::Array(list) => {
            for (index, child) in list.iter().enumerate() {
                collect_examples(&format!("{pointer}/{index}"), child, out);
            }
        }
        _ => {}
    }
}

/// Validates `value` against an OpenAPI 3.0 schema: the keywords this
/// project's spec uses. A keyword it cannot check is reported, not skipped.
pub fn validate(spec: &Value, value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let place = if at.is_empty() { "the value".to_owned() } else { format!("`{at}`") };
    if let Some(reference) = schema["$ref"].as_str() {
        return match reference.strip_prefix('#').and_then(|pointer| spec.pointer(pointer)) {
            Some(target) => validate(spec, value, target, at),
            None => vec![format!("{place}: unresolvable $ref {reference}")],
        };
    }
    if value.is_null() {
        let nullable = schema["nullable"] == Value::Bool(true);
        return if nullable { Vec::new() } else { vec![format!("{place} is null but the schema is not nullable")] };
    }
    let mut errors = Vec::new();
    for member in schema["allOf"].as_array().into_iter().flatten() {
        errors.extend(validate(spec, value, member, at));
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(members) = schema[combinator].as_array()
            && !members.iter().any(|member| validate(spec, value, member, at).is_empty())
        {
            errors.push(format!("{place} matches none of `{combinator}`"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{place} is {value}, not one of {}", Value::Array(allowed.clone())));
    }
    let type_matches = match schema["type"].as_str() {
        None => true,
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        Some(other) => {
            errors.push(format!("{place}: unknown type `{other}`"));
            true
        }
    };
    if !type_matches {
        errors.push(format!("{place} is {value}, not of type {}", schema["type"]));
        return errors;
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|min| length < min) {
            errors.push(format!("{place} is shorter than minLength {}", schema["minLength"]));
        }
        if schema["maxLength"].as_u64().is_some_and(|max| length > max) {
            errors.push(format!("{place} is longer than maxLength {}", schema["maxLength"]));
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            match Regex::new(pattern) {
                Ok(regex) if !regex.is_match(text) => errors.push(format!("{place} does not match its pattern")),
                Ok(_) => {}
                Err(error) => errors.push(format!("{place}: the pattern does not compile: {error}")),
            }
        }
        match schema["format"].as_str() {
            Some("uuid") if !is_uuid(text) => errors.push(format!("{place} is not a uuid")),
            Some("date-time") if !is_date_time(text) => errors.push(format!("{place} is not an RFC 3339 date-time")),
            _ => {}
        }
    }
    if let Some(number) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| number < min) {
            errors.push(format!("{place} is below minimum {}", schema["minimum"]));
        }
        if schema["maximum"].as_f64().is_some_and(|max| number > max) {
            errors.push(format!("{place} is above maximum {}", schema["maximum"]));
        }
    }
    if let Some(items) = value.as_array() {
        let count = items.len() as u64;
        if schema["minItems"].as_u64().is_some_and(|min| count < min) {
            errors.push(format!("{place} has fewer than minItems {}", schema["minItems"]));
        }
        if schema["maxItems"].as_u64().is_some_and(|max| count > max) {
            errors.push(format!("{place} has more than maxItems {}", schema["maxItems"]));
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                errors.extend(validate(spec, item, item_schema, &format!("{at}[{index}]")));
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                errors.push(format!("{place} lacks required property `{required}`"));
            }
        }
        for (key, property_value) in object {
            let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
            match properties.and_then(|properties| properties.get(key)) {
                Some(property_schema) => errors.extend(validate(spec, property_value, property_schema, &path)),
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    errors.push(format!("`{path}` is not an allowed property"));
                }
                None => {}
            }
        }
    }
    errors
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|group| group.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't')
        && bytes[13] == b':'
        && bytes[16] == b':'
        && (text.ends_with('Z') || text.ends_with('z') || text[19..].contains(['+', '-']))
}

/// Components nothing refers to are dead weight for every generator.
fn unused_components(spec: &Value, findings: &mut Vec<Finding>) {
    let mut references = BTreeSet::new();
    collect_references(spec, &mut references);
    for (name, _) in spec["security"].as_array().into_iter().flatten().flat_map(|r| r.as_object().into_iter().flatten())
    {
        references.insert(format!("#/components/securitySchemes/{name}"));
    }
    for (_, _, operation) in each_operation(spec) {
        for requirement in operation["security"].as_array().into_iter().flatten() {
            for (name, _) in requirement.as_object().into_iter().flatten() {
                references.insert(format!("#/components/securitySchemes/{name}"));
            }
        }
    }
    for (kind, members) in spec["components"].as_object().into_iter().flatten() {
        for (name, _) in members.as_object().into_iter().flatten() {
            let reference = format!("#/components/{kind}/{}", escape(name));
            if !references.contains(&reference) {
                findings.push(Finding { pointer: reference[1..].to_owned(), message: "is never used".into() });
            }
        }
    }
}

fn collect_references(node: &Value, out: &mut BTreeSet<String>) {
    match node {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                out.insert(reference.to_owned());
            }
            map.values().for_each(|child| collect_references(child, out));
        }
        Value::Array(list) => list.iter().for_each(|child| collect_references(child, out)),
        _ => {}
    }
}

/// An inline object schema that equals a component should be a `$ref` to it,
/// or generators make two types of one thing.
fn inline_duplicates(spec: &Value, findings: &mut Vec<Finding>) {
    let components: Vec<(String, Value)> = spec["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| (name.clone(), normalize::schema(schema)))
        .collect();
    let mut inline = Vec::new();
    collect_inline_objects(&spec["paths"], "/paths", &mut inline);
    for (name, schema) in spec["components"]["schemas"].as_object().into_iter().flatten() {
        for (property, property_schema) in schema["properties"].as_object().into_iter().flatten() {
            let pointer = format!("/components/schemas/{}/properties/{}", escape(name), escape(property));
            collect_inline_objects(property_schema, &pointer, &mut inline);
        }
    }
    for (pointer, schema) in inline {
        let canonical = normalize::schema(&schema);
        if let Some((name, _)) = components.iter().find(|(_, component)| *component == canonical) {
            findings
                .push(Finding { pointer, message: format!("repeats component schema `{name}` inline; use a $ref") });
        }
    }
}

fn collect_inline_objects(node: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    match node {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("$ref") {
                out.push((pointer.to_owned(), node.clone()));
            }
            for (key, child) in map {
                collect_inline_objects(child, &format!("{pointer}/{}", escape(key)), out);
            }
        }
        Value::Array(list) => {
            for (index, child) in list.iter().enumerate() {
                collect_inline_objects(child, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::load_spec;

    fn findings_after(mutate: impl FnOnce(&mut Value)) -> Vec<String> {
        let mut spec = load_spec().unwrap();
        mutate(&mut spec);
        lint(&spec).iter().map(ToString::to_string).collect()
    }

    fn assert_finding(expected: &str, mutate: impl FnOnce(&mut Value)) {
        let findings = findings_after(mutate);
        assert!(findings.iter().any(|finding| finding.contains(expected)), "expected `{expected}` in {findings:#?}");
    }

    #[test]
    fn the_committed_spec_is_clean() {
        let findings = findings_after(|_| {});
        assert!(findings.is_empty(), "spec lint findings:\n{}", findings.join("\n"));
    }

    #[test]
    fn missing_operation_id_summary_and_tag_are_found() {
        assert_finding("/paths/~1v1~1me/get: has no operationId", |spec| {
            spec["paths"]["/v1/me"]["get"].as_object_mut().unwrap().remove("operationId");
        });
        assert_finding("/paths/~1v1~1me/get: has no summary", |spec| {
            spec["paths"]["/v1/me"]["get"].as_object_mut().unwrap().remove("summary");
        });
        assert_finding("/paths/~1v1~1me/get: has no tag", |spec| {
            spec["paths"]["/v1/me"]["get"]["tags"] = json!([]);
        });
        assert_finding("operationId `getMe` is not snake_case", |spec| {
            spec["paths"]["/v1/me"]["get"]["operationId"] = json!("getMe");
        });
    }

    #[test]
    fn authenticated_operations_must_document_401_403_and_429() {
        assert_finding("/paths/~1v1~1me/get: does not document 401", |spec| {
            spec["paths"]["/v1/me"]["get"]["responses"].as_object_mut().unwrap().remove("401");
        });
        assert_finding("/paths/~1v1~1me/get: does not document 403", |spec| {
            spec["paths"]["/v1/me"]["get"]["responses"].as_object_mut().unwrap().remove("403");
        });
        assert_finding("/paths/~1v1~1me/get: does not document 429", |spec| {
            spec["paths"]["/v1/me"]["get"]["responses"].as_object_mut().unwrap().remove("429");
        });
    }

    #[test]
    fn operations_with_input_must_document_400_413_415() {
        assert_finding("/paths/~1v1~1apps/get: does not document 400", |spec| {
            spec["paths"]["/v1/apps"]["get"]["responses"].as_object_mut().unwrap().remove("400");
        });
        assert_finding("/paths/~1v1~1apps/post: does not document 415", |spec| {
            spec["paths"]["/v1/apps"]["post"]["responses"].as_object_mut().unwrap().remove("415");
        });
    }

    #[test]
    fn examples_that_break_their_schema_are_found() {
        assert_finding("/components/schemas/App/properties/data_retention_days/example", |spec| {
            spec["components"]["schemas"]["App"]["properties"]["data_retention_days"]["example"] = json!(9999);
        });
        assert_finding("`colour` is not an allowed property", |spec| {
            spec["paths"]["/v1/apps"]["post"]["requestBody"]["content"]["application/json"]["example"]["colour"] =
                json!("red");
        });
        assert_finding("`code` is 404, not of type", |spec| {
            spec["components"]["responses"]["NotFound"]["content"]["application/json"]["example"]["code"] = json!(404);
        });
        assert_finding("`website_url` does not match its pattern", |spec| {
            spec["paths"]["/v1/apps"]["post"]["requestBody"]["content"]["application/json"]["example"]["website_url"] =
                json!("ftp://shop.example.com");
        });
    }

    #[test]
    fn broken_links_are_found() {
        let link = "/paths/~1v1~1apps/post/responses/201/links/GetApp";
        assert_finding(&format!("{link}: links to operationId `fetch_app`"), |spec| {
            spec["paths"]["/v1/apps"]["post"]["responses"]["201"]["links"]["GetApp"]["operationId"] =
                json!("fetch_app");
        });
        assert_finding(&format!("{link}: sets parameter `app_id`"), |spec| {
            spec["paths"]["/v1/apps"]["post"]["responses"]["201"]["links"]["GetApp"]["parameters"] =
                json!({"app_id": "$response.body#/app/id"});
        });
        assert_finding(&format!("{link}: `id` is \"$response.body#/app/uuid\""), |spec| {
            spec["paths"]["/v1/apps"]["post"]["responses"]["201"]["links"]["GetApp"]["parameters"]["id"] =
                json!("$response.body#/app/uuid");
        });
    }

    #[test]
    fn unused_components_are_found() {
        assert_finding("/components/schemas/Orphan: is never used", |spec| {
            spec["components"]["schemas"]["Orphan"] = json!({"type": "string"});
        });
    }

    #[test]
    fn inline_copies_of_components_are_found() {
        assert_finding("repeats component schema `TokenActor` inline", |spec| {
            let actor = spec["components"]["schemas"]["TokenActor"].clone();
            spec["components"]["schemas"]["Token"]["properties"]["created_by"] = actor;
        });
    }
}
