//! Digests of a stream, computed as its bytes pass: a transfer is done when the
//! provider's checksum equals ours ([`Digests::verify`]).

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

use crate::error::ConnectorError;
use crate::interface::ByteStream;

/// A download that arrived with other bytes than the provider's checksum says: the
/// inner error of the `io::Error` that ends such a body, so the core counts it as a
/// checksum mismatch (an upload's is [`ConnectorError::ChecksumMismatch`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChecksumMismatch(pub String);

impl ChecksumMismatch {
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }
}

/// A digest algorithm a provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha1,
    Md5,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha1 => "sha1",
            Algorithm::Md5 => "md5",
            Algorithm::Sha512 => "sha512",
        }
    }
}

/// The digests (lower-case hex) of a whole stream, and its length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digests {
    pub bytes: u64,
    pub sha256: Option<String>,
    pub sha1: Option<String>,
    pub md5: Option<String>,
    pub sha512: Option<String>,
}

impl Digests {
    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        match algorithm {
            Algorithm::Sha256 => self.sha256.as_deref(),
            Algorithm::Sha1 => self.sha1.as_deref(),
            Algorithm::Md5 => self.md5.as_deref(),
            Algorithm::Sha512 => self.sha512.as_deref(),
        }
    }

    /// Compares the provider's hex digest of `what` with ours: a mismatch (or a digest we
    /// did not compute) is a failed transfer, 502 naming the file.
    pub fn verify(
        &self,
        algorithm: Algorithm,
        reported: &str,
        what: &str,
    ) -> Result<(), ConnectorError> {
        let name = algorithm.name();
        let ours = self.get(algorithm).ok_or_else(|| {
            ConnectorError::Internal(format!("the {name} digest of {what} was not computed"))
        })?;
        if ours.eq_ignore_ascii_case(reported.trim()) {
            return Ok(());
        }
        Err(ConnectorError::ChecksumMismatch(format!(
            "the provider's copy of {what} differs from what was sent: {name} {} there, \
             {ours} for the {} bytes sent",
            reported.trim().to_ascii_lowercase(),
            self.bytes
        )))
    }
}

/// Where a stream's digests appear once it has ended, or been dropped, without error.
/// (hyper drops a sized body after its last byte without asking for its end, so a
/// dropped stream counts; [`Digests::bytes`] says how much of it passed.)
#[derive(Debug, Clone, Default)]
pub struct DigestHandle(Arc<OnceLock<Digests>>);

impl DigestHandle {
    /// `None` while the stream runs, and for good if it failed.
    pub fn get(&self) -> Option<Digests> {
        self.0.get().cloned()
    }
}

/// The running digests of a stream (for callers that read it themselves).
pub(crate) struct Hasher {
    bytes: u64,
    sha256: Option<Sha256>,
    sha1: Option<Sha1>,
    md5: Option<Md5>,
    sha512: Option<Sha512>,
}

impl Hasher {
    pub(crate) fn new(algorithms: &[Algorithm]) -> Self {
        let has = |a| algorithms.contains(&a);
        Self {
            bytes: 0,
            sha256: has(Algorithm::Sha256).then(Sha256::new),
            sha1: has(Algorithm::Sha1).then(Sha1::new),
            md5: has(Algorithm::Md5).then(Md5::new),
            sha512: has(Algorithm::Sha512).then(Sha512::new),
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(data);
        }
    }

    pub(crate) fn finish(self) -> Digests {
        Digests {
            bytes: self.bytes,
            sha256: self.sha256.map(|h| hex::encode(h.finalize())),
            sha1: self.sha1.map(|h| hex::encode(h.finalize())),
            md5: self.md5.map(|h| hex::encode(h.finalize())),
            sha512: self.sha512.map(|h| hex::encode(h.finalize())),
        }
    }
}

/// A stream that hashes what passes through it.
struct Hashing {
    inner: ByteStream,
    hasher: Option<Hasher>,
    out: DigestHandle,
}

impl Stream for Hashing {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(this.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(chunk)) => {
                if let Some(h) = &mut this.hasher {
                    h.update(chunk);
                }
            }
            // A broken stream has no digest.
            Some(Err(_)) => this.hasher = None,
            None => {
                if let Some(h) = this.hasher.take() {
                    let _ = this.out.0.set(h.finish());
                }
            }
        }
        Poll::Ready(item)
    }
}

impl Drop for Hashing {
    fn drop(&mut self) {
        if let Some(h) = self.hasher.take() {
            let _ = self.out.0.set(h.finish());
        }
    }
}

/// Wraps `body` so that its digests appear in the handle once it has ended (or been
/// dropped) without error.
pub fn hashing(body: ByteStream, algorithms: &[Algorithm]) -> (ByteStream, DigestHandle) {
    let out = DigestHandle::default();
    let stream = Hashing {
        inner: body,
        hasher: Some(Hasher::new(algorithms)),
        out: out.clone(),
    };
    (Box::pin(stream), out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures_util::StreamExt as _;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let items: Vec<std::io::Result<Bytes>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        Box::pin(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn digests_appear_when_the_stream_ends() {
        let (mut s, handle) = hashing(
            chunks(&[b"hello ", b"world"]),
            &[
                Algorithm::Sha256,
                Algorithm::Md5,
                Algorithm::Sha1,
                Algorithm::Sha512,
            ],
        );
        assert!(s.next().await.is_some());
        assert_eq!(handle.get(), None, "not before the end");
        let (mut dropped, early) = hashing(chunks(&[b"ab", b"c"]), &[Algorithm::Md5]);
        assert!(dropped.next().await.is_some());
        drop(dropped);
        assert_eq!(
            early.get().map(|d| d.bytes),
            Some(2),
            "dropped: what passed"
        );
        while s.next().await.is_some() {}
        let d = handle.get().unwrap();
        assert_eq!(d.bytes, 11);
        assert_eq!(d.md5.as_deref(), Some("5eb63bbbe01eeed093cb22bb8f5acdc3"));
        assert_eq!(
            d.sha1.as_deref(),
            Some("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(
            d.sha256.as_deref(),
            Some("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            d.sha512.as_deref(),
            Some("309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f")
        );
        assert!(d
            .verify(Algorithm::Md5, "5EB63BBBE01EEED093CB22BB8F5ACDC3", "f")
            .is_ok());
        let bad = d
            .verify(Algorithm::Md5, "00", "file \"a.txt\"")
            .unwrap_err();
        assert_eq!(bad.status().as_u16(), 502);
        assert!(bad.to_string().contains("file \"a.txt\""), "{bad}");
    }

    #[tokio::test]
    async fn a_broken_stream_has_no_digest() {
        let items: Vec<std::io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"a")),
            Err(std::io::Error::other("cut")),
        ];
        let (mut s, handle) = hashing(
            Box::pin(futures_util::stream::iter(items)),
            &[Algorithm::Sha256],
        );
        while s.next().await.is_some() {}
        assert_eq!(handle.get(), None);
    }
}
