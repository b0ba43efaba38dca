//! Prometheus metrics, served as text on `GET /metrics`.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
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
    info: IntGaugeVec,
    transfer_bytes: IntCounterVec,
    transfers_in_flight: IntGaugeVec,
    transfer_seconds: HistogramVec,
    transfer_size: HistogramVec,
    transfers: IntCounterVec,
}

/// The states of a circuit breaker, one series each (a fixed label set).
const CIRCUIT_STATES: [&str; 3] = ["closed", "open", "half_open"];

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    120.0,
];

/// Transfer durations: a second to half a day (a 50 GB export on a slow link).
const TRANSFER_SECONDS: &[f64] = &[
    0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 10800.0, 43200.0,
];

/// Transfer sizes: 1 KB to 50 GB (Zenodo's record quota).
const TRANSFER_BYTES: &[f64] = &[1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 5e9, 1e10, 2.5e10, 5e10];

/// Which way a transfer's bytes go: `download` from the provider to the caller, `upload`
/// from the caller to the provider.
pub const DIRECTIONS: [&str; 2] = ["download", "upload"];

/// How a transfer ended (the `outcome` label of `connector_transfers_total`).
pub const OUTCOMES: [&str; 6] = [
    "completed",
    "client_broke_off",
    "provider_failed",
    "stalled",
    "checksum_mismatch",
    "refused",
];

fn defined<T>(metric: prometheus::Result<T>) -> T {
    metric.unwrap_or_else(|e| unreachable!("static metric definition: {e}"))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let requests = defined(IntCounterVec::new(
        Opts::new(
            "connector_http_requests_total",
            "Requests served, by route, method and status",
        ),
        &["route", "method", "status"],
    ));
    let request_seconds = defined(HistogramVec::new(
        HistogramOpts::new(
            "connector_http_request_duration_seconds",
            "Time to the response head, by route and method",
        )
        .buckets(BUCKETS.to_vec()),
        &["route", "method"],
    ));
    let upstream = defined(IntCounterVec::new(
        Opts::new(
            "connector_upstream_requests_total",
            "Outbound calls, by upstream and outcome",
        ),
        &["upstream", "outcome"],
    ));
    let upstream_seconds = defined(HistogramVec::new(
        HistogramOpts::new(
            "connector_upstream_request_duration_seconds",
            "Time to the upstream answer's head, by upstream",
        )
        .buckets(BUCKETS.to_vec()),
        &["upstream"],
    ));
    let registered = defined(IntGauge::new(
        "connector_registered",
        "1 once the Token Storage accepted the registration (or registration is off)",
    ));
    let circuit = defined(IntGaugeVec::new(
        Opts::new(
            "connector_upstream_circuit_state",
            "1 for the current state of each upstream's circuit breaker (closed, open, half_open)",
        ),
        &["upstream", "state"],
    ));
    let reregistrations = defined(IntCounter::new(
        "connector_reregistrations_total",
        "Registrations repeated because the Token Storage had lost ours (e.g. it restarted)",
    ));
    let info = defined(IntGaugeVec::new(
        Opts::new(
            "connector_info",
            "1, labelled with the service name registered and the connector's version",
        ),
        &["servicename", "version"],
    ));
    let transfer_labels = &["upstream", "direction"];
    let transfer_bytes = defined(IntCounterVec::new(
        Opts::new(
            "connector_transfer_bytes_total",
            "File bytes moved between caller and provider, by upstream and direction",
        ),
        transfer_labels,
    ));
    let transfers_in_flight = defined(IntGaugeVec::new(
        Opts::new(
            "connector_transfers_in_flight",
            "File transfers running, by upstream and direction",
        ),
        transfer_labels,
    ));
    let transfer_seconds = defined(HistogramVec::new(
        HistogramOpts::new(
            "connector_transfer_duration_seconds",
            "Duration of completed file transfers, first byte asked to last byte moved",
        )
        .buckets(TRANSFER_SECONDS.to_vec()),
        transfer_labels,
    ));
    let transfer_size = defined(HistogramVec::new(
        HistogramOpts::new(
            "connector_transfer_size_bytes",
            "Size of completed file transfers",
        )
        .buckets(TRANSFER_BYTES.to_vec()),
        transfer_labels,
    ));
    let transfers = defined(IntCounterVec::new(
        Opts::new(
            "connector_transfers_total",
            "File transfers ended, by upstream, direction and outcome",
        ),
        &["upstream", "direction", "outcome"],
    ));
    #[cfg(target_os = "linux")]
    {
        // CPU, resident memory, open files: what the dashboard plots per pod.
        let _ = registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ));
    }
    for c in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(request_seconds.clone()),
        Box::new(upstream.clone()),
        Box::new(upstream_seconds.clone()),
        Box::new(registered.clone()),
        Box::new(circuit.clone()),
        Box::new(reregistrations.clone()),
        Box::new(info.clone()),
        Box::new(transfer_bytes.clone()),
        Box::new(transfers_in_flight.clone()),
        Box::new(transfer_seconds.clone()),
        Box::new(transfer_size.clone()),
        Box::new(transfers.clone()),
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
        info,
        transfer_bytes,
        transfers_in_flight,
        transfer_seconds,
        transfer_size,
        transfers,
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

/// The `outcome` label of `connector_upstream_requests_total`.
pub const UPSTREAM_OUTCOMES: [&str; 7] = [
    "ok",
    "client_error",
    "server_error",
    "timeout",
    "connect_error",
    "error",
    "stalled",
];

/// Shows every call series of `upstream` from the start, at 0.
pub(crate) fn init_upstream(upstream: &str) {
    let m = &*METRICS;
    for outcome in UPSTREAM_OUTCOMES {
        let _ = m.upstream.with_label_values(&[upstream, outcome]);
    }
    let _ = m.upstream_seconds.with_label_values(&[upstream]);
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

/// `connector_info{servicename, version} 1`.
pub(crate) fn set_info(servicename: &str) {
    METRICS
        .info
        .with_label_values(&[servicename, env!("CARGO_PKG_VERSION")])
        .set(1);
}

/// The series of one upstream's transfers in one direction, looked up once per transfer.
pub(crate) struct TransferSeries {
    pub bytes: IntCounter,
    pub in_flight: IntGauge,
    pub seconds: Histogram,
    pub size: Histogram,
    upstream: &'static str,
    direction: &'static str,
}

impl TransferSeries {
    pub(crate) fn of(upstream: &'static str, direction: &'static str) -> Self {
        let m = &*METRICS;
        let labels = &[upstream, direction];
        Self {
            bytes: m.transfer_bytes.with_label_values(labels),
            in_flight: m.transfers_in_flight.with_label_values(labels),
            seconds: m.transfer_seconds.with_label_values(labels),
            size: m.transfer_size.with_label_values(labels),
            upstream,
            direction,
        }
    }

    pub(crate) fn count_outcome(&self, outcome: &str) {
        METRICS
            .transfers
            .with_label_values(&[self.upstream, self.direction, outcome])
            .inc();
    }
}

/// Shows every transfer series of `upstream` from the start (at 0), so rates and alerts
/// work before the first transfer and a fresh `/metrics` names every metric.
pub(crate) fn init_transfers(upstream: &'static str) {
    for direction in DIRECTIONS {
        let _ = TransferSeries::of(upstream, direction);
        for outcome in OUTCOMES {
            let _ = METRICS
                .transfers
                .with_label_values(&[upstream, direction, outcome]);
        }
    }
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&METRICS.registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}
