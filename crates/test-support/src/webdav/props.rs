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

type CacheKey = (u64, Option<SystemTime>, u64, i64, i64);

/// Checksums of the served files, cached by what changes when the content does.
#[derive(Clone, Default)]
pub struct ChecksumCache(Arc<Mutex<HashMap<CacheKey, Sums>>>);

impl ChecksumCache {
    /// The checksums of the regular file at `path` (`None` for folders and missing files).
    pub async fn get(&self, path: PathBuf) -> Option<Sums> {
        let meta = tokio::fs::metadata(&path).await.ok()?;
        if !meta.is_file() {
            return None;
        }
        let key = (
            meta.ino(),
            meta.created().ok(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        );
        if let Some(s) = self.0.lock().ok()?.get(&key) {
            return Some(s.clone());
        }
        let sums = tokio::task::spawn_blocking(move || Sums::of_files(&[path]))
            .await
            .ok()?
            .ok()?;
        self.0.lock().ok()?.insert(key, sums.clone());
        Some(sums)
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
    checksums: ChecksumCache,
}

impl OcFs {
    pub fn new(root: &Path, checksums: ChecksumCache) -> Box<Self> {
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
                    .get(local)
                    .await
                    .map(|s| {
                        element(
                            "checksums",
                            &format!("<oc:checksum>{}</oc:checksum>", s.oc_list()),
                        )
                    })
                    .ok_or(FsError::NotFound),
                _ => Err(FsError::NotFound),
            }
        })
    }
}
