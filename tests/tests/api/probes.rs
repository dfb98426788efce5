//! `/healthz` and `/readyz`: probes outside `/v1`, answered without a token.

use appdeck_tests::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn healthz_returns_200_without_a_token() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], serde_json::json!(true));
}

#[tokio::test]
async fn readyz_returns_200_when_the_database_answers() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.http.get(app.url("/readyz")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["success"], serde_json::json!(true));
}

#[tokio::test]
async fn probes_ignore_an_invalid_token() {
    // Arrange
    let app = spawn_app().await;

    for path in ["/healthz", "/readyz"] {
        // Act
        let response = app.http.get(app.url(path)).header("x-api-key", "not-a-token").send().await.unwrap();

        // Assert
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}
