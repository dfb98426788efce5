//! Tokens and requests for testing authentication itself.

use crate::TestApp;

/// `token` with one character of its random part changed, which breaks the checksum.
pub fn with_bad_checksum(token: &str) -> String {
    let mut characters: Vec<char> = token.chars().collect();
    let index = "apps_".len() + 3;
    characters[index] = if characters[index] == 'a' { 'b' } else { 'a' };
    characters.into_iter().collect()
}

/// `GET /v1/me` with the header `name` set to `value` and no other credential.
pub async fn get_me_with_header(app: &TestApp, name: &str, value: &str) -> reqwest::Response {
    app.http.get(app.url("/v1/me")).header(name, value).send().await.expect("the request is sent")
}
