//! Getting an upload ready for a provider that needs its length before the first byte
//! (a `Content-Length`, no chunked body: Zenodo's and InvenioRDM's buckets) and has no
//! folders.
//!
//! With a known size (declared, or derived from the request by the core) the caller's
//! stream goes straight through, and is sent once; a small file is read into memory
//! first, so that a rate limit or a 5xx on its PUT can be retried. With an unknown size
//! the file is spooled to a temporary file on disk first (memory stays flat whatever the
//! size), then sent from there with its length, and retried like a small one. The file
//! is removed when the [`Prepared`] is dropped.
//!
//! RDS sends file names with their folders (`/folder/sub/x.csv`); [`flat_name`] joins
//! the segments with `_` for a provider without folders.

use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt as _;

use crate::error::ConnectorError;
use crate::interface::{ByteStream, Upload};
use crate::retry::Idempotency;

/// Known sizes up to this are read into memory (retryable) rather than streamed: at
/// 64 concurrent uploads at most 64 MiB.
pub const IN_MEMORY_MAX: u64 = 1024 * 1024;
/// Space the spool directory must have left before an upload of unknown size begins.
const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;
/// How often (in bytes written) free space is checked again while spooling.
const SPACE_CHECK_EVERY: u64 = 256 * 1024 * 1024;

/// What the provider takes, and where to spool.
#[derive(Debug, Clone, Copy)]
pub struct Spool<'a> {
    /// The provider's name, for the 413 and the spool file's name.
    pub provider: &'a str,
    /// The provider's limit per file: larger uploads are a 413.
    pub max_file_bytes: u64,
    /// Where uploads of unknown size are spooled; `None`: the system temp dir (`TMPDIR`).
    pub dir: Option<&'a Path>,
}

/// What an upload sends.
pub enum UploadBody {
    /// The caller's stream, of a declared length (taken by the first attempt).
    Stream { body: Option<ByteStream>, len: u64 },
    /// A small file read into memory.
    Memory(bytes::Bytes),
    /// `len` bytes from `offset` of a spooled file on disk (removed by its owner
    /// afterwards): a whole upload, or one part of it ([`super::parts`]).
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    /// Another body between fixed bytes ([`super::form`]: a multipart/form-data frame).
    Framed {
        prefix: bytes::Bytes,
        inner: Box<UploadBody>,
        suffix: bytes::Bytes,
    },
}

impl UploadBody {
    pub fn length(&self) -> u64 {
        match self {
            UploadBody::Stream { len, .. } | UploadBody::File { len, .. } => *len,
            UploadBody::Memory(bytes) => bytes.len() as u64,
            UploadBody::Framed {
                prefix,
                inner,
                suffix,
            } => prefix.len() as u64 + inner.length() + suffix.len() as u64,
        }
    }

    /// A stream is sent once; memory and a spooled file can be sent again (for a PUT to
    /// the same key, which overwrites).
    pub fn idempotency(&self) -> Idempotency {
        match self {
            UploadBody::Stream { .. } => Idempotency::Single,
            UploadBody::Memory(_) | UploadBody::File { .. } => Idempotency::Idempotent,
            UploadBody::Framed { inner, .. } => inner.idempotency(),
        }
    }

    /// The body of one attempt.
    pub fn attempt(&mut self) -> Result<ByteStream, ConnectorError> {
        match self {
            UploadBody::Stream { body, .. } => body.take().ok_or_else(|| {
                ConnectorError::Internal("a streamed upload cannot be sent twice".into())
            }),
            UploadBody::Memory(bytes) => {
                Ok(Box::pin(futures_util::stream::iter([Ok(bytes.clone())])))
            }
            UploadBody::File { path, offset, len } => {
                use std::io::Seek as _;
                let mut file = std::fs::File::open(&*path).map_err(|_| {
                    ConnectorError::Internal("cannot reopen the spooled upload".into())
                })?;
                file.seek(std::io::SeekFrom::Start(*offset)).map_err(|_| {
                    ConnectorError::Internal("cannot seek in the spooled upload".into())
                })?;
                let range = tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(file), *len);
                Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
                    range,
                    256 * 1024,
                )))
            }
            UploadBody::Framed {
                prefix,
                inner,
                suffix,
            } => {
                let inner = inner.attempt()?;
                let head = futures_util::stream::iter([Ok(prefix.clone())]);
                let tail = futures_util::stream::iter([Ok(suffix.clone())]);
                Ok(Box::pin(head.chain(inner).chain(tail)))
            }
        }
    }
}

/// A body with its length, and the spool file to remove afterwards (if any).
pub struct Prepared {
    pub body: UploadBody,
    /// Held until the upload is over; removes the file on drop.
    pub spool: Option<TempPath>,
}

/// The file name for a provider without folders: separators (`/`, `\`) become `_`,
/// empty, `.` and `..` segments are dropped, control characters removed. `a/b.txt` →
/// `a_b.txt`, `/folder/sub/x.csv` → `folder_sub_x.csv`; `None` when nothing is left.
pub fn flat_name(raw: &str) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let segs: Vec<&str> = cleaned
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    (!segs.is_empty()).then(|| segs.join("_"))
}

/// Free bytes for unprivileged users on the file system of `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

fn no_space() -> ConnectorError {
    ConnectorError::InsufficientStorage(
        "the connector ran out of temporary disk space while receiving the upload".into(),
    )
}

fn too_large(spool: &Spool<'_>) -> ConnectorError {
    ConnectorError::PayloadTooLarge(format!(
        "{} accepts files of at most {} bytes",
        spool.provider, spool.max_file_bytes
    ))
}

pub(super) fn broke_off(e: std::io::Error) -> ConnectorError {
    ConnectorError::BadRequest(format!("the upload broke off: {e}"))
}

pub(super) fn io_error(e: std::io::Error) -> ConnectorError {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => no_space(),
        _ => ConnectorError::Internal("cannot write the temporary upload file".into()),
    }
}

/// Streams, buffers or spools `upload` so it can be sent with a `Content-Length`.
pub async fn prepare(upload: Upload, spool: Spool<'_>) -> Result<Prepared, ConnectorError> {
    match upload.size {
        Some(len) if len > spool.max_file_bytes => return Err(too_large(&spool)),
        Some(len) if len > IN_MEMORY_MAX => {
            return Ok(Prepared {
                body: UploadBody::Stream {
                    body: Some(upload.body),
                    len,
                },
                spool: None,
            })
        }
        Some(len) => {
            // The core ends the stream with an error if it outgrows `len`.
            let mut buf = bytes::BytesMut::with_capacity(len as usize);
            let mut body = upload.body;
            while let Some(chunk) = body.next().await {
                buf.extend_from_slice(&chunk.map_err(broke_off)?);
            }
            return Ok(Prepared {
                body: UploadBody::Memory(buf.freeze()),
                spool: None,
            });
        }
        None => {}
    }
    let dir: PathBuf = spool
        .dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    if free_space(&dir).is_some_and(|f| f < MIN_FREE_BYTES) {
        return Err(no_space());
    }
    let prefix = format!("{}-upload-", spool.provider.to_ascii_lowercase());
    let named = tempfile::Builder::new()
        .prefix(&prefix)
        .tempfile_in(&dir)
        .map_err(io_error)?;
    let (file, path) = named.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let mut body = upload.body;
    let mut len = 0u64;
    let mut next_check = SPACE_CHECK_EVERY;
    while let Some(chunk) = body.next().await {
        // The caller broke off: nothing to send (the spool file goes with `path`).
        let chunk = chunk.map_err(broke_off)?;
        len += chunk.len() as u64;
        if len > spool.max_file_bytes {
            return Err(too_large(&spool));
        }
        file.write_all(&chunk).await.map_err(io_error)?;
        if len >= next_check {
            next_check = len + SPACE_CHECK_EVERY;
            if free_space(&dir).is_some_and(|f| f < MIN_FREE_BYTES) {
                return Err(no_space());
            }
        }
    }
    file.flush().await.map_err(io_error)?;
    drop(file);
    Ok(Prepared {
        body: UploadBody::File {
            path: path.to_path_buf(),
            offset: 0,
            len,
        },
        spool: Some(path),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bytes::Bytes;

    const MAX: u64 = 50_000_000_000;

    fn spool(dir: Option<&Path>) -> Spool<'_> {
        Spool {
            provider: "Zenodo",
            max_file_bytes: MAX,
            dir,
        }
    }

    #[test]
    fn a_full_disk_is_507() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(io_error(full).status().as_u16(), 507);
        assert_eq!(io_error(std::io::Error::other("x")).status().as_u16(), 500);
    }

    #[test]
    fn names_are_flattened() {
        let cases = [
            ("a/b.txt", Some("a_b.txt")),
            ("/folder/sub/x.csv", Some("folder_sub_x.csv")),
            ("plain.txt", Some("plain.txt")),
            ("../../etc/passwd", Some("etc_passwd")),
            ("win\\path\\f.txt", Some("win_path_f.txt")),
            ("a//./b", Some("a_b")),
            ("with space #1.txt", Some("with space #1.txt")),
            ("/", None),
            ("", None),
            ("\u{0}\n", None),
        ];
        for (raw, want) in cases {
            assert_eq!(flat_name(raw).as_deref(), want, "{raw:?}");
        }
    }

    fn upload(chunks: Vec<&'static [u8]>, size: Option<u64>) -> Upload {
        let stream =
            futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))));
        Upload {
            filename: Some("f".into()),
            size,
            content_type: None,
            body: Box::pin(stream),
        }
    }

    #[tokio::test]
    async fn unknown_size_is_spooled_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = prepare(
            upload(vec![b"hello ", b"world"], None),
            spool(Some(dir.path())),
        )
        .await
        .unwrap();
        assert_eq!(p.body.length(), 11);
        assert_eq!(p.body.idempotency(), Idempotency::Idempotent);
        let spooled = p.spool.as_ref().map(|s| s.to_path_buf()).unwrap();
        assert!(spooled.starts_with(dir.path()));
        assert!(spooled
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("zenodo-upload-")));
        assert_eq!(std::fs::read(&spooled).unwrap(), b"hello world");
        // Each attempt reads the whole file again.
        for _ in 0..2 {
            let mut sent = Vec::new();
            let mut body = p.body.attempt().unwrap();
            while let Some(chunk) = body.next().await {
                sent.extend_from_slice(&chunk.unwrap());
            }
            assert_eq!(sent, b"hello world");
        }
        drop(p);
        assert!(!spooled.exists(), "the spool file is removed afterwards");
    }

    #[tokio::test]
    async fn known_sizes_stream_through_small_ones_via_memory() {
        let dir = tempfile::tempdir().unwrap();
        let big = IN_MEMORY_MAX + 1;
        let mut p = prepare(upload(vec![b"abc"], Some(big)), spool(Some(dir.path())))
            .await
            .unwrap();
        assert!(matches!(p.body, UploadBody::Stream { len, .. } if len == big));
        assert_eq!(p.body.idempotency(), Idempotency::Single);
        assert!(p.body.attempt().is_ok());
        assert_eq!(
            p.body.attempt().err().map(|e| e.status().as_u16()),
            Some(500),
            "a stream is sent once"
        );
        let p = prepare(upload(vec![b"ab", b"c"], Some(3)), spool(Some(dir.path())))
            .await
            .unwrap();
        assert!(matches!(&p.body, UploadBody::Memory(b) if b.as_ref() == b"abc"));
        assert!(p.spool.is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let too_big = prepare(upload(vec![], Some(MAX + 1)), spool(None))
            .await
            .err()
            .unwrap();
        assert_eq!(too_big.status().as_u16(), 413);
        assert!(too_big
            .to_string()
            .contains("Zenodo accepts files of at most"));
    }

    #[tokio::test]
    async fn an_unknown_size_past_the_limit_is_413() {
        let dir = tempfile::tempdir().unwrap();
        let small = Spool {
            max_file_bytes: 4,
            ..spool(Some(dir.path()))
        };
        let err = prepare(upload(vec![b"abc", b"de"], None), small)
            .await
            .err()
            .unwrap();
        assert_eq!(err.status().as_u16(), 413);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the spool file is removed"
        );
    }
}
