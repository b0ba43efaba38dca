//! Bounded retries of Zenodo calls (with `backon`).
//!
//! - 429: Zenodo refused the call before doing anything, so every call whose body can be
//!   rebuilt is retried, after `Retry-After` (or `X-RateLimit-Reset`) when given; a 503
//!   waits for its `Retry-After` too.
//! - 502/503/504 and connection failures: retried with exponential backoff, but only for
//!   idempotent calls (GET, metadata PUT, DELETE), as a POST may have taken effect.
//! - Never more than `max_tries` attempts, never a wait longer than `max_wait`: a
//!   `Retry-After` beyond it fails at once with 429, so a caller never hangs.
//! - A small call has one deadline for all its attempts and waits together:
//!   `RESPONSE_TIMEOUT_SECS`, under a Kubernetes ingress' 60 s, so the caller gets our
//!   answer, not the proxy's. A wait that would end past it is not started: the last
//!   error comes back at once.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable as _};
use connector_core::http::Upstream;
use connector_core::interface::ByteStream;
use connector_core::{ConnectorError, Credentials};
use reqwest::{RequestBuilder, Response};

use super::error;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_tries: usize,
    /// The first backoff after a 5xx; doubled each time.
    pub base_delay: Duration,
    /// The longest single wait, also for `Retry-After`.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_tries: 3,
            base_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Whether a call may be repeated after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, PUT of metadata, DELETE: retried on 429, 5xx and connection failures.
    Idempotent,
    /// POST (create, publish): retried on 429 only.
    Once,
    /// A streamed body that cannot be sent again: one attempt.
    Single,
}

/// One attempt's request.
pub enum Attempt {
    /// A small call: the response deadline applies to all its attempts together.
    Call(RequestBuilder),
    /// An upload of `len` bytes: the core's idle watchdog applies while the body flows,
    /// the response deadline to the answer (a healthy large upload is never cut).
    Transfer {
        req: RequestBuilder,
        body: ByteStream,
        len: u64,
    },
}

/// A failed attempt.
struct Failure {
    error: ConnectorError,
    retry: bool,
    /// The server's own wait, from `Retry-After` / `X-RateLimit-Reset`.
    wait: Option<Duration>,
    /// An upload, which has no overall deadline.
    transfer: bool,
}

/// The wait Zenodo asks for on a 429 or 503: `Retry-After` (seconds or an HTTP-date, read
/// by the core), else `X-RateLimit-Reset` (epoch seconds).
pub fn server_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(wait) = connector_core::http::retry_after(headers) {
        return Some(wait);
    }
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let wait = Duration::from_secs(reset.saturating_sub(now).max(1));
    Some(wait.min(connector_core::http::MAX_RETRY_AFTER))
}

/// Sends the request built by `make` (once per attempt; its building may fail, e.g. a
/// spooled body reopened, or a token no header can carry), retrying per `policy`.
/// Answers with a success status come back; others become errors (Zenodo's body parsed,
/// nothing of `creds` kept).
pub async fn send(
    http: &Upstream,
    policy: RetryPolicy,
    idempotency: Idempotency,
    what: &str,
    creds: &Credentials,
    make: impl Fn() -> Result<Attempt, ConnectorError>,
) -> Result<Response, ConnectorError> {
    let overall = Instant::now() + http.response_timeout();
    let attempt = || async {
        let req = make().map_err(|error| Failure {
            error,
            retry: false,
            wait: None,
            transfer: false,
        })?;
        let transfer = matches!(req, Attempt::Transfer { .. });
        let resp = match req {
            Attempt::Call(req) => http.send_by(req, overall).await.map_err(|e| {
                let retry = idempotency == Idempotency::Idempotent
                    && (e.is_connect() || e.is_request() && !e.is_timeout());
                Failure {
                    error: e.into(),
                    retry,
                    wait: None,
                    transfer: false,
                }
            })?,
            Attempt::Transfer { req, body, len } => http
                .send_transfer(req, body, Some(len))
                .await
                .map_err(|error| Failure {
                    // A stall or a broken connection: a body that can be sent again is.
                    retry: idempotency == Idempotency::Idempotent
                        && matches!(
                            error,
                            ConnectorError::ServiceUnavailable(_) | ConnectorError::BadGateway(_)
                        ),
                    error,
                    wait: None,
                    transfer: true,
                })?,
        };
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        let wait = matches!(status, 429 | 503)
            .then(|| server_wait(resp.headers()))
            .flatten();
        let retry = match idempotency {
            Idempotency::Idempotent => matches!(status, 429 | 502..=504),
            Idempotency::Once => status == 429,
            Idempotency::Single => false,
        };
        Err(Failure {
            error: error::from_response(resp, what, creds).await,
            retry,
            wait,
            transfer,
        })
    };
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.base_delay)
        .with_max_delay(policy.max_wait)
        .with_max_times(policy.max_tries.saturating_sub(1));
    let max_wait = policy.max_wait;
    attempt
        .retry(backoff)
        .when(|f: &Failure| f.retry)
        .adjust(move |f: &Failure, planned| {
            let wait = match f.wait {
                Some(w) if w > max_wait => return None,
                Some(w) => planned.map(|_| w),
                None => planned,
            }?;
            let past_deadline = !f.transfer && Instant::now() + wait >= overall;
            (!past_deadline).then_some(wait)
        })
        .notify(|f: &Failure, wait| {
            tracing::info!(
                status = f.error.status().as_u16(),
                wait_ms = wait.as_millis() as u64,
                "retrying a Zenodo call"
            );
        })
        .await
        .map_err(|f| f.error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn waits_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(server_wait(&h), None);
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(
            server_wait(&h),
            Some(Duration::from_secs(1)),
            "a reset in the past waits 1 s"
        );
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(7)));
    }
}
