//! `Idempotency-Key` on creates (`POST /v1/apps`, `POST /v1/api-tokens`).
//!
//! A retry with the same key and the same body is answered with the first
//! response, status and body, plus `Idempotent-Replayed: true`, and creates
//! nothing; the same key with another body or for the other operation is a
//! 409 `idempotency_key_reused`. A key belongs to the caller's organization
//! and lives `store::IDEMPOTENCY_KEY_LIFETIME` (24 hours). Only successes are
//! recorded: a request refused with a 4xx wrote nothing, so the client may
//! correct it and retry under the same key.
//!
//! The record is written in the same transaction as what it records (see
//! `Store::insert_app_once`), so concurrent retries create one resource.
//! What is kept, and why the body is sealed, is in `sealed`.

mod create;
pub mod sealed;

use std::{ops::RangeInclusive, sync::Arc};

use axum::{
    extract::OptionalFromRequestParts,
    http::{HeaderName, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{
    IntoParams,
    openapi::{
        ObjectBuilder,
        path::{Parameter, ParameterBuilder, ParameterIn},
        schema::Type,
    },
};
use uuid::Uuid;

pub use self::create::Create;
use self::sealed::{Sealed, SealingKey};
use crate::{
    error::ApiError,
    store::{IdempotencyRecord, IdempotentWrite, SealedResponse, Store},
};

pub const KEY_HEADER: &str = "Idempotency-Key";
/// `Idempotent-Replayed`, set to `true` on a response that replays an earlier one.
const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");
/// What `openapi.yaml` declares; `IdempotencyKey::parse` checks the same.
const KEY_PATTERN: &str = "^[!-~]{16,255}$";
const KEY_LENGTHS: RangeInclusive<usize> = 16..=255;
const KEY_DESCRIPTION: &str = "Makes the request safe to retry: a retry with the same key and body is answered \
     with the first response and creates nothing. Use a new random UUID for each new request.";

/// A well-formed `Idempotency-Key`, as the client sent it. It is never
/// stored or logged: the store keeps its SHA-256.
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 16 to 255 printable ASCII characters, without spaces.
    pub fn parse(value: &[u8]) -> Result<Self, ApiError> {
        let printable = |byte: &u8| (b'!'..=b'~').contains(byte);
        match std::str::from_utf8(value) {
            Ok(key) if KEY_LENGTHS.contains(&key.len()) && key.as_bytes().iter().all(printable) => {
                Ok(Self(key.to_owned()))
            }
            _ => Err(invalid_key()),
        }
    }

    /// What the store keeps instead of the key.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

fn invalid_key() -> ApiError {
    ApiError::bad_request(
        "invalid_parameter",
        format!("Header `{KEY_HEADER}` must be 16-255 printable ASCII characters without spaces"),
    )
}

/// Reads the optional header; a malformed one is a 400, as is a second one.
impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        let mut values = parts.headers.get_all(KEY_HEADER).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(value), None) => Self::parse(value.as_bytes()).map(Some),
            (Some(_), Some(_)) => Err(invalid_key()),
        }
    }
}

/// The header as documented, for the handlers' `params(...)`.
impl IntoParams for IdempotencyKey {
    fn into_params(_parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(*KEY_LENGTHS.start()))
            .max_length(Some(*KEY_LENGTHS.end()))
            .pattern(Some(KEY_PATTERN));
        vec![
            ParameterBuilder::new()
                .name(KEY_HEADER)
                .parameter_in(ParameterIn::Header)
                .description(Some(KEY_DESCRIPTION))
                .schema(Some(schema))
                .build(),
        ]
    }
}

/// A key as the client sent it, with the canonical form of the body it came with.
pub struct PresentedKey {
    key: IdempotencyKey,
    canonical_body: Vec<u8>,
}

impl PresentedKey {
    /// The key and the JSON body it came with: only the body's canonical
    /// form is kept, to tell a retry from another request.
    pub fn new(key: IdempotencyKey, body: &Value) -> Self {
        Self { key, canonical_body: canonical_json(body) }
    }

    /// The key as one organization used it for one operation.
    fn scope(self, organization_id: Uuid, operation: &str) -> ScopedKey {
        let fingerprint =
            Sha256::new().chain_update(operation).chain_update([0]).chain_update(&self.canonical_body).finalize();
        ScopedKey {
            organization_id,
            key_hash: self.key.hash(),
            fingerprint: fingerprint.into(),
            sealing_key: SealingKey::derive(organization_id, &self.key.0),
        }
    }
}

/// An `Idempotency-Key` in its organization, with the request it came with.
struct ScopedKey {
    organization_id: Uuid,
    key_hash: [u8; 32],
    /// SHA-256 of the operation and the canonical body: what makes a retry the same request.
    fingerprint: [u8; 32],
    sealing_key: SealingKey,
}

impl ScopedKey {
    /// The answer recorded earlier under this key, if it is live: its
    /// replay, or a 409 when it answered another request.
    async fn earlier_answer(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<Option<Response>, ApiError> {
        match store.find_idempotency_record(self.organization_id, &self.key_hash, now).await? {
            Some(record) => self.replay(record).map(Some),
            None => Ok(None),
        }
    }

    /// A create to record under this key, with `seal` making its response.
    fn write<T>(
        &self,
        now: DateTime<Utc>,
        seal: Arc<dyn Fn(&T) -> SealedResponse + Send + Sync>,
    ) -> IdempotentWrite<T> {
        IdempotentWrite { key_hash: self.key_hash.to_vec(), fingerprint: self.fingerprint.to_vec(), now, seal }
    }

    /// The response to record: `body` as it is sent, sealed. The fingerprint
    /// is authenticated with it, so it opens only for the same request.
    fn seal(&self, status: StatusCode, body: &impl Serialize) -> SealedResponse {
        let plaintext = serde_json::to_vec(body).expect("a response body serialises to JSON");
        let Sealed { nonce, ciphertext } = self.sealing_key.seal(&plaintext, &self.fingerprint);
        SealedResponse { status: status.as_u16(), nonce, sealed_body: ciphertext }
    }

    /// The recorded response again, marked as a replay; a 409 when the
    /// record answered another request.
    fn replay(&self, record: IdempotencyRecord) -> Result<Response, ApiError> {
        if record.fingerprint != self.fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let response = record.response;
        let sealed = Sealed { nonce: response.nonce, ciphertext: response.sealed_body };
        let body =
            self.sealing_key.open(&sealed, &self.fingerprint).map_err(|error| ApiError::Internal(error.into()))?;
        let status = StatusCode::from_u16(response.status).map_err(|error| ApiError::Internal(error.into()))?;
        let headers = [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (REPLAYED_HEADER, HeaderValue::from_static("true")),
        ];
        Ok((status, headers, body).into_response())
    }
}

/// The JSON with object members sorted by name and no whitespace: the same
/// request written with other spacing or member order is the same request.
fn canonical_json(value: &Value) -> Vec<u8> {
    let mut canonical = Vec::new();
    write_canonical_json(value, &mut canonical);
    canonical
}

fn write_canonical_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(members) => {
            let mut members: Vec<_> = members.iter().collect();
            members.sort_unstable_by_key(|(name, _)| *name);
            out.push(b'{');
            for (index, (name, member)) in members.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String(name.clone()), out);
                out.push(b':');
                write_canonical_json(member, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical_json(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(scalar: &Value, out: &mut Vec<u8>) {
    serde_json::to_writer(out, scalar).expect("a JSON scalar serialises");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_16_to_255_printable_ascii_characters_are_accepted() {
        for key in
            ["0123456789abcdef", &"k".repeat(255), "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", &Uuid::now_v7().to_string()]
        {
            assert!(IdempotencyKey::parse(key.as_bytes()).is_ok(), "{key}");
        }
    }

    #[test]
    fn short_long_spaced_and_non_ascii_keys_are_refused() {
        for key in ["0123456789abcde", &"k".repeat(256), "0123456789 abcdef", "0123456789abcdéf", "0123456789abcdef\t"]
        {
            let error = IdempotencyKey::parse(key.as_bytes()).err().expect(key);
            assert_eq!(error.code(), "invalid_parameter");
            assert!(error.to_string().contains(KEY_HEADER), "{error}");
        }
    }

    #[test]
    fn canonical_json_ignores_spacing_and_member_order_only() {
        let compact: Value = serde_json::from_str(r#"{"b":[1,{"y":2,"x":"é"}],"a":null}"#).unwrap();
        let spaced: Value = serde_json::from_str("{ \"a\" : null,\n \"b\": [1, {\"x\": \"é\", \"y\": 2}] }").unwrap();
        assert_eq!(canonical_json(&compact), canonical_json(&spaced));
        assert_eq!(canonical_json(&compact), r#"{"a":null,"b":[1,{"x":"é","y":2}]}"#.as_bytes());
        let reordered: Value = serde_json::from_str(r#"{"b":[{"y":2,"x":"é"},1],"a":null}"#).unwrap();
        assert_ne!(canonical_json(&compact), canonical_json(&reordered), "array order is meaningful");
    }

    #[test]
    fn the_fingerprint_depends_on_the_operation_and_the_body() {
        let presented = |body: &str| PresentedKey {
            key: IdempotencyKey::parse(b"0123456789abcdef").unwrap(),
            canonical_body: body.as_bytes().to_vec(),
        };
        let organization = Uuid::now_v7();
        let app = presented("{}").scope(organization, "create_app");
        assert_eq!(app.fingerprint, presented("{}").scope(organization, "create_app").fingerprint);
        assert_ne!(app.fingerprint, presented("{}").scope(organization, "create_api_token").fingerprint);
        assert_ne!(app.fingerprint, presented(r#"{"a":1}"#).scope(organization, "create_app").fingerprint);
        assert_eq!(app.key_hash, presented("{}").scope(Uuid::now_v7(), "create_app").key_hash);
    }
}
