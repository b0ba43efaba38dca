//! WebDAV answers that are not successes, mapped to the contract's errors.
//!
//! The core's mapping decides the error (401/403/404/423/507 kept, 5xx → 502, 503 → 503
//! with the server's `Retry-After`); Sabre's `<s:message>` is appended as detail only
//! when it is short, single-line text that holds no part of the credentials ([`Credentials::appear_in`]: servers should never echo
//! them, but a proxy or plugin may, upper-cased or in part). A message that does is
//! withheld, and the detail names the server's status instead.

use connector_core::answer::ErrorAnswer;
use connector_core::{ConnectorError, Credentials};
use reqwest::Response;

use super::multistatus;

const MAX_DETAIL_CHARS: usize = 200;

/// Turns a non-success WebDAV answer into our error; `what` names the target, e.g.
/// `file "/a/b.txt"`. Nothing of `creds` ever reaches the detail.
pub async fn from_response(resp: Response, what: &str, creds: &Credentials) -> ConnectorError {
    let answer = ErrorAnswer::read(resp).await;
    let err = answer.error(what);
    match multistatus::sabre_message(&answer.text()) {
        Some(m) if safe_detail(&m, creds) => with_detail(err, &m),
        Some(_) => with_detail(
            err,
            &format!(
                "HTTP {}; its message is withheld: it was not safe to repeat",
                answer.status
            ),
        ),
        None => err,
    }
}

fn safe_detail(msg: &str, creds: &Credentials) -> bool {
    let lower = msg.to_ascii_lowercase();
    msg.chars().count() <= MAX_DETAIL_CHARS
        && !msg.contains(['\n', '\r'])
        && !lower.contains("bearer ")
        && !lower.contains("basic ")
        && !lower.contains("authorization")
        && !creds.appear_in(msg)
}

/// Appends the provider's message to our own wording.
fn with_detail(err: ConnectorError, detail: &str) -> ConnectorError {
    err.map_detail(|s| format!("{s} (WebDAV server: {detail})"))
}

/// A 207 body that could not be understood.
pub fn bad_multistatus(err: multistatus::ParseError, what: &str) -> ConnectorError {
    use multistatus::ParseError::*;
    match &err {
        // Too large for our limits: the detail names the limit.
        TooLarge(_) | TooManyEntries(_) => {
            ConnectorError::BadGateway(format!("the folder listing for {what} is refused: {err}"))
        }
        Read(io) => match io
            .get_ref()
            .and_then(|e| e.downcast_ref::<reqwest::Error>())
        {
            Some(e) if e.is_timeout() => ConnectorError::GatewayTimeout(format!(
                "the WebDAV server did not finish the listing for {what} in time"
            )),
            // Not the transport's words: reqwest's carry the URL.
            _ => ConnectorError::BadGateway(format!(
                "the folder listing for {what} broke off before its end"
            )),
        },
        Xml(_) | NotMultistatus => {
            ConnectorError::BadGateway(format!("unreadable folder listing for {what}: {err}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn detail_filter() {
        let creds = Credentials::new(Some("alice".into()), SecretString::from("s3cr3t-token"));
        assert!(safe_detail("File not found", &creds));
        assert!(!safe_detail("token s3cr3t-token refused", &creds));
        assert!(!safe_detail("token S3CR3T-TOKEN refused", &creds));
        assert!(!safe_detail("token s3cr3… refused", &creds));
        assert!(!safe_detail("Authorization: Bearer xyz", &creds));
        assert!(!safe_detail(&"x".repeat(500), &creds));
        assert!(!safe_detail("two\nlines", &creds));
    }

    #[test]
    fn detail_is_appended_keeping_the_status() {
        let e = with_detail(
            ConnectorError::from_upstream_status(423, "file \"/a\""),
            "locked by x",
        );
        assert_eq!(e.status().as_u16(), 423);
        assert!(e.to_string().contains("locked by x"));
        assert_eq!(
            ConnectorError::from_upstream_status(500, "x")
                .status()
                .as_u16(),
            502
        );
    }
}
