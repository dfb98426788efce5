//! The contract served outside `/v1` without a token: `/openapi.yaml` byte
//! for byte, `/openapi.json` as the same document, Swagger UI at `/docs` and
//! the API reference at `/reference`.

use std::collections::BTreeSet;

use appdeck_tests::{header_text, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

/// The repository's `openapi.yaml`, as this test binary was built with it.
const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");

/// The keys of the top level of the YAML document: lines without indentation.
fn yaml_top_level_keys() -> BTreeSet<String> {
    OPENAPI_YAML
        .lines()
        .filter(|line| line.chars().next().is_some_and(|first| first.is_ascii_alphabetic()))
        .filter_map(|line| line.split_once(':').map(|(key, _)| key.to_owned()))
        .collect()
}

/// The keys of `paths:` in the YAML document: two-space-indented lines starting with `/`.
fn yaml_paths() -> BTreeSet<String> {
    OPENAPI_YAML
        .lines()
        .skip_while(|line| *line != "paths:")
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .filter_map(|line| line.strip_prefix("  /").and_then(|path| path.strip_suffix(':')))
        .map(|path| format!("/{path}"))
        .collect()
}

/// Every `operationId:` value in the YAML document.
fn yaml_operation_ids() -> BTreeSet<String> {
    OPENAPI_YAML
        .lines()
        .filter_map(|line| line.trim().strip_prefix("operationId:"))
        .map(|id| id.trim().trim_matches('"').to_owned())
        .collect()
}

/// The scalar value of the YAML line `key: value` indented by `indent` spaces.
fn yaml_scalar(indent: usize, key: &str) -> String {
    let prefix = format!("{}{key}:", " ".repeat(indent));
    let line = OPENAPI_YAML.lines().find(|line| line.starts_with(&prefix)).unwrap_or_else(|| panic!("no `{key}`"));
    line[prefix.len()..].trim().trim_matches('"').to_owned()
}

fn json_operation_ids(document: &Value) -> BTreeSet<String> {
    document["paths"]
        .as_object()
        .expect("`paths` is an object")
        .values()
        .flat_map(|path_item| path_item.as_object().expect("a path item is an object").values())
        .filter_map(|operation| operation.get("operationId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

async fn get_json_document(app: &appdeck_tests::TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_text(&response, "content-type").starts_with("application/json"));
    response.json().await.expect("/openapi.json is JSON")
}

#[tokio::test]
async fn openapi_yaml_is_served_byte_for_byte_without_a_token() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/openapi.yaml")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header_text(&response, "content-type").contains("yaml"), "{}", header_text(&response, "content-type"));
    let served = response.bytes().await.unwrap();
    assert_eq!(served.len(), OPENAPI_YAML.len());
    assert!(served == OPENAPI_YAML.as_bytes(), "/openapi.yaml differs from the repository's openapi.yaml");
}

#[tokio::test]
async fn openapi_json_is_the_same_document_as_the_yaml() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let document = get_json_document(&app).await;

    // Assert
    assert_eq!(document["openapi"], yaml_scalar(0, "openapi"));
    assert_eq!(document["info"]["title"], yaml_scalar(2, "title"));
    assert_eq!(document["info"]["version"], yaml_scalar(2, "version"));
    let json_top_level: BTreeSet<String> = document.as_object().unwrap().keys().cloned().collect();
    assert_eq!(json_top_level, yaml_top_level_keys());
    let json_paths: BTreeSet<String> = document["paths"].as_object().unwrap().keys().cloned().collect();
    assert!(!json_paths.is_empty());
    assert_eq!(json_paths, yaml_paths());
    assert_eq!(json_operation_ids(&document), yaml_operation_ids());
}

#[tokio::test]
async fn openapi_json_declares_the_three_token_forms() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let document = get_json_document(&app).await;

    // Assert
    let schemes = document["components"]["securitySchemes"].as_object().expect("security schemes");
    let described: BTreeSet<String> = schemes
        .values()
        .map(|scheme| match scheme["type"].as_str() {
            Some("apiKey") => format!("header {}", scheme["name"].as_str().unwrap_or_default()),
            Some("http") => format!("http {}", scheme["scheme"].as_str().unwrap_or_default()),
            other => format!("{other:?}"),
        })
        .collect();
    let expected: BTreeSet<String> =
        ["header X-API-Key", "header Authorization", "http bearer"].into_iter().map(str::to_owned).collect();
    assert_eq!(described, expected);
}

#[tokio::test]
async fn docs_serves_swagger_ui_without_a_token() {
    // Arrange
    let app = spawn_app().await;

    for path in ["/docs/", "/docs"] {
        // Act
        let response = app.http.get(app.url(path)).send().await.unwrap();

        // Assert
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(header_text(&response, "content-type").starts_with("text/html"), "{path}");
        let page = response.text().await.unwrap();
        assert!(page.to_lowercase().contains("swagger"), "{path} is not Swagger UI");
    }
}

#[tokio::test]
async fn docs_points_swagger_ui_at_openapi_json() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let script = response.text().await.unwrap();
    assert!(script.contains("/openapi.json"), "Swagger UI does not load /openapi.json: {script}");
}

#[tokio::test]
async fn reference_serves_its_page_and_scripts_without_a_token() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let page = app.http.get(app.url("/reference")).send().await.unwrap();

    // Assert
    assert_eq!(page.status(), StatusCode::OK);
    assert!(header_text(&page, "content-type").starts_with("text/html"));
    let policy = header_text(&page, "content-security-policy");
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    for script in ["/reference/scalar.js", "/reference/init.js"] {
        assert!(html.contains(&format!(r#"<script src="{script}">"#)), "the page does not load {script}: {html}");
        let response = app.http.get(app.url(script)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{script}");
        assert!(header_text(&response, "content-type").starts_with("text/javascript"), "{script}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{script}");
    }
}
