//! The trait impl: RDS's fileStorage interface on the WebDAV client.

use async_trait::async_trait;
use connector_core::interface::{
    ContentRange, Entry, Extent, FileDownload, FileStorage, StoragePath, Upload, WriteMode,
};
use connector_core::{ConnectorError, Credentials, Result};
use reqwest::header::{HeaderMap, HeaderName, CONTENT_RANGE, CONTENT_TYPE, ETAG, LAST_MODIFIED};

use super::core::{what, DavCore, Depth};
use super::writer::Chunking;
use super::{integrity, lister, writer};

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
    ) -> Result<Vec<Entry>> {
        let listing = self
            .core
            .propfind(creds, folder, Depth::One, "folder")
            .await?;
        let first = lister::folder_content(&listing);
        lister::list(&self.core, creds, folder, first, recursive, self.walk).await
    }

    /// The server gets the caller's `Range` and answers 206 for it.
    fn supports_ranges(&self) -> bool {
        true
    }

    async fn get_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        range: Option<&str>,
    ) -> Result<FileDownload> {
        let resp = self.core.get(creds, path, range).await?;
        let headers = resp.headers();
        let extent = match resp.status().as_u16() {
            206 => {
                let content_range = header(headers, CONTENT_RANGE)
                    .as_deref()
                    .and_then(ContentRange::parse)
                    .ok_or_else(|| {
                        ConnectorError::BadGateway(format!(
                            "the WebDAV server answered part of {} without a valid \
                             Content-Range",
                            what("file", path)
                        ))
                    })?;
                Extent::Partial { content_range }
            }
            _ => Extent::Full,
        };
        // `OC-Checksum` is of the whole file: a full answer is checked against it.
        let expected = header(headers, HeaderName::from_static("oc-checksum"))
            .filter(|_| extent == Extent::Full);
        let mut download = FileDownload {
            extent,
            content_length: resp.content_length(),
            content_type: header(headers, CONTENT_TYPE),
            etag: header(headers, ETAG),
            last_modified: header(headers, LAST_MODIFIED),
            body: Box::pin(futures_util::stream::empty()),
        };
        let body = self.core.body(resp);
        download.body = match expected {
            Some(sum) => integrity::verified_download(body, sum, what("file", path)),
            None => body,
        };
        Ok(download)
    }

    async fn exists(&self, creds: &Credentials, path: &StoragePath) -> Result<bool> {
        Ok(self.core.stat(creds, path).await?.is_some())
    }

    /// A PATCH of a missing file is `NotFound` from the writer, before the body is read.
    async fn put_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        upload: Upload,
        mode: WriteMode,
    ) -> Result<()> {
        writer::write(&self.core, creds, path, upload, mode, &self.chunking).await
    }

    async fn delete(&self, creds: &Credentials, path: &StoragePath) -> Result<()> {
        if path.is_root() {
            return Err(ConnectorError::BadRequest(
                "the root folder cannot be deleted".into(),
            ));
        }
        self.core.delete(creds, path).await
    }
}
