//! ownCloud's own PROPFIND properties on top of dav-server's `LocalFs`: `oc:fileid` and
//! `oc:checksums`, and the checksums behind the `OC-Checksum` download header.
//!
//! - `oc:fileid` is derived from the file's inode and birth time. ownCloud keeps a file's
//!   id when its content is updated in place (a PUT, the final MOVE of a chunked upload)
//!   and gives a new one on delete + create and on a MOVE over it (Sabre deletes the
//!   target first). An inode has exactly these semantics when writes go in place, which
//!   `LocalFs` does (it opens PUT targets with `truncate`, not a rename); the birth time
//!   tells a reused inode number from the old file.
//! - `oc:checksums` is ownCloud 10's form: one `<oc:checksum>` holding
//!   `SHA1:<hex> MD5:<hex> ADLER32:<hex>` (owncloud/core
//!   `lib/private/Files/Storage/Wrapper/Checksum.php`, `CHECKSUMS_DB_FORMAT`, serialized
//!   by `apps/dav/lib/Connector/Sabre/ChecksumList.php`). Hashes are cached per
//!   (inode, birth, size, mtime) so a large file is hashed once, not per request.
//!   Nextcloud computes none: it stores the `OC-Checksum` a client sent with the upload
//!   and clears it when the file is written without one (nextcloud/server
//!   `apps/dav/lib/Connector/Sabre/File.php::put`); [`Reported::ClientSent`] does that.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsStream,
    OpenOptions, ReadDirMeta,
};
use dav_server::localfs::LocalFs;
use sha1::Digest as _;
use tokio::sync::OnceCell;

const OC_NS: &str = "http://owncloud.org/ns";

/// The checksums ownCloud 10 computes for every stored file (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sums {
    pub sha1: String,
    pub md5: String,
    pub adler32: String,
}

impl Sums {
    /// `SHA1:<hex> MD5:<hex> ADLER32:<hex>`, as ownCloud stores and reports them.
    pub fn oc_list(&self) -> String {
        format!(
            "SHA1:{} MD5:{} ADLER32:{}",
            self.sha1, self.md5, self.adler32
        )
    }

    /// The checksums of the files' contents one after the other.
    pub fn of_files(paths: &[PathBuf]) -> std::io::Result<Self> {
        let (mut sha1, mut md5) = (sha1::Sha1::new(), md5::Md5::new());
        let mut adler = adler2::Adler32::new();
        let mut buf = vec![0u8; 1 << 20];
        for path in paths {
            let mut file = std::fs::File::open(path)?;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                sha1.update(&buf[..n]);
                md5.update(&buf[..n]);
                adler.write_slice(&buf[..n]);
            }
        }
        Ok(Self {
            sha1: hex::encode(sha1.finalize()),
            md5: hex::encode(md5.finalize()),
            adler32: format!("{:08x}", adler.checksum()),
        })
    }
}

/// Which checksums the server reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reported {
    /// ownCloud 10: SHA1, MD5 and ADLER32 of the stored content.
    #[default]
    Computed,
    /// Nextcloud: the `OC-Checksum` the client sent with the upload, if any.
    ClientSent,
}

/// What identifies a version of a file's content.
type ContentKey = (u64, Option<SystemTime>, u64, i64, i64);

async fn content_key(path: &Path) -> Option<ContentKey> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    meta.is_file().then(|| {
        (
            meta.ino(),
            meta.created().ok(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        )
    })
}

/// Checksums being computed, or computed (`None`: the file could not be read).
type Hashed = OnceCell<Option<Sums>>;

/// The checksums the server reports for its files.
#[derive(Clone, Default)]
pub struct Checksums {
    reported: Reported,
    /// Computed checksums by content version: a large file is hashed once, however many
    /// requests ask at the same time (ownCloud hashes on upload, so none waits long).
    computed: Arc<Mutex<HashMap<ContentKey, Arc<Hashed>>>>,
    /// Client-sent checksums, valid while the content version is the one stored with.
    sent: Arc<Mutex<HashMap<PathBuf, (ContentKey, String)>>>,
}

impl Checksums {
    pub fn new(reported: Reported) -> Self {
        Self {
            reported,
            ..Self::default()
        }
    }

    /// The `ALGO:hex` items reported for the regular file at `path`, space-separated.
    pub async fn list(&self, path: PathBuf) -> Option<String> {
        let key = content_key(&path).await?;
        match self.reported {
            Reported::Computed => Some(self.computed(path, key).await?.oc_list()),
            Reported::ClientSent => {
                let sent = self.sent.lock().ok()?;
                sent.get(&path)
                    .filter(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            }
        }
    }

    /// The `OC-Checksum` of a download: the SHA1 item (FilesPlugin::httpGet).
    pub async fn sha1_header(&self, path: PathBuf) -> Option<String> {
        let list = self.list(path).await?;
        list.split_whitespace()
            .find(|i| i.starts_with("SHA1:"))
            .map(str::to_owned)
    }

    /// After an upload to `path`: what the client sent in `OC-Checksum`, if anything.
    pub async fn uploaded(&self, path: &Path, client_sent: Option<&str>) {
        if self.reported != Reported::ClientSent {
            return;
        }
        let key = content_key(path).await;
        if let Ok(mut sent) = self.sent.lock() {
            match (key, client_sent) {
                (Some(key), Some(v)) => {
                    sent.insert(path.to_path_buf(), (key, v.trim().to_owned()));
                }
                _ => {
                    sent.remove(path);
                }
            }
        }
    }

    async fn computed(&self, path: PathBuf, key: ContentKey) -> Option<Sums> {
        let cell = Arc::clone(self.computed.lock().ok()?.entry(key).or_default());
        cell.get_or_init(|| async move {
            tokio::task::spawn_blocking(move || Sums::of_files(&[path]).ok())
                .await
                .ok()
                .flatten()
        })
        .await
        .clone()
    }
}

/// The `oc:fileid` of what is at `path`: stable across in-place writes, new for a new inode.
pub fn file_id(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut h = DefaultHasher::new();
    (meta.ino(), meta.created().ok()).hash(&mut h);
    // ownCloud's ids are positive integers; keep ours in the range of a JSON number.
    Some((h.finish() >> 11).to_string())
}

/// `LocalFs` plus the two ownCloud properties (every other call is passed through).
#[derive(Clone)]
pub struct OcFs {
    inner: Box<LocalFs>,
    root: PathBuf,
    checksums: Checksums,
}

impl OcFs {
    pub fn new(root: &Path, checksums: Checksums) -> Box<Self> {
        Box::new(Self {
            inner: LocalFs::new(root, false, false, false),
            root: root.to_path_buf(),
            checksums,
        })
    }

    fn local(&self, path: &DavPath) -> PathBuf {
        self.root.join(path.as_rel_ospath())
    }
}

fn element(name: &str, inner: &str) -> Vec<u8> {
    format!("<oc:{name} xmlns:oc=\"{OC_NS}\">{inner}</oc:{name}>").into_bytes()
}

impl DavFileSystem for OcFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        self.inner.open(path, options)
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        self.inner.read_dir(path, meta)
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        self.inner.metadata(path)
    }

    fn symlink_metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        self.inner.symlink_metadata(path)
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.inner.create_dir(path)
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.inner.remove_dir(path)
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.inner.remove_file(path)
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.inner.rename(from, to)
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.inner.copy(from, to)
    }

    fn set_modified<'a>(&'a self, path: &'a DavPath, tm: SystemTime) -> FsFuture<'a, ()> {
        self.inner.set_modified(path, tm)
    }

    fn get_quota(&self) -> FsFuture<'_, (u64, Option<u64>)> {
        self.inner.get_quota()
    }

    fn have_props<'a>(
        &'a self,
        _path: &'a DavPath,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        Box::pin(std::future::ready(true))
    }

    /// Nothing beyond what is asked for by name (ownCloud's `allprop` lists neither).
    fn get_props<'a>(
        &'a self,
        _path: &'a DavPath,
        _do_content: bool,
    ) -> FsFuture<'a, Vec<DavProp>> {
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        Box::pin(async move {
            if prop.namespace.as_deref() != Some(OC_NS) {
                return Err(FsError::NotFound);
            }
            let local = self.local(path);
            match prop.name.as_str() {
                "fileid" => file_id(&local)
                    .map(|id| element("fileid", &id))
                    .ok_or(FsError::NotFound),
                "checksums" => self
                    .checksums
                    .list(local)
                    .await
                    .map(|list| element("checksums", &format!("<oc:checksum>{list}</oc:checksum>")))
                    .ok_or(FsError::NotFound),
                _ => Err(FsError::NotFound),
            }
        })
    }
}
