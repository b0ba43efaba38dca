//! Small-call answers (JSON, listings, error bodies) read with a byte cap.
//!
//! A provider decides how long its answer is; read whole without a cap, one 300 MB href
//! or a 100 MB JSON array costs the process gigabytes. Past the cap (`MAX_UPSTREAM_ANSWER_BYTES`)
//! the call fails with a 502 naming the limit; the rest of the answer is never read.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
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
