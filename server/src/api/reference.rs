//! The API reference at `/reference`: Scalar (vendored in
//! `server/assets/scalar/`, see its README) rendering the served
//! `openapi.yaml`, with the `x-codeSamples` of every operation. Every asset
//! is in the binary, so the page works with no network at all.

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

const PAGE: &str = include_str!("../../assets/reference/index.html");
const INIT_JS: &str = include_str!("../../assets/reference/init.js");
const SCALAR_JS: &str = include_str!("../../assets/scalar/standalone.js");
/// What `refresh.sh` recorded about `standalone.js`: package, version, SHA-256.
const SCALAR_SOURCE: &str = include_str!("../../assets/scalar/SOURCE");

/// The page runs only its own two scripts (no inline script, no `eval`) and
/// talks only to this server. Styles may be inline because Scalar injects
/// its stylesheet and sets `style` attributes at run time; fonts and images
/// come from the bundle as `data:` URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/reference", get(page))
        .route("/reference/", get(page))
        .route("/reference/init.js", get(init_js))
        .route("/reference/scalar.js", get(scalar_js))
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE,
    )
        .into_response()
}

async fn init_js() -> Response {
    ([(header::CONTENT_TYPE, JAVASCRIPT), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], INIT_JS).into_response()
}

/// The 4.9 MB bundle, revalidated by its SHA-256 on every load so that a
/// browser never runs a stale copy after an upgrade, and never downloads
/// the same one twice.
async fn scalar_js(request_headers: HeaderMap) -> Response {
    let etag = scalar_etag();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(JAVASCRIPT)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, HeaderValue::from_str(&etag).expect("a SHA-256 in hex is a valid header value")),
    ];
    let cached = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| candidate.trim() == etag || candidate.trim() == "*");
    if cached { (StatusCode::NOT_MODIFIED, headers).into_response() } else { (headers, SCALAR_JS).into_response() }
}

fn scalar_etag() -> String {
    format!("\"{}\"", scalar_source("sha256"))
}

/// A field of `SOURCE`, whose lines are `key value`.
fn scalar_source(key: &str) -> &'static str {
    SCALAR_SOURCE
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("assets/scalar/SOURCE has no `{key}` line"))
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use sha2::{Digest, Sha256};
    use tower::ServiceExt;

    use super::*;

    async fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(etag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        router::<()>().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response.headers().get(&name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    async fn body_of(response: Response) -> Vec<u8> {
        to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
    }

    #[test]
    fn the_embedded_bundle_is_the_one_source_records() {
        let digest = Sha256::digest(SCALAR_JS.as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(hex, scalar_source("sha256"), "assets/scalar/standalone.js was changed without refresh.sh");
        assert_eq!(scalar_source("package"), "@scalar/api-reference");
    }

    #[tokio::test]
    async fn the_page_loads_its_scripts_from_this_server_under_the_policy() {
        for path in ["/reference", "/reference/"] {
            let response = get(path, None).await;

            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), "text/html; charset=utf-8");
            assert_eq!(header_of(&response, header::CONTENT_SECURITY_POLICY), CONTENT_SECURITY_POLICY);
            assert_eq!(header_of(&response, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            let page = String::from_utf8(body_of(response).await).unwrap();
            assert!(page.contains(r#"<script src="/reference/scalar.js"></script>"#), "{page}");
            assert!(page.contains(r#"<script src="/reference/init.js"></script>"#), "{page}");
        }
    }

    #[test]
    fn the_policy_lets_the_page_reach_nothing_but_this_server() {
        let directives: Vec<&str> = CONTENT_SECURITY_POLICY.split(';').map(str::trim).collect();
        for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
            assert!(directives.contains(&directive), "no `{directive}` in {CONTENT_SECURITY_POLICY}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("http"), "{CONTENT_SECURITY_POLICY}");
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"), "{CONTENT_SECURITY_POLICY}");
    }

    #[tokio::test]
    async fn init_points_scalar_at_the_served_document() {
        let response = get("/reference/init.js", None).await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_TYPE), JAVASCRIPT);
        let script = String::from_utf8(body_of(response).await).unwrap();
        assert!(script.contains("url: '/openapi.yaml'"), "{script}");
    }

    #[tokio::test]
    async fn the_bundle_is_served_whole_with_its_digest_as_etag() {
        let response = get("/reference/scalar.js", None).await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_TYPE), JAVASCRIPT);
        assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header_of(&response, header::ETAG), format!("\"{}\"", scalar_source("sha256")));
        assert!(body_of(response).await == SCALAR_JS.as_bytes());
    }

    #[tokio::test]
    async fn a_browser_holding_the_bundle_gets_304_and_no_body() {
        let etag = scalar_etag();
        for if_none_match in [etag.clone(), format!("\"stale\", {etag}"), "*".to_owned()] {
            let response = get("/reference/scalar.js", Some(&if_none_match)).await;

            assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{if_none_match}");
            assert_eq!(header_of(&response, header::ETAG), etag);
            assert!(body_of(response).await.is_empty());
        }
    }

    #[tokio::test]
    async fn a_browser_holding_another_version_gets_the_bundle() {
        let response = get("/reference/scalar.js", Some("\"0000\"")).await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_of(response).await.len(), SCALAR_JS.len());
    }
}
