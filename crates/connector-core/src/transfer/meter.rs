//! What an operator sees of a file transfer: its bytes, duration, size and outcome in the
//! metrics, and log lines in the request's span (so with its request id): one when it
//! starts, one every `TRANSFER_PROGRESS_SECS` while it runs, one when it ends.
//!
//! A transfer is the file's bytes between the caller and the provider: a download's body
//! once the provider answered, an upload's file part once the form fields were read.
//! Short transfers log at DEBUG (the access log has them); one declared at least
//! [`LONG_TRANSFER_BYTES`] long, or still running at its first progress line, logs at
//! INFO, and any that fails at WARN. No line holds a URL, a path or a credential.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ConnectorError;
use crate::metrics::{TransferSeries, DIRECTIONS, OUTCOMES};
use crate::transfer::digest::ChecksumMismatch;

/// From this declared size on, a transfer's start and end are logged at INFO.
pub const LONG_TRANSFER_BYTES: u64 = 64 * 1024 * 1024;

/// An event at INFO when `loud`, else at DEBUG (tracing's levels are fixed per call site).
macro_rules! info_if {
    ($loud:expr, $($event:tt)+) => {
        if $loud {
            tracing::info!($($event)+)
        } else {
            tracing::debug!($($event)+)
        }
    };
}

/// In the order of [`DIRECTIONS`], which holds the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Provider to caller.
    Download,
    /// Caller to provider.
    Upload,
}

impl Direction {
    fn label(self) -> &'static str {
        DIRECTIONS[self as usize]
    }
}

/// How a transfer ended; in the order of [`OUTCOMES`], which holds the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    /// The caller closed the connection, or sent less than it declared.
    ClientBrokeOff,
    /// The provider failed: an error answer, a reset, a body shorter than declared.
    ProviderFailed,
    /// Either side moved no byte for the idle timeout, or the provider did not answer.
    Stalled,
    /// The provider's checksum differs from ours.
    ChecksumMismatch,
    /// Ended by a 4xx before it could complete: bad size, quota, a path refused.
    Refused,
}

impl Outcome {
    fn label(self) -> &'static str {
        OUTCOMES[self as usize]
    }

    /// The outcome of a transfer the provider side ended with `err`.
    pub(crate) fn of_error(err: &ConnectorError) -> Self {
        match err {
            ConnectorError::ChecksumMismatch(_) => Outcome::ChecksumMismatch,
            ConnectorError::GatewayTimeout(_) | ConnectorError::RequestTimeout(_) => {
                Outcome::Stalled
            }
            e if e.status().is_client_error() => Outcome::Refused,
            _ => Outcome::ProviderFailed,
        }
    }

    /// The outcome of a download body that ended with `err`.
    pub(crate) fn of_io(err: &std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::TimedOut {
            Outcome::Stalled
        } else if err
            .get_ref()
            .is_some_and(|inner| inner.is::<ChecksumMismatch>())
        {
            Outcome::ChecksumMismatch
        } else {
            Outcome::ProviderFailed
        }
    }
}

/// One running transfer. Ended once, by [`Meter::end`] or, if nobody did, when dropped
/// (the caller went away: actix drops what it was serving).
pub(crate) struct Meter {
    series: TransferSeries,
    upstream: &'static str,
    direction: Direction,
    declared: Option<u64>,
    started: Instant,
    every_ms: u64,
    bytes: AtomicU64,
    /// Milliseconds after `started` when the next progress line is due.
    next_line_ms: AtomicU64,
    /// Logs at INFO: long, or a progress line was written.
    loud: AtomicBool,
    ended: AtomicBool,
    span: tracing::Span,
}

impl Meter {
    /// Starts metering a transfer of `declared` bytes (if known) to or from `upstream`,
    /// in the current (request) span.
    pub(crate) fn start(
        upstream: &'static str,
        direction: Direction,
        declared: Option<u64>,
        progress_every: Duration,
    ) -> Self {
        let series = TransferSeries::of(upstream, direction.label());
        series.in_flight.inc();
        let every_ms = progress_every.as_millis().max(1) as u64;
        let meter = Self {
            series,
            upstream,
            direction,
            declared,
            started: Instant::now(),
            every_ms,
            bytes: AtomicU64::new(0),
            next_line_ms: AtomicU64::new(every_ms),
            loud: AtomicBool::new(declared.is_some_and(|d| d >= LONG_TRANSFER_BYTES)),
            ended: AtomicBool::new(false),
            span: tracing::Span::current(),
        };
        meter.span.in_scope(|| {
            let (direction, upstream) = (direction.label(), upstream);
            let loud = meter.loud.load(Ordering::Relaxed);
            info_if!(loud, direction, upstream, declared, "transfer started");
        });
        meter
    }

    /// Counts `n` bytes moved; writes a progress line when one is due.
    pub(crate) fn add(&self, n: usize) {
        let n = n as u64;
        self.series.bytes.inc_by(n);
        let bytes = self.bytes.fetch_add(n, Ordering::Relaxed) + n;
        let now = self.started.elapsed().as_millis() as u64;
        let due = self.next_line_ms.load(Ordering::Relaxed);
        // One writer per due line, whoever polls first.
        if now >= due
            && self
                .next_line_ms
                .compare_exchange(
                    due,
                    now + self.every_ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.loud.store(true, Ordering::Relaxed);
            let (elapsed_s, mib_per_s) = self.pace(bytes);
            self.span.in_scope(|| {
                tracing::info!(
                    direction = self.direction.label(),
                    upstream = self.upstream,
                    bytes,
                    declared = self.declared,
                    elapsed_s,
                    mib_per_s,
                    "transfer in progress"
                )
            });
        }
    }

    /// Seconds since the start and the mean rate in MiB/s, rounded for reading.
    fn pace(&self, bytes: u64) -> (f64, f64) {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = bytes as f64 / secs.max(1e-3) / (1024.0 * 1024.0);
        ((secs * 10.0).round() / 10.0, (rate * 10.0).round() / 10.0)
    }

    /// Bytes moved so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Ends a body that ended without error: completed, unless shorter than declared.
    pub(crate) fn end_of_body(&self) {
        match self.declared {
            Some(declared) if self.bytes() < declared => self.end(
                Outcome::ProviderFailed,
                "the provider's body ended before its declared length",
            ),
            _ => self.end(Outcome::Completed, ""),
        }
    }

    /// Ends the transfer (the first call counts); `why` says what went wrong.
    pub(crate) fn end(&self, outcome: Outcome, why: &str) {
        if self.ended.swap(true, Ordering::Relaxed) {
            return;
        }
        let bytes = self.bytes();
        self.series.in_flight.dec();
        self.series.count_outcome(outcome.label());
        if outcome == Outcome::Completed {
            self.series
                .seconds
                .observe(self.started.elapsed().as_secs_f64());
            self.series.size.observe(bytes as f64);
        }
        let (elapsed_s, mib_per_s) = self.pace(bytes);
        let (direction, upstream) = (self.direction.label(), self.upstream);
        let (failed, outcome) = (outcome != Outcome::Completed, outcome.label());
        let declared = self.declared;
        self.span.in_scope(|| {
            if failed {
                tracing::warn!(
                    direction,
                    upstream,
                    outcome,
                    bytes,
                    declared,
                    elapsed_s,
                    mib_per_s,
                    why,
                    "transfer failed"
                );
            } else {
                info_if!(
                    self.loud.load(Ordering::Relaxed),
                    direction,
                    upstream,
                    outcome,
                    bytes,
                    elapsed_s,
                    mib_per_s,
                    "transfer ended"
                );
            }
        });
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.end(Outcome::ClientBrokeOff, "the caller went away");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The labels are looked up by variant order: the two lists must stay aligned.
    #[test]
    fn each_variant_has_its_own_label() {
        use Outcome::*;
        let outcomes = [
            Completed,
            ClientBrokeOff,
            ProviderFailed,
            Stalled,
            ChecksumMismatch,
            Refused,
        ];
        let labels: Vec<&str> = outcomes.iter().map(|o| o.label()).collect();
        assert_eq!(
            labels,
            [
                "completed",
                "client_broke_off",
                "provider_failed",
                "stalled",
                "checksum_mismatch",
                "refused"
            ]
        );
        assert_eq!(
            [Direction::Download.label(), Direction::Upload.label()],
            ["download", "upload"]
        );
    }

    #[test]
    fn errors_map_to_the_outcome_an_operator_acts_on() {
        use ConnectorError as E;
        for (err, want) in [
            (E::ChecksumMismatch("x".into()), Outcome::ChecksumMismatch),
            (E::GatewayTimeout("x".into()), Outcome::Stalled),
            (E::RequestTimeout("x".into()), Outcome::Stalled),
            (E::PayloadTooLarge("x".into()), Outcome::Refused),
            (E::NotFound("x".into()), Outcome::Refused),
            (E::BadGateway("x".into()), Outcome::ProviderFailed),
            (E::ServiceUnavailable("x".into()), Outcome::ProviderFailed),
        ] {
            assert_eq!(Outcome::of_error(&err), want, "{err:?}");
        }
        let io = |kind, inner: Box<dyn std::error::Error + Send + Sync>| {
            std::io::Error::new(kind, inner)
        };
        use std::io::ErrorKind as K;
        assert_eq!(
            Outcome::of_io(&io(K::TimedOut, "no byte".into())),
            Outcome::Stalled
        );
        assert_eq!(
            Outcome::of_io(&io(K::Other, Box::new(ChecksumMismatch("x".into())))),
            Outcome::ChecksumMismatch
        );
        assert_eq!(
            Outcome::of_io(&io(K::ConnectionReset, "reset".into())),
            Outcome::ProviderFailed
        );
    }

    #[test]
    fn a_transfer_ends_once_and_a_dropped_one_as_broken_off() {
        let upstream = "meter-unit-test";
        crate::metrics::init_transfers(upstream);
        let series = || TransferSeries::of(upstream, "upload");
        let meter = Meter::start(
            upstream,
            Direction::Upload,
            Some(10),
            Duration::from_secs(30),
        );
        assert_eq!(series().in_flight.get(), 1);
        meter.add(4);
        meter.add(6);
        meter.end(Outcome::Completed, "");
        meter.end(Outcome::ProviderFailed, "counted once");
        drop(meter);
        assert_eq!(series().in_flight.get(), 0);
        assert_eq!(series().bytes.get(), 10);
        assert_eq!(series().size.get_sample_count(), 1);
        assert_eq!(series().size.get_sample_sum(), 10.0);

        drop(Meter::start(
            upstream,
            Direction::Upload,
            None,
            Duration::from_secs(30),
        ));
        assert_eq!(series().in_flight.get(), 0);
        let text = crate::metrics::render();
        for (outcome, n) in [
            ("completed", 1),
            ("client_broke_off", 1),
            ("provider_failed", 0),
        ] {
            let line = format!(
                "connector_transfers_total{{direction=\"upload\",outcome=\"{outcome}\",upstream=\"{upstream}\"}} {n}"
            );
            assert!(text.contains(&line), "{line} in\n{text}");
        }
    }
}
