//! One error type for every request path, rendered as RFC 9457 `application/problem+json`.
//!
//! Client mistakes map to 4xx, upstream failures to 502/503/504. Error details are written
//! by us, never copied from a request or URL that may hold a token: a provider's message is
//! added only when [`crate::Credentials::appear_in`] finds no part of the credentials in it.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Our `Retry-After` on a 503 or 429 when nobody said how long to wait.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

/// Whole seconds for `Retry-After`, at least 1 (a `0` would invite a tight loop).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

/// A field-level validation message from the provider (e.g. Zenodo's `errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The request is malformed or names something invalid (400).
    #[error("{0}")]
    BadRequest(String),
    /// The provider rejected the content; each field and its message is listed (400).
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// No usable credentials, or the provider refused them (401).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The caller stopped sending its request body, or it did not arrive within its
    /// deadline (408).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    RangeNotSatisfiable(String),
    /// The resource is locked upstream, e.g. a WebDAV lock during another upload (423).
    #[error("{0}")]
    Locked(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// The provider has no room left (507).
    #[error("{0}")]
    InsufficientStorage(String),
    /// The route exists in the interface but this connector does not offer it (501).
    #[error("{0}")]
    NotImplemented(String),
    /// The provider answered with an error or garbage (502).
    #[error("{0}")]
    BadGateway(String),
    /// The provider's checksum of a transfer differs from ours (502): counted apart,
    /// as data that did not arrive intact.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// A service we depend on is unreachable or not ready, including ourselves (503).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Call again after a known wait: a provider's 503 (or, `rate_limited`, its 429) that
    /// said how long in `Retry-After`, or an open circuit breaker for the rest of its
    /// cool-down. The wait is passed on as our `Retry-After`.
    #[error("{detail}")]
    RetryLater {
        detail: String,
        retry_after_secs: u64,
        rate_limited: bool,
    },
    /// The provider did not answer in time (504).
    #[error("{0}")]
    GatewayTimeout(String),
    /// A bug or an environment failure on our side (500). Never used for bad input.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

impl ConnectorError {
    pub fn status(&self) -> StatusCode {
        use ConnectorError::*;
        match self {
            BadRequest(_) | Validation { .. } => StatusCode::BAD_REQUEST,
            Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Forbidden(_) => StatusCode::FORBIDDEN,
            NotFound(_) => StatusCode::NOT_FOUND,
            MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Conflict(_) => StatusCode::CONFLICT,
            PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Locked(_) => StatusCode::LOCKED,
            TooManyRequests(_)
            | RetryLater {
                rate_limited: true, ..
            } => StatusCode::TOO_MANY_REQUESTS,
            InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            BadGateway(_) | ChecksumMismatch(_) => StatusCode::BAD_GATEWAY,
            ServiceUnavailable(_) | RetryLater { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Maps an upstream HTTP status to our error, for providers whose status codes carry the
    /// usual meaning. `what` names the thing asked for, e.g. "file /a/b.txt".
    pub fn from_upstream_status(status: u16, what: &str) -> Self {
        use ConnectorError::*;
        match status {
            400 => BadRequest(format!("the provider rejected the request for {what}")),
            401 => Unauthorized(format!(
                "the provider did not accept the credentials for {what}"
            )),
            403 => Forbidden(format!("the provider refused access to {what}")),
            404 => NotFound(format!("{what} does not exist")),
            405 => MethodNotAllowed(format!("the provider does not allow this on {what}")),
            409 => Conflict(format!("conflict on {what}")),
            412 => Conflict(format!("precondition failed on {what}")),
            414 => BadRequest(format!(
                "the provider refused the request for {what}: the path is too long"
            )),
            413 => PayloadTooLarge(format!("the provider refused {what}: too large")),
            415 => UnsupportedMediaType(format!("the provider refused the media type of {what}")),
            416 => RangeNotSatisfiable(format!("the requested range of {what} is not satisfiable")),
            423 => Locked(format!("{what} is locked on the provider")),
            429 => TooManyRequests(format!("the provider rate-limited the request for {what}")),
            507 => InsufficientStorage(format!("the provider has no space left for {what}")),
            503 => ServiceUnavailable(format!("the provider is unavailable ({what})")),
            504 => GatewayTimeout(format!("the provider timed out ({what})")),
            s if s >= 500 => BadGateway(format!("the provider failed with HTTP {s} ({what})")),
            s => BadGateway(format!("unexpected HTTP {s} from the provider ({what})")),
        }
    }

    /// The one mapping of a provider's error answer: [`Self::from_upstream_status`], with
    /// the provider's wait (`Retry-After`, see [`crate::http::retry_after`]) passed on for
    /// 503 and 429. Without one, their `Retry-After` is [`DEFAULT_RETRY_AFTER_SECS`].
    pub fn from_upstream(status: u16, wait: Option<Duration>, what: &str) -> Self {
        let err = Self::from_upstream_status(status, what);
        match (err, wait) {
            (ConnectorError::ServiceUnavailable(detail), Some(wait)) => {
                ConnectorError::RetryLater {
                    detail,
                    retry_after_secs: retry_after_secs(wait),
                    rate_limited: false,
                }
            }
            (ConnectorError::TooManyRequests(detail), Some(wait)) => ConnectorError::RetryLater {
                detail,
                retry_after_secs: retry_after_secs(wait),
                rate_limited: true,
            },
            (err, _) => err,
        }
    }

    /// The same error, its detail rewritten by `f` (to add the provider's own words);
    /// errors that carry no provider detail (ours: 500, 501, 408) are kept as they are.
    pub fn map_detail(self, f: impl FnOnce(String) -> String) -> Self {
        use ConnectorError::*;
        match self {
            BadRequest(s) => BadRequest(f(s)),
            Validation { detail, errors } => Validation {
                detail: f(detail),
                errors,
            },
            Unauthorized(s) => Unauthorized(f(s)),
            Forbidden(s) => Forbidden(f(s)),
            NotFound(s) => NotFound(f(s)),
            MethodNotAllowed(s) => MethodNotAllowed(f(s)),
            Conflict(s) => Conflict(f(s)),
            PayloadTooLarge(s) => PayloadTooLarge(f(s)),
            UnsupportedMediaType(s) => UnsupportedMediaType(f(s)),
            RangeNotSatisfiable(s) => RangeNotSatisfiable(f(s)),
            Locked(s) => Locked(f(s)),
            TooManyRequests(s) => TooManyRequests(f(s)),
            InsufficientStorage(s) => InsufficientStorage(f(s)),
            BadGateway(s) => BadGateway(f(s)),
            ChecksumMismatch(s) => ChecksumMismatch(f(s)),
            ServiceUnavailable(s) => ServiceUnavailable(f(s)),
            RetryLater {
                detail,
                retry_after_secs,
                rate_limited,
            } => RetryLater {
                detail: f(detail),
                retry_after_secs,
                rate_limited,
            },
            GatewayTimeout(s) => GatewayTimeout(f(s)),
            other @ (RequestTimeout(_) | NotImplemented(_) | Internal(_)) => other,
        }
    }

    fn title(&self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    fn type_uri(&self) -> String {
        // Stable, documented identifiers per status (see specs/), not resolvable URLs.
        format!("urn:rds-connectors:problem:{}", self.status().as_u16())
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'a str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub errors: &'a [FieldError],
}

impl ResponseError for ConnectorError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let errors: &[FieldError] = match self {
            ConnectorError::Validation { errors, .. } => errors,
            _ => &[],
        };
        let problem = Problem {
            type_: self.type_uri(),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.to_string(),
            errors,
        };
        let mut resp = HttpResponse::build(self.status());
        resp.content_type("application/problem+json");
        // Tell RDS (and proxies) when trying again makes sense.
        match self {
            ConnectorError::ServiceUnavailable(_) | ConnectorError::TooManyRequests(_) => {
                resp.insert_header(("Retry-After", DEFAULT_RETRY_AFTER_SECS.to_string()));
            }
            ConnectorError::RetryLater {
                retry_after_secs, ..
            } => {
                resp.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            _ => {}
        }
        resp.json(problem)
    }
}

/// Maps a transport error of an outbound call. The URL is stripped: URLs may carry
/// user names, paths or (for some providers) tokens in the query.
impl From<reqwest::Error> for ConnectorError {
    fn from(err: reqwest::Error) -> Self {
        let err = err.without_url();
        if err.is_timeout() {
            ConnectorError::GatewayTimeout("the provider did not answer in time".into())
        } else if err.is_connect() {
            ConnectorError::ServiceUnavailable("the provider cannot be reached".into())
        } else if let Some(status) = err.status() {
            ConnectorError::from_upstream_status(status.as_u16(), "the request")
        } else if err.is_body() || err.is_decode() {
            ConnectorError::BadGateway(format!("the provider's answer was unreadable: {err}"))
        } else {
            ConnectorError::BadGateway(format!("the call to the provider failed: {err}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn problem_json_has_all_fields() {
        let err = ConnectorError::Validation {
            detail: "the deposit is incomplete".into(),
            errors: vec![FieldError {
                field: "metadata.title".into(),
                message: "required".into(),
            }],
        };
        let resp = err.error_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body = resp.into_body().try_into_bytes().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], 400);
        assert_eq!(v["title"], "Bad Request");
        assert_eq!(v["detail"], "the deposit is incomplete");
        assert_eq!(v["errors"][0]["field"], "metadata.title");
        assert!(v["type"].as_str().is_some_and(|t| t.ends_with(":400")));
    }

    fn retry_after_of(err: &ConnectorError) -> Option<String> {
        err.error_response()
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    #[test]
    fn the_providers_wait_is_passed_on() {
        let minute = Some(Duration::from_secs(60));
        for (status, wait, want_status, want_wait) in [
            (503, minute, 503, Some("60")),
            (429, minute, 429, Some("60")),
            (503, None, 503, Some("5")),
            (429, None, 429, Some("5")),
            (503, Some(Duration::ZERO), 503, Some("1")),
            (503, Some(Duration::from_millis(1500)), 503, Some("2")),
            (502, minute, 502, None),
            (500, minute, 502, None),
            (404, minute, 404, None),
        ] {
            let err = ConnectorError::from_upstream(status, wait, "deposition 1");
            assert_eq!(err.status().as_u16(), want_status, "{status} {wait:?}");
            assert_eq!(
                retry_after_of(&err).as_deref(),
                want_wait,
                "{status} {wait:?}"
            );
        }
        let err = ConnectorError::from_upstream(503, minute, "x")
            .map_detail(|d| format!("{d} (provider: down for maintenance)"));
        assert_eq!(err.status().as_u16(), 503);
        assert_eq!(retry_after_of(&err).as_deref(), Some("60"));
        assert!(err
            .to_string()
            .ends_with("(provider: down for maintenance)"));
    }

    #[test]
    fn upstream_statuses_map_as_documented() {
        for (up, ours) in [
            (401, 401),
            (403, 403),
            (404, 404),
            (423, 423),
            (507, 507),
            (500, 502),
            (502, 502),
            (503, 503),
            (504, 504),
            (429, 429),
        ] {
            assert_eq!(
                ConnectorError::from_upstream_status(up, "x")
                    .status()
                    .as_u16(),
                ours,
                "upstream {up}"
            );
        }
    }
}
