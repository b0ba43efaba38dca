//! Prometheus metrics, served as text on `GET /metrics`.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    upstream: IntCounterVec,
    upstream_seconds: HistogramVec,
    registered: IntGauge,
    circuit: IntGaugeVec,
    reregistrations: IntCounter,
}

/// The states of a circuit breaker, one series each (a fixed label set).
const CIRCUIT_STATES: [&str; 3] = ["closed", "open", "half_open"];

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    120.0,
];

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new(
            "connector_http_requests_total",
            "Requests served, by route, method and status",
        ),
        &["route", "method", "status"],
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let request_seconds = HistogramVec::new(
        HistogramOpts::new(
            "connector_http_request_duration_seconds",
            "Time to the response head, by route and method",
        )
        .buckets(BUCKETS.to_vec()),
        &["route", "method"],
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let upstream = IntCounterVec::new(
        Opts::new(
            "connector_upstream_requests_total",
            "Outbound calls, by upstream and outcome",
        ),
        &["upstream", "outcome"],
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let upstream_seconds = HistogramVec::new(
        HistogramOpts::new(
            "connector_upstream_request_duration_seconds",
            "Time to the upstream answer's head, by upstream",
        )
        .buckets(BUCKETS.to_vec()),
        &["upstream"],
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let registered = IntGauge::new(
        "connector_registered",
        "1 once the Token Storage accepted the registration (or registration is off)",
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let circuit = IntGaugeVec::new(
        Opts::new(
            "connector_upstream_circuit_state",
            "1 for the current state of each upstream's circuit breaker (closed, open, half_open)",
        ),
        &["upstream", "state"],
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    let reregistrations = IntCounter::new(
        "connector_reregistrations_total",
        "Registrations repeated because the Token Storage had lost ours (e.g. it restarted)",
    )
    .unwrap_or_else(|e| unreachable!("static metric definition: {e}"));
    for c in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(request_seconds.clone()),
        Box::new(upstream.clone()),
        Box::new(upstream_seconds.clone()),
        Box::new(registered.clone()),
        Box::new(circuit.clone()),
        Box::new(reregistrations.clone()),
    ] {
        // Names are distinct constants: registration cannot fail.
        let _ = registry.register(c);
    }
    Metrics {
        registry,
        requests,
        request_seconds,
        upstream,
        upstream_seconds,
        registered,
        circuit,
        reregistrations,
    }
});

/// The `method` label: the methods an HTTP API sees, every other (extension) method is
/// `OTHER`, so a client cannot create series at will.
pub(crate) fn method_label(method: &str) -> &'static str {
    const KNOWN: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("OTHER")
}

pub(crate) fn record_request(
    route: &str,
    method: &str,
    status: actix_web::http::StatusCode,
    elapsed: Duration,
) {
    let m = &*METRICS;
    // `as_str` is the code's digits from a static table: no string built per request.
    m.requests
        .with_label_values(&[route, method, status.as_str()])
        .inc();
    m.request_seconds
        .with_label_values(&[route, method])
        .observe(elapsed.as_secs_f64());
}

pub(crate) fn record_upstream(upstream: &str, outcome: &str, elapsed: Duration) {
    let m = &*METRICS;
    m.upstream.with_label_values(&[upstream, outcome]).inc();
    m.upstream_seconds
        .with_label_values(&[upstream])
        .observe(elapsed.as_secs_f64());
}

pub(crate) fn set_registered(registered: bool) {
    METRICS.registered.set(i64::from(registered));
}

/// Marks `state` as the current circuit state of `upstream` (a name from our code).
pub(crate) fn set_circuit_state(upstream: &str, state: &str) {
    for s in CIRCUIT_STATES {
        METRICS
            .circuit
            .with_label_values(&[upstream, s])
            .set(i64::from(s == state));
    }
}

/// Shows a new breaker as closed, unless another client of the same upstream (tests run
/// several connectors in one process) already set a state.
pub(crate) fn init_circuit_state(upstream: &str) {
    let unset = CIRCUIT_STATES
        .iter()
        .all(|s| METRICS.circuit.with_label_values(&[upstream, s]).get() == 0);
    if unset {
        set_circuit_state(upstream, "closed");
    }
}

pub(crate) fn count_reregistration() {
    METRICS.reregistrations.inc();
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&METRICS.registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
