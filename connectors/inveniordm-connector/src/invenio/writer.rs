//! Getting an upload into a body the content `PUT` takes: `application/octet-stream`
//! with a `Content-Length`. With a known size (declared, or derived from the request by
//! the core) the caller's stream goes straight through and is sent once; a small file is
//! read into memory first, so a 429 or 5xx on its PUT can be retried. An unknown size is
//! spooled to a temporary file first (memory stays flat), then sent from there with its
//! length. The spool file goes when the [`Prepared`] is dropped.
//!
//! The Zenodo connector's `writer.rs` does the same for its buckets (with free-space
//! checks this one lacks): the kit should own it (NOTES-invenio.md).

use std::path::Path;

use connector_core::interface::{ByteStream, Upload};
use connector_core::ConnectorError;
use futures_util::StreamExt as _;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt as _;

use super::core::Idempotency;

/// Known sizes up to this are read into memory (retryable) rather than streamed.
const IN_MEMORY_MAX: u64 = 1024 * 1024;

/// What a content upload sends.
pub enum UploadBody {
    /// The caller's stream, of a declared length (taken by the first attempt).
    Stream {
        body: Option<ByteStream>,
        len: u64,
    },
    Memory(bytes::Bytes),
    /// `len` bytes from `offset` of a file on disk (a spooled upload, or a part of one).
    File {
        path: std::path::PathBuf,
        offset: u64,
        len: u64,
    },
}

impl UploadBody {
    pub fn length(&self) -> u64 {
        match self {
            UploadBody::Stream { len, .. } | UploadBody::File { len, .. } => *len,
            UploadBody::Memory(b) => b.len() as u64,
        }
    }

    /// A stream is sent once; memory and a spool file can be sent again (the content
    /// of a pending file is replaced).
    pub fn idempotency(&self) -> Idempotency {
        match self {
            UploadBody::Stream { .. } => Idempotency::Single,
            UploadBody::Memory(_) | UploadBody::File { .. } => Idempotency::Idempotent,
        }
    }

    pub fn attempt(&mut self) -> Result<ByteStream, ConnectorError> {
        match self {
            UploadBody::Stream { body, .. } => body.take().ok_or_else(|| {
                ConnectorError::Internal("a streamed upload cannot be sent twice".into())
            }),
            UploadBody::Memory(b) => Ok(Box::pin(futures_util::stream::iter([Ok(b.clone())]))),
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
        }
    }
}

pub struct Prepared {
    pub body: UploadBody,
    pub spool: Option<TempPath>,
}

fn broke_off(e: std::io::Error) -> ConnectorError {
    ConnectorError::BadRequest(format!("the upload broke off: {e}"))
}

fn io_error(e: std::io::Error) -> ConnectorError {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            ConnectorError::InsufficientStorage(
                "the connector ran out of temporary disk space while receiving the upload".into(),
            )
        }
        _ => ConnectorError::Internal("cannot write the temporary upload file".into()),
    }
}

/// Streams, buffers or spools `upload`; `max` bounds an unknown size while spooling.
pub async fn prepare(
    upload: Upload,
    spool_dir: Option<&Path>,
    max: u64,
    too_large: impl Fn() -> ConnectorError,
) -> Result<Prepared, ConnectorError> {
    match upload.size {
        Some(len) if len > max => Err(too_large()),
        Some(len) if len > IN_MEMORY_MAX => Ok(Prepared {
            body: UploadBody::Stream {
                body: Some(upload.body),
                len,
            },
            spool: None,
        }),
        Some(len) => {
            let mut buf = bytes::BytesMut::with_capacity(len as usize);
            let mut body = upload.body;
            while let Some(chunk) = body.next().await {
                buf.extend_from_slice(&chunk.map_err(broke_off)?);
            }
            Ok(Prepared {
                body: UploadBody::Memory(buf.freeze()),
                spool: None,
            })
        }
        None => {
            let dir = spool_dir
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir);
            let named = tempfile::Builder::new()
                .prefix("inveniordm-upload-")
                .tempfile_in(&dir)
                .map_err(io_error)?;
            let (file, path) = named.into_parts();
            let mut file = tokio::fs::File::from_std(file);
            let mut body = upload.body;
            let mut len = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(broke_off)?;
                len += chunk.len() as u64;
                if len > max {
                    return Err(too_large());
                }
                file.write_all(&chunk).await.map_err(io_error)?;
            }
            file.flush().await.map_err(io_error)?;
            Ok(Prepared {
                body: UploadBody::File {
                    path: path.to_path_buf(),
                    offset: 0,
                    len,
                },
                spool: Some(path),
            })
        }
    }
}

/// The file key for a caller's path: separators become `_`, empty, `.` and `..`
/// segments are dropped, control characters removed (as the Zenodo connector names
/// files, so RDS sees the same names on both).
pub fn flat_name(raw: &str) -> Option<String> {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let segs: Vec<&str> = cleaned
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    (!segs.is_empty()).then(|| segs.join("_"))
}

/// The parts of an upload for a multipart transfer, one at a time, each re-sendable so a
/// failed part is retried alone: ranges of a spooled file or of memory as they are, the
/// caller's stream spooled part by part (one part on disk at a time; memory stays flat).
pub struct Parts {
    source: Source,
    part_size: u64,
    len: u64,
    next: u64,
    spool_dir: std::path::PathBuf,
}

enum Source {
    File(std::path::PathBuf),
    Memory(bytes::Bytes),
    Stream {
        body: ByteStream,
        leftover: bytes::Bytes,
    },
}

/// One part: its number (from 1), its body, and its spool file (removed on drop).
pub struct Part {
    pub number: u64,
    pub body: UploadBody,
    pub spool: Option<TempPath>,
}

impl Parts {
    pub fn new(
        body: UploadBody,
        part_size: u64,
        spool_dir: Option<&Path>,
    ) -> Result<Self, ConnectorError> {
        let len = body.length();
        let source = match body {
            UploadBody::File {
                path, offset: 0, ..
            } => Source::File(path),
            UploadBody::File { .. } => {
                return Err(ConnectorError::Internal(
                    "a part cannot be split again".into(),
                ))
            }
            UploadBody::Memory(b) => Source::Memory(b),
            UploadBody::Stream { body, .. } => Source::Stream {
                body: body.ok_or_else(|| {
                    ConnectorError::Internal("a streamed upload cannot be sent twice".into())
                })?,
                leftover: bytes::Bytes::new(),
            },
        };
        Ok(Self {
            source,
            part_size: part_size.max(1),
            len,
            next: 0,
            spool_dir: spool_dir
                .map(Path::to_path_buf)
                .unwrap_or_else(std::env::temp_dir),
        })
    }

    /// How many parts: `ceil(len / part_size)`.
    pub fn count(&self) -> u64 {
        self.len.div_ceil(self.part_size).max(1)
    }

    pub async fn next(&mut self) -> Result<Option<Part>, ConnectorError> {
        if self.next >= self.count() {
            return Ok(None);
        }
        let offset = self.next * self.part_size;
        let len = self.part_size.min(self.len - offset);
        self.next += 1;
        let number = self.next;
        let (body, spool) = match &mut self.source {
            Source::File(path) => (
                UploadBody::File {
                    path: path.clone(),
                    offset,
                    len,
                },
                None,
            ),
            Source::Memory(b) => (
                UploadBody::Memory(b.slice(offset as usize..(offset + len) as usize)),
                None,
            ),
            Source::Stream { body, leftover } => {
                let named = tempfile::Builder::new()
                    .prefix("inveniordm-part-")
                    .tempfile_in(&self.spool_dir)
                    .map_err(io_error)?;
                let (file, path) = named.into_parts();
                let mut file = tokio::fs::File::from_std(file);
                let mut left = len;
                while left > 0 {
                    let mut chunk = if leftover.is_empty() {
                        match body.next().await {
                            Some(chunk) => chunk.map_err(broke_off)?,
                            None => {
                                return Err(ConnectorError::BadRequest(
                                    "the upload ended before its declared size".into(),
                                ))
                            }
                        }
                    } else {
                        std::mem::take(leftover)
                    };
                    if chunk.len() as u64 > left {
                        *leftover = chunk.split_off(left as usize);
                    }
                    left -= chunk.len() as u64;
                    file.write_all(&chunk).await.map_err(io_error)?;
                }
                file.flush().await.map_err(io_error)?;
                let body = UploadBody::File {
                    path: path.to_path_buf(),
                    offset: 0,
                    len,
                };
                (body, Some(path))
            }
        };
        Ok(Some(Part {
            number,
            body,
            spool,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    async fn collect(mut body: UploadBody) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = body.attempt().unwrap();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    /// Every source gives back its bytes in parts of `part_size` (the last shorter), each
    /// part readable twice (a retry), whatever the chunking of a stream.
    #[tokio::test]
    async fn parts_cover_the_bytes_exactly() {
        let all = data(10_007);
        let dir = tempfile::tempdir().unwrap();
        let spooled = dir.path().join("spool");
        std::fs::write(&spooled, &all).unwrap();
        for source in 0..3 {
            let body = match source {
                0 => UploadBody::Memory(bytes::Bytes::from(all.clone())),
                1 => UploadBody::File {
                    path: spooled.clone(),
                    offset: 0,
                    len: all.len() as u64,
                },
                _ => {
                    // Chunks of 333 bytes: part boundaries fall inside chunks.
                    let chunks: Vec<std::io::Result<bytes::Bytes>> = all
                        .chunks(333)
                        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
                        .collect();
                    UploadBody::Stream {
                        body: Some(Box::pin(futures_util::stream::iter(chunks))),
                        len: all.len() as u64,
                    }
                }
            };
            let mut parts = Parts::new(body, 4096, Some(dir.path())).unwrap();
            assert_eq!(parts.count(), 3);
            let mut got = Vec::new();
            let mut numbers = Vec::new();
            while let Some(p) = parts.next().await.unwrap() {
                numbers.push(p.number);
                let once = collect(clone_body(&p.body)).await;
                assert_eq!(once, collect(p.body).await, "a part reads the same twice");
                got.extend(once);
            }
            assert_eq!(numbers, [1, 2, 3]);
            assert_eq!(got, all, "source {source}");
        }
        // Only the test's own spool file is left: part spools go with their parts.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    fn clone_body(b: &UploadBody) -> UploadBody {
        match b {
            UploadBody::Memory(m) => UploadBody::Memory(m.clone()),
            UploadBody::File { path, offset, len } => UploadBody::File {
                path: path.clone(),
                offset: *offset,
                len: *len,
            },
            UploadBody::Stream { .. } => panic!("parts are never streams"),
        }
    }

    #[tokio::test]
    async fn a_stream_shorter_than_declared_is_refused() {
        let body = UploadBody::Stream {
            body: Some(Box::pin(futures_util::stream::iter([Ok(
                bytes::Bytes::from_static(b"abc"),
            )]))),
            len: 10,
        };
        let mut parts = Parts::new(body, 4, None).unwrap();
        // The first part of 4 bytes finds only 3.
        assert_eq!(
            parts.next().await.err().map(|e| e.status().as_u16()),
            Some(400)
        );
    }

    #[test]
    fn names_are_flattened() {
        assert_eq!(flat_name("a/b.txt").as_deref(), Some("a_b.txt"));
        assert_eq!(flat_name("../../etc/passwd").as_deref(), Some("etc_passwd"));
        assert_eq!(flat_name("/"), None);
    }
}
