//! Bounded retries of provider calls (with `backon`), for every provider.
//!
//! - 429: the provider refused the call before doing anything, so every call whose body
//!   can be rebuilt is retried, after `Retry-After` (or `X-RateLimit-Reset`) when given
//!   ([`crate::http::server_wait`]); a 503 waits for its `Retry-After` too.
//! - 502/503/504 and connection failures: retried with exponential backoff, but only for
//!   idempotent calls (GET, PUT, DELETE), as a POST may have taken effect.
//! - Never more than `max_tries` attempts, never a wait longer than `max_wait`: a
//!   `Retry-After` beyond it fails at once with 429, so a caller never hangs.
//! - A small call has one deadline for all its attempts and waits together:
//!   `RESPONSE_TIMEOUT_SECS`, under a Kubernetes ingress' 60 s, so the caller gets our
//!   answer, not the proxy's. A wait that would end past it is not started: the last
//!   error comes back at once.
//!
//! A failed answer becomes an error through the core's mapping
//! ([`ConnectorError::from_upstream`], [`send`]) or the provider's own wording on it
//! ([`send_with`]); [`send_upload_with`] sends an [`UploadBody`] as often as it allows.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable as _};
use reqwest::{RequestBuilder, Response};

use crate::answer::ErrorAnswer;
use crate::credentials::Credentials;
use crate::error::ConnectorError;
use crate::http::{authorized, server_wait, AuthScheme, Upstream};
use crate::interface::ByteStream;
use crate::transfer::upload::UploadBody;

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
    /// GET, PUT, DELETE: retried on 429, 5xx and connection failures.
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

impl Attempt {
    /// A small call: `req` with the user's credentials ([`authorized`]) and, when given,
    /// a JSON body. A token no header can carry fails the attempt with a 400, not retried.
    pub fn json_call(
        req: RequestBuilder,
        creds: &Credentials,
        scheme: AuthScheme<'_>,
        body: Option<&serde_json::Value>,
    ) -> Result<Self, ConnectorError> {
        let req = authorized(req, creds, scheme)?;
        Ok(Attempt::Call(match body {
            Some(b) => req.json(b),
            None => req,
        }))
    }
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

/// [`send_with`] with the core's mapping of a failed answer: its status and the
/// provider's wait ([`ConnectorError::from_upstream`]).
pub async fn send(
    http: &Upstream,
    policy: RetryPolicy,
    idempotency: Idempotency,
    what: &str,
    make: impl Fn() -> Result<Attempt, ConnectorError>,
) -> Result<Response, ConnectorError> {
    send_with(http, policy, idempotency, what, make, |answer, what| {
        ConnectorError::from_upstream(answer.status, server_wait(&answer.headers), what)
    })
    .await
}

/// [`send_with`] for an upload of `body`: each attempt is an [`Attempt::Transfer`] of
/// the request built by `request` with the body's next [`UploadBody::attempt`], retried
/// as the body allows ([`UploadBody::idempotency`]: a stream once, memory or a spooled
/// file like an idempotent call).
pub async fn send_upload_with(
    http: &Upstream,
    policy: RetryPolicy,
    what: &str,
    body: UploadBody,
    request: impl Fn() -> Result<RequestBuilder, ConnectorError>,
    map: impl Fn(&ErrorAnswer, &str) -> ConnectorError,
) -> Result<Response, ConnectorError> {
    let idempotency = body.idempotency();
    let len = body.length();
    // `make` is called once per attempt, never concurrently: the lock is never contended.
    let body = std::sync::Mutex::new(body);
    let make = || {
        let mut body = body
            .lock()
            .map_err(|_| ConnectorError::Internal("the upload body is poisoned".into()))?;
        let body = body.attempt()?;
        Ok(Attempt::Transfer {
            req: request()?,
            body,
            len,
        })
    };
    send_with(http, policy, idempotency, what, make, map).await
}

/// Sends the request built by `make` (once per attempt; its building may fail, e.g. a
/// spooled body reopened, or a token no header can carry), retrying per `policy`.
/// Answers with a success status come back; others are read ([`ErrorAnswer::read`]) and
/// become errors through `map` (the provider's wording; `what` names the call).
pub async fn send_with(
    http: &Upstream,
    policy: RetryPolicy,
    idempotency: Idempotency,
    what: &str,
    make: impl Fn() -> Result<Attempt, ConnectorError>,
    map: impl Fn(&ErrorAnswer, &str) -> ConnectorError,
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
        let answer = ErrorAnswer::read(resp).await;
        let error = map(&answer, what);
        // A provider's mapping may read a rate limit in another status (Dataverse wraps
        // its rate limit in a 400 on some routes): retried like a 429.
        let rate_limited = status == 429
            || matches!(
                error,
                ConnectorError::TooManyRequests(_)
                    | ConnectorError::RetryLater {
                        rate_limited: true,
                        ..
                    }
            );
        let retry = match idempotency {
            Idempotency::Idempotent => rate_limited || matches!(status, 502..=504),
            Idempotency::Once => rate_limited,
            Idempotency::Single => false,
        };
        Err(Failure {
            error,
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
                upstream = http.name(),
                status = f.error.status().as_u16(),
                wait_ms = wait.as_millis() as u64,
                "retrying a provider call"
            );
        })
        .await
        .map_err(|f| f.error)
}
