//! Organizations do not see each other's events.

use appdeck_client::types;
use appdeck_tests::{all_audit_events, spawn_app};

use types::{AuditAction, AuditTargetType};

use super::{Filter, Recorded, admin_token, by, expected, ids, list_filtered, list_pages, one_of_each_action};

#[tokio::test]
async fn another_organization_sees_only_its_own_events() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let their_admin = other.get_current_token().await.unwrap().into_inner().token;

    // Act
    let theirs = all_audit_events(&other).await;

    // Assert
    assert_eq!(theirs.len(), 1, "{theirs:#?}");
    assert_eq!(
        Recorded::of(&theirs[0]),
        expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, their_admin.id), &["label", "role"])
    );
    assert_eq!(theirs[0].request_id, None);
}

#[tokio::test]
async fn our_events_stay_out_of_another_organizations_list_and_theirs_out_of_ours() {
    // Arrange
    let app = spawn_app().await;
    let ours = app.create_app_named("Ours").await;
    let our_admin = admin_token(&app).await;
    let other = app.client_with_token(&app.other_organization_token().await);
    let their_admin = other.get_current_token().await.unwrap().into_inner().token;
    let theirs = other.create_app(None, &appdeck_tests::app_request("Theirs")).await.unwrap().into_inner().app;
    let our_events = ids(&app.audit_events().await);

    // Act
    let their_events = all_audit_events(&other).await;
    let by_our_app = Filter { target_id: Some(ours.id), ..Default::default() };
    let by_our_admin = Filter { actor_id: Some(our_admin.id), ..Default::default() };
    let their_view_of_our_app = list_pages(&other, by_our_app, 100).await.concat();
    let their_view_of_our_admin = list_pages(&other, by_our_admin, 100).await.concat();
    let our_view_of_their_app = list_filtered(&app, Filter { target_id: Some(theirs.id), ..Default::default() }).await;

    // Assert
    let their_actions: Vec<_> = their_events.iter().map(Recorded::of).collect();
    assert_eq!(
        their_actions,
        [
            expected(AuditAction::AppCreated, by(&their_admin), (AuditTargetType::App, theirs.id), &["name"]),
            expected(AuditAction::TokenCreated, None, (AuditTargetType::Token, their_admin.id), &["label", "role"]),
        ]
    );
    assert!(their_events.iter().all(|event| !our_events.contains(&event.id)));
    assert!(their_view_of_our_app.is_empty(), "{their_view_of_our_app:#?}");
    assert!(their_view_of_our_admin.is_empty(), "{their_view_of_our_admin:#?}");
    assert!(our_view_of_their_app.is_empty(), "{our_view_of_their_app:#?}");
}
