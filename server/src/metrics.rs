//! Prometheus metrics, served at `/metrics`: requests and their latency by
//! route and status, rate-limit refusals, and the database pool. Each
//! application has its own registry, so servers in one process (tests) do
//! not mix their numbers.

use std::time::Duration;

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use axum::http::Method;

use crate::store::PoolStatus;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// One of `METHODS`, or `other`: a client may send any method.
    method: &'static str,
    /// The route template (`/v1/apps/{id}`), never the raw path, so the
    /// number of series stays bounded.
    route: String,
    status: u16,
}

/// Why a request was refused with 429.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum RateLimitReason {
    /// The token used its hourly allowance.
    TokenLimit,
    /// The client address failed authentication too often.
    FailedAuthentication,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RateLimitLabels {
    reason: RateLimitReason,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    rate_limited: Family<RateLimitLabels, Counter>,
    pool_connections: Gauge,
    pool_idle_connections: Gauge,
    limit_store_errors: Counter,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s, doubling.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("appdeck");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let latency = LatencyFamily::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route and status",
            latency.clone(),
        );
        let rate_limited = Family::<RateLimitLabels, Counter>::default();
        registry.register("rate_limited_requests", "Requests refused with 429, by reason", rate_limited.clone());
        let pool_connections = Gauge::default();
        registry.register("db_pool_connections", "Open database connections", pool_connections.clone());
        let pool_idle_connections = Gauge::default();
        registry.register("db_pool_idle_connections", "Idle database connections", pool_idle_connections.clone());
        let limit_store_errors = Counter::default();
        registry.register(
            "limit_store_errors",
            "Times the shared rate-limit store (Redis) did not answer",
            limit_store_errors.clone(),
        );
        Self { registry, requests, latency, rate_limited, pool_connections, pool_idle_connections, limit_store_errors }
    }
}

/// The methods counted by name; every other is counted as `other`, so the
/// number of series stays bounded whatever clients send.
const METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

fn method_label(method: &Method) -> &'static str {
    METHODS.iter().find(|known| *known == method).map_or("other", Method::as_str)
}

impl Metrics {
    pub fn observe_request(&self, method: &Method, route: &str, status: u16, latency: Duration) {
        let labels = RequestLabels { method: method_label(method), route: route.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&labels).observe(latency.as_secs_f64());
    }

    pub fn count_rate_limited(&self, reason: RateLimitReason) {
        self.rate_limited.get_or_create(&RateLimitLabels { reason }).inc();
    }

    pub fn count_limit_store_error(&self) {
        self.limit_store_errors.inc();
    }

    /// The text exposition of every metric, with the pool read now.
    pub fn render(&self, pool: PoolStatus) -> String {
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle_connections.set(i64::try_from(pool.idle_connections).unwrap_or(i64::MAX));
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_text_holds_requests_latency_refusals_and_pool() {
        let metrics = Metrics::default();
        metrics.observe_request(&Method::GET, "/v1/apps/{id}", 200, Duration::from_millis(3));
        metrics.observe_request(&Method::GET, "/v1/apps/{id}", 200, Duration::from_millis(5));
        metrics.count_rate_limited(RateLimitReason::TokenLimit);
        let text = metrics.render(PoolStatus { connections: 3, idle_connections: 2 });
        assert!(
            text.contains(r#"appdeck_http_requests_total{method="GET",route="/v1/apps/{id}",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"appdeck_http_request_duration_seconds_count{method="GET",route="/v1/apps/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"appdeck_rate_limited_requests_total{reason="TokenLimit"} 1"#), "{text}");
        assert!(text.contains("appdeck_db_pool_connections 3"), "{text}");
        assert!(text.contains("appdeck_db_pool_idle_connections 2"), "{text}");
    }

    #[test]
    fn unknown_methods_are_counted_as_other() {
        let metrics = Metrics::default();
        for index in 0..500 {
            let method = Method::from_bytes(format!("M{index}X{}", index * 7919 % 1000).as_bytes()).unwrap();
            metrics.observe_request(&method, "unmatched", 405, Duration::from_millis(1));
        }
        metrics.observe_request(&Method::PATCH, "unmatched", 405, Duration::from_millis(1));
        let text = metrics.render(PoolStatus { connections: 1, idle_connections: 1 });
        let series = text.lines().filter(|line| line.starts_with("appdeck_http_requests_total{")).count();
        assert_eq!(series, 2, "{text}");
        assert!(
            text.contains(r#"appdeck_http_requests_total{method="other",route="unmatched",status="405"} 500"#),
            "{text}"
        );
        assert!(text.contains(r#"method="PATCH""#), "{text}");
    }
}
