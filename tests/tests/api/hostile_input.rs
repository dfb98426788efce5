//! A corpus of hostile bodies and headers, sent to every operation that
//! reads them, on whichever backend the suite runs: no answer is a 5xx,
//! and every refusal carries the error body.

use appdeck_server::domain::token::TokenRole;
use appdeck_tests::{TestApp, spawn_app};
use reqwest::{
    Method, StatusCode,
    header::{HeaderName, HeaderValue},
};
use serde_json::{Value, json};

/// `body` with `value` at `field`.
fn with(body: &Value, field: &str, value: Value) -> Value {
    let mut body = body.clone();
    body[field] = value;
    body
}

/// Strings no API field should keep as they are.
fn hostile_strings() -> Vec<&'static str> {
    vec![
        "\u{0}",
        "shop\u{0}",
        "\u{0}\u{0}\u{0}",
        "a\u{1b}[2J\u{1b}[31mred",
        "bell\u{7}",
        "del\u{7f}",
        "c1\u{9b}31m",
        "evil\u{202e}txt.exe",
        "isolate\u{2066}x\u{2069}",
        "mark\u{200f}",
        "arabic\u{61c}mark",
        "line\nbreak",
    ]
}

/// Bodies that are wrong whatever the operation: each must be refused.
fn hostile_raw_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        br#"[{"name":"a"}]"#.to_vec(),
        b"\"a string\"".to_vec(),
        b"12".to_vec(),
        b"{".to_vec(),
        br#"{"name":"a",}"#.to_vec(),
        br#"{"name":"a","name":"b"}"#.to_vec(),
        br#"{"label":"a","label":"b","role":"ci"}"#.to_vec(),
        br#"{"name":"a","features":{"push":true,"push":false}}"#.to_vec(),
        br#"{"name":"\ud800"}"#.to_vec(),
        br#"{"name":"\u0000"}"#.to_vec(),
        br#"{"label":"\u0000","role":"ci"}"#.to_vec(),
        br#"{"na\u0000me":"a"}"#.to_vec(),
        br#"{"name":1e400}"#.to_vec(),
        br#"{"name":"a","data_retention_days":1e400}"#.to_vec(),
        br#"{"name":"a","data_retention_days":99999999999999999999999999}"#.to_vec(),
        br#"{"name":"a","data_retention_days":-99999999999999999999999999}"#.to_vec(),
        br#"{"name":"a","data_retention_days":30.5}"#.to_vec(),
        br#"{"name":"a","data_retention_days":"30"}"#.to_vec(),
        "\u{feff}{\"name\":\"bom\"}".as_bytes().to_vec(),
    ];
    // Invalid UTF-8: a lone continuation byte, an overlong NUL, a truncated sequence.
    for bad in [&b"\x80"[..], b"\xc0\x80", b"\xe2\x82", b"\xff\xfe"] {
        let mut body = br#"{"name":"a"#.to_vec();
        body.extend_from_slice(bad);
        body.extend_from_slice(br#""}"#);
        bodies.push(body);
    }
    // Deep nesting, far past serde_json's recursion limit, in a field and at the top.
    let depth = 100_000;
    bodies.push(format!(r#"{{"name":"a","features":{}{}}}"#, "[".repeat(depth), "]".repeat(depth)).into_bytes());
    bodies.push(format!("{}{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes());
    bodies.push(
        format!(
            r#"{{"name":"a","email_platform":"brevo","email_credentials":{}1{}}}"#,
            r#"{"k":"#.repeat(200),
            "}".repeat(200)
        )
        .into_bytes(),
    );
    bodies
}

/// App bodies with one field made hostile: wrong JSON types, arrays for
/// objects, NUL, control and bidi characters where the rules refuse them.
fn hostile_app_bodies() -> Vec<Value> {
    let base = json!({"name": "Storefront"});
    let brevo = json!({"name": "Storefront", "email_platform": "brevo"});
    let mut bodies = vec![
        with(&base, "features", json!([true])),
        with(&base, "features", json!([true, true, true, true])),
        with(&base, "features", json!("push")),
        with(&base, "features", json!(true)),
        with(&base, "features", json!({"push": "yes"})),
        with(&base, "features", json!({"push": [true]})),
        with(&brevo, "email_credentials", json!(["k", "v"])),
        with(&brevo, "email_credentials", json!("key")),
        with(&brevo, "email_credentials", json!({"k": {"nested": "v"}})),
        with(&brevo, "email_credentials", json!({"k": 1})),
        with(&brevo, "email_credentials", json!({"k": ["v"]})),
        with(&brevo, "email_credentials", json!({"k": "x".repeat(17 * 1024)})),
        with(&brevo, "email_credentials", json!({"k": "v\u{0}"})),
        with(&brevo, "email_credentials", json!({"k\u{0}": "v"})),
        with(&base, "environment", json!({"staging": null})),
        with(&base, "environment", json!(["staging"])),
        with(&base, "environment", json!("staging\u{0}")),
        with(&base, "status", json!(1)),
        with(&base, "authorized_domains", json!({"0": "a.com"})),
        with(&base, "authorized_domains", json!("a.com")),
        with(&base, "authorized_domains", json!(["a.com\u{0}"])),
        with(&base, "authorized_domains", json!([["a.com"]])),
        with(&base, "webhook_enabled", json!("true")),
        with(&base, "webhook_url", json!("https://hooks.example.com/\u{0}")),
        with(&base, "website_url", json!("https://shop.example.com/\u{1b}")),
        with(&base, "website_url", json!(["https://shop.example.com"])),
        with(&base, "timezone", json!("UTC\u{0}")),
        with(&base, "timezone", json!({"name": "UTC"})),
        with(&base, "data_retention_days", json!(u64::MAX)),
        with(&base, "data_retention_days", json!(i64::MIN)),
        with(&base, "data_retention_days", json!(f64::MAX)),
        with(&base, "data_retention_days", json!([365])),
        with(&base, "description", json!("text\u{0}")),
        with(&base, "description", json!("text\u{1b}[2J")),
        with(&base, "description", json!({"text": "a"})),
        with(&base, "context_info", json!("ctx\u{0}")),
        with(&base, "context_info", json!("ctx\u{7}")),
        with(&base, "name", json!(["Storefront"])),
        with(&base, "name", json!({"value": "Storefront"})),
        with(&base, "name", json!(1)),
        with(&base, "name", json!(true)),
        with(&base, "name", json!("x".repeat(101))),
        with(&base, "bundle\u{0}id", json!("x")),
    ];
    bodies.extend(hostile_strings().into_iter().map(|name| with(&base, "name", json!(name))));
    bodies
}

fn hostile_token_bodies() -> Vec<Value> {
    let base = json!({"label": "deploy", "role": "ci"});
    let mut bodies = vec![
        with(&base, "role", json!({"ci": null})),
        with(&base, "role", json!(["ci"])),
        with(&base, "role", json!("ci\u{0}")),
        with(&base, "label", json!(["deploy"])),
        with(&base, "expires_at", json!(253_402_300_800_i64)),
        with(&base, "expires_at", json!("2999-01-01T00:00:00Z\u{0}")),
        with(&base, "expires_at", json!(["2999-01-01T00:00:00Z"])),
    ];
    bodies.extend(hostile_strings().into_iter().map(|label| with(&base, "label", json!(label))));
    bodies
}

fn hostile_names() -> Vec<Value> {
    let mut bodies: Vec<Value> = hostile_strings().into_iter().map(|name| json!({"name": name})).collect();
    bodies.extend([json!({"name": ["Acme"]}), json!({"name": {"Acme": true}}), json!({"name": 7})]);
    bodies
}

/// Asserts `response` is a refusal with the error body: a 4xx, JSON, `success`
/// false, a sentence and a snake_case code.
async fn assert_refused_with_error_body(response: reqwest::Response, what: &str) {
    let status = response.status();
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let text = response.text().await.expect("a body");
    assert!(status.is_client_error(), "{what}: {status} {text}");
    assert_error_body(status, content_type, &text, what);
}

fn assert_error_body(status: StatusCode, content_type: Option<String>, text: &str, what: &str) {
    assert!(
        content_type.as_deref().is_some_and(|value| value.starts_with("application/json")),
        "{what}: {content_type:?}"
    );
    let body: Value = serde_json::from_str(text).unwrap_or_else(|error| panic!("{what}: {status} {error}: {text}"));
    assert_eq!(body["success"], false, "{what}: {body}");
    assert!(body["error"].as_str().is_some_and(|error| !error.is_empty()), "{what}: {body}");
    let code = body["code"].as_str().unwrap_or_default();
    assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{what}: {body}");
}

/// Sends `body` as `application/json` with `token`.
async fn send(app: &TestApp, token: &str, method: &Method, path: &str, body: Vec<u8>) -> reqwest::Response {
    app.http
        .request(method.clone(), app.url(path))
        .header("x-api-key", token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers")
}

/// The operations that read a body, with a token allowed to call them.
async fn writable_operations(app: &TestApp) -> Vec<(Method, String)> {
    let existing_app = app.create_app(json!({"name": "Existing"})).await;
    let token = app.create_api_token("existing", "developer").await.token;
    vec![
        (Method::POST, "/v1/apps".to_owned()),
        (Method::PATCH, format!("/v1/apps/{}", existing_app.id)),
        (Method::POST, "/v1/api-tokens".to_owned()),
        (Method::PATCH, format!("/v1/api-tokens/{}", token.id)),
        (Method::PATCH, "/v1/organization".to_owned()),
    ]
}

#[tokio::test]
async fn hostile_bodies_are_refused_with_the_error_body_never_a_5xx() {
    // Arrange
    let app = spawn_app().await;
    let operations = writable_operations(&app).await;
    let json_bodies = || {
        let app_bodies = hostile_app_bodies();
        let token_bodies = hostile_token_bodies();
        let names = hostile_names();
        [app_bodies, token_bodies, names].concat()
    };

    // Act and assert: every body to every operation (most are wrong for
    // that operation in more than one way; each must still be a clean 4xx).
    for (method, path) in &operations {
        for body in hostile_raw_bodies() {
            let what = format!("{method} {path} {}", String::from_utf8_lossy(&body[..body.len().min(80)]));
            assert_refused_with_error_body(send(&app, &app.admin_token, method, path, body).await, &what).await;
        }
        for body in json_bodies() {
            let what = format!("{method} {path} {}", &body.to_string().chars().take(120).collect::<String>());
            let bytes = serde_json::to_vec(&body).unwrap();
            assert_refused_with_error_body(send(&app, &app.admin_token, method, path, bytes).await, &what).await;
        }
    }
}

#[tokio::test]
async fn nul_anywhere_in_a_body_is_400_with_its_own_code() {
    // Arrange
    let app = spawn_app().await;
    let operations = writable_operations(&app).await;
    let bodies = [
        json!({"name": "shop\u{0}"}),
        json!({"label": "ci\u{0}", "role": "ci"}),
        json!({"name": "a", "description": "\u{0}"}),
        json!({"name": "a", "email_platform": "brevo", "email_credentials": {"key": "\u{0}"}}),
        json!({"name": "a", "email_platform": "brevo", "email_credentials": {"\u{0}": "v"}}),
        json!({"name": "a", "authorized_domains": ["ok.com", "\u{0}.com"]}),
        json!({"unknown\u{0}": 1}),
    ];

    for (method, path) in &operations {
        for body in &bodies {
            // Act
            let response = send(&app, &app.admin_token, method, path, serde_json::to_vec(body).unwrap()).await;

            // Assert
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{method} {path} {body}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], "invalid_character", "{method} {path} {body}: {error}");
        }
    }
}

#[tokio::test]
async fn an_array_for_an_object_field_is_400_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    let existing = app.create_app(json!({"name": "Existing"})).await;

    // Act
    let created = app.create_app_json(&json!({"name": "a", "features": [true]})).await;
    let patched = app.patch_app_json(existing.id, &json!({"features": [true, false]})).await;
    let enum_as_object = app.create_app_json(&json!({"name": "a", "environment": {"staging": null}})).await;

    // Assert
    for (response, field) in [(created, "features"), (patched, "features"), (enum_as_object, "environment")] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "validation_failed");
        assert!(error["error"].as_str().unwrap().contains(&format!("`{field}`")), "{error}");
    }
    assert!(!app.get_app(existing.id).await.features.push, "nothing changed");
}

#[tokio::test]
async fn control_and_bidi_characters_in_names_and_labels_are_400() {
    // Arrange
    let app = spawn_app().await;
    let existing = app.create_app(json!({"name": "Existing"})).await;
    let refused =
        ["a\u{1b}[2J", "bell\u{7}", "c1\u{9b}", "evil\u{202e}gnp.exe", "x\u{2066}y", "rlm\u{200f}", "tab\tname"];

    for name in refused {
        // Act
        let responses = [
            app.create_app_json(&json!({"name": name})).await,
            app.patch_app_json(existing.id, &json!({"name": name})).await,
            app.send_json(Method::POST, "/v1/api-tokens", &json!({"label": name, "role": "ci"})).await,
            app.send_json(Method::PATCH, "/v1/organization", &json!({"name": name})).await,
        ];

        // Assert
        for response in responses {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name:?}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], "validation_failed", "{name:?}: {error}");
        }
    }
    assert_eq!(app.get_app(existing.id).await.name.to_string(), "Existing");
}

#[tokio::test]
async fn free_text_keeps_line_breaks_and_bidi_but_refuses_other_controls() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let kept = app
        .create_app_json(&json!({"name": "Shop", "description": "line one\nline\ttwo\r\n\u{2067}عربي\u{2069}"}))
        .await;
    let refused = app.create_app_json(&json!({"name": "Shop", "context_info": "clear\u{1b}[2J"})).await;

    // Assert
    assert_eq!(kept.status(), StatusCode::CREATED);
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn credentials_are_flat_strings_of_at_most_16_kib() {
    // Arrange
    let app = spawn_app().await;
    let body = |credentials: Value| json!({"name": "a", "email_platform": "brevo", "email_credentials": credentials});
    // `{"k":"…"}` is 8 bytes around the value.
    let at_the_cap = "x".repeat(16 * 1024 - 8);
    let over_the_cap = "x".repeat(16 * 1024 - 7);

    // Act
    let fits = app.create_app_json(&body(json!({"k": at_the_cap}))).await;
    let too_large = app.create_app_json(&body(json!({"k": over_the_cap}))).await;
    let nested = app.create_app_json(&body(json!({"k": {"inner": "v"}}))).await;

    // Assert
    assert_eq!(fits.status(), StatusCode::CREATED);
    assert_eq!(too_large.status(), StatusCode::BAD_REQUEST);
    assert_eq!(too_large.json::<Value>().await.unwrap()["code"], "credentials_too_large");
    assert_eq!(nested.status(), StatusCode::BAD_REQUEST);
    assert_eq!(nested.json::<Value>().await.unwrap()["code"], "validation_failed");
}

#[tokio::test]
async fn hostile_headers_never_get_a_5xx_and_refusals_carry_the_error_body() {
    // Arrange
    let app = spawn_app().await;
    let ci = app.token_with_role(TokenRole::Ci).await;
    let long = "a".repeat(16 * 1024);
    let raw = |bytes: &[u8]| HeaderValue::from_bytes(bytes).expect("a header value reqwest will send");
    let headers: Vec<(&str, HeaderValue)> = vec![
        ("x-api-key", raw(b"\xff\xfe")),
        ("x-api-key", raw("apps_\u{202e}".as_bytes())),
        ("x-api-key", HeaderValue::from_str(&long).unwrap()),
        ("authorization", raw(b"Bearer \xc0\x80")),
        ("authorization", HeaderValue::from_str(&format!("Bearer {long}")).unwrap()),
        ("authorization", HeaderValue::from_static("Basic Og==")),
        ("authorization", HeaderValue::from_static("Bearer")),
        ("idempotency-key", raw(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")),
        ("idempotency-key", HeaderValue::from_str(&long).unwrap()),
        ("idempotency-key", raw("key-\u{202e}-0123456789".as_bytes())),
        ("x-request-id", raw(b"\xff\xfe\x80")),
        ("x-request-id", raw("id\u{202e}\u{2066}".as_bytes())),
        ("x-request-id", HeaderValue::from_str(&long).unwrap()),
        ("content-type", raw(b"application/json; charset=\xff")),
        ("content-type", HeaderValue::from_static("application/json; charset=latin1")),
        ("content-type", HeaderValue::from_static("text/plain")),
        ("x-forwarded-for", HeaderValue::from_static("not-an-address, ::ffff:999.1.1.1, \"[::1]\"")),
        ("forwarded", raw(b"for=\xff;proto=http")),
    ];
    let valid = serde_json::to_vec(&json!({"name": "fine"})).unwrap();

    for (name, value) in headers {
        for (method, path, token) in [
            (Method::GET, "/v1/apps", app.admin_token.as_str()),
            (Method::GET, "/v1/apps", ci.as_str()),
            (Method::POST, "/v1/apps", app.admin_token.as_str()),
        ] {
            // Act: the hostile header replaces its ordinary value.
            let mut request = app
                .http
                .request(method.clone(), app.url(path))
                .header("x-api-key", token)
                .header("content-type", "application/json")
                .body(valid.clone())
                .build()
                .unwrap();
            request.headers_mut().insert(HeaderName::from_static(name), value.clone());
            let Ok(response) = app.http.execute(request).await else {
                // A header the client will not send: nothing reached the server.
                continue;
            };

            // Assert
            let status = response.status();
            let what = format!("{method} {path} {name}: {value:?}");
            assert!(!status.is_server_error(), "{what}: {status}");
            if !status.is_success() {
                let content_type =
                    response.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
                let text = response.text().await.unwrap();
                assert_error_body(status, content_type, &text, &what);
            }
        }
    }
}

#[tokio::test]
async fn hostile_paths_and_queries_are_refused_with_the_error_body() {
    // Arrange
    let app = spawn_app().await;
    let paths = [
        "/v1/apps/%00",
        "/v1/apps/%FF%FE",
        "/v1/apps/%E2%80%AE",
        "/v1/api-tokens/00000000-0000-0000-0000-00000000000%00",
        "/v1/apps?limit=99999999999999999999999",
        "/v1/apps?limit=-1",
        "/v1/apps?limit=1e3",
        "/v1/apps?cursor=%00",
        "/v1/apps?cursor=%FF",
        "/v1/apps?environment=%00",
        "/v1/apps?environment=staging&environment=production",
        "/v1/audit-events?since=%00",
        "/v1/audit-events?action=%E2%80%AE",
        "/v1/audit-events?actor_id=%FF",
    ];

    for path in paths {
        // Act
        let response = app.admin_request(Method::GET, path).send().await.expect("the server answers");

        // Assert
        assert_refused_with_error_body(response, path).await;
    }
}
