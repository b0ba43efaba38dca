//! Zenodo's error answers → [`ConnectorError`].
//!
//! Zenodo answers `{"status": N, "message": "..."}`; validation errors (400) add
//! `errors[]` with `field` and either `message` (documented) or `messages` (an array, as
//! the live site sends): both are accepted. Messages are passed on (shortened) unless any
//! of them holds a part of the credentials ([`Credentials::appear_in`]: a Zenodo, or a
//! proxy before it, may echo the token, upper-cased or in part); then none is, and the
//! detail names Zenodo's status instead.

use std::time::Duration;

use connector_core::answer::ErrorAnswer;
use connector_core::error::FieldError;
use connector_core::http::server_wait;
use connector_core::{ConnectorError, Credentials};
use serde::Deserialize;

const MAX_MESSAGE: usize = 500;

#[derive(Debug, Default, Deserialize)]
struct ZenodoErrorBody {
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    errors: Option<Vec<ZenodoFieldError>>,
}

#[derive(Debug, Deserialize)]
struct ZenodoFieldError {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    messages: Option<serde_json::Value>,
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A message value: a string, or strings in an array (or nested objects, as Marshmallow
/// sometimes nests them), joined.
fn message_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => shorten(s),
        serde_json::Value::Array(a) => a
            .iter()
            .map(message_text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", message_text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Null => String::new(),
        other => shorten(&other.to_string()),
    }
}

/// Parses an error body (any JSON or none) into its message and field errors.
pub fn parse_error_body(body: &[u8]) -> (Option<String>, Vec<FieldError>) {
    let parsed: ZenodoErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed
        .message
        .as_ref()
        .map(message_text)
        .filter(|m| !m.is_empty());
    let errors = parsed
        .errors
        .unwrap_or_default()
        .into_iter()
        .map(|e| FieldError {
            field: e.field.map(|f| shorten(&f)).unwrap_or_default(),
            message: e
                .messages
                .as_ref()
                .or(e.message.as_ref())
                .map(message_text)
                .unwrap_or_default(),
        })
        .collect();
    (message, errors)
}

/// The error for a status and body; `wait` is what Zenodo asked for (`Retry-After`, else
/// `X-RateLimit-Reset`), passed on with a 503 or 429. `what` names the thing asked for,
/// e.g. "deposition 5". Nothing of `creds` ever reaches the error.
pub fn from_parts(
    status: u16,
    wait: Option<Duration>,
    body: &[u8],
    what: &str,
    creds: &Credentials,
) -> ConnectorError {
    let (message, errors) = parse_error_body(body);
    let echoed = message.iter().any(|m| creds.appear_in(m))
        || errors
            .iter()
            .any(|e| creds.appear_in(&e.field) || creds.appear_in(&e.message));
    let (said, errors) = if echoed {
        let withheld = format!(
            " (HTTP {status}; its message is withheld: it repeats part of the credentials)"
        );
        (withheld, Vec::new())
    } else {
        let said = message.map(|m| format!(": {m}")).unwrap_or_default();
        (said, errors)
    };
    // Zenodo's own wording where it says more than the status; the core's mapping (and
    // its Retry-After) for the rest.
    match status {
        400 if !errors.is_empty() => ConnectorError::Validation {
            detail: format!("Zenodo rejected {what}{said}"),
            errors,
        },
        400 | 409 | 422 => ConnectorError::BadRequest(format!("Zenodo rejected {what}{said}")),
        401 => ConnectorError::Unauthorized(format!(
            "Zenodo did not accept the access token for {what}"
        )),
        403 => ConnectorError::Forbidden(format!("Zenodo refused access to {what}{said}")),
        // Zenodo also answers 404 for changes to a published record.
        404 => ConnectorError::NotFound(format!(
            "Zenodo answered 404 (not found) for {what}: a wrong id, a deleted draft, or a record already published"
        )),
        s if said.is_empty() => ConnectorError::from_upstream(s, wait, what),
        s => {
            let err = ConnectorError::from_upstream(s, wait, what);
            err.map_detail(|d| format!("{d}; Zenodo{said}"))
        }
    }
}

/// The error for a non-success answer ([`from_parts`] with Zenodo's wait), as the core's
/// retry loop takes it (`retry::send_with`).
pub fn wording(creds: &Credentials) -> impl Fn(&ErrorAnswer, &str) -> ConnectorError + '_ {
    move |answer, what| {
        let wait = server_wait(&answer.headers);
        from_parts(answer.status, wait, &answer.body, what, creds)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::SecretString;

    fn creds() -> Credentials {
        Credentials::new(Some("alice".into()), SecretString::from("Zq9xW3mR7tK2pV8n"))
    }

    #[test]
    fn statuses_and_bodies() {
        let live = br#"{"status":400,"message":"Validation error.","errors":[{"field":"metadata.title","messages":["Missing data for required field."]},{"field":"files","messages":["a","b"]}]}"#;
        let docs = br#"{"status":400,"message":"Validation error.","errors":[{"field":"metadata.creators","message":"Required."}]}"#;
        // (Zenodo's status, its body, our status, the field errors we pass on)
        type Case<'a> = (u16, &'a [u8], u16, Vec<(&'a str, &'a str)>);
        let cases: Vec<Case> = vec![
            (
                400,
                live,
                400,
                vec![
                    ("metadata.title", "Missing data for required field."),
                    ("files", "a; b"),
                ],
            ),
            (400, docs, 400, vec![("metadata.creators", "Required.")]),
            (400, b"not json", 400, vec![]),
            (401, b"", 401, vec![]),
            (403, b"{}", 403, vec![]),
            (
                404,
                br#"{"status":404,"message":"PID does not exist."}"#,
                404,
                vec![],
            ),
            (413, b"", 413, vec![]),
            (429, b"", 429, vec![]),
            (500, b"<html>", 502, vec![]),
            (502, b"", 502, vec![]),
            // The core's mapping: a 503 stays one (with Zenodo's Retry-After), as a 504.
            (503, b"", 503, vec![]),
            (504, b"", 504, vec![]),
            (507, b"", 507, vec![]),
        ];
        for (status, body, want, fields) in cases {
            let err = from_parts(status, None, body, "deposition 1", &creds());
            assert_eq!(err.status().as_u16(), want, "{status}");
            let got: Vec<(String, String)> = match &err {
                ConnectorError::Validation { errors, .. } => errors
                    .iter()
                    .map(|e| (e.field.clone(), e.message.clone()))
                    .collect(),
                _ => vec![],
            };
            let want: Vec<(String, String)> = fields
                .iter()
                .map(|(f, m)| ((*f).into(), (*m).into()))
                .collect();
            assert_eq!(got, want, "{status}");
        }
        assert!(from_parts(400, None, live, "x", &creds())
            .to_string()
            .contains("Validation error."));
    }

    #[test]
    fn zenodos_wait_is_passed_on() {
        let wait = Some(Duration::from_secs(42));
        let body = br#"{"status":503,"message":"Down for maintenance."}"#;
        for (status, want) in [(503, 503), (429, 429)] {
            let err = from_parts(status, wait, body, "deposition 1", &creds());
            assert_eq!(err.status().as_u16(), want);
            assert!(matches!(
                err,
                ConnectorError::RetryLater {
                    retry_after_secs: 42,
                    ..
                }
            ));
            assert!(err.to_string().contains("Down for maintenance."), "{err}");
        }
    }

    #[test]
    fn messages_echoing_the_credentials_are_withheld() {
        let bodies: [&[u8]; 3] = [
            br#"{"status":400,"message":"token ZQ9XW3MR7TK2PV8N is invalid"}"#,
            br#"{"status":400,"message":"Validation error.","errors":[{"field":"metadata.title","messages":["not Zq9xW3mR"]}]}"#,
            br#"{"status":403,"message":"token ...7tK2pV8n has no scope"}"#,
        ];
        for body in bodies {
            let status = if body.starts_with(br#"{"status":403"#) {
                403
            } else {
                400
            };
            let err = from_parts(status, None, body, "deposition 1", &creds());
            assert_eq!(err.status().as_u16(), status);
            assert!(matches!(
                err,
                ConnectorError::BadRequest(_) | ConnectorError::Forbidden(_)
            ));
            let text = err.to_string().to_lowercase();
            assert!(!text.contains("zq9x") && !text.contains("pv8n"), "{text}");
            assert!(
                text.contains("withheld") && text.contains(&format!("http {status}")),
                "{text}"
            );
        }
    }
}
