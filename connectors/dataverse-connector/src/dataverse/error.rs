//! Dataverse's error answers → [`ConnectorError`].
//!
//! Dataverse answers `{"status": "ERROR", "message": "..."}` (`AbstractApiBean.error`).
//! Its statuses say less than they seem (emulator/SOURCES.md §9): validation failures
//! are 403 `"Validation Failed: ..."` (→ 400 here), permission failures 401 with `"User
//! @x is not permitted ..."` (→ 403 here; only `"Bad API key"` and the "authenticated
//! users" message mean a bad token), a rate limit is 429 without headers or, on file
//! routes, a 400 ending `"Rate limited due to too many requests."` (→ retried like a
//! 429), size and quota refusals 400 with the message (→ 413). Messages are passed on,
//! shortened, unless they hold a part of the credentials ([`Credentials::appear_in`];
//! `/api/users/:me` echoes a wrong token).

use std::time::Duration;

use connector_core::answer::ErrorAnswer;
use connector_core::http::server_wait;
use connector_core::{ConnectorError, Credentials};
use serde_json::Value;

const MAX_MESSAGE: usize = 500;
pub const RATE_LIMITED: &str = "Rate limited due to too many requests.";

fn shorten(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The error for a status and body. `what` names the thing asked for ("dataset 42").
pub fn from_parts(
    status: u16,
    wait: Option<Duration>,
    body: &[u8],
    what: &str,
    creds: &Credentials,
) -> ConnectorError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed
        .get("message")
        .and_then(Value::as_str)
        .map(shorten)
        .filter(|m| !m.is_empty());
    let echoed = message.as_deref().is_some_and(|m| creds.appear_in(m));
    let said = match (&message, echoed) {
        (_, true) => {
            format!(" (HTTP {status}; its message is withheld: it repeats part of the credentials)")
        }
        (Some(m), false) => format!(": {m}"),
        (None, false) => String::new(),
    };
    let message = message.filter(|_| !echoed).unwrap_or_default();
    let rate_limited = message.ends_with(RATE_LIMITED);
    match status {
        429 => ConnectorError::from_upstream(429, wait, what)
            .map_detail(|d| format!("{d}; Dataverse{said}")),
        400 if rate_limited => ConnectorError::TooManyRequests(format!(
            "Dataverse rate-limited the request for {what}{said}"
        )),
        // A lock taken between the connector's poll and its write (SOURCES.md §6):
        // transient, so RDS may try again.
        403 | 400 if message.contains("due to dataset lock")
            || message.contains("This dataset is locked") =>
        {
            ConnectorError::RetryLater {
                detail: format!("Dataverse refused {what} while the dataset is locked{said}"),
                retry_after_secs: 10,
                rate_limited: false,
            }
        }
        400 if message.contains("exceeds the size limit")
            || message.contains("exceeds the remaining storage quota")
            || message.contains("too large to be uploaded") =>
        {
            ConnectorError::PayloadTooLarge(format!("Dataverse refused {what}{said}"))
        }
        400 | 409 => ConnectorError::BadRequest(format!("Dataverse rejected {what}{said}")),
        403 if message.starts_with("Validation Failed") => {
            ConnectorError::BadRequest(format!("Dataverse rejected {what}{said}"))
        }
        403 => ConnectorError::Forbidden(format!("Dataverse refused {what}{said}")),
        401 if message == "Bad API key" || message.starts_with("Only authenticated users") => {
            ConnectorError::Unauthorized(format!(
                "Dataverse did not accept the API token for {what}"
            ))
        }
        401 if message.contains("not permitted") => {
            ConnectorError::Forbidden(format!("Dataverse refused {what}{said}"))
        }
        401 => ConnectorError::Unauthorized(format!(
            "Dataverse did not accept the API token for {what}"
        )),
        404 => ConnectorError::NotFound(format!(
            "Dataverse answered 404 for {what}: a wrong id, a deleted draft, or a dataset already published{said}"
        )),
        s if said.is_empty() => ConnectorError::from_upstream(s, wait, what),
        s => ConnectorError::from_upstream(s, wait, what)
            .map_detail(|d| format!("{d}; Dataverse{said}")),
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
        Credentials::new(
            Some("alice".into()),
            SecretString::from("5c4e8a1f-0d2b-4b9e-9f61-3a7d2c9e8b10"),
        )
    }

    fn status(s: u16, msg: &str) -> u16 {
        let body = serde_json::json!({"status": "ERROR", "message": msg}).to_string();
        from_parts(s, None, body.as_bytes(), "dataset 1", &creds())
            .status()
            .as_u16()
    }

    #[test]
    fn dataverses_answers_map() {
        assert_eq!(
            status(
                403,
                "Validation Failed: Title is required. (Invalid value:x)."
            ),
            400
        );
        for locked in [
            (403, "Dataset cannot be edited due to dataset lock."),
            (403, "This dataset is locked. Reason: Ingest. Please try publishing later."),
            (400, "Delete failed for file ID 7 (CommandException): Dataset cannot be edited due to dataset lock."),
        ] {
            assert_eq!(status(locked.0, locked.1), 503, "{locked:?}");
        }
        assert_eq!(
            status(403, "Dataset must have a valid license or Custom Terms Of Use configured before it can be published."),
            403
        );
        assert_eq!(status(401, "Bad API key"), 401);
        assert_eq!(
            status(
                401,
                "User @alice is not permitted to perform requested action."
            ),
            403
        );
        assert_eq!(status(404, "Dataset with ID 9 not found."), 404);
        assert_eq!(status(400, "There was an error when trying to add the new file. CreateNewDataFilesCommand failed: Rate limited due to too many requests."), 429);
        assert_eq!(
            status(
                429,
                "UpdateDatasetVersionCommand failed: Rate limited due to too many requests."
            ),
            429
        );
        assert_eq!(status(400, "There was an error when trying to add the new file. This file size (2.0 MB) exceeds the size limit of 1.0 MB."), 413);
        assert_eq!(
            status(
                400,
                "Error parsing Json: Value 'X' does not exist in type 'subject'"
            ),
            400
        );
        assert_eq!(status(500, "Internal"), 502);
        assert_eq!(status(503, "down"), 503);
        let text = from_parts(
            403,
            None,
            br#"{"status":"ERROR","message":"Validation Failed: Title is required."}"#,
            "the new dataset",
            &creds(),
        )
        .to_string();
        assert!(text.contains("Title is required"), "{text}");
    }

    #[test]
    fn echoed_credentials_are_withheld() {
        let body = br#"{"status":"ERROR","message":"User with token 5c4e8a1f-0d2b-4b9e-9f61-3a7d2c9e8b10 not found."}"#;
        let text = from_parts(400, None, body, "x", &creds()).to_string();
        assert!(
            !text.contains("5c4e8a1f") && text.contains("withheld"),
            "{text}"
        );
    }
}
