//! A circuit breaker per upstream: a provider that stopped answering costs each caller
//! the whole response deadline; after a run of such failures, calls fail at once with
//! 503 and `Retry-After` for a cool-down, then one probe call goes through (half-open)
//! and its answer closes the circuit again.
//!
//! Only connect failures and deadline timeouts count: any HTTP answer, even a 5xx, shows
//! the upstream is there. `/ready` does not look at breakers (an outage of a provider must
//! not take every replica out of the Kubernetes Service).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{retry_after_secs, ConnectorError};
use crate::http::DisplayNoUrl;
use crate::metrics;

/// `CIRCUIT_BREAKER_FAILURES` and `CIRCUIT_BREAKER_COOLDOWN_SECS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open the circuit; 0 turns the breaker off.
    pub failures: u32,
    /// How long an open circuit refuses calls before letting a probe through.
    pub cooldown: Duration,
}

impl BreakerSettings {
    pub const OFF: Self = Self {
        failures: 0,
        cooldown: Duration::ZERO,
    };
}

/// What a call through the breaker came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream answered (any status).
    Answered,
    /// A connect failure or a deadline timeout.
    Failed,
    /// Anything else (a reset mid-call, a body error): says nothing about liveness.
    Other,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Closed { .. } => "closed",
            State::Open { .. } => "open",
            State::HalfOpen { .. } => "half_open",
        }
    }
}

/// The breaker of one upstream, shared by every clone of its [`crate::http::Upstream`].
#[derive(Debug)]
pub struct Breaker {
    upstream: &'static str,
    settings: BreakerSettings,
    state: Mutex<State>,
}

/// A refused call: the circuit is open.
#[derive(Debug, Clone)]
pub struct CircuitOpen {
    pub upstream: &'static str,
    pub retry_after: Duration,
}

/// Leave to make one call; report its [`Outcome`] with [`Permit::record`]. Dropped
/// unrecorded (the caller went away), a probe frees the half-open slot for the next call.
#[must_use]
pub struct Permit {
    breaker: Arc<Breaker>,
    probe: bool,
    recorded: bool,
}

impl Breaker {
    pub fn new(upstream: &'static str, settings: BreakerSettings) -> Arc<Self> {
        let breaker = Arc::new(Self {
            upstream,
            settings,
            state: Mutex::new(State::Closed { failures: 0 }),
        });
        metrics::init_circuit_state(upstream);
        breaker
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets a call through, or refuses it while the circuit is open or a probe is out.
    pub fn admit(self: &Arc<Self>) -> Result<Permit, CircuitOpen> {
        let permit = |probe| Permit {
            breaker: self.clone(),
            probe,
            recorded: false,
        };
        if self.settings.failures == 0 {
            return Ok(permit(false));
        }
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(permit(false)),
            State::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(self.refusal(until - now));
                }
                self.change(&mut state, State::HalfOpen { probing: true });
                tracing::info!(
                    upstream = self.upstream,
                    "circuit half-open: letting one probe call through"
                );
                Ok(permit(true))
            }
            State::HalfOpen { probing: false } => {
                *state = State::HalfOpen { probing: true };
                Ok(permit(true))
            }
            // The probe is bounded by the response deadline; ask for a short wait.
            State::HalfOpen { probing: true } => Err(self.refusal(Duration::from_secs(1))),
        }
    }

    fn refusal(&self, retry_after: Duration) -> CircuitOpen {
        CircuitOpen {
            upstream: self.upstream,
            retry_after,
        }
    }

    /// A deadline timeout noticed outside a permit (a wait cut around the call).
    pub fn record_timeout(&self) {
        self.record(Outcome::Failed, true);
    }

    fn record(&self, outcome: Outcome, probe: bool) {
        if self.settings.failures == 0 {
            return;
        }
        let mut state = self.lock();
        let current = *state;
        match (current, outcome) {
            (State::Closed { .. }, Outcome::Answered) => {
                *state = State::Closed { failures: 0 };
            }
            (_, Outcome::Answered) => {
                self.change(&mut state, State::Closed { failures: 0 });
                tracing::info!(
                    upstream = self.upstream,
                    "circuit closed: the upstream answers again"
                );
            }
            (State::Closed { failures }, Outcome::Failed) => {
                let failures = failures + 1;
                if failures < self.settings.failures {
                    *state = State::Closed { failures };
                } else {
                    self.open(&mut state);
                    tracing::warn!(
                        upstream = self.upstream,
                        failures,
                        cooldown_secs = self.settings.cooldown.as_secs(),
                        "circuit open: the upstream failed repeatedly (connect failures or \
                         timeouts); calls fail at once until the cool-down ends"
                    );
                }
            }
            (State::HalfOpen { .. }, Outcome::Failed) if probe => {
                self.open(&mut state);
                tracing::warn!(
                    upstream = self.upstream,
                    cooldown_secs = self.settings.cooldown.as_secs(),
                    "circuit open again: the probe call failed"
                );
            }
            (State::HalfOpen { .. }, Outcome::Other) if probe => {
                *state = State::HalfOpen { probing: false };
            }
            // Late results of calls let through before the circuit opened.
            _ => {}
        }
    }

    fn open(&self, state: &mut State) {
        let until = Instant::now() + self.settings.cooldown;
        self.change(state, State::Open { until });
    }

    fn change(&self, state: &mut State, next: State) {
        *state = next;
        metrics::set_circuit_state(self.upstream, next.label());
    }
}

impl Permit {
    pub fn record(mut self, outcome: Outcome) {
        self.recorded = true;
        self.breaker.record(outcome, self.probe);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.recorded && self.probe {
            self.breaker.record(Outcome::Other, true);
        }
    }
}

/// Why an outbound call failed: the transport, or our own breaker before sending.
#[derive(Debug)]
pub enum UpstreamError {
    Http(reqwest::Error),
    CircuitOpen(CircuitOpen),
}

impl UpstreamError {
    pub fn is_connect(&self) -> bool {
        matches!(self, UpstreamError::Http(e) if e.is_connect())
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, UpstreamError::Http(e) if e.is_timeout())
    }

    pub fn is_request(&self) -> bool {
        matches!(self, UpstreamError::Http(e) if e.is_request())
    }

    /// The outcome a transport result stands for.
    pub(crate) fn outcome(result: &Result<reqwest::Response, reqwest::Error>) -> Outcome {
        match result {
            Ok(_) => Outcome::Answered,
            Err(e) if e.is_connect() || e.is_timeout() => Outcome::Failed,
            Err(_) => Outcome::Other,
        }
    }
}

/// Never shows a URL (URLs may carry names or tokens).
impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Http(e) => write!(f, "{}", DisplayNoUrl(e)),
            UpstreamError::CircuitOpen(o) => write!(
                f,
                "circuit open for {}: not calling it for {} s",
                o.upstream,
                retry_after_secs(o.retry_after)
            ),
        }
    }
}

impl std::error::Error for UpstreamError {}

impl From<UpstreamError> for ConnectorError {
    fn from(err: UpstreamError) -> Self {
        match err {
            UpstreamError::Http(e) => e.into(),
            UpstreamError::CircuitOpen(o) => o.into(),
        }
    }
}

impl From<CircuitOpen> for ConnectorError {
    fn from(o: CircuitOpen) -> Self {
        let secs = retry_after_secs(o.retry_after);
        ConnectorError::RetryLater {
            detail: format!(
                "{} did not answer several calls in a row (connect failures or timeouts); \
                 calls fail at once for {secs} s, then one is let through to probe it",
                o.upstream
            ),
            retry_after_secs: secs,
            rate_limited: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(failures: u32, cooldown_ms: u64) -> Arc<Breaker> {
        Breaker::new(
            "unit",
            BreakerSettings {
                failures,
                cooldown: Duration::from_millis(cooldown_ms),
            },
        )
    }

    fn fail(b: &Arc<Breaker>) {
        b.admit().unwrap().record(Outcome::Failed);
    }

    #[test]
    fn opens_after_the_run_probes_after_the_cooldown_and_closes_on_an_answer() {
        let b = breaker(3, 200);
        fail(&b);
        fail(&b);
        // An answer ends the run.
        b.admit().unwrap().record(Outcome::Answered);
        fail(&b);
        fail(&b);
        assert!(
            b.admit().is_ok(),
            "two failures after an answer: still closed"
        );
        fail(&b);
        let refused = b.admit().err().map(|o| o.retry_after);
        assert!(refused.is_some_and(|d| d <= Duration::from_millis(200)));
        std::thread::sleep(Duration::from_millis(250));
        let probe = b.admit();
        assert!(probe.is_ok(), "the cool-down is over: one probe");
        assert!(b.admit().is_err(), "only one probe at a time");
        probe.unwrap().record(Outcome::Answered);
        assert!(b.admit().is_ok(), "closed again");
    }

    #[test]
    fn a_failed_probe_reopens_and_an_abandoned_one_frees_the_slot() {
        let b = breaker(1, 100);
        fail(&b);
        assert!(b.admit().is_err());
        std::thread::sleep(Duration::from_millis(150));
        drop(b.admit());
        let probe = b.admit();
        assert!(probe.is_ok(), "the abandoned probe freed the slot");
        probe.unwrap().record(Outcome::Failed);
        assert!(b.admit().is_err(), "a failed probe opens the circuit again");
    }

    #[test]
    fn zero_failures_turns_it_off() {
        let b = breaker(0, 100);
        for _ in 0..10 {
            fail(&b);
        }
        assert!(b.admit().is_ok());
    }
}
