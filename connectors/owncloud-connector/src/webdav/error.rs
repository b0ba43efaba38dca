//! WebDAV answers that are not successes, mapped to the contract's errors.
//!
//! The status decides the error (401/403/404/423/507 kept, 5xx → 502, 503 → 503); Sabre's
//! `<s:message>` is appended as detail only when it is short, single-line text that holds
//! nothing of the credentials (servers should never echo them; we check anyway).

use connector_core::ConnectorError;
use futures_util::StreamExt;
use reqwest::Response;
use secrecy::ExposeSecret;

use super::multistatus;

/// The most of an error body we read: enough for any Sabre error, bounded for garbage.
const MAX_ERROR_BODY: usize = 16 * 1024;
const MAX_DETAIL_CHARS: usize = 200;

/// Turns a non-success WebDAV answer into our error; `what` names the target, e.g.
/// `file "/a/b.txt"`. `secrets` are strings that must never appear in the detail.
pub async fn from_response(
    resp: Response,
    what: &str,
    secrets: &[&secrecy::SecretString],
) -> ConnectorError {
    let status = resp.status().as_u16();
    let body = read_bounded(resp).await;
    let detail = multistatus::sabre_message(&body).filter(|m| safe_detail(m, secrets));
    let err = ConnectorError::from_upstream_status(status, what);
    match detail {
        Some(d) => with_detail(err, &d),
        None => err,
    }
}

async fn read_bounded(resp: Response) -> String {
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_ERROR_BODY.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn safe_detail(msg: &str, secrets: &[&secrecy::SecretString]) -> bool {
    let lower = msg.to_ascii_lowercase();
    msg.chars().count() <= MAX_DETAIL_CHARS
        && !msg.contains(['\n', '\r'])
        && !lower.contains("bearer ")
        && !lower.contains("basic ")
        && !lower.contains("authorization")
        && secrets
            .iter()
            .map(|s| s.expose_secret())
            .all(|s| s.is_empty() || !msg.contains(s))
}

/// Appends the provider's message to our own wording.
fn with_detail(err: ConnectorError, detail: &str) -> ConnectorError {
    use ConnectorError::*;
    let add = |s: String| format!("{s} (WebDAV server: {detail})");
    match err {
        BadRequest(s) => BadRequest(add(s)),
        Unauthorized(s) => Unauthorized(add(s)),
        Forbidden(s) => Forbidden(add(s)),
        NotFound(s) => NotFound(add(s)),
        MethodNotAllowed(s) => MethodNotAllowed(add(s)),
        Conflict(s) => Conflict(add(s)),
        PayloadTooLarge(s) => PayloadTooLarge(add(s)),
        UnsupportedMediaType(s) => UnsupportedMediaType(add(s)),
        RangeNotSatisfiable(s) => RangeNotSatisfiable(add(s)),
        Locked(s) => Locked(add(s)),
        TooManyRequests(s) => TooManyRequests(add(s)),
        InsufficientStorage(s) => InsufficientStorage(add(s)),
        BadGateway(s) => BadGateway(add(s)),
        ServiceUnavailable(s) => ServiceUnavailable(add(s)),
        GatewayTimeout(s) => GatewayTimeout(add(s)),
        other => other,
    }
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
        let tok = SecretString::from("s3cr3t-token");
        assert!(safe_detail("File not found", &[&tok]));
        assert!(!safe_detail("token s3cr3t-token refused", &[&tok]));
        assert!(!safe_detail("Authorization: Bearer xyz", &[&tok]));
        assert!(!safe_detail(&"x".repeat(500), &[&tok]));
        assert!(!safe_detail("two\nlines", &[&tok]));
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
