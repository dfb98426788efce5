//! The hand-written contract, served as it is: `/openapi.yaml` byte for byte,
//! `/openapi.json` as the same document in JSON, and Swagger UI at `/docs`.

use axum::{Router, http::header, response::IntoResponse, routing::get};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// `openapi.yaml` from the repository root, embedded at build time.
pub const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");

/// `openapi.yaml` as JSON.
pub fn openapi_json() -> serde_json::Value {
    yaml_serde::from_str(OPENAPI_YAML).expect("openapi.yaml is valid YAML (checked by a test)")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.yaml", get(openapi_yaml))
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi_json()))
}

async fn openapi_yaml() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_spec_parses_as_openapi_3_0() {
        let document = openapi_json();
        assert_eq!(document["openapi"], "3.0.3");
        assert!(document["paths"].as_object().is_some_and(|paths| !paths.is_empty()));
    }
}
