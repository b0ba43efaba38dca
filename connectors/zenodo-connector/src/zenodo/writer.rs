//! Getting an upload into a body Zenodo's bucket accepts.
//!
//! A bucket `PUT` needs `Content-Length` (a chunked body is refused: zenodo/zenodo#1986).
//! With a known size (declared, or derived from the request by the core) the caller's
//! stream goes straight through, and is sent once; a small file is read into memory
//! first, so that a rate limit or a 5xx on its PUT can be retried. With an unknown size
//! the file is spooled to a temporary file on disk first (memory stays flat whatever the
//! size), then sent from there with its length, and retried like a small one. The file
//! is removed when the [`Prepared`] is dropped.
//!
//! Zenodo has no folders (zenodo/zenodo#1089): [`flat_name`] joins path segments with `_`.

use std::path::{Path, PathBuf};

use connector_core::interface::Upload;
use connector_core::ConnectorError;
use futures_util::StreamExt as _;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt as _;

use super::core::UploadBody;

/// Zenodo's limit per file (and per record).
pub const MAX_FILE_BYTES: u64 = 50_000_000_000;
/// Known sizes up to this are read into memory (retryable) rather than streamed: at
/// 64 concurrent uploads at most 64 MiB.
const IN_MEMORY_MAX: u64 = 1024 * 1024;
/// Space the spool directory must have left before an upload of unknown size begins.
const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;
/// How often (in bytes written) free space is checked again while spooling.
const SPACE_CHECK_EVERY: u64 = 256 * 1024 * 1024;

/// A body with its length, and the spool file to remove afterwards (if any).
pub struct Prepared {
    pub body: UploadBody,
    /// Held until the upload is over; removes the file on drop.
    pub spool: Option<TempPath>,
}

/// The Zenodo file name for a caller's path: separators (`/`, `\`) become `_`, empty,
/// `.` and `..` segments are dropped, control characters removed. `a/b.txt` → `a_b.txt`,
/// `/folder/sub/x.csv` → `folder_sub_x.csv`.
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

fn too_large() -> ConnectorError {
    ConnectorError::PayloadTooLarge(format!(
        "Zenodo accepts files of at most {MAX_FILE_BYTES} bytes"
    ))
}

fn broke_off(e: std::io::Error) -> ConnectorError {
    ConnectorError::BadRequest(format!("the upload broke off: {e}"))
}

fn io_error(e: std::io::Error) -> ConnectorError {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => no_space(),
        _ => ConnectorError::Internal("cannot write the temporary upload file".into()),
    }
}

/// Streams or spools `upload` so it can be sent with a `Content-Length`.
pub async fn prepare(upload: Upload, spool_dir: Option<&Path>) -> Result<Prepared, ConnectorError> {
    match upload.size {
        Some(len) if len > MAX_FILE_BYTES => return Err(too_large()),
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
    let dir: PathBuf = spool_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    if free_space(&dir).is_some_and(|f| f < MIN_FREE_BYTES) {
        return Err(no_space());
    }
    let named = tempfile::Builder::new()
        .prefix("zenodo-upload-")
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
        if len > MAX_FILE_BYTES {
            return Err(too_large());
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
        let p = prepare(upload(vec![b"hello ", b"world"], None), Some(dir.path()))
            .await
            .unwrap();
        assert_eq!(p.body.length(), 11);
        let spool = p.spool.as_ref().map(|s| s.to_path_buf()).unwrap();
        assert!(spool.starts_with(dir.path()));
        assert_eq!(std::fs::read(&spool).unwrap(), b"hello world");
        drop(p);
        assert!(!spool.exists(), "the spool file is removed afterwards");
    }

    #[tokio::test]
    async fn known_sizes_stream_through_small_ones_via_memory() {
        let dir = tempfile::tempdir().unwrap();
        let big = IN_MEMORY_MAX + 1;
        let p = prepare(upload(vec![b"abc"], Some(big)), Some(dir.path()))
            .await
            .unwrap();
        assert!(matches!(p.body, UploadBody::Stream { len, .. } if len == big));
        let p = prepare(upload(vec![b"ab", b"c"], Some(3)), Some(dir.path()))
            .await
            .unwrap();
        assert!(matches!(&p.body, UploadBody::Memory(b) if b.as_ref() == b"abc"));
        assert!(p.spool.is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let too_big = prepare(upload(vec![], Some(MAX_FILE_BYTES + 1)), None)
            .await
            .err()
            .unwrap();
        assert_eq!(too_big.status().as_u16(), 413);
    }
}
