//! The emulator's model: collections, datasets with their versions and files, locks,
//! tokens, faults, direct-upload objects and the request log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use serde_json::Value;

/// `:FileFixityChecksumAlgorithm` (dv `installation/config.rst`; `DataFile.ChecksumType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumType {
    #[default]
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl ChecksumType {
    /// The name Dataverse prints in `checksum.type` (`DataFile.ChecksumType` `toString`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
        }
    }

    /// `DataFile.ChecksumType.fromString`: the exact names only.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Md5, Self::Sha1, Self::Sha256, Self::Sha512]
            .into_iter()
            .find(|t| t.name() == name)
    }
}

/// How the emulated installation is configured.
#[derive(Debug, Clone)]
pub struct Options {
    /// Collections (alias, published). Default: `[("root", true)]`.
    pub collections: Vec<(String, bool)>,
    /// `:FileFixityChecksumAlgorithm` (default MD5).
    pub checksum: ChecksumType,
    /// `:MaxFileUploadSizeInBytes` (unset: unlimited).
    pub max_file_bytes: Option<u64>,
    /// Direct upload offered with this part size (`dataverse.files.<id>.upload-redirect`,
    /// `min-part-size`); `None`: the store does not offer it.
    pub direct_upload: Option<u64>,
    /// PID protocol (`doi` default; `hdl`).
    pub protocol: String,
    /// PID authority (`10.5072`, the DataCite test prefix).
    pub authority: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            collections: vec![("root".to_owned(), true)],
            checksum: ChecksumType::Md5,
            max_file_bytes: None,
            direct_upload: None,
            protocol: "doi".to_owned(),
            authority: "10.5072".to_owned(),
        }
    }
}

/// A file as stored by the emulator.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The DataFile's database id.
    pub id: u64,
    pub label: String,
    pub directory_label: Option<String>,
    pub size: u64,
    /// Lower-case hex MD5 of the stored bytes (whatever checksum Dataverse reports).
    pub md5: String,
    /// What Dataverse reports: `MD5`, `SHA-1`, ...
    pub checksum_type: String,
    pub checksum_value: String,
    pub path: PathBuf,
    pub content_type: String,
    pub description: Option<String>,
}

/// A file's metadata inside one version (`FileMetadata`) with its DataFile.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    pub stored: StoredFile,
    pub categories: Vec<String>,
    pub restricted: bool,
    pub storage_identifier: String,
    pub created: String,
    /// Part of a released version: deleting it only removes it from the draft.
    pub released: bool,
}

/// One request as the emulator saw it; no header values that could hold a secret.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    /// The path with its query string.
    pub path: String,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) enum Fault {
    Status(u16),
    Saying(u16, String),
    Hang,
    Reset,
    RateLimited,
}

/// `DatasetLock`: reason, owner, date; held for `polls` more lock reads.
#[derive(Debug, Clone)]
pub(crate) struct Lock {
    pub reason: String,
    pub user: String,
    pub date: String,
    pub polls: usize,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub id: u64,
    /// The citation block's fields as validated (normalised values).
    pub fields: Vec<Value>,
    /// `(name, uri)` of an installed license; `None`: custom terms (all empty).
    pub license: Option<(String, String)>,
    /// Custom terms (`termsOfUse`), which stand in for a license when publishing.
    pub terms_of_use: Option<String>,
    pub files: Vec<FileEntry>,
    pub number: Option<(u64, u64)>,
    pub create_time: String,
    pub last_update: String,
    pub release_time: Option<String>,
}

/// A publication that completes when its lock is gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRelease {
    pub major: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Dataset {
    pub id: u64,
    /// `FK2/ABCDEF`.
    pub identifier: String,
    pub owner: String,
    pub collection: String,
    pub created: String,
    pub released: Vec<Version>,
    pub draft: Option<Version>,
    pub locks: Vec<Lock>,
    pub pending: Option<PendingRelease>,
    pub publication_date: Option<String>,
}

impl Dataset {
    /// The draft, made first from the latest released version when there is none
    /// (`CreateDatasetVersionCommand`: fields, terms and files carried over).
    pub fn ensure_draft(&mut self, version_id: u64, now: &str) -> &mut Version {
        let released = self.released.last();
        self.draft.get_or_insert_with(|| match released {
            Some(r) => Version {
                id: version_id,
                number: None,
                release_time: None,
                create_time: now.to_owned(),
                last_update: now.to_owned(),
                ..r.clone()
            },
            None => Version {
                id: version_id,
                fields: Vec::new(),
                license: None,
                terms_of_use: None,
                files: Vec::new(),
                number: None,
                create_time: now.to_owned(),
                last_update: now.to_owned(),
                release_time: None,
            },
        })
    }

    /// The latest version: the draft, else the last released one.
    pub fn latest(&self) -> Option<&Version> {
        self.draft.as_ref().or_else(|| self.released.last())
    }
}

/// An object put by direct upload (the emulated S3 store).
#[derive(Debug, Clone)]
pub(crate) struct StoreObject {
    pub dataset: u64,
    pub path: PathBuf,
    pub size: u64,
    pub md5: String,
    /// Completed (single PUT done, or multipart completed).
    pub complete: bool,
    /// Multipart: part count, part size, received parts (number → ETag md5 hex).
    pub multipart: Option<MultipartUpload>,
}

#[derive(Debug, Clone)]
pub(crate) struct MultipartUpload {
    pub upload_id: String,
    pub parts: u64,
    pub part_size: u64,
    pub received: BTreeMap<u64, String>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub options: Options,
    pub base_url: String,
    pub files_dir: PathBuf,
    /// token → user name.
    pub tokens: HashMap<String, String>,
    /// user name → AuthenticatedUser id.
    pub user_ids: HashMap<String, u64>,
    /// alias → published.
    pub collections: BTreeMap<String, bool>,
    pub datasets: BTreeMap<u64, Dataset>,
    /// The DvObject id sequence (datasets and files share it).
    pub next_id: u64,
    pub faults: VecDeque<(Option<(String, String)>, Fault)>,
    pub corrupt_uploads: usize,
    /// Next publishes answer 202 with a Workflow lock held this many polls.
    pub publish_workflow: Option<usize>,
    /// Next publishes answer 200 and finish asynchronously: a finalizePublication lock
    /// held this many polls.
    pub publish_finalize: Option<usize>,
    /// Polls an Ingest lock lasts after a tabular file is added.
    pub ingest_polls: usize,
    /// storage identifier → object.
    pub objects: HashMap<String, StoreObject>,
    pub down: bool,
    pub log: Vec<LoggedRequest>,
}

impl State {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}
