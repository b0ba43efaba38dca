//! Uploads, in one of two ways, both writing the target in place so an overwritten file
//! keeps its identity (`oc:fileid`, shares, versions, comments; a `MOVE` with
//! `Overwrite: T` would delete it first):
//!
//! - **plain**: one streamed `PUT` onto the target, for uploads up to the chunk threshold
//!   and for servers without chunked uploads. The server receives it into its own part
//!   file and replaces the content only when complete; a caller who breaks off leaves the
//!   old content (or nothing) under the name.
//! - **chunked** (larger or unknown sizes): ownCloud's / Nextcloud's chunked upload. The
//!   body is cut into numbered chunks, each held in one buffer, so a chunk answered
//!   5xx/423/429 or cut by a reset is sent again without restarting the file; the final
//!   `MOVE .file` assembles them into the target. A failure, or a caller who goes away,
//!   deletes the upload folder ([`UploadGuard`]); the target is untouched until the MOVE.
//!
//! Afterwards the server's `oc:checksums` are compared with the digests computed while
//! streaming (see [`verify`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use bytes::{Bytes, BytesMut};
use connector_core::interface::{ByteStream, StoragePath, Upload, WriteMode};
use connector_core::transfer::{hashing, DigestHandle};
use connector_core::{ConnectorError, Credentials, Result};
use futures_util::StreamExt;
use reqwest::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::core::{what, DavCore};
use super::integrity::{self, Verdict, ALGORITHMS};

/// Marked the hidden temporary names (`.<name>.rds-upload-<uuid>`) that earlier versions
/// uploaded into before a MOVE; one left by a crash must stay out of listings.
const TEMP_MARKER: &str = ".rds-upload-";

/// Whether `name` is an upload temporary of an earlier version (hidden from listings).
pub fn is_upload_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARKER)
}

/// The most chunks an upload may have (Nextcloud chunking v2: chunk names 1 to 10000).
const MAX_CHUNKS: u32 = 10_000;

/// When and how uploads go in chunks (`OWNCLOUD_CHUNK_THRESHOLD_BYTES`,
/// `OWNCLOUD_CHUNK_SIZE_BYTES`, `OWNCLOUD_CHUNK_MEMORY_BYTES`).
#[derive(Debug, Clone)]
pub struct Chunking {
    /// Uploads larger than this (or of unknown size) go in chunks.
    pub threshold: u64,
    /// Bytes per chunk, each held in memory while it is sent (and resent).
    pub chunk_size: usize,
    /// The chunk buffers all uploads together may hold, in KiB: an upload that finds no
    /// room goes as a plain PUT, so memory stays bounded however many run at once.
    buffers: Arc<Semaphore>,
}

impl Chunking {
    pub fn new(threshold: u64, chunk_size: usize, memory: u64) -> Self {
        let kib = usize::try_from(memory / 1024).unwrap_or(Semaphore::MAX_PERMITS);
        Self {
            threshold,
            chunk_size,
            buffers: Arc::new(Semaphore::new(kib.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Room for one chunk buffer, if there is any now (never waits: the caller is
    /// sending meanwhile).
    fn buffer(&self) -> Option<OwnedSemaphorePermit> {
        let kib = u32::try_from(self.chunk_size.div_ceil(1024)).ok()?;
        Arc::clone(&self.buffers).try_acquire_many_owned(kib).ok()
    }
}

/// Retries of one chunk PUT or of the final MOVE: 0.25 s doubling to 8 s, with jitter,
/// at most 6 times (about 16 s of waiting before we give up).
fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(8))
        .with_max_times(6)
        .with_jitter()
}

/// One failed attempt: worth repeating, or not.
enum Attempt {
    Again(ConnectorError),
    Final(ConnectorError),
}

impl Attempt {
    fn into_error(self) -> ConnectorError {
        match self {
            Attempt::Again(e) | Attempt::Final(e) => e,
        }
    }
}

/// Judges an answer to a chunk PUT or the final MOVE. Retried: 5xx but 501/505/507
/// (those will not change), 423 Locked (common while the server is busy with the file:
/// rclone/rclone#4865), 429, and any failure to get an answer (reset, timeout).
async fn judge(
    answer: Result<Response>,
    what: &str,
    creds: &Credentials,
) -> std::result::Result<Response, Attempt> {
    let resp = answer.map_err(|e| match e {
        ConnectorError::BadGateway(_)
        | ConnectorError::GatewayTimeout(_)
        | ConnectorError::ServiceUnavailable(_) => Attempt::Again(e),
        _ => Attempt::Final(e),
    })?;
    let status = resp.status().as_u16();
    if resp.status().is_success() {
        return Ok(resp);
    }
    let err = DavCore::fail(resp, what, creds).await;
    Err(match status {
        423 | 429 => Attempt::Again(err),
        501 | 505 | 507 => Attempt::Final(err),
        500..=599 => Attempt::Again(err),
        _ => Attempt::Final(err),
    })
}

/// Deletes a chunked upload's folder when dropped armed: on errors, and when the request
/// is cancelled (the caller went away) while the upload was in flight.
struct UploadGuard {
    core: DavCore,
    creds: Credentials,
    transfer: String,
    armed: bool,
}

impl UploadGuard {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (core, creds) = (self.core.clone(), self.creds.clone());
        let transfer = std::mem::take(&mut self.transfer);
        rt.spawn(async move {
            if let Err(e) = core.abort_upload(&creds, &transfer).await {
                tracing::warn!(%transfer, error = %e, "could not remove an unfinished chunked upload");
            }
        });
    }
}

/// Reads the next chunk of up to `size` bytes into one buffer; `None` at the end.
/// `carry` holds what a piece had beyond the previous chunk.
async fn next_chunk(
    body: &mut ByteStream,
    carry: &mut Option<Bytes>,
    size: usize,
) -> Result<Option<Bytes>> {
    let mut buf = BytesMut::new();
    while buf.len() < size {
        let piece = match carry.take() {
            Some(p) => p,
            None => match body.next().await {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    return Err(ConnectorError::BadRequest(format!(
                        "the upload broke off: {e}"
                    )))
                }
                None => break,
            },
        };
        if buf.is_empty() && piece.len() == size {
            // A piece that is exactly one chunk needs no copy.
            return Ok(Some(piece));
        }
        if buf.capacity() == 0 {
            buf.reserve(size);
        }
        let room = size - buf.len();
        if piece.len() > room {
            buf.extend_from_slice(&piece[..room]);
            *carry = Some(piece.slice(room..));
        } else {
            buf.extend_from_slice(&piece);
        }
    }
    Ok((!buf.is_empty()).then(|| buf.freeze()))
}

/// A chunked upload of `body` to `dest`. Hands the body back unread when the server has
/// no chunked uploads (the probe comes first: a body cannot be read twice).
#[allow(clippy::too_many_arguments)]
async fn chunked(
    core: &DavCore,
    creds: &Credentials,
    path: &StoragePath,
    dest: &Url,
    body: ByteStream,
    digests: &DigestHandle,
    size: Option<u64>,
    chunk_size: usize,
) -> Result<Option<ByteStream>> {
    let transfer = format!("rds-{}", uuid::Uuid::new_v4().simple());
    if !core.start_upload(creds, &transfer, dest).await? {
        return Ok(Some(body));
    }
    let guard = UploadGuard {
        core: core.clone(),
        creds: creds.clone(),
        transfer: transfer.clone(),
        armed: true,
    };
    // The last chunk reads up to the end; asking once more must not poll past it.
    let mut stream: ByteStream = Box::pin(body.fuse());
    let target = what("file", path);
    let mut carry = None;
    let mut n = 0u32;
    while let Some(chunk) = next_chunk(&mut stream, &mut carry, chunk_size).await? {
        n += 1;
        if n > MAX_CHUNKS {
            return Err(ConnectorError::PayloadTooLarge(format!(
                "{target} needs more than {MAX_CHUNKS} chunks of {chunk_size} bytes; \
                 raise OWNCLOUD_CHUNK_SIZE_BYTES"
            )));
        }
        with_retries("chunk", || async {
            let answer = core
                .put_chunk(creds, &transfer, n, chunk.clone(), dest, size)
                .await;
            judge(answer, &target, creds).await
        })
        .await
        .map_err(Attempt::into_error)?;
    }
    // The body has ended, so its digests are known: ownCloud verifies `OC-Checksum`
    // when it assembles, Nextcloud stores it.
    let sent = digests.get();
    let checksum = sent
        .as_ref()
        .and_then(|d| d.sha1.as_deref())
        .map(|h| format!("SHA1:{h}"));
    // A MOVE that got no answer (timeout, reset) may have assembled the file anyway, and
    // then its retry finds no upload folder (404): look at the target before failing.
    let unanswered = AtomicBool::new(false);
    let moved = with_retries("assembly", || async {
        let answer = core
            .finish_upload(creds, &transfer, dest, size, checksum.as_deref())
            .await;
        if answer.is_err() {
            unanswered.store(true, Ordering::Relaxed);
        }
        judge(answer, &target, creds).await
    })
    .await;
    match moved {
        Ok(_) => {}
        Err(Attempt::Final(ConnectorError::NotFound(_))) if unanswered.load(Ordering::Relaxed) => {
            let stored = core.stat(creds, path).await?.and_then(|e| e.content_length);
            if stored.is_none() || stored != sent.map(|d| d.bytes) {
                return Err(ConnectorError::BadGateway(format!(
                    "the server did not confirm assembling {target}, and it is not there"
                )));
            }
        }
        Err(a) => return Err(a.into_error()),
    }
    // The server removed the upload folder with the MOVE.
    guard.disarm();
    Ok(None)
}

/// Runs `attempt` until it succeeds or fails for good, retrying with backoff.
async fn with_retries<F, Fut>(
    step: &'static str,
    attempt: F,
) -> std::result::Result<Response, Attempt>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Response, Attempt>>,
{
    attempt
        .retry(retry_policy())
        .when(|a| matches!(a, Attempt::Again(_)))
        .notify(|_, wait| {
            tracing::info!(
                step,
                retry_in_ms = wait.as_millis() as u64,
                "chunked upload step failed; retrying"
            )
        })
        .await
}

/// Creates the missing folders above `folder`, top down.
async fn ensure_folder(core: &DavCore, creds: &Credentials, folder: &StoragePath) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = folder.clone();
    while !cur.is_root() {
        match core.stat(creds, &cur).await? {
            Some(e) if e.is_collection => break,
            Some(_) => {
                return Err(ConnectorError::Conflict(format!(
                    "{} is a file, so it cannot hold other files",
                    what("path", &cur)
                )))
            }
            None => {
                let parent = cur.parent().unwrap_or_else(StoragePath::root);
                missing.push(std::mem::replace(&mut cur, parent));
            }
        }
    }
    for f in missing.iter().rev() {
        core.mkcol(creds, f).await?;
    }
    Ok(())
}

/// Compares what the server reports it stored with what we sent. On a mismatch a new
/// file is deleted; an overwritten one is left as it is, since its old content is gone
/// already and deleting it would also lose its identity, shares and versions (the server
/// keeps the previous content as a version where versioning is on). Either way: 502.
async fn verify(
    core: &DavCore,
    creds: &Credentials,
    path: &StoragePath,
    digests: &DigestHandle,
    size: Option<u64>,
    existed: bool,
) -> Result<()> {
    let target = what("file", path);
    let ours = digests.get().ok_or_else(|| {
        ConnectorError::Internal(format!("no digests for the upload of {target}"))
    })?;
    if size.is_some_and(|s| s != ours.bytes) {
        return Err(ConnectorError::Internal(format!(
            "the digests of {target} cover {} bytes, not all of them",
            ours.bytes
        )));
    }
    let Some(list) = core.checksums(creds, path, size).await? else {
        return Ok(());
    };
    let Verdict::Mismatch(algo) = integrity::compare(&list, &ours) else {
        return Ok(());
    };
    tracing::warn!(file = %path, algo, "upload checksum mismatch");
    let outcome = if existed {
        "its content is not what was sent; upload it again"
    } else {
        match core.delete(creds, path).await {
            Ok(()) | Err(ConnectorError::NotFound(_)) => "it was removed; upload it again",
            Err(_) => "removing it failed too; delete it and upload it again",
        }
    };
    Err(ConnectorError::ChecksumMismatch(format!(
        "the server stored {target} with a different {algo} checksum than was sent; {outcome}"
    )))
}

/// Writes `upload` to `path` (already resolved; for [`WriteMode::ReplaceExisting`] the
/// caller checked that it exists).
pub async fn write(
    core: &DavCore,
    creds: &Credentials,
    path: &StoragePath,
    upload: Upload,
    mode: WriteMode,
    chunking: &Chunking,
) -> Result<()> {
    let Some(parent) = path.parent().filter(|_| path.file_name().is_some()) else {
        return Err(ConnectorError::BadRequest(
            "filepath must name a file, not the root folder".into(),
        ));
    };
    let existing = core.stat(creds, path).await?;
    match (&existing, mode) {
        (Some(e), _) if e.is_collection => {
            return Err(ConnectorError::Conflict(format!(
                "{} is a folder; a file cannot replace it",
                what("path", path)
            )))
        }
        (None, WriteMode::ReplaceExisting) => {
            return Err(ConnectorError::NotFound(format!(
                "{} does not exist",
                what("file", path)
            )))
        }
        (None, WriteMode::CreateOrReplace) => ensure_folder(core, creds, &parent).await?,
        (Some(_), _) => {}
    }

    // A caller that breaks off, or sends other than its size, makes the body end in an
    // error: the transfer fails, and the core answers the caller's fault as a 400 (it
    // watches the bytes, see `Upload::size`).
    let (body, digests) = hashing(upload.body, ALGORITHMS);
    // Read to its end before the last piece goes out: the digests then cover all of it.
    let body = integrity::hold_last(body, || None);
    let dest = core.url(creds, path, false)?;
    let large = upload.size.is_none_or(|s| s > chunking.threshold);
    // Held until the upload is done: the chunk buffer's share of the memory budget.
    let buffer = large.then(|| chunking.buffer()).flatten();
    if large && buffer.is_none() {
        tracing::info!(file = %path, "chunk buffers all in use; uploading in one PUT");
    }
    let unsent = if buffer.is_some() {
        let size = upload.size;
        chunked(
            core,
            creds,
            path,
            &dest,
            body,
            &digests,
            size,
            chunking.chunk_size,
        )
        .await?
    } else {
        Some(body)
    };
    if let Some(body) = unsent {
        let content_type = upload.content_type.as_deref();
        core.put(creds, path, body, upload.size, content_type)
            .await?;
    }
    verify(core, creds, path, &digests, upload.size, existing.is_some()).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn chunk_buffers_stay_within_the_budget() {
        let c = Chunking::new(0, 8 << 20, 16 << 20);
        let (a, b) = (c.buffer(), c.buffer());
        assert!(a.is_some() && b.is_some());
        assert!(c.buffer().is_none(), "a third buffer would pass the budget");
        drop(a);
        assert!(c.buffer().is_some());
    }

    #[tokio::test]
    async fn chunks_are_cut_at_the_size_whatever_the_pieces() {
        let pieces: Vec<std::io::Result<Bytes>> = [3usize, 5, 1, 7, 4]
            .iter()
            .map(|&n| Ok(Bytes::from(vec![b'x'; n])))
            .collect();
        let mut body: ByteStream = Box::pin(futures_util::stream::iter(pieces));
        let mut carry = None;
        let mut sizes = Vec::new();
        while let Some(c) = next_chunk(&mut body, &mut carry, 6).await.unwrap() {
            sizes.push(c.len());
        }
        assert_eq!(sizes, [6, 6, 6, 2]);
    }
}
