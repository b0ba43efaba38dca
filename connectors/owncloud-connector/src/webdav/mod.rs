//! The fileStorage backend over ownCloud/Nextcloud WebDAV.
//!
//! - [`core`]: the WebDAV client (URLs, auth, one method per verb);
//! - [`lister`]: folder listings, recursive with bounded concurrency, depth and entries;
//! - [`writer`]: uploads, plain or chunked, written in place;
//! - [`integrity`]: the server's checksums against the digests of what streamed through;
//! - [`multistatus`]: the PROPFIND and error XML;
//! - [`error`]: WebDAV statuses → the contract's errors.
//!
//! Callers sometimes send paths that are already percent-encoded; when a path is not
//! found, its decoded variant is tried once (as the original port's `unquote` did).

pub mod core;
pub mod error;
pub mod integrity;
pub mod lister;
pub mod multistatus;
pub mod writer;

use std::future::Future;

use async_trait::async_trait;
use connector_core::interface::{FileDownload, FileStorage, StoragePath, Upload, WriteMode};
use connector_core::{ConnectorError, Credentials, Result};
use reqwest::header::{HeaderMap, HeaderName, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED};

use self::core::{what, DavCore, Depth};
use self::writer::Chunking;

/// The ownCloud/Nextcloud implementation of RDS's fileStorage interface.
pub struct OwncloudStorage {
    core: DavCore,
    walk: lister::Walk,
    chunking: Chunking,
}

impl OwncloudStorage {
    pub fn new(core: DavCore, walk: lister::Walk, chunking: Chunking) -> Self {
        Self {
            core,
            walk,
            chunking,
        }
    }
}

/// Runs `op` on `path`; on 404, once more on its percent-decoded variant (if any).
/// Returns the path that worked with the result.
async fn with_decoded_retry<T, F, Fut>(path: &StoragePath, op: F) -> Result<(StoragePath, T)>
where
    F: Fn(StoragePath) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    match op(path.clone()).await {
        Ok(v) => Ok((path.clone(), v)),
        Err(ConnectorError::NotFound(msg)) => match path.decoded_variant() {
            Some(decoded) => op(decoded.clone()).await.map(|v| (decoded, v)),
            None => Err(ConnectorError::NotFound(msg)),
        },
        Err(e) => Err(e),
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[async_trait]
impl FileStorage for OwncloudStorage {
    async fn list_folder(
        &self,
        creds: &Credentials,
        folder: &StoragePath,
        recursive: bool,
    ) -> Result<Vec<String>> {
        let (actual, listing) = with_decoded_retry(folder, |p| async move {
            self.core.propfind(creds, &p, Depth::One, "folder").await
        })
        .await?;
        // Paths start with the folder as the caller named it: RDS's exporter checks that
        // prefix before fetching each entry.
        let display = if folder.is_root() {
            String::new()
        } else {
            folder.as_string()
        };
        let first = lister::folder_content(&listing);
        lister::list(
            &self.core, creds, &actual, first, &display, recursive, self.walk,
        )
        .await
    }

    async fn get_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        range: Option<&str>,
    ) -> Result<FileDownload> {
        let (actual, resp) =
            with_decoded_retry(
                path,
                |p| async move { self.core.get(creds, &p, range).await },
            )
            .await?;
        let headers = resp.headers();
        let status = resp.status().as_u16();
        // `OC-Checksum` is of the whole file: a full answer is checked against it.
        let expected =
            header(headers, HeaderName::from_static("oc-checksum")).filter(|_| status == 200);
        let mut download = FileDownload {
            status,
            content_length: resp.content_length(),
            content_type: header(headers, CONTENT_TYPE),
            content_range: header(headers, CONTENT_RANGE),
            etag: header(headers, ETAG),
            last_modified: header(headers, LAST_MODIFIED),
            body: Box::pin(futures_util::stream::empty()),
        };
        let body = self.core.body(resp);
        download.body = match expected {
            Some(sum) => integrity::verified_download(body, sum, what("file", &actual)),
            None => body,
        };
        Ok(download)
    }

    async fn put_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        upload: Upload,
        mode: WriteMode,
    ) -> Result<()> {
        let target = match mode {
            WriteMode::CreateOrReplace => path.clone(),
            // PATCH names an existing file: find it, as sent or decoded.
            WriteMode::ReplaceExisting => {
                with_decoded_retry(path, |p| async move {
                    match self.core.stat(creds, &p).await? {
                        Some(_) => Ok(()),
                        None => Err(ConnectorError::NotFound(format!(
                            "{} does not exist",
                            what("file", &p)
                        ))),
                    }
                })
                .await?
                .0
            }
        };
        writer::write(&self.core, creds, &target, upload, mode, &self.chunking).await
    }

    async fn delete(&self, creds: &Credentials, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(ConnectorError::BadRequest(
                "the root folder cannot be deleted".into(),
            ));
        }
        with_decoded_retry(path, |p| async move { self.core.delete(creds, &p).await }).await?;
        Ok(())
    }
}
