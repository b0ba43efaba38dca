//! Registration with the Token Storage: `POST {CENTRAL_SERVICE_TOKEN_STORAGE}/service`.
//!
//! While the Token Storage is unreachable or answers 5xx (or anything else that may pass),
//! retry forever with capped exponential backoff and jitter, staying not-ready: in
//! Kubernetes the Token Storage may start after us, and a crash loop helps nobody. A 400
//! means our payload is wrong (a configuration error) and ends the process.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;
use url::Url;

use crate::descriptor::ServiceDescriptor;
use crate::http::Upstream;

/// How registration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    Created,
    /// `ServiceExistsAlreadyError` (a restart, or another replica was first).
    AlreadyExisted,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The Token Storage refused the payload; retrying cannot help.
    #[error("the Token Storage rejected the registration (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
}

#[derive(Debug)]
enum Attempt {
    Transient(String),
    Fatal(RegistrationError),
}

/// Backoff of the retries: 250 ms doubling to 30 s, with jitter, without end.
pub fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(30))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}

/// Registers, retrying until the Token Storage accepts or rejects the payload.
pub async fn register(
    http: &Upstream,
    token_storage: &Url,
    descriptor: &ServiceDescriptor,
    policy: ExponentialBuilder,
) -> Result<Registered, RegistrationError> {
    let url = format!("{}/service", token_storage.as_str().trim_end_matches('/'));
    let payload = descriptor.registration_payload();
    let secret = match &descriptor.auth {
        crate::descriptor::ServiceAuth::OAuth2(o) => Some(o.client_secret.secret().clone()),
        crate::descriptor::ServiceAuth::Login { .. } => None,
    };
    tracing::debug!(payload = %descriptor.redacted_payload(), "registration payload");
    let attempt = || async { attempt(http, &url, &payload, secret.as_deref()).await };
    let result = attempt
        .retry(policy)
        .when(|e| matches!(e, Attempt::Transient(_)))
        .notify(|e, wait| {
            if let Attempt::Transient(why) = e {
                tracing::warn!(
                    retry_in_ms = wait.as_millis() as u64,
                    "registration with the Token Storage failed: {why}"
                );
            }
        })
        .await;
    match result {
        Ok(r) => {
            tracing::info!(servicename = %descriptor.servicename.to_lowercase(), outcome = ?r, "registered with the Token Storage");
            Ok(r)
        }
        Err(Attempt::Fatal(e)) => Err(e),
        Err(Attempt::Transient(why)) => Err(RegistrationError::Rejected {
            status: 0,
            message: why,
        }),
    }
}

async fn attempt(
    http: &Upstream,
    url: &str,
    payload: &Value,
    secret: Option<&str>,
) -> Result<Registered, Attempt> {
    let resp = http
        .send(http.client().post(url).json(payload))
        .await
        .map_err(|e| Attempt::Transient(format!("cannot reach it: {e}")))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    // The Token Storage may echo the payload in an error: never log our secret.
    let body = match secret {
        Some(s) if !s.is_empty() => body.replace(s, "[REDACTED]"),
        _ => body,
    };
    let body_excerpt: String = body.chars().take(300).collect();
    match status {
        200 | 201 => {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            match v.get("success").and_then(Value::as_bool) {
                Some(true) | None => Ok(Registered::Created),
                Some(false) => {
                    let message = v.get("message").and_then(Value::as_str).unwrap_or_default();
                    if message.contains("ServiceExistsAlready") {
                        Ok(Registered::AlreadyExisted)
                    } else {
                        Err(Attempt::Fatal(RegistrationError::Rejected {
                            status,
                            message: message.to_owned(),
                        }))
                    }
                }
            }
        }
        409 => Ok(Registered::AlreadyExisted),
        400 | 422 => Err(Attempt::Fatal(RegistrationError::Rejected {
            status,
            message: body_excerpt,
        })),
        _ => Err(Attempt::Transient(format!("HTTP {status}: {body_excerpt}"))),
    }
}
