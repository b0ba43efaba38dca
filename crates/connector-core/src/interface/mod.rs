//! The two RDS interfaces as provider-neutral async traits.
//!
//! A provider crate implements [`FileStorage`], [`Metadata`] or both; the core mounts them
//! under `/storage` and `/metadata`, parses requests, resolves credentials and renders
//! answers. Nothing here mentions actix: a provider never touches the web framework.
//! Providers return typed values (listing [`Entry`]s, a [`FileDownload`] whose
//! [`Extent`] says whole or part, [`FileRecord`]s); what RDS callers expect of them
//! (the listing's strings, the retry of a percent-decoded path, file ids by index or
//! name) is the core's. Every operation has a default answering 501, so a new connector
//! compiles from day one; the capability questions (`supports_ranges`, `exists`) have
//! safe defaults.

mod body;
mod download;
mod listing;
mod path;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

pub use body::{ByteStream, Upload};
pub use download::{ContentRange, Extent, FileDownload};
pub use listing::{Entry, EntryKind};
pub use path::{is_plain_name, StoragePath, DEFAULT_MAX_PATH_DEPTH};

use crate::credentials::Credentials;
use crate::error::{ConnectorError, Result};

fn not_implemented<T>(what: &str) -> Result<T> {
    Err(ConnectorError::NotImplemented(format!(
        "this connector does not implement {what}"
    )))
}

/// How a write treats an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST /storage/file`: create, or overwrite when present; parents are created.
    CreateOrReplace,
    /// `PATCH /storage/file`: replace the content of a file that must exist (404 otherwise).
    ReplaceExisting,
}

/// `"fileStorage"`: get files out of a cloud.
#[async_trait]
pub trait FileStorage: Send + Sync + 'static {
    /// Lists `folder`. Recursive: every file below it (folder entries may be left out;
    /// the core drops them). Not recursive: the immediate children. A missing folder is
    /// `NotFound`; the listing of a file is empty. The core checks that each entry lies
    /// below `folder` and formats the answer.
    async fn list_folder(
        &self,
        creds: &Credentials,
        folder: &StoragePath,
        recursive: bool,
    ) -> Result<Vec<Entry>> {
        let _ = (creds, folder, recursive);
        not_implemented("folder listing")
    }

    /// Whether the provider serves byte ranges: then the core passes the caller's `Range`
    /// header to [`Self::get_file`] and advertises `Accept-Ranges: bytes`.
    fn supports_ranges(&self) -> bool {
        false
    }

    /// Streams a file; `range` is the caller's `Range` header, passed through when
    /// [`Self::supports_ranges`] (else `None`).
    async fn get_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        range: Option<&str>,
    ) -> Result<FileDownload> {
        let _ = (creds, path, range);
        not_implemented("file download")
    }

    /// Whether a file or folder is at `path`. The core asks before a PATCH whose path has
    /// a percent-decoded variant, to pick the path to write before the body streams. The
    /// default answers `true`: the path is used as sent.
    async fn exists(&self, creds: &Credentials, path: &StoragePath) -> Result<bool> {
        let _ = (creds, path);
        Ok(true)
    }

    /// Writes the streamed upload to `path`. With [`WriteMode::ReplaceExisting`], a
    /// missing file is `NotFound` before the body is read.
    async fn put_file(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        upload: Upload,
        mode: WriteMode,
    ) -> Result<()> {
        let _ = (creds, path, upload, mode);
        not_implemented("file upload")
    }

    /// Removes a file or a folder.
    async fn delete(&self, creds: &Credentials, path: &StoragePath) -> Result<()> {
        let _ = (creds, path);
        not_implemented("file deletion")
    }
}

/// One project (deposit) of a metadata provider.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub metadata: Value,
}

/// One file of a project, as the provider lists it. The core resolves the caller's file
/// id against `id`, the position in the list and `name`, and answers with `native`.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// The provider's id of the file.
    pub id: String,
    /// The file's name in the project.
    pub name: String,
    /// The provider's own description of the file, passed to RDS as it is (RDS shows and
    /// stores it; its fields are the provider's, e.g. Zenodo's `filesize`, `checksum`,
    /// `links`).
    pub native: Value,
}

/// The answer of a publish: RDS's metadata use case reads `{"DOI": ...}`.
#[derive(Debug, Clone, Serialize)]
pub struct Publication {
    #[serde(rename = "DOI")]
    pub doi: String,
}

/// `"metadata"`: create a deposit, set its metadata, upload files, publish.
///
/// Project ids arrive as the caller sent them; the provider validates them (a
/// non-numeric id where the provider needs a number is a 400). File ids are resolved by
/// the core against [`Self::list_files`] (the provider's id, the index in the list, or
/// the name, as RDS's exporter sends indexes); deleting all files deletes each listed one.
#[async_trait]
pub trait Metadata: Send + Sync + 'static {
    /// The user's unpublished projects.
    async fn list_projects(&self, creds: &Credentials) -> Result<Vec<Project>> {
        let _ = creds;
        not_implemented("project listing")
    }

    /// Creates a project; `metadata` is an RO-Crate, provider-native metadata or null.
    async fn create_project(
        &self,
        creds: &Credentials,
        metadata: Option<Value>,
    ) -> Result<Project> {
        let _ = (creds, metadata);
        not_implemented("project creation")
    }

    async fn get_project(&self, creds: &Credentials, project_id: &str) -> Result<Value> {
        let _ = (creds, project_id);
        not_implemented("reading a project")
    }

    /// Merges `metadata` into the project's (fields not sent are kept); returns the result.
    async fn update_project(
        &self,
        creds: &Credentials,
        project_id: &str,
        metadata: Value,
    ) -> Result<Value> {
        let _ = (creds, project_id, metadata);
        not_implemented("updating a project")
    }

    async fn delete_project(&self, creds: &Credentials, project_id: &str) -> Result<()> {
        let _ = (creds, project_id);
        not_implemented("deleting a project")
    }

    async fn publish_project(&self, creds: &Credentials, project_id: &str) -> Result<Publication> {
        let _ = (creds, project_id);
        not_implemented("publishing")
    }

    /// The project's files, in the provider's order (RDS addresses them by index).
    async fn list_files(&self, creds: &Credentials, project_id: &str) -> Result<Vec<FileRecord>> {
        let _ = (creds, project_id);
        not_implemented("file listing")
    }

    /// Adds a file; `upload.filename` is the name the caller gave.
    async fn upload_file(
        &self,
        creds: &Credentials,
        project_id: &str,
        upload: Upload,
    ) -> Result<()> {
        let _ = (creds, project_id, upload);
        not_implemented("file upload")
    }

    /// Removes one file that [`Self::list_files`] listed.
    async fn delete_file(
        &self,
        creds: &Credentials,
        project_id: &str,
        file: &FileRecord,
    ) -> Result<()> {
        let _ = (creds, project_id, file);
        not_implemented("file deletion")
    }
}
