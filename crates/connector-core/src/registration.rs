//! Registration with the Token Storage: `POST {CENTRAL_SERVICE_TOKEN_STORAGE}/service`.
//!
//! While the Token Storage is unreachable or answers 5xx (or anything else that may pass),
//! retry forever with capped exponential backoff and jitter, staying not-ready: in
//! Kubernetes the Token Storage may start after us, and a crash loop helps nobody. A 400
//! means our payload is wrong (a configuration error) and ends the process.
//!
//! Afterwards [`watch`] keeps the registration true: the Token Storage forgets every
//! service when it restarts with in-memory storage (or Redis is flushed), so every
//! `REGISTRATION_CHECK_SECS` it is asked for ours (`GET /service/<servicename>`) and, when
//! it no longer has it, we register again. `POST /service` never updates an entry, so a
//! stored entry that differs from our configuration gets a warning naming the fields
//! (never their values: one is the client secret). We never DELETE a service: users'
//! tokens hang on it.

use std::collections::BTreeSet;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;
use url::Url;

use crate::descriptor::{Interface, ServiceDescriptor};
use crate::http::Upstream;
use crate::metrics;

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
    implements: &[Interface],
    policy: ExponentialBuilder,
) -> Result<Registered, RegistrationError> {
    let url = format!("{}/service", token_storage.as_str().trim_end_matches('/'));
    let payload = descriptor.registration_payload(implements);
    let secret = client_secret(descriptor);
    tracing::debug!(payload = %descriptor.redacted_payload(implements), "registration payload");
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

/// What the Token Storage holds under our servicename.
enum Stored {
    Entry(Value),
    /// 404, or the 500 the real one answers for an unknown name.
    Missing,
}

/// How much of a `GET /service/<name>` answer we read (the entry holds our icon and
/// metadata profile; anything larger is not ours).
const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;

/// Re-checks the registration every `interval` (see the module docs); runs until aborted.
/// `first` is how the registration at start ended: an entry that existed already is
/// compared at once.
pub async fn watch(
    http: &Upstream,
    token_storage: &Url,
    descriptor: &ServiceDescriptor,
    implements: &[Interface],
    interval: Duration,
    first: Registered,
) {
    let base = token_storage.as_str().trim_end_matches('/');
    let servicename = descriptor.servicename.to_lowercase();
    let entry_url = format!("{base}/service/{servicename}");
    let post_url = format!("{base}/service");
    let payload = descriptor.registration_payload(implements);
    let secret = client_secret(descriptor);
    // Warn once per distinct set of differing fields, not on every check.
    let mut warned: Option<BTreeSet<String>> = None;
    let mut check_now = first == Registered::AlreadyExisted;
    loop {
        if !check_now {
            if interval.is_zero() {
                return;
            }
            tokio::time::sleep(interval).await;
        }
        check_now = false;
        match stored(http, &entry_url).await {
            Ok(Stored::Entry(entry)) => {
                metrics::set_registered(true);
                let differ = differing_fields(&payload, &entry);
                if !differ.is_empty() && warned.as_ref() != Some(&differ) {
                    let fields = differ.iter().cloned().collect::<Vec<_>>().join(", ");
                    tracing::warn!(
                        servicename = %servicename,
                        fields = %fields,
                        "the Token Storage holds a registration of this service that differs \
                         from this connector's configuration in: {fields}. POST /service never \
                         updates an entry, so RDS keeps using the stored one. To apply the new \
                         configuration, an operator must remove the stored entry from the Token \
                         Storage (DELETE /service/{servicename}; users may have to connect the \
                         service again) and restart this connector, or restore the previous \
                         configuration"
                    );
                }
                warned = Some(differ);
            }
            Ok(Stored::Missing) => {
                // RDS cannot reach us until the entry is back: the gauge says so.
                metrics::set_registered(false);
                match attempt(http, &post_url, &payload, secret.as_deref()).await {
                    Ok(Registered::Created) => {
                        metrics::set_registered(true);
                        metrics::count_reregistration();
                        tracing::warn!(
                            servicename = %servicename,
                            "the Token Storage had lost this service's registration (it \
                             restarted?): registered again"
                        );
                    }
                    Ok(Registered::AlreadyExisted) => metrics::set_registered(true),
                    Err(Attempt::Transient(why)) => {
                        tracing::warn!("re-registration with the Token Storage failed: {why}")
                    }
                    Err(Attempt::Fatal(e)) => {
                        tracing::error!("re-registration with the Token Storage failed: {e}")
                    }
                }
            }
            Err(why) => tracing::warn!("cannot check the registration at the Token Storage: {why}"),
        }
    }
}

/// `GET /service/<name>`: 200 with `{"data": {...}, "type": "OAuth2Service"}`; an unknown
/// name is a 500 from the real Token Storage (`ValueError` from `BaseService` without
/// `implements`, see the emulator), a 404 from others. A 500 may also be a real failure:
/// then the re-POST answers `ServiceExistsAlreadyError` or fails, and nothing is lost.
async fn stored(http: &Upstream, url: &str) -> Result<Stored, String> {
    let mut resp = http
        .send(http.client().get(url))
        .await
        .map_err(|e| format!("cannot reach it: {e}"))?;
    match resp.status().as_u16() {
        200 => {}
        404 | 500 => return Ok(Stored::Missing),
        status => return Err(format!("HTTP {status}")),
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("its answer broke off: {}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ENTRY_BYTES {
            return Err(format!("its answer is larger than {MAX_ENTRY_BYTES} bytes"));
        }
    }
    // The body holds our client secret: never put it into a message.
    let mut v: Value =
        serde_json::from_slice(&body).map_err(|_| "its answer is not JSON".to_owned())?;
    Ok(Stored::Entry(match v.get_mut("data") {
        Some(data) if data.is_object() => data.take(),
        _ => v,
    }))
}

/// The names of our payload's fields whose stored value differs (or is missing).
fn differing_fields(ours: &Value, stored: &Value) -> BTreeSet<String> {
    let Some(ours) = ours.as_object() else {
        return BTreeSet::new();
    };
    ours.iter()
        .filter(|(k, v)| stored.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Our client secret, to scrub from anything the Token Storage echoes.
fn client_secret(descriptor: &ServiceDescriptor) -> Option<String> {
    match &descriptor.auth {
        crate::descriptor::ServiceAuth::OAuth2(o) => Some(o.client_secret.secret().clone()),
        crate::descriptor::ServiceAuth::Login { .. } => None,
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
