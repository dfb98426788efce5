//! `X-Request-Id`: the client's id is kept when it is at most 64 printable
//! ASCII characters; any other (longer, binary, repeated) is dropped and the
//! request gets a new UUIDv7, like every other id of the API. The span, the
//! logs, the response and the audit log all read the one header this
//! leaves, so none of them holds what a client chose to make large.

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue},
};
use tower_http::request_id::{MakeRequestId, RequestId};

pub const HEADER: &str = "x-request-id";
/// The longest client id kept.
pub const MAX_CHARS: usize = 64;

/// Whether a client's id may be kept: 1 to `MAX_CHARS` printable ASCII characters.
pub fn is_acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_CHARS && bytes.iter().all(|byte| (b' '..=b'~').contains(byte))
}

/// The request's id when it is acceptable (always, once `drop_unacceptable` has run).
pub fn of(headers: &HeaderMap) -> Option<&str> {
    headers.get(HEADER).filter(|value| is_acceptable(value)).and_then(|value| value.to_str().ok())
}

/// Removes a client's id that may not be kept, so that one is generated.
/// It runs before `SetRequestIdLayer`, which keeps whatever id is present.
pub async fn drop_unacceptable(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let mut values = headers.get_all(HEADER).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(value), None) => is_acceptable(value),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(HEADER);
    }
    request
}

/// Request ids are UUIDv7, like every other id of the API.
#[derive(Clone, Copy)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        uuid::Uuid::now_v7().to_string().parse().ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_printable_ids_are_kept_and_others_are_not() {
        let kept = ["a", "req-1 retry/2", &"x".repeat(MAX_CHARS), "~!@#$%^&*()"];
        for id in kept {
            assert!(is_acceptable(&HeaderValue::from_str(id).unwrap()), "`{id}` is kept");
        }
        let dropped: [&[u8]; 4] = [b"", &[b'x'; MAX_CHARS + 1], b"tab\there", "caf\u{e9}".as_bytes()];
        for id in dropped {
            assert!(!is_acceptable(&HeaderValue::from_bytes(id).unwrap()), "{id:?} is dropped");
        }
    }

    #[tokio::test]
    async fn a_repeated_or_unacceptable_id_is_removed() {
        let mut repeated = Request::new(axum::body::Body::empty());
        repeated.headers_mut().append(HEADER, HeaderValue::from_static("one"));
        repeated.headers_mut().append(HEADER, HeaderValue::from_static("two"));
        assert!(drop_unacceptable(repeated).await.headers().get(HEADER).is_none());
        let mut long = Request::new(axum::body::Body::empty());
        long.headers_mut().insert(HEADER, HeaderValue::from_str(&"x".repeat(65)).unwrap());
        assert!(drop_unacceptable(long).await.headers().get(HEADER).is_none());
        let mut fine = Request::new(axum::body::Body::empty());
        fine.headers_mut().insert(HEADER, HeaderValue::from_static("fine"));
        assert_eq!(of(drop_unacceptable(fine).await.headers()), Some("fine"));
    }
}
