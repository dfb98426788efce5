//! The pipeline works end to end: server, spec, generated client.

use appdeck_tests::spawn_app;

#[tokio::test]
async fn admin_token_reads_itself_through_the_generated_client() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let me = app.client.get_current_token().await.expect("GET /v1/me succeeds").into_inner();

    // Assert
    assert!(me.success);
    assert_eq!(me.organization.id, app.organization_id);
    assert_eq!(me.token.label.as_str(), "admin");
}
