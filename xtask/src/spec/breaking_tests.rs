//! Self-tests of `spec breaking`: before/after pairs, one per rule.

use serde_json::{Value, json};

use super::{
    breaking::{Severity, compare},
    history, load_spec,
};

/// Compares the committed spec with a copy changed by `mutate`, and asserts
/// that `rule` is reported at `pointer` with `severity`.
fn assert_classified(severity: Severity, rule: &str, pointer: &str, mutate: impl FnOnce(&mut Value)) {
    let before = load_spec().unwrap();
    let mut after = before.clone();
    mutate(&mut after);
    let changes = compare(&before, &after);
    assert!(
        changes.iter().any(|change| change.rule == rule && change.pointer == pointer && change.severity == severity),
        "expected {severity:?} {rule} at {pointer}, got:\n{}",
        changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
}

fn schema<'a>(spec: &'a mut Value, name: &str) -> &'a mut Value {
    &mut spec["components"]["schemas"][name]
}

const LIST: &str = "/paths/~1v1~1apps/get";
const CREATE: &str = "/paths/~1v1~1apps/post";
const CREATE_BODY: &str = "/components/schemas/CreateAppRequest";
const APP: &str = "/components/schemas/App";

#[test]
fn the_committed_spec_has_no_unacknowledged_breaking_change() {
    let (version, released) = history::latest_release().expect("a released spec in spec-history/");
    let changes = compare(&released, &load_spec().unwrap());
    let acknowledgements = history::acknowledgements().expect("the acknowledgements file parses");
    let unacknowledged = history::unacknowledged_breaking(&changes, &acknowledgements);
    assert!(
        unacknowledged.is_empty(),
        "breaking changes since {version} (run `cargo xtask spec breaking`): {unacknowledged:#?}"
    );
}

#[test]
fn an_acknowledged_breaking_change_passes_and_only_that_one() {
    let before = load_spec().unwrap();
    let mut after = before.clone();
    after["paths"]["/v1/apps/{id}"].as_object_mut().unwrap().remove("delete");
    after["paths"]["/v1/me"].as_object_mut().unwrap().remove("get");
    let changes = compare(&before, &after);
    let acknowledgements = vec![history::Acknowledgement {
        rule: "operation-removed".into(),
        pointer: "/paths/~1v1~1apps~1{id}/delete".into(),
        reason: "apps are archived, not deleted".into(),
        breaks_steps: vec!["app-delete".into()],
    }];
    let unacknowledged = history::unacknowledged_breaking(&changes, &acknowledgements);
    assert_eq!(unacknowledged.len(), 1, "{unacknowledged:#?}");
    assert_eq!(unacknowledged[0].pointer, "/paths/~1v1~1me/get");
}

#[test]
fn an_unchanged_or_reformatted_spec_has_no_changes() {
    let spec = load_spec().unwrap();
    let reformatted = super::parse_yaml(&yaml_serde::to_string(&spec).unwrap()).unwrap();
    assert!(compare(&spec, &spec).is_empty());
    assert!(compare(&spec, &reformatted).is_empty());
}

#[test]
fn removing_an_operation_breaks() {
    assert_classified(Severity::Breaking, "operation-removed", "/paths/~1v1~1apps~1{id}/delete", |spec| {
        spec["paths"]["/v1/apps/{id}"].as_object_mut().unwrap().remove("delete");
    });
}

#[test]
fn removing_a_path_breaks_each_operation() {
    assert_classified(Severity::Breaking, "operation-removed", "/paths/~1v1~1me/get", |spec| {
        spec["paths"].as_object_mut().unwrap().remove("/v1/me");
    });
}

#[test]
fn removing_a_success_status_breaks() {
    assert_classified(Severity::Breaking, "success-status-removed", &format!("{CREATE}/responses/201"), |spec| {
        let created = spec["paths"]["/v1/apps"]["post"]["responses"].as_object_mut().unwrap().remove("201").unwrap();
        spec["paths"]["/v1/apps"]["post"]["responses"]["200"] = created;
    });
}

#[test]
fn a_new_required_parameter_breaks() {
    assert_classified(Severity::Breaking, "new-required-parameter", &format!("{LIST}/parameters/query:team"), |spec| {
        spec["paths"]["/v1/apps"]["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "team", "in": "query", "required": true, "schema": {"type": "string"}}));
    });
}

#[test]
fn a_new_optional_parameter_is_compatible() {
    assert_classified(Severity::Info, "optional-parameter-added", &format!("{LIST}/parameters/query:team"), |spec| {
        spec["paths"]["/v1/apps"]["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "team", "in": "query", "schema": {"type": "string"}}));
    });
}

#[test]
fn a_parameter_becoming_required_breaks() {
    assert_classified(
        Severity::Breaking,
        "parameter-became-required",
        &format!("{LIST}/parameters/query:environment"),
        |spec| spec["paths"]["/v1/apps"]["get"]["parameters"][2]["required"] = json!(true),
    );
}

#[test]
fn a_new_required_request_property_breaks() {
    assert_classified(
        Severity::Breaking,
        "new-required-request-property",
        &format!("{CREATE_BODY}/properties/team"),
        |spec| {
            let request = schema(spec, "CreateAppRequest");
            request["properties"]["team"] = json!({"type": "string"});
            request["required"].as_array_mut().unwrap().push(json!("team"));
        },
    );
}

#[test]
fn a_request_property_becoming_required_breaks() {
    assert_classified(
        Severity::Breaking,
        "request-property-became-required",
        &format!("{CREATE_BODY}/properties/environment"),
        |spec| schema(spec, "CreateAppRequest")["required"].as_array_mut().unwrap().push(json!("environment")),
    );
}

#[test]
fn removing_a_request_enum_value_breaks() {
    assert_classified(
        Severity::Breaking,
        "request-enum-value-removed",
        "/components/schemas/Environment/enum",
        |spec| schema(spec, "Environment")["enum"] = json!(["production", "development"]),
    );
}

#[test]
fn lowering_a_request_maximum_breaks() {
    assert_classified(
        Severity::Breaking,
        "request-max-tightened",
        &format!("{CREATE_BODY}/properties/name/maxLength"),
        |spec| schema(spec, "CreateAppRequest")["properties"]["name"]["maxLength"] = json!(50),
    );
}

#[test]
fn raising_a_request_minimum_breaks() {
    assert_classified(
        Severity::Breaking,
        "request-min-tightened",
        &format!("{CREATE_BODY}/properties/data_retention_days/minimum"),
        |spec| schema(spec, "CreateAppRequest")["properties"]["data_retention_days"]["minimum"] = json!(30),
    );
}

#[test]
fn adding_a_request_pattern_breaks() {
    assert_classified(
        Severity::Breaking,
        "request-pattern-added",
        &format!("{CREATE_BODY}/properties/timezone/pattern"),
        |spec| schema(spec, "CreateAppRequest")["properties"]["timezone"]["pattern"] = json!("^[A-Za-z/_]+$"),
    );
}

#[test]
fn constraining_the_extra_properties_of_a_request_object_breaks() {
    let after = load_spec().unwrap();
    let mut before = after.clone();
    schema(&mut before, "CreateAppRequest")["properties"]["engagement_credentials"] =
        json!({"type": "object", "nullable": true, "additionalProperties": true});
    let changes = compare(&before, &after);
    let pointer = format!("{CREATE_BODY}/properties/engagement_credentials/additionalProperties");
    assert!(
        changes.iter().any(|change| change.rule == "request-additional-properties-constrained"
            && change.pointer == pointer
            && change.severity == Severity::Breaking),
        "expected request-additional-properties-constrained at {pointer}, got:\n{}",
        changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn changing_a_type_breaks() {
    assert_classified(
        Severity::Breaking,
        "type-changed",
        &format!("{APP}/properties/data_retention_days/type"),
        |spec| schema(spec, "App")["properties"]["data_retention_days"]["type"] = json!("string"),
    );
}

#[test]
fn changing_a_format_breaks() {
    assert_classified(
        Severity::Breaking,
        "format-changed",
        &format!("{APP}/properties/cached_user_count/format"),
        |spec| schema(spec, "App")["properties"]["cached_user_count"]["format"] = json!("int32"),
    );
}

#[test]
fn removing_a_required_response_property_breaks() {
    assert_classified(
        Severity::Breaking,
        "response-required-property-removed",
        &format!("{APP}/properties/bundle_id"),
        |spec| {
            let app = schema(spec, "App");
            app["properties"].as_object_mut().unwrap().remove("bundle_id");
            app["required"].as_array_mut().unwrap().retain(|name| name != "bundle_id");
        },
    );
}

#[test]
fn a_response_property_becoming_optional_breaks() {
    assert_classified(
        Severity::Breaking,
        "response-property-became-optional",
        &format!("{APP}/properties/name"),
        |spec| schema(spec, "App")["required"].as_array_mut().unwrap().retain(|name| name != "name"),
    );
}

#[test]
fn a_response_property_becoming_nullable_breaks() {
    assert_classified(Severity::Breaking, "response-became-nullable", &format!("{APP}/properties/timezone"), |spec| {
        schema(spec, "App")["properties"]["timezone"]["nullable"] = json!(true)
    });
}

#[test]
fn a_new_response_enum_value_breaks() {
    assert_classified(Severity::Breaking, "response-enum-value-added", "/components/schemas/AppStatus/enum", |spec| {
        schema(spec, "AppStatus")["enum"].as_array_mut().unwrap().push(json!("archived"))
    });
}

#[test]
fn removing_a_response_header_breaks() {
    assert_classified(
        Severity::Breaking,
        "response-header-removed",
        "/paths/~1v1~1me/get/responses/200/headers/x-request-id",
        |spec| {
            spec["paths"]["/v1/me"]["get"]["responses"]["200"].as_object_mut().unwrap().remove("headers");
        },
    );
}

#[test]
fn changing_security_breaks() {
    assert_classified(Severity::Breaking, "security-changed", "/paths/~1v1~1me/get/security", |spec| {
        spec["security"] = json!([{"ApiKeyHeader": []}]);
    });
}

#[test]
fn adding_security_to_an_open_operation_breaks() {
    let mut before = load_spec().unwrap();
    before["security"] = json!([]);
    let mut after = before.clone();
    after["paths"]["/v1/me"]["get"]["security"] = json!([{"ApiKeyHeader": []}]);
    let changes = compare(&before, &after);
    assert!(
        changes.iter().any(|change| change.rule == "security-added"
            && change.pointer == "/paths/~1v1~1me/get/security"
            && change.severity == Severity::Breaking),
        "{changes:#?}"
    );
}

#[test]
fn a_new_operation_is_compatible() {
    assert_classified(Severity::Info, "operation-added", "/paths/~1v1~1extra/get", |spec| {
        spec["paths"]["/v1/extra"] =
            json!({"get": {"operationId": "extra", "responses": {"200": {"description": "ok"}}}});
    });
}
