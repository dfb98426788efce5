//! The audit log as the webhooks' outbox: the one place an audit event is
//! written, and with it, in the same transaction, the event's webhook
//! payload and one delivery per enabled endpoint of the organization that
//! subscribes to its type. A write that rolls back leaves neither.

use uuid::Uuid;

use super::{
    StoreResult,
    session::{Row, Session, Value},
    sql::{self, time, uuid},
    webhook_sql,
};
use crate::domain::{
    audit::{AuditAction, AuditEvent},
    webhook_endpoint,
    webhook_event::{EventSubject, WebhookEvent},
};

/// Records `event` and queues its deliveries. `subject` is what the write
/// touched, as the event's target shows it.
pub async fn record_event<S: Session>(
    session: &mut S,
    organization_id: Uuid,
    event: &AuditEvent,
    subject: EventSubject,
) -> StoreResult<()> {
    session.execute(sql::INSERT_AUDIT_EVENT, &sql::audit_event_parameters(organization_id, event)).await?;
    let select =
        if S::LOCKS_ROWS { webhook_sql::SELECT_SUBSCRIBERS_KEY_SHARE } else { webhook_sql::SELECT_SUBSCRIBERS };
    let endpoints = session
        .fetch_all(select, &[uuid(organization_id)], |row| Ok((row.uuid(0)?, row.json_opt::<Vec<AuditAction>>(1)?)))
        .await?;
    let subscribed: Vec<Uuid> = endpoints
        .into_iter()
        .filter(|(_, types)| webhook_endpoint::subscribes(types.as_deref(), event.action))
        .map(|(id, _)| id)
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    let payload = WebhookEvent::new(event, subject).to_json();
    let event_parameters = [
        uuid(event.id),
        uuid(organization_id),
        sql::enum_text(&event.action),
        Value::Text(Some(payload)),
        time(event.occurred_at),
    ];
    session.execute(webhook_sql::INSERT_EVENT, &event_parameters).await?;
    for endpoint_id in subscribed {
        let parameters = [uuid(Uuid::now_v7()), uuid(event.id), uuid(endpoint_id), time(event.occurred_at)];
        session.execute(webhook_sql::INSERT_DELIVERY, &parameters).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{
        domain::{
            audit::{AuditContext, AuditTarget, AuditTargetType},
            quota::Quotas,
            webhook_endpoint::WebhookEndpoint,
        },
        provisioning,
        store::{
            PageRequest, PoolSettings, SqliteBackend, Store, StoreError, StoreSettings, WebhookStore,
            operations::{SqlStore, write_op},
        },
        webhook_secrets::{SigningSecret, WebhookSecretKey},
    };

    #[tokio::test]
    async fn a_write_that_rolls_back_after_its_event_leaves_no_delivery() {
        // Arrange: an organization with an endpoint subscribed to everything
        let directory = tempfile::tempdir().unwrap();
        let settings = StoreSettings {
            pool: PoolSettings { max_connections: 2, acquire_timeout: Duration::from_secs(5) },
            statement_timeout: Duration::from_secs(10),
            sqlite_max_page_count: None,
            webhook_secret_key: None,
        };
        let url = format!("sqlite://{}", directory.path().join("outbox.db").display());
        let store =
            SqlStore::new(SqliteBackend::open(&url, settings).unwrap(), Some(WebhookSecretKey::from_bytes([3; 32])));
        store.migrate().await.unwrap();
        let (organization, _) = provisioning::create_organization(&store, "Acme", 1000).await.unwrap();
        let request = serde_json::from_value(serde_json::json!({"url": "https://h.example"})).unwrap();
        let endpoint = WebhookEndpoint::create(request, &NoPlainHttp, crate::domain::now()).unwrap();
        let secret = SigningSecret::generate();
        let context = AuditContext::default();
        store.create_webhook_endpoint(organization.id, &endpoint, &secret, &context, Quotas::default()).await.unwrap();
        let page = PageRequest { after: None, limit: 10 };
        let before = store.list_webhook_deliveries(organization.id, endpoint.id, page).await.unwrap().unwrap();

        // Act: a write that records its event, then fails
        let organization_id = organization.id;
        let failed = store
            .write(write_op(move |session: &mut <SqliteBackend as crate::store::Backend>::Session| {
                Box::pin(async move {
                    let target = AuditTarget { kind: AuditTargetType::App, id: Uuid::now_v7() };
                    let event = AuditEvent::record(&AuditContext::default(), AuditAction::AppCreated, target, vec![]);
                    record_event(session, organization_id, &event, EventSubject::App { name: "gone".to_owned() })
                        .await?;
                    Err::<(), _>(StoreError::Conflict("a rule broken after the event".to_owned()))
                })
            }))
            .await;

        // Assert
        assert!(matches!(failed, Err(StoreError::Conflict(_))));
        let after = store.list_webhook_deliveries(organization.id, endpoint.id, page).await.unwrap().unwrap();
        assert_eq!(after.len(), before.len(), "the rolled-back event queued nothing");
        let audit = store.list_audit_events(organization.id, Default::default(), page).await.unwrap();
        assert!(audit.iter().all(|event| event.action != AuditAction::AppCreated), "nor was it audited");
    }

    struct NoPlainHttp;

    impl crate::domain::webhook_endpoint::PlainHttpHosts for NoPlainHttp {
        fn allows_plain_http(&self, _: &str) -> bool {
            false
        }
    }
}
