//! The `action`, `actor_id`, `target_id`, `since` and `until` filters.

use appdeck_client::types;
use appdeck_tests::{let_the_clock_move, read_error, spawn_app};
use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use uuid::Uuid;

use types::{AuditAction, AuditTargetType};

use super::{EVERY_ACTION, Filter, Recorded, ids, ids_where, list_filtered, list_pages, one_of_each_action};

#[tokio::test]
async fn action_filter_returns_exactly_the_events_of_that_action() {
    // Arrange
    let app = spawn_app().await;
    one_of_each_action(&app).await;
    let all = app.audit_events().await;

    for action in EVERY_ACTION {
        // Act
        let filtered = list_filtered(&app, Filter { action: Some(action), ..Default::default() }).await;

        // Assert
        assert!(!filtered.is_empty(), "the scenario records {action}");
        assert_eq!(ids(&filtered), ids_where(&all, |event| event.action == action), "{action}");
    }
}

#[tokio::test]
async fn actor_id_filter_returns_exactly_the_events_made_by_that_token() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let made_by =
        |token: Uuid| ids_where(&all, move |event| event.actor.as_ref().is_some_and(|actor| actor.id == token));

    // Act
    let developer = list_filtered(&app, Filter { actor_id: Some(scenario.developer.id), ..Default::default() }).await;
    let admin = list_filtered(&app, Filter { actor_id: Some(scenario.admin.id), ..Default::default() }).await;
    let nobody = list_filtered(&app, Filter { actor_id: Some(Uuid::now_v7()), ..Default::default() }).await;

    // Assert
    let developer_actions: Vec<_> = developer.iter().rev().map(|event| event.action).collect();
    assert_eq!(
        developer_actions,
        [
            AuditAction::AppCreated,
            AuditAction::AppUpdated,
            AuditAction::AppSecretRotated,
            AuditAction::AppCreated,
            AuditAction::AppDeleted
        ]
    );
    assert_eq!(ids(&developer), made_by(scenario.developer.id));
    assert_eq!(ids(&admin), made_by(scenario.admin.id));
    assert_eq!(admin.len(), 5, "the admin made the developer token, the ci token thrice, and renamed: {admin:#?}");
    assert!(nobody.is_empty(), "{nobody:#?}");
}

#[tokio::test]
async fn target_id_filter_returns_the_whole_history_of_an_app_even_after_its_deletion() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;

    // Act
    let kept = list_filtered(&app, Filter { target_id: Some(scenario.kept_app), ..Default::default() }).await;
    let deleted = list_filtered(&app, Filter { target_id: Some(scenario.deleted_app), ..Default::default() }).await;
    let token = list_filtered(&app, Filter { target_id: Some(scenario.revoked_token), ..Default::default() }).await;
    let organization = list_filtered(&app, Filter { target_id: Some(app.organization_id), ..Default::default() }).await;

    // Assert
    let actions = |events: &[types::AuditEvent]| events.iter().map(|event| event.action).collect::<Vec<_>>();
    assert_eq!(actions(&kept), [AuditAction::AppSecretRotated, AuditAction::AppUpdated, AuditAction::AppCreated]);
    assert_eq!(actions(&deleted), [AuditAction::AppDeleted, AuditAction::AppCreated]);
    assert_eq!(actions(&token), [AuditAction::TokenRevoked, AuditAction::TokenUpdated, AuditAction::TokenCreated]);
    assert_eq!(actions(&organization), [AuditAction::OrganizationUpdated]);
    for event in kept.iter().chain(&deleted) {
        assert_eq!(event.target.type_, AuditTargetType::App);
    }
}

#[tokio::test]
async fn since_includes_events_at_that_time_and_until_excludes_them() {
    // Arrange
    let app = spawn_app().await;
    for name in ["First", "Second", "Third", "Fourth"] {
        let_the_clock_move().await;
        app.create_app_named(name).await;
    }
    let all = app.audit_events().await;
    let middle = all[2].clone();
    let moment = middle.occurred_at;

    // Act
    let since = list_filtered(&app, Filter { since: Some(moment), ..Default::default() }).await;
    let until = list_filtered(&app, Filter { until: Some(moment), ..Default::default() }).await;
    let empty_window =
        list_filtered(&app, Filter { since: Some(moment), until: Some(moment), ..Default::default() }).await;
    let one_millisecond =
        Filter { since: Some(moment), until: Some(moment + TimeDelta::milliseconds(1)), ..Default::default() };
    let window = list_filtered(&app, one_millisecond).await;

    // Assert
    assert_eq!(ids(&since), ids_where(&all, |event| event.occurred_at >= moment));
    assert_eq!(ids(&until), ids_where(&all, |event| event.occurred_at < moment));
    assert!(ids(&since).contains(&middle.id), "`since` is inclusive");
    assert!(!ids(&until).contains(&middle.id), "`until` is exclusive");
    assert_eq!((since.len(), until.len()), (3, 2), "each write occurred at its own millisecond");
    assert!(empty_window.is_empty(), "{empty_window:#?}");
    assert_eq!(ids(&window), [middle.id]);
}

#[tokio::test]
async fn since_and_until_compare_times_finer_than_a_millisecond() {
    // Arrange
    let app = spawn_app().await;
    for name in ["First", "Second", "Third"] {
        let_the_clock_move().await;
        app.create_app_named(name).await;
    }
    let all = app.audit_events().await;
    let middle = all[1].clone();
    let just_after = middle.occurred_at + TimeDelta::microseconds(1);
    let just_before = middle.occurred_at - TimeDelta::microseconds(1);

    // Act
    let since_just_after = list_filtered(&app, Filter { since: Some(just_after), ..Default::default() }).await;
    let until_just_after = list_filtered(&app, Filter { until: Some(just_after), ..Default::default() }).await;
    let since_just_before = list_filtered(&app, Filter { since: Some(just_before), ..Default::default() }).await;
    let until_just_before = list_filtered(&app, Filter { until: Some(just_before), ..Default::default() }).await;

    // Assert
    assert_eq!(ids(&since_just_after), ids_where(&all, |event| event.occurred_at >= just_after));
    assert_eq!(ids(&until_just_after), ids_where(&all, |event| event.occurred_at < just_after));
    assert_eq!(ids(&since_just_before), ids_where(&all, |event| event.occurred_at >= just_before));
    assert_eq!(ids(&until_just_before), ids_where(&all, |event| event.occurred_at < just_before));
    assert!(!ids(&since_just_after).contains(&middle.id));
    assert!(ids(&until_just_after).contains(&middle.id));
    assert!(ids(&since_just_before).contains(&middle.id));
    assert!(!ids(&until_just_before).contains(&middle.id));
}

#[tokio::test]
async fn filters_combine_and_every_listed_event_matches_all_of_them() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let developer = Some(scenario.developer.id);
    let created_by_developer =
        Filter { action: Some(AuditAction::AppCreated), actor_id: developer, ..Default::default() };
    let oldest_creation = all
        .iter()
        .rev()
        .find(|event| event.action == AuditAction::AppCreated)
        .expect("the scenario creates apps")
        .occurred_at;

    // Act
    let both = list_filtered(&app, created_by_developer).await;
    let about_the_deleted_app =
        list_filtered(&app, Filter { target_id: Some(scenario.deleted_app), ..created_by_developer }).await;
    let by_the_admin_about_the_app = list_filtered(
        &app,
        Filter { target_id: Some(scenario.kept_app), actor_id: Some(scenario.admin.id), ..Default::default() },
    )
    .await;
    let after_the_first_creation = list_filtered(
        &app,
        Filter { since: Some(oldest_creation + TimeDelta::milliseconds(1)), ..created_by_developer },
    )
    .await;
    let before_the_first_creation =
        list_filtered(&app, Filter { until: Some(oldest_creation), ..created_by_developer }).await;
    let window = Filter {
        actor_id: developer,
        since: Some(oldest_creation),
        until: Some(oldest_creation + TimeDelta::milliseconds(1)),
        ..Default::default()
    };
    let in_the_window = list_filtered(&app, window).await;

    // Assert
    let developer_creations = ids_where(&all, |event| {
        event.action == AuditAction::AppCreated && event.actor.as_ref().map(|actor| actor.id) == developer
    });
    assert_eq!(developer_creations.len(), 2);
    assert_eq!(ids(&both), developer_creations);
    assert_eq!(about_the_deleted_app.len(), 1, "{about_the_deleted_app:#?}");
    assert_eq!(Recorded::of(&about_the_deleted_app[0]).target, (AuditTargetType::App, scenario.deleted_app));
    assert!(by_the_admin_about_the_app.is_empty(), "{by_the_admin_about_the_app:#?}");
    assert_eq!(ids(&after_the_first_creation), developer_creations[..1]);
    assert!(before_the_first_creation.is_empty(), "{before_the_first_creation:#?}");
    assert_eq!(ids(&in_the_window), developer_creations[1..]);
}

#[tokio::test]
async fn filters_keep_applying_on_every_page() {
    // Arrange
    let app = spawn_app().await;
    let scenario = one_of_each_action(&app).await;
    let all = app.audit_events().await;
    let by_developer = Filter { actor_id: Some(scenario.developer.id), ..Default::default() };

    // Act
    let pages = list_pages(&app.client, by_developer, 2).await;

    // Assert
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let developer_id = scenario.developer.id;
    assert_eq!(
        ids(&pages.concat()),
        ids_where(&all, |event| event.actor.as_ref().is_some_and(|actor| actor.id == developer_id))
    );
}

#[tokio::test]
async fn filters_that_do_not_parse_return_400_invalid_parameter() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("an unknown action", "action=app.exploded"),
        ("an action in another case", "action=APP.CREATED"),
        ("an actor_id that is not a UUID", "actor_id=admin"),
        ("a target_id that is not a UUID", "target_id=12345"),
        ("a since that is not a date", "since=yesterday"),
        ("an until that is not a date", "until=2024-13-45T99:00:00Z"),
        ("a since without a time zone", "since=2024-01-01T00:00:00"),
    ];

    for (case, query) in cases {
        // Act
        let response = app.admin_request(Method::GET, &format!("/v1/audit-events?{query}")).send().await.unwrap();

        // Assert
        let reply = read_error(response).await;
        assert_eq!((reply.status, reply.code.as_str()), (StatusCode::BAD_REQUEST, "invalid_parameter"), "{case}");
    }
}
