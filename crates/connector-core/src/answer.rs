//! Small-call answers (JSON, listings, error bodies) read with a byte cap.
//!
//! A provider decides how long its answer is; read whole without a cap, one 300 MB href
//! or a 100 MB JSON array costs the process gigabytes. Past the cap (`MAX_UPSTREAM_ANSWER_BYTES`)
//! the call fails with a 502 naming the limit; the rest of the answer is never read.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::Response;
use serde::de::DeserializeOwned;

use crate::error::ConnectorError;

/// The default of `MAX_UPSTREAM_ANSWER_BYTES`: far above any real answer of the small calls
/// (a Zenodo page of 100 depositions is ~300 KB), far below what would hurt.
pub const DEFAULT_MAX_UPSTREAM_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// The 502 for an answer longer than `max` bytes.
pub fn too_large(what: &str, max: usize) -> ConnectorError {
    ConnectorError::BadGateway(format!(
        "the provider's answer for {what} is larger than {max} bytes, the limit \
         MAX_UPSTREAM_ANSWER_BYTES; refused"
    ))
}

/// Reads the body of `resp`, at most `max` bytes; `what` names the call for the error.
pub async fn read_capped(resp: Response, max: usize, what: &str) -> Result<Bytes, ConnectorError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large(what, max));
    }
    let mut buf = BytesMut::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if buf.len() + chunk.len() > max {
            return Err(too_large(what, max));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Reads a JSON answer of at most `max` bytes.
pub async fn json_capped<T: DeserializeOwned>(
    resp: Response,
    max: usize,
    what: &str,
) -> Result<T, ConnectorError> {
    let body = read_capped(resp, max, what).await?;
    serde_json::from_slice(&body).map_err(|_| {
        ConnectorError::BadGateway(format!("the provider's answer for {what} was not JSON"))
    })
}

/// The most of an error answer's body read: enough for any provider's error document,
/// bounded for a proxy's HTML page or garbage.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A provider's non-success answer, read for the error mapping: its status, its headers
/// (`Retry-After`, rate-limit headers) and at most [`MAX_ERROR_BODY_BYTES`] of its body.
/// Reading never fails: a body that breaks off is kept as far as it came.
#[derive(Debug)]
pub struct ErrorAnswer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ErrorAnswer {
    pub async fn read(resp: Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut body = BytesMut::new();
        let mut stream = resp.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            let room = MAX_ERROR_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_ERROR_BODY_BYTES {
                break;
            }
        }
        Self {
            status,
            headers,
            body: body.freeze(),
        }
    }

    /// The wait the provider asked for in `Retry-After` ([`crate::http::retry_after`]).
    pub fn retry_after(&self) -> Option<Duration> {
        crate::http::retry_after(&self.headers)
    }

    /// [`ConnectorError::from_upstream`] of this answer: the core's status mapping with
    /// the provider's wait; the provider adds its own words with
    /// [`ConnectorError::map_detail`].
    pub fn error(&self, what: &str) -> ConnectorError {
        ConnectorError::from_upstream(self.status, self.retry_after(), what)
    }

    /// The body as text (lossy), for providers whose error documents are XML or HTML.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
