//! Tokens of each role, and the refusal a role gets.

use appdeck_client::{Client, ResponseValue, types};
use appdeck_server::domain::token::TokenRole;
use reqwest::StatusCode;

use crate::{TestApp, error_response};

impl TestApp {
    /// A generated client authenticated with a new token of `role` in the first organization.
    pub async fn client_with_role(&self, role: TokenRole) -> Client {
        let token = self.token_with_role(role).await;
        self.client_with_token(&token)
    }
}

/// Checks that the generated client received a 403 `forbidden`.
pub fn assert_forbidden<T: std::fmt::Debug>(result: Result<ResponseValue<T>, appdeck_client::Error<types::ErrorBody>>) {
    let (status, body) = error_response(result);
    assert_eq!((status, body.code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{}", body.error);
    assert!(!body.success);
}
