//! Self-tests of `spec check`: the real tree passes, reformatting passes,
//! and each injected drift, on either side, is caught at the right pointer.

use serde_json::{Value, json};

use super::{check::compare, derived_document, load_spec};

enum Side {
    Spec,
    Code,
}

/// Applies `mutate` to one side and asserts that a difference is reported at `pointer`.
fn assert_caught(side: Side, pointer: &str, mutate: impl FnOnce(&mut Value)) {
    let (mut spec, mut code) = (load_spec().expect("openapi.yaml loads"), derived_document());
    match side {
        Side::Spec => mutate(&mut spec),
        Side::Code => mutate(&mut code),
    }
    let differences = compare(&spec, &code);
    assert!(
        differences.iter().any(|difference| difference.pointer == pointer),
        "expected a difference at {pointer}, got:\n{}",
        differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
}

/// The value at `pointer` (in the raw document), which must exist.
fn at<'a>(document: &'a mut Value, pointer: &str) -> &'a mut Value {
    document.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in the document"))
}

fn remove(document: &mut Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let key = key.replace("~1", "/").replace("~0", "~");
    match at(document, parent) {
        Value::Object(map) => map.remove(&key).unwrap_or_else(|| panic!("no {pointer} to remove")),
        Value::Array(list) => list.remove(key.parse().expect("an index")),
        _ => panic!("{parent} holds no children"),
    }
}

const APPS: &str = "/paths/~1v1~1apps";
const APP: &str = "/paths/~1v1~1apps~1{id}";
const SCHEMAS: &str = "/components/schemas";

#[test]
fn the_tree_as_committed_has_no_drift() {
    let differences = compare(&load_spec().unwrap(), &derived_document());
    assert!(
        differences.is_empty(),
        "openapi.yaml and the server disagree (run `cargo xtask spec check`):\n{}",
        differences.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn reformatting_the_yaml_is_not_drift() {
    let spec = load_spec().unwrap();
    // JSON is YAML in flow style: the same document, formatted differently.
    let as_flow_yaml = serde_json::to_string(&spec).unwrap();
    let reparsed = super::parse_yaml(&as_flow_yaml).unwrap();
    let as_block_yaml = yaml_serde::to_string(&spec).unwrap();
    let reparsed_again = super::parse_yaml(&as_block_yaml).unwrap();
    assert!(compare(&reparsed, &derived_document()).is_empty());
    assert!(compare(&reparsed_again, &derived_document()).is_empty());
}

#[test]
fn equivalent_forms_are_not_drift() {
    let mut spec = load_spec().unwrap();
    // 3.1 nullability in the spec, and defaults spelled out, mean the same.
    *at(&mut spec, &format!("{SCHEMAS}/App/properties/description")) =
        json!({"type": ["string", "null"], "maxLength": 1000, "description": "reworded"});
    at(&mut spec, &format!("{SCHEMAS}/App/properties/name"))["readOnly"] = json!(false);
    at(&mut spec, &format!("{SCHEMAS}/ErrorBody"))["additionalProperties"] = json!(true);
    at(&mut spec, "/paths/~1v1~1apps/get/parameters/2")["required"] = json!(false);
    at(&mut spec, "/paths/~1v1~1me/get")["summary"] = json!("A new summary");
    assert!(compare(&spec, &derived_document()).is_empty());
}

#[test]
fn spec_removes_a_response() {
    assert_caught(Side::Spec, &format!("{APP}/get/responses/404"), |spec| {
        remove(spec, &format!("{APP}/get/responses/404"));
    });
}

#[test]
fn spec_retypes_a_property() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/name/type"), |spec| {
        *at(spec, &format!("{SCHEMAS}/App/properties/name/type")) = json!("integer");
    });
}

#[test]
fn spec_flips_required() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/CreateAppRequest/required"), |spec| {
        *at(spec, &format!("{SCHEMAS}/CreateAppRequest/required")) = json!([]);
    });
}

#[test]
fn spec_flips_nullable() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/description/nullable"), |spec| {
        remove(spec, &format!("{SCHEMAS}/App/properties/description/nullable"));
    });
}

#[test]
fn spec_renames_a_parameter() {
    assert_caught(Side::Spec, &format!("{APPS}/get/parameters/query:limit"), |spec| {
        *at(spec, "/components/parameters/Limit/name") = json!("page_size");
    });
}

#[test]
fn spec_drops_an_enum_value() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/Environment/enum"), |spec| {
        *at(spec, &format!("{SCHEMAS}/Environment/enum")) = json!(["production", "development"]);
    });
}

#[test]
fn spec_changes_a_path() {
    assert_caught(Side::Spec, "/paths/~1v1~1me", |spec| {
        let item = remove(spec, "/paths/~1v1~1me");
        at(spec, "/paths").as_object_mut().unwrap().insert("/v1/whoami".into(), item);
    });
}

#[test]
fn spec_changes_a_status_code() {
    assert_caught(Side::Spec, &format!("{APPS}/post/responses/201"), |spec| {
        let created = remove(spec, &format!("{APPS}/post/responses/201"));
        at(spec, &format!("{APPS}/post/responses")).as_object_mut().unwrap().insert("200".into(), created);
    });
}

#[test]
fn spec_drops_a_response_header() {
    assert_caught(Side::Spec, &format!("{APP}/get/responses/404/headers/x-request-id"), |spec| {
        remove(spec, "/components/responses/NotFound/headers");
    });
}

#[test]
fn spec_retypes_a_response_header() {
    assert_caught(Side::Spec, &format!("{APPS}/get/responses/200/headers/x-ratelimit-limit/schema/type"), |spec| {
        *at(spec, "/components/headers/XRateLimitLimit/schema/type") = json!("string");
    });
}

#[test]
fn spec_makes_a_response_header_required() {
    assert_caught(Side::Spec, &format!("{APP}/get/responses/404/headers/x-request-id/required"), |spec| {
        at(spec, "/components/headers/XRequestId").as_object_mut().unwrap().insert("required".into(), json!(true));
    });
}

#[test]
fn spec_changes_security() {
    assert_caught(Side::Spec, "/paths/~1v1~1me/get/security", |spec| {
        *at(spec, "/security") = json!([{"ApiKeyHeader": []}]);
    });
}

#[test]
fn spec_tightens_a_parameter_bound() {
    assert_caught(Side::Spec, &format!("{APPS}/get/parameters/query:limit/schema/maximum"), |spec| {
        *at(spec, "/components/parameters/Limit/schema/maximum") = json!(50);
    });
}

#[test]
fn spec_changes_a_format() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/id/format"), |spec| {
        *at(spec, &format!("{SCHEMAS}/App/properties/id/format")) = json!("ulid");
    });
}

#[test]
fn spec_adds_a_property() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/owner"), |spec| {
        at(spec, &format!("{SCHEMAS}/App/properties"))
            .as_object_mut()
            .unwrap()
            .insert("owner".into(), json!({"type": "string"}));
    });
}

#[test]
fn spec_allows_additional_properties() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/CreateAppRequest/additionalProperties"), |spec| {
        remove(spec, &format!("{SCHEMAS}/CreateAppRequest/additionalProperties"));
    });
}

#[test]
fn spec_makes_a_request_body_optional() {
    assert_caught(Side::Spec, &format!("{APP}/patch/requestBody/required"), |spec| {
        *at(spec, &format!("{APP}/patch/requestBody/required")) = json!(false);
    });
}

#[test]
fn spec_changes_a_request_media_type() {
    assert_caught(Side::Spec, &format!("{APPS}/post/requestBody/content/application~1json"), |spec| {
        let body = remove(spec, &format!("{APPS}/post/requestBody/content/application~1json"));
        at(spec, &format!("{APPS}/post/requestBody/content"))
            .as_object_mut()
            .unwrap()
            .insert("application/xml".into(), body);
    });
}

#[test]
fn spec_changes_a_response_schema() {
    assert_caught(Side::Spec, &format!("{APP}/get/responses/200/content/application~1json/schema/$ref"), |spec| {
        *at(spec, &format!("{APP}/get/responses/200/content/application~1json/schema/$ref")) =
            json!("#/components/schemas/AppListResponse");
    });
}

#[test]
fn spec_renames_an_operation() {
    assert_caught(Side::Spec, &format!("{APPS}/get/operationId"), |spec| {
        *at(spec, &format!("{APPS}/get/operationId")) = json!("get_apps");
    });
}

#[test]
fn spec_retags_an_operation() {
    assert_caught(Side::Spec, &format!("{APPS}/get/tags"), |spec| {
        *at(spec, &format!("{APPS}/get/tags")) = json!(["applications"]);
    });
}

#[test]
fn spec_renames_a_security_header() {
    assert_caught(Side::Spec, "/components/securitySchemes/ApiKeyHeader/name", |spec| {
        *at(spec, "/components/securitySchemes/ApiKeyHeader/name") = json!("X-Token");
    });
}

#[test]
fn spec_changes_a_method() {
    assert_caught(Side::Spec, &format!("{APP}/delete"), |spec| {
        let operation = remove(spec, &format!("{APP}/delete"));
        at(spec, APP).as_object_mut().unwrap().insert("put".into(), operation);
    });
}

#[test]
fn spec_adds_a_pattern() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/api_key/pattern"), |spec| {
        at(spec, &format!("{SCHEMAS}/App/properties/api_key"))["pattern"] = json!("^ak_[0-9A-Za-z]{32}$");
    });
}

#[test]
fn spec_raises_a_minimum() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/data_retention_days/minimum"), |spec| {
        *at(spec, &format!("{SCHEMAS}/App/properties/data_retention_days/minimum")) = json!(7);
    });
}

#[test]
fn spec_drops_read_only() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/id/readOnly"), |spec| {
        remove(spec, &format!("{SCHEMAS}/App/properties/id/readOnly"));
    });
}

#[test]
fn spec_makes_a_parameter_required() {
    assert_caught(Side::Spec, &format!("{APPS}/get/parameters/query:environment/required"), |spec| {
        at(spec, &format!("{APPS}/get/parameters/2"))["required"] = json!(true);
    });
}

#[test]
fn spec_removes_a_component_schema() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/AppFeaturesInput"), |spec| {
        remove(spec, &format!("{SCHEMAS}/AppFeaturesInput"));
    });
}

#[test]
fn spec_retypes_array_items() {
    assert_caught(Side::Spec, &format!("{SCHEMAS}/App/properties/authorized_domains/items/type"), |spec| {
        *at(spec, &format!("{SCHEMAS}/App/properties/authorized_domains/items/type")) = json!("integer");
    });
}

#[test]
fn spec_changes_a_default() {
    assert_caught(Side::Spec, &format!("{APPS}/get/parameters/query:limit/schema/default"), |spec| {
        *at(spec, "/components/parameters/Limit/schema/default") = json!(20);
    });
}

#[test]
fn code_removes_a_response() {
    assert_caught(Side::Code, &format!("{APPS}/get/responses/401"), |code| {
        remove(code, &format!("{APPS}/get/responses/401"));
    });
}

#[test]
fn code_drops_nullability_of_a_type_array() {
    assert_caught(Side::Code, &format!("{SCHEMAS}/App/properties/description/nullable"), |code| {
        *at(code, &format!("{SCHEMAS}/App/properties/description/type")) = json!("string");
    });
}

#[test]
fn code_drops_nullability_of_a_reference() {
    assert_caught(Side::Code, &format!("{SCHEMAS}/Token/properties/created_by/nullable"), |code| {
        *at(code, &format!("{SCHEMAS}/Token/properties/created_by")) =
            json!({"$ref": "#/components/schemas/TokenActor", "readOnly": true});
    });
}

#[test]
fn code_adds_an_operation() {
    assert_caught(Side::Code, "/paths/~1v1~1extra", |code| {
        at(code, "/paths").as_object_mut().unwrap().insert(
            "/v1/extra".into(),
            json!({"get": {"operationId": "extra", "responses": {"200": {"description": "ok"}}}}),
        );
    });
}

#[test]
fn code_adds_an_enum_value() {
    assert_caught(Side::Code, &format!("{SCHEMAS}/Environment/enum"), |code| {
        at(code, &format!("{SCHEMAS}/Environment/enum")).as_array_mut().unwrap().push(json!("qa"));
    });
}

#[test]
fn code_changes_a_security_scheme() {
    assert_caught(Side::Code, "/components/securitySchemes/BearerAuth/scheme", |code| {
        *at(code, "/components/securitySchemes/BearerAuth/scheme") = json!("basic");
    });
}

#[test]
fn code_drops_a_length_bound() {
    assert_caught(Side::Code, &format!("{SCHEMAS}/UpdateAppRequest/properties/name/maxLength"), |code| {
        remove(code, &format!("{SCHEMAS}/UpdateAppRequest/properties/name/maxLength"));
    });
}

#[test]
fn code_drops_the_request_id_header() {
    assert_caught(Side::Code, &format!("{APPS}/post/responses/201/headers/x-request-id"), |code| {
        remove(code, &format!("{APPS}/post/responses/201/headers"));
    });
}

#[test]
fn code_retypes_a_response_header() {
    let header = format!("{APPS}/post/responses/201/headers/X-RateLimit-Remaining");
    assert_caught(
        Side::Code,
        &format!("{APPS}/post/responses/201/headers/x-ratelimit-remaining/schema/type"),
        |code| {
            *at(code, &format!("{header}/schema/type")) = json!("string");
        },
    );
}

#[test]
fn code_makes_a_response_header_required() {
    let header = format!("{APPS}/post/responses/201/headers/Idempotent-Replayed");
    assert_caught(Side::Code, &format!("{APPS}/post/responses/201/headers/idempotent-replayed/required"), |code| {
        at(code, &header).as_object_mut().unwrap().insert("required".into(), json!(true));
    });
}

#[test]
fn every_difference_line_names_both_sides_and_a_fix() {
    let mut spec = load_spec().unwrap();
    *at(&mut spec, &format!("{APPS}/get/operationId")) = json!("get_apps");
    let differences = compare(&spec, &derived_document());
    let line = differences[0].to_string();
    assert!(line.starts_with("/paths/~1v1~1apps/get/operationId (get_apps): "), "{line}");
    assert!(line.contains("openapi.yaml has \"get_apps\", the code has \"list_apps\"; fix: "), "{line}");
}
