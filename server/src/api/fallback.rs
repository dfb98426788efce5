//! What the router answers when no handler does: a path no route matches
//! (404), a method its route does not have (405), and a handler that
//! panicked (500), each with the error body of `ApiError`.

use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Answers for a handler that panicked: the same 500 as any internal error,
/// with the panic logged.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    ApiError::Internal(anyhow::anyhow!("handler panicked: {detail}")).into_response()
}

/// Answers a request whose path matches no route.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound("No route matches this path")
}

/// Answers a request whose path matches a route but not its method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
