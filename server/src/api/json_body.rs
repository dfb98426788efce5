//! Reading a request's JSON body into a request type, with the error each
//! step answers: content type (415), size (413), syntax, duplicate keys and
//! NUL (`strict_json::parse`, 400), then fields through `strict_json::Strict`
//! (400, the field named).

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
};

use crate::{
    domain::RequestBody,
    error::ApiError,
    strict_json::{self, BodyProblem, Strict},
};

/// A request's body as a JSON object, after the content type and size checks.
pub async fn read_json_value<S: Send + Sync>(request: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    if !has_json_content_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = Bytes::from_request(request, state).await.map_err(body_rejection)?;
    parse_json_value(&body)
}

/// A request's body as a JSON object, or `None` when it is empty: for an
/// operation whose body is optional. A body that is there must be JSON (415).
pub async fn read_optional_json_value<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<Option<serde_json::Value>, ApiError> {
    let is_json = has_json_content_type(request.headers());
    let body = Bytes::from_request(request, state).await.map_err(body_rejection)?;
    if body.is_empty() {
        return Ok(None);
    }
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    parse_json_value(&body).map(Some)
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request("invalid_body", format!("Request body could not be read: {}", rejection.body_text()))
    }
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A JSON body is parsed in two steps (this, then `deserialize_json_body`) so
/// that syntax errors and field errors get distinct codes, and so that
/// unknown fields are reported by name.
fn parse_json_value(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value = strict_json::parse(body).map_err(|problem| match problem {
        BodyProblem::Syntax(error) => {
            ApiError::bad_request("invalid_json", format!("Request body is not valid JSON: {error}"))
        }
        BodyProblem::Nul(path) if path == "." => {
            ApiError::bad_request("invalid_character", "Request body must not contain the NUL character (U+0000)")
        }
        BodyProblem::Nul(path) => ApiError::bad_request(
            "invalid_character",
            format!("Field `{path}` must not contain the NUL character (U+0000)"),
        ),
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request("invalid_json", "Request body must be a JSON object"));
    }
    Ok(value)
}

/// The request type from a JSON object, with field errors named. The value
/// is read through `strict_json::Strict`, so a field gets only the JSON type
/// the spec gives it.
pub fn deserialize_json_body<T: RequestBody>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Strict(value)).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner().to_string();
        if let Some(name) = unknown_field_name(&inner) {
            // The path ends with the unknown field itself, e.g. `features.colour`.
            let full_name = if field == "." { name } else { field.as_str() };
            if T::READ_ONLY_FIELDS.contains(&full_name) {
                ApiError::bad_request("read_only_field", format!("Field `{full_name}` is read-only"))
            } else {
                ApiError::bad_request("unknown_field", format!("Unknown field `{full_name}`"))
            }
        } else if field == "." {
            ApiError::bad_request("validation_failed", format!("Invalid request body: {inner}"))
        } else {
            ApiError::bad_request("validation_failed", format!("Invalid field `{field}`: {inner}"))
        }
    })
}

/// serde reports unknown fields as "unknown field `x`, expected ...".
fn unknown_field_name(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: String,
    }

    impl RequestBody for Sample {
        const READ_ONLY_FIELDS: &'static [&'static str] = &["api_key"];
    }

    fn parse_json_body<T: RequestBody>(body: &[u8]) -> Result<T, ApiError> {
        parse_json_value(body).and_then(deserialize_json_body)
    }

    fn code_of(result: Result<Sample, ApiError>) -> &'static str {
        result.expect_err("the body should be rejected").code()
    }

    #[test]
    fn valid_body_parses() {
        let sample: Sample = parse_json_body(br#"{"name":"a"}"#).unwrap();
        assert_eq!(sample.name, "a");
    }

    #[test]
    fn malformed_json_is_invalid_json() {
        assert_eq!(code_of(parse_json_body(b"{")), "invalid_json");
        assert_eq!(code_of(parse_json_body(b"[1]")), "invalid_json");
    }

    #[test]
    fn unknown_field_is_named() {
        let error = parse_json_body::<Sample>(br#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert_eq!(error.code(), "unknown_field");
        assert_eq!(error.to_string(), "Unknown field `colour`");
    }

    #[test]
    fn read_only_field_is_named() {
        let error = parse_json_body::<Sample>(br#"{"name":"a","api_key":"ak_x"}"#).unwrap_err();
        assert_eq!(error.code(), "read_only_field");
        assert_eq!(error.to_string(), "Field `api_key` is read-only");
        let error = parse_json_body::<Sample>(br#"{"name":"a","api_secret":"x"}"#).unwrap_err();
        assert_eq!(error.code(), "unknown_field", "only the body's own read-only fields are called read-only");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let error = parse_json_body::<Sample>(br#"{"name":5}"#).unwrap_err();
        assert_eq!(error.code(), "validation_failed");
        assert!(error.to_string().starts_with("Invalid field `name`"), "{error}");
    }

    #[test]
    fn content_type_must_be_json() {
        let mut headers = HeaderMap::new();
        assert!(!has_json_content_type(&headers));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!has_json_content_type(&headers));
        headers.insert(header::CONTENT_TYPE, "Application/JSON; charset=utf-8".parse().unwrap());
        assert!(has_json_content_type(&headers));
    }
}
