//! TEMPORARY stand-in for `connector_core::transfer` (the lead's core module, not yet on
//! `main`), with the same names and shapes, so switching is an edit of the `use` lines.
//! Removed when `main` brings the real one.

use std::sync::{Arc, Mutex};

use connector_core::http::Upstream;
use connector_core::interface::ByteStream;
use connector_core::ConnectorError;
use futures_util::StreamExt;
use md5::Digest as _;
use reqwest::{Body, RequestBuilder, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha1,
    Md5,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub bytes: u64,
    pub sha256: Option<String>,
    pub sha1: Option<String>,
    pub md5: Option<String>,
}

#[derive(Clone, Default)]
pub struct DigestHandle(Arc<Mutex<Option<Digests>>>);

impl DigestHandle {
    pub fn get(&self) -> Option<Digests> {
        self.0.lock().ok().and_then(|d| d.clone())
    }
}

struct Hashers {
    bytes: u64,
    sha256: Option<sha2::Sha256>,
    sha1: Option<sha1::Sha1>,
    md5: Option<md5::Md5>,
}

pub fn hashing(body: ByteStream, algos: &[Algorithm]) -> (ByteStream, DigestHandle) {
    let handle = DigestHandle::default();
    let out = handle.clone();
    let mut h = Some(Hashers {
        bytes: 0,
        sha256: algos.contains(&Algorithm::Sha256).then(sha2::Sha256::new),
        sha1: algos.contains(&Algorithm::Sha1).then(sha1::Sha1::new),
        md5: algos.contains(&Algorithm::Md5).then(md5::Md5::new),
    });
    let mut body = body;
    let stream = futures_util::stream::poll_fn(move |cx| {
        let item = futures_util::ready!(body.poll_next_unpin(cx));
        match &item {
            Some(Ok(b)) => {
                if let Some(h) = h.as_mut() {
                    h.bytes += b.len() as u64;
                    if let Some(x) = h.sha256.as_mut() {
                        x.update(b);
                    }
                    if let Some(x) = h.sha1.as_mut() {
                        x.update(b);
                    }
                    if let Some(x) = h.md5.as_mut() {
                        x.update(b);
                    }
                }
            }
            Some(Err(_)) => h = None,
            None => {
                if let Some(h) = h.take() {
                    if let Ok(mut d) = out.0.lock() {
                        *d = Some(Digests {
                            bytes: h.bytes,
                            sha256: h.sha256.map(|x| hex::encode(x.finalize())),
                            sha1: h.sha1.map(|x| hex::encode(x.finalize())),
                            md5: h.md5.map(|x| hex::encode(x.finalize())),
                        });
                    }
                }
            }
        }
        std::task::Poll::Ready(item)
    });
    (Box::pin(stream), handle)
}

/// `Upstream::send_transfer(req, body, len)` as the lead's core will offer it.
pub async fn send_transfer(
    http: &Upstream,
    req: RequestBuilder,
    body: ByteStream,
    _len: Option<u64>,
) -> Result<Response, ConnectorError> {
    Ok(http
        .send_transfer(req.body(Body::wrap_stream(body)))
        .await?)
}
