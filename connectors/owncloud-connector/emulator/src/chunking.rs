//! The chunked-upload endpoint, `/remote.php/dav/uploads/{user}/{transfer-id}/...`, as
//! ownCloud 10 ("chunking NG") and Nextcloud ("chunking v2") serve it. Written from
//! owncloud/core `apps/dav/lib/Upload/` (UploadHome, UploadFolder, FutureFile,
//! ChunkingPlugin, AssemblyStream), nextcloud/server `apps/dav/lib/Upload/`
//! (ChunkingV2Plugin, ChunkingPlugin) and the Nextcloud developer manual, "Chunked file
//! upload" (`developer_manual/client_apis/WebDAV/chunking.rst`). Each rule names its source.
//!
//! Chunks are kept in a private folder (never under the served root); the final
//! `MOVE .../.file` writes them into the destination in place, so an existing file keeps
//! its inode and so its `oc:fileid` (as `ChunkingPlugin::performMove` keeps the file id by
//! not deleting the target first).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use http::{Request, StatusCode};
use hyper::body::Incoming;

use super::props::Sums;
use super::{empty, flip_byte, receive_into, sabre_error, Dropped, FaultKind, Resp, State};

/// Where chunked uploads are served.
pub const UPLOADS_ROOT: &str = "/remote.php/dav/uploads";

const MIB: u64 = 1024 * 1024;

/// Which server's chunked-upload rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunking {
    /// Nextcloud: an upload whose `MKCOL` carries `Destination` follows chunking v2's
    /// rules (numbered chunks 1–10000, 5 MiB–5 GiB except the last, `Destination` on
    /// every request); one without follows v1 (any names, assembled in name order).
    #[default]
    NextcloudV2,
    /// ownCloud 10's chunking NG: any chunk names, assembled in natural name order,
    /// `OC-Checksum` on the final MOVE verified against the assembled file.
    OwncloudNg,
    /// A server without the endpoint (ownCloud < 10): everything there is 404.
    Unsupported,
}

struct Upload {
    /// Chunking v2 rules apply (Nextcloud, `Destination` given at MKCOL).
    v2: bool,
}

/// The uploads in progress, by transfer id.
pub(super) struct Uploads {
    dir: tempfile::TempDir,
    open: Mutex<HashMap<String, Upload>>,
}

impl Uploads {
    pub(super) fn new() -> std::io::Result<Self> {
        Ok(Self {
            dir: tempfile::tempdir()?,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Transfer ids whose upload folder exists.
    pub(super) fn folders(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.dir.path())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    fn folder(&self, id: &str) -> PathBuf {
        self.dir.path().join(id)
    }

    fn is_v2(&self, id: &str) -> bool {
        self.open
            .lock()
            .map(|m| m.get(id).is_some_and(|u| u.v2))
            .unwrap_or(false)
    }
}

fn not_found(what: &str) -> Resp {
    sabre_error(404, "Sabre\\DAV\\Exception\\NotFound", what)
}

fn bad_request(what: &str) -> Resp {
    sabre_error(400, "Sabre\\DAV\\Exception\\BadRequest", what)
}

fn forbidden(what: &str) -> Resp {
    sabre_error(403, "Sabre\\DAV\\Exception\\Forbidden", what)
}

fn status(code: u16) -> Resp {
    let mut resp = empty();
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    resp
}

pub(super) fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A transfer id or chunk name: one path segment, nothing that climbs out.
fn plain_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// `rest` is the path after [`UPLOADS_ROOT`], still percent-encoded.
pub(super) async fn handle(
    state: &State,
    req: Request<Incoming>,
    rest: &str,
    fault: Option<FaultKind>,
) -> Result<Resp, Dropped> {
    if state.chunking == Chunking::Unsupported {
        return Ok(not_found("File not found: uploads in root"));
    }
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    // The upload home belongs to a principal: Sabre's AbstractPrincipalCollection::getChild
    // answers NotFound for a principal it does not know (we serve one user).
    match segs.first() {
        Some(user) if *user == state.user => {}
        Some(user) => return Ok(not_found(&format!("Principal with name {user} not found"))),
        None => return Ok(forbidden("Permission denied")),
    }
    if !segs.iter().skip(1).all(|s| plain_segment(s)) {
        return Ok(bad_request("invalid name"));
    }
    let method = req.method().as_str().to_owned();
    match (method.as_str(), &segs[1..]) {
        ("MKCOL", [id]) => Ok(mkcol(state, &req, id)),
        // UploadFolder::createDirectory: "Permission denied to create file".
        ("MKCOL", [_, _, ..]) => Ok(forbidden("Permission denied to create a folder here")),
        // UploadHome::createFile: no files directly in the upload home.
        ("PUT", [_]) => Ok(forbidden("Permission denied to create file")),
        // FutureFile::put: "Permission denied to put into this file".
        ("PUT", [_, name]) if name == ".file" => {
            Ok(forbidden("Permission denied to put into this file"))
        }
        ("PUT", [id, name]) => put_chunk(state, req, id, name).await,
        ("MOVE", [id, name]) if name == ".file" => assemble(state, &req, id, fault).await,
        ("DELETE", [id]) => Ok(abort(state, id)),
        _ => Ok(sabre_error(
            501,
            "Sabre\\DAV\\Exception\\NotImplemented",
            "not served by this test server",
        )),
    }
}

fn mkcol(state: &State, req: &Request<Incoming>, id: &str) -> Resp {
    let folder = state.uploads.folder(id);
    // Sabre's MKCOL on an existing node: 405 MethodNotAllowed.
    if folder.exists() {
        return sabre_error(
            405,
            "Sabre\\DAV\\Exception\\MethodNotAllowed",
            "The resource you tried to create already exists",
        );
    }
    if std::fs::create_dir(&folder).is_err() {
        return sabre_error(
            500,
            "Sabre\\DAV\\Exception",
            "cannot create the upload folder",
        );
    }
    // ChunkingV2Plugin::afterMkcol starts a v2 upload only when `Destination` is sent.
    let v2 = state.chunking == Chunking::NextcloudV2 && header(req, "Destination").is_some();
    if let Ok(mut open) = state.uploads.open.lock() {
        open.insert(id.to_owned(), Upload { v2 });
    }
    status(201)
}

async fn put_chunk(
    state: &State,
    req: Request<Incoming>,
    id: &str,
    name: &str,
) -> Result<Resp, Dropped> {
    let folder = state.uploads.folder(id);
    if !folder.is_dir() {
        return Ok(not_found("upload folder not found"));
    }
    if state.uploads.is_v2(id) {
        // Nextcloud manual: "The MKCOL, chunk PUT, and final MOVE requests need to have a
        // Destination header".
        if header(&req, "Destination").is_none() {
            return Ok(bad_request(
                "Skipping chunked file writing as the destination header was not passed",
            ));
        }
        // ChunkingV2Plugin::beforePut.
        if !name.parse::<u32>().is_ok_and(|n| (1..=10000).contains(&n)) {
            return Ok(bad_request(
                "Invalid chunk name, must be numeric between 1 and 10000",
            ));
        }
    }
    let target = folder.join(name);
    let existed = target.exists();
    // Received into a part file first: a broken-off chunk leaves nothing behind.
    let part = folder.join(format!(".{name}.part"));
    if let Err(e) = receive_into(req.into_body(), &part).await {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    tokio::fs::rename(&part, &target).await?;
    Ok(status(if existed { 204 } else { 201 }))
}

/// Chunk names in assembly order: numeric for v2 (ChunkingV2Plugin: "assembled in the
/// order of their names", which are numbers); natural order for ownCloud's
/// AssemblyStream (`strnatcmp`), approximated by comparing digit runs as numbers.
fn ordered_chunks(folder: &Path) -> std::io::Result<Vec<(String, u64)>> {
    let mut chunks = Vec::new();
    for e in std::fs::read_dir(folder)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        chunks.push((name, e.metadata()?.len()));
    }
    chunks.sort_by_key(|c| natural_key(&c.0));
    Ok(chunks)
}

fn natural_key(name: &str) -> Vec<(u8, u128, String)> {
    let mut key = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            key.push((
                0,
                rest[..digits].parse().unwrap_or(u128::MAX),
                String::new(),
            ));
            rest = &rest[digits..];
        } else {
            let text = rest.len() - rest.trim_start_matches(|c: char| !c.is_ascii_digit()).len();
            key.push((1, 0, rest[..text].to_owned()));
            rest = &rest[text..];
        }
    }
    key
}

async fn assemble(
    state: &State,
    req: &Request<Incoming>,
    id: &str,
    fault: Option<FaultKind>,
) -> Result<Resp, Dropped> {
    let folder = state.uploads.folder(id);
    if !folder.is_dir() {
        return Ok(not_found("upload folder not found"));
    }
    // Sabre CorePlugin::getCopyAndMoveInfo: a MOVE needs a Destination.
    let Some(dest) = header(req, "Destination") else {
        return Ok(bad_request("The destination header was not found"));
    };
    let Some(target) = state.local_target(dest) else {
        return Ok(sabre_error(
            502,
            "Sabre\\DAV\\Exception\\BadGateway",
            "The destination is not served by this server",
        ));
    };
    // Sabre: the destination's parent must exist (409 Conflict).
    if !target.parent().is_some_and(Path::is_dir) {
        return Ok(sabre_error(
            409,
            "Sabre\\DAV\\Exception\\Conflict",
            "The destination node is not found",
        ));
    }
    if target.is_dir() {
        return Ok(sabre_error(
            409,
            "Sabre\\DAV\\Exception\\Conflict",
            "The destination is a folder",
        ));
    }
    let existed = target.exists();
    // Sabre CorePlugin::getCopyAndMoveInfo: `Overwrite: F` onto an existing node is 412.
    if existed && header(req, "Overwrite").is_some_and(|o| o.eq_ignore_ascii_case("F")) {
        return Ok(sabre_error(
            412,
            "Sabre\\DAV\\Exception\\PreconditionFailed",
            "The destination node already exists, and the overwrite header is set to false",
        ));
    }
    let chunks = ordered_chunks(&folder)?;
    let total: u64 = chunks.iter().map(|c| c.1).sum();
    // ChunkingPlugin::verifySize (ownCloud and Nextcloud v1): OC-Total-Length must match.
    if let Some(expected) = header(req, "OC-Total-Length") {
        if expected.parse::<u64>().ok() != Some(total) {
            return Ok(bad_request(&format!(
                "Chunks on server do not sum up to {expected} but to {total}"
            )));
        }
    }
    if state.uploads.is_v2(id) {
        if header(req, "Destination").is_none() {
            return Ok(bad_request("the destination header was not passed"));
        }
        // Nextcloud manual: "The size of chunks must be between 5MB and 5GB (except for
        // the last chunk, which can be smaller)" (the S3 multipart limits that v2 maps to).
        let last = chunks.len().saturating_sub(1);
        for (i, (name, len)) in chunks.iter().enumerate() {
            if *len > 5 * 1024 * MIB || (i < last && *len < 5 * MIB) {
                return Ok(bad_request(&format!(
                    "chunk {name} has {len} bytes; chunks must be 5 MiB to 5 GiB except the last"
                )));
            }
        }
    }
    let paths: Vec<PathBuf> = chunks.iter().map(|(n, _)| folder.join(n)).collect();
    let client_checksum = header(req, "OC-Checksum").map(str::to_owned);
    let expected_checksum = client_checksum.clone();
    let verify = state.chunking == Chunking::OwncloudNg;
    let target2 = target.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        // ownCloud File::put + isChecksumValid: a given OC-Checksum must be among the
        // checksums of the assembled content, else 400 and the target stays as it was.
        if let (true, Some(expected)) = (verify, expected_checksum) {
            if !Sums::of_files(&paths)?.oc_list().contains(&expected) {
                return Ok(false);
            }
        }
        // In place: the target's inode (and so its fileid) survives.
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&target2)?;
        for p in &paths {
            std::io::copy(&mut std::fs::File::open(p)?, &mut out)?;
        }
        out.flush()?;
        Ok::<_, std::io::Error>(true)
    })
    .await
    .map_err(|e| Dropped(e.to_string()))??;
    if !outcome {
        return Ok(bad_request(
            "The computed checksum does not match the one received from the client.",
        ));
    }
    state
        .checksums
        .uploaded(&target, client_checksum.as_deref())
        .await;
    if fault == Some(FaultKind::FlipStored) {
        flip_byte(&target)?;
    }
    // Nextcloud manual: "The chunks and the temporary upload folder will be deleted
    // afterwards" (ChunkingV2Plugin::beforeMove deletes the upload folder).
    abort(state, id);
    // ChunkingV2Plugin::beforeMove: 204 onto an existing file, 201 for a new one.
    Ok(status(if existed { 204 } else { 201 }))
}

/// DELETE of the upload folder (the documented abort); 404 when there is none.
fn abort(state: &State, id: &str) -> Resp {
    if let Ok(mut open) = state.uploads.open.lock() {
        open.remove(id);
    }
    match std::fs::remove_dir_all(state.uploads.folder(id)) {
        Ok(()) => status(204),
        Err(_) => not_found("upload folder not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_sorts_numbers_as_numbers() {
        let mut names = vec!["10", "2", "1", "chunk-10", "chunk-9"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["1", "2", "10", "chunk-9", "chunk-10"]);
    }
}
