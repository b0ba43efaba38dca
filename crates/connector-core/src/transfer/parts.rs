//! An upload cut into parts for a provider's multipart transfer (InvenioRDM's `M`
//! transfer, an S3 store's presigned part URLs), one part at a time, each re-sendable so
//! that a failed part is retried alone: ranges of a spooled file or of memory as they
//! are, the caller's stream spooled part by part (one part on disk at a time, so memory
//! and disk stay flat whatever the size).

use std::path::Path;

use futures_util::StreamExt as _;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt as _;

use super::upload::{broke_off, io_error, UploadBody};
use crate::error::ConnectorError;
use crate::interface::ByteStream;

/// The parts of an upload, in order.
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
            UploadBody::File { .. } | UploadBody::Framed { .. } => {
                return Err(ConnectorError::Internal(
                    "a part or a framed body cannot be split".into(),
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
                    .prefix("upload-part-")
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
            UploadBody::Stream { .. } | UploadBody::Framed { .. } => {
                panic!("parts are never streams or frames")
            }
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
}
