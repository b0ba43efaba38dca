//! Streaming multipart uploads.
//!
//! The text fields before the file part are read (small, bounded); the file part is
//! handed to the provider as a [`ByteStream`] fed through a bounded channel, so the
//! provider sends bytes upstream while they arrive and memory stays flat whatever the
//! size. (actix's multipart types are not `Send`; the channel is also the bridge to the
//! `Send` stream reqwest needs.)
//!
//! The file part's length is known when the caller declares it (a `size` field, the
//! part's `Content-Length`) or, failing that, derived from the request's
//! `Content-Length` ([`part_length`]); either way the pump holds the caller to it.
//!
//! The pump also hashes the file (SHA-256, returned to the caller) and cuts a caller who
//! sends no byte for the idle timeout (408), so a stalled client holds nothing for long.

mod part_length;

use std::collections::HashMap;
use std::future::Future;

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{web, HttpRequest};
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::params::BodyDeadline;
use super::AppState;
use crate::error::ConnectorError;
use crate::interface::Upload;
use crate::transfer::digest::Hasher;
use crate::transfer::meter::{Direction, Outcome};
use crate::transfer::{Algorithm, Digests};
use part_length::Prefix;

/// Names of the file part: the RDS exporter sends `file`; the interface document says `files`.
const FILE_PARTS: &[&str] = &["file", "files"];
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELDS: usize = 64;
/// Chunks in flight between the caller and the provider.
const CHANNEL_CHUNKS: usize = 16;

/// A multipart request whose text fields have been read and whose file part is next.
pub(crate) struct MultipartUpload {
    pub fields: HashMap<String, String>,
    file: Field,
    /// The file part's length derived from the request's `Content-Length`.
    derived_length: Option<u64>,
    /// Kept alive while the file part is read: the part reads through it.
    _multipart: Multipart,
}

impl MultipartUpload {
    pub(crate) async fn read(
        req: &HttpRequest,
        payload: web::Payload,
    ) -> Result<Self, ConnectorError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
        {
            return Err(ConnectorError::UnsupportedMediaType(
                "send the upload as multipart/form-data with the fields first and the file part `file` last".into(),
            ));
        }
        let prefix = Prefix::default();
        let mut multipart = Multipart::new(req.headers(), prefix.record(payload));
        let mut fields = HashMap::new();
        // The text fields are small: they get the body deadline; the file part does not.
        let deadline = BodyDeadline::start(super::state(req)?.request_body_timeout);
        while let Some(field) = deadline.wait(multipart.next()).await? {
            let mut field = field.map_err(|e| {
                ConnectorError::BadRequest(format!("malformed multipart body: {e}"))
            })?;
            let name = field.name().unwrap_or_default().to_owned();
            let has_filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .is_some();
            if FILE_PARTS.contains(&name.as_str()) || has_filename {
                let derived_length = boundary(content_type)
                    .zip(request_length(req))
                    .and_then(|(b, len)| prefix.file_length(&b, fields.len() + 1, len));
                return Ok(Self {
                    fields,
                    file: field,
                    derived_length,
                    _multipart: multipart,
                });
            }
            if fields.len() >= MAX_FIELDS {
                return Err(ConnectorError::BadRequest("too many form fields".into()));
            }
            let mut value = Vec::new();
            while let Some(chunk) = deadline.wait(field.next()).await? {
                let chunk = chunk.map_err(|e| {
                    ConnectorError::BadRequest(format!("malformed multipart body: {e}"))
                })?;
                if value.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(ConnectorError::PayloadTooLarge(format!(
                        "the form field {name} is larger than {MAX_FIELD_BYTES} bytes"
                    )));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                ConnectorError::BadRequest(format!("the form field {name} is not valid UTF-8"))
            })?;
            if fields.insert(name.clone(), value).is_some() {
                return Err(ConnectorError::BadRequest(format!(
                    "the form field {name} is given more than once"
                )));
            }
        }
        Err(ConnectorError::BadRequest(
            "the multipart body has no file part; send the file as the part named `file`".into(),
        ))
    }

    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Hands the file part to `sink` as an [`Upload`] and pumps the caller's bytes into it.
    /// The provider's result decides the answer; a caller that breaks off midway (or
    /// stalls for `idle`) makes the stream end in an error, which the provider sees (and
    /// cleans up after). On success, the digests of the bytes received come back too
    /// (`None` if the provider stopped reading before the end).
    ///
    /// The transfer is metered from here: bytes as they pass, and how it ended.
    pub(crate) async fn stream_into<T, F, Fut>(
        self,
        state: &AppState,
        sink: F,
    ) -> Result<(T, Option<Digests>), ConnectorError>
    where
        F: FnOnce(Upload) -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let part_name = self
            .file
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let part_length = self
            .file
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let declared = match self.fields.get("size") {
            Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
                ConnectorError::BadRequest("size must be a whole number of bytes".into())
            })?),
            None => part_length,
        };
        let size = declared.or(self.derived_length);
        let idle = state.idle_timeout;
        let meter = state.meter(Direction::Upload, size);
        let meter = &meter;
        // What to tell a caller whose file part is not `size` bytes long.
        let mismatch = move |what: String| {
            match declared {
            Some(_) => what,
            None => format!(
                "{what} (derived from the request's Content-Length: the file part must be the last part, \
                 followed only by the closing boundary; or send the optional `size` field)"
            ),
        }
        };
        let content_type = self.file.content_type().map(|m| m.essence_str().to_owned());
        let filename = self.fields.get("filename").cloned().or(part_name);

        let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_CHUNKS);
        let upload = Upload {
            filename,
            size,
            content_type,
            body: Box::pin(ReceiverStream::new(rx)),
        };
        let mut file = self.file;
        let _multipart = self._multipart;
        // Returns the caller's fault, if any: then the answer is a 400 (a 408 for a
        // stall) whatever the provider made of the broken stream (it sees an error item
        // and must not keep the file); else the digests of what was received.
        let pump = async move {
            let mut hasher = Hasher::new(&[Algorithm::Sha256]);
            loop {
                let next = tokio::select! {
                    // The provider stopped reading: it has answered already.
                    _ = tx.closed() => {
                        let whole = size == Some(hasher.bytes());
                        return Ok(whole.then(|| hasher.finish()));
                    }
                    next = tokio::time::timeout(idle, file.next()) => next,
                };
                let (item, fault) = match next {
                    Err(_) => {
                        let msg = format!(
                            "the upload stalled: no byte arrived for {} s",
                            idle.as_secs().max(1)
                        );
                        let err = std::io::Error::new(std::io::ErrorKind::TimedOut, msg.clone());
                        (Err(err), Some(Fault::Stalled(msg)))
                    }
                    Ok(None) => break,
                    Ok(Some(Err(e))) => {
                        let msg = format!("the upload broke off: {e}");
                        (
                            Err(std::io::Error::other(msg.clone())),
                            Some(Fault::BrokeOff(msg)),
                        )
                    }
                    Ok(Some(Ok(c))) => {
                        hasher.update(&c);
                        meter.add(c.len());
                        match size.filter(|&d| hasher.bytes() > d) {
                            Some(d) => {
                                let msg = mismatch(format!(
                                    "the upload is longer than its declared size of {d} bytes"
                                ));
                                (
                                    Err(std::io::Error::other(msg.clone())),
                                    Some(Fault::TooLong(msg)),
                                )
                            }
                            None => (Ok(c), None),
                        }
                    }
                };
                let sent = tx.send(item).await;
                if let Some(f) = fault {
                    return Err(f);
                }
                if sent.is_err() {
                    return Ok(None);
                }
            }
            let seen = hasher.bytes();
            if let Some(d) = size.filter(|&d| seen < d) {
                let msg = mismatch(format!(
                    "the upload ended after {seen} of its declared {d} bytes"
                ));
                let _ = tx.send(Err(std::io::Error::other(msg.clone()))).await;
                return Err(Fault::BrokeOff(msg));
            }
            Ok(Some(hasher.finish()))
        };
        // The provider's answer ends the request: its HTTP client may still own the
        // stream's receiving end (hyper keeps a request body until its socket gives up),
        // so the pump is not waited for past what it has to say.
        let pump = pump.fuse();
        let sink = sink(upload).fuse();
        futures_util::pin_mut!(pump, sink);
        let mut received = None;
        let result = loop {
            futures_util::select_biased! {
                r = pump => received = Some(r),
                result = sink => break result,
            }
        };
        let received = match (received, &result) {
            (Some(r), _) => r,
            // A provider that succeeded took every byte: the pump ends at once.
            (None, Ok(_)) => tokio::time::timeout(idle, pump).await.unwrap_or(Ok(None)),
            // A provider that failed: only a fault the pump has already found counts.
            (None, Err(_)) => futures_util::FutureExt::now_or_never(pump).unwrap_or(Ok(None)),
        };
        let (outcome, answer) = match received {
            Err(Fault::BrokeOff(msg)) => (
                Outcome::ClientBrokeOff,
                Err(ConnectorError::BadRequest(msg)),
            ),
            Err(Fault::TooLong(msg)) => (Outcome::Refused, Err(ConnectorError::BadRequest(msg))),
            Err(Fault::Stalled(msg)) => {
                (Outcome::Stalled, Err(ConnectorError::RequestTimeout(msg)))
            }
            Ok(digests) => match result {
                Ok(v) => (Outcome::Completed, Ok((v, digests))),
                Err(e) => (Outcome::of_error(&e), Err(e)),
            },
        };
        match &answer {
            Ok(_) => meter.end(outcome, ""),
            Err(e) => meter.end(outcome, &e.to_string()),
        }
        answer
    }
}

/// What the caller did wrong while sending the file part.
enum Fault {
    /// Broke off, or ended before its declared size (400).
    BrokeOff(String),
    /// Sent more than its declared size (400).
    TooLong(String),
    /// Sent nothing for the idle timeout (408).
    Stalled(String),
}

/// The `boundary` parameter of a multipart `Content-Type`.
fn boundary(content_type: &str) -> Option<String> {
    let mime: actix_web::mime::Mime = content_type.parse().ok()?;
    Some(
        mime.get_param(actix_web::mime::BOUNDARY)?
            .as_str()
            .to_owned(),
    )
}

/// The request body's length, when the caller declared it (not chunked).
fn request_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
