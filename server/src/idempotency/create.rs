//! The create flow under an optional `Idempotency-Key`, written once for
//! both creates (`create_app`, `create_api_token`): an answer recorded under
//! the key is replayed (or, for another request, refused with 409) before
//! the request is checked; otherwise the resource is made, and under a key
//! its answer is recorded in the same write.

use std::sync::Arc;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{PresentedKey, ScopedKey};
use crate::{
    error::ApiError,
    store::{Created, IdempotentWrite, SealedResponse, Store, StoreResult},
};

/// One create: where a key is looked up, and what scopes it.
pub struct Create<'a> {
    pub store: &'a dyn Store,
    pub organization_id: Uuid,
    /// The `operation_id`. It is part of the fingerprint, so a key used for
    /// one create is refused for the other.
    pub operation: &'static str,
    pub now: DateTime<Utc>,
}

impl Create<'_> {
    /// The create's 201 answer, or the one recorded under `key`.
    ///
    /// `prepare` checks the request and gives what to store and how to
    /// answer what the store made; `insert` stores it without a key,
    /// `insert_once` claims the key and records the sealed answer with it.
    pub async fn answer<Input, Made, Body, Respond>(
        self,
        key: Option<PresentedKey>,
        prepare: impl FnOnce() -> Result<(Input, Respond), ApiError>,
        insert: impl AsyncFnOnce(Input) -> StoreResult<Made>,
        insert_once: impl AsyncFnOnce(Input, IdempotentWrite<Made>) -> StoreResult<Created<Made>>,
    ) -> Result<Response, ApiError>
    where
        Made: 'static,
        Body: Serialize + 'static,
        Respond: Fn(&Made) -> Body + Send + Sync + 'static,
    {
        let key = key.map(|key| key.scope(self.organization_id, self.operation));
        if let Some(key) = &key
            && let Some(earlier) = key.earlier_answer(self.store, self.now).await?
        {
            return Ok(earlier);
        }
        let (input, respond) = prepare()?;
        let Some(key) = key else {
            let made = insert(input).await?;
            return Ok(created(&respond(&made)));
        };
        let key = Arc::new(key);
        let respond = Arc::new(respond);
        match insert_once(input, key.write(self.now, sealer(key.clone(), respond.clone()))).await? {
            Created::New(made) => Ok(created(&respond(&made))),
            Created::Earlier(record) => key.replay(record),
        }
    }
}

/// Seals the answer to what the store made, inside the store's write.
fn sealer<Made, Body: Serialize>(
    key: Arc<ScopedKey>,
    respond: Arc<impl Fn(&Made) -> Body + Send + Sync + 'static>,
) -> Arc<dyn Fn(&Made) -> SealedResponse + Send + Sync> {
    Arc::new(move |made: &Made| key.seal(StatusCode::CREATED, &respond(made)))
}

fn created(body: &impl Serialize) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}
