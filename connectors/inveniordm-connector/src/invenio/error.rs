//! InvenioRDM's error answers → [`ConnectorError`].
//!
//! Invenio answers `{"status": N, "message": "..."}` (flask-resources'
//! `HTTPJSONException`); validation errors add `errors: [{"field", "messages": [...]}]`
//! (invenio-records-resources `resources/errors.py`). Messages are passed on, shortened,
//! unless any holds a part of the credentials ([`Credentials::appear_in`]); the status
//! mapping and the `Retry-After` pass-through are the core's
//! ([`ConnectorError::from_upstream`]).

use std::time::Duration;

use connector_core::answer::ErrorAnswer;
use connector_core::error::FieldError;
use connector_core::http::server_wait;
use connector_core::{ConnectorError, Credentials};
use serde_json::Value;

const MAX_MESSAGE: usize = 500;

fn shorten(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// A message value: a string, or strings in arrays or objects (marshmallow nests them).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => shorten(s),
        Value::Array(a) => a
            .iter()
            .map(text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Null => String::new(),
        other => shorten(&other.to_string()),
    }
}

/// The field errors of an Invenio `errors` list (also the `errors` of a saved draft).
pub fn field_errors(errors: Option<&Value>) -> Vec<FieldError> {
    errors
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| FieldError {
            field: e.get("field").map(text).unwrap_or_default(),
            message: e
                .get("messages")
                .or_else(|| e.get("message"))
                .map(text)
                .unwrap_or_default(),
        })
        .collect()
}

/// The error for a status and body. `what` names the thing asked for ("draft abcd-1234").
pub fn from_parts(
    status: u16,
    wait: Option<Duration>,
    body: &[u8],
    what: &str,
    creds: &Credentials,
) -> ConnectorError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed.get("message").map(text).filter(|m| !m.is_empty());
    let errors = field_errors(parsed.get("errors"));
    let echoed = message.iter().any(|m| creds.appear_in(m))
        || errors
            .iter()
            .any(|e| creds.appear_in(&e.field) || creds.appear_in(&e.message));
    let (said, errors) = if echoed {
        (
            format!(
                " (HTTP {status}; its message is withheld: it repeats part of the credentials)"
            ),
            Vec::new(),
        )
    } else {
        (
            message.map(|m| format!(": {m}")).unwrap_or_default(),
            errors,
        )
    };
    match status {
        400 if !errors.is_empty() => ConnectorError::Validation {
            detail: format!("InvenioRDM rejected {what}{said}"),
            errors,
        },
        400 | 409 | 422 => ConnectorError::BadRequest(format!("InvenioRDM rejected {what}{said}")),
        401 => ConnectorError::Unauthorized(format!(
            "InvenioRDM did not accept the access token for {what}"
        )),
        403 => ConnectorError::Forbidden(format!("InvenioRDM refused access to {what}{said}")),
        404 => ConnectorError::NotFound(format!(
            "InvenioRDM answered 404 for {what}: a wrong id, a deleted draft, or a record already published"
        )),
        s if said.is_empty() => ConnectorError::from_upstream(s, wait, what),
        s => ConnectorError::from_upstream(s, wait, what).map_detail(|d| format!("{d}; InvenioRDM{said}")),
    }
}

/// The error for a non-success answer (its body read up to the core's bound).
pub fn from_answer(answer: &ErrorAnswer, what: &str, creds: &Credentials) -> ConnectorError {
    let wait = server_wait(&answer.headers);
    from_parts(answer.status, wait, &answer.body, what, creds)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secrecy::SecretString;

    fn creds() -> Credentials {
        Credentials::new(Some("alice".into()), SecretString::from("Zq9xW3mR7tK2pV8n"))
    }

    #[test]
    fn invenios_answers_map() {
        // rdm tests/resources/test_publish_errors.py's shape.
        let validation = br#"{"status":400,"message":"A validation error occurred.","errors":[{"field":"metadata.publication_date","messages":["Missing data for required field."]}]}"#;
        let err = from_parts(400, None, validation, "publishing x", &creds());
        let ConnectorError::Validation { errors, detail } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(errors[0].field, "metadata.publication_date");
        assert_eq!(errors[0].message, "Missing data for required field.");
        assert!(detail.contains("A validation error occurred."));
        for (status, want) in [
            (400, 400),
            (401, 401),
            (403, 403),
            (404, 404),
            (413, 413),
            (429, 429),
            (500, 502),
            (503, 503),
            (504, 504),
        ] {
            let body = br#"{"status":0,"message":"Not a valid value."}"#;
            assert_eq!(
                from_parts(status, None, body, "x", &creds())
                    .status()
                    .as_u16(),
                want
            );
        }
        let wait = Some(Duration::from_secs(42));
        let err = from_parts(429, wait, b"", "x", &creds());
        assert!(matches!(
            err,
            ConnectorError::RetryLater {
                retry_after_secs: 42,
                rate_limited: true,
                ..
            }
        ));
    }

    #[test]
    fn echoed_credentials_are_withheld() {
        let body = br#"{"status":400,"message":"token zq9xw3mr7tk2pv8n is not valid"}"#;
        let text = from_parts(400, None, body, "x", &creds())
            .to_string()
            .to_lowercase();
        assert!(
            !text.contains("zq9x") && text.contains("withheld"),
            "{text}"
        );
    }
}
