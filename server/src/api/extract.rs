//! The extractors handlers take their input through: axum's `Json`, `Path`
//! and `Query` wrapped so that every rejection is an `ApiError`, an
//! optional JSON body, and the JSON body of a create with its optional
//! `Idempotency-Key`.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::json_body::{deserialize_json_body, read_json_value, read_optional_json_value};
use crate::{
    domain::RequestBody,
    error::ApiError,
    idempotency::{IdempotencyKey, PresentedKey},
};

/// JSON request body: like `axum::Json`, but every rejection is an `ApiError`
/// and a deserialisation error names the field it happened at.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: RequestBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json_value(request, state).await.and_then(deserialize_json_body).map(ApiJson)
    }
}

/// An optional JSON request body: an empty one is the type's default,
/// anything else is read as `ApiJson` reads it.
pub struct ApiJsonOrDefault<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrDefault<T>
where
    S: Send + Sync,
    T: RequestBody + Default,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match read_optional_json_value(request, state).await? {
            Some(value) => deserialize_json_body(value).map(ApiJsonOrDefault),
            None => Ok(ApiJsonOrDefault(T::default())),
        }
    }
}

/// A JSON request body and the `Idempotency-Key` sent with it: like
/// `ApiJson`, and the key, when there is one, keeps the body's canonical
/// form to tell a retry from another request.
pub struct IdempotentJson<T> {
    pub body: T,
    pub key: Option<PresentedKey>,
}

impl<S, T> FromRequest<S> for IdempotentJson<T>
where
    S: Send + Sync,
    T: RequestBody,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let key = Option::<IdempotencyKey>::from_request_parts(&mut parts, state).await?;
        let value = read_json_value(Request::from_parts(parts, body), state).await?;
        let key = key.map(|key| PresentedKey::new(key, &value));
        Ok(Self { body: deserialize_json_body(value)?, key })
    }
}

/// Path parameters whose rejection is an `ApiError`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(value)| ApiPath(value)).map_err(|rejection| {
            ApiError::bad_request("invalid_parameter", format!("Invalid path parameter: {}", rejection.body_text()))
        })
    }
}

/// Query parameters whose rejection is an `ApiError`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(value)| ApiQuery(value)).map_err(|rejection| {
            ApiError::bad_request("invalid_parameter", format!("Invalid query parameter: {}", rejection.body_text()))
        })
    }
}
