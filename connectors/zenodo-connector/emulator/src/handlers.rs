//! The emulated routes of Zenodo's legacy deposit API and bucket (files) API.

// Early answers travel as `Err(HttpResponse)`: simple, and size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use md5::{Digest as _, Md5};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use tokio::io::AsyncWriteExt as _;

use super::rules::{
    access_refusal, default_license, load_license, sanitize_description, sanitize_unicode,
    unknown_resource_type, VALIDATION_MESSAGE,
};
use super::state::{
    iso_timestamp, now_secs, validate_for_publish, validate_metadata_types, Deposition, State,
    StoredFile,
};
use super::MAX_FILES;

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(st: &Shared) -> MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|p| p.into_inner())
}

/// Zenodo's error body: `{"status": N, "message": "..."}`.
pub(crate) fn error(status: u16, message: &str) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({ "status": status, "message": message }))
}

fn validation(errors: Vec<Value>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "status": 400,
        "message": VALIDATION_MESSAGE,
        "errors": errors,
    }))
}

/// The metadata of a create/update as the legacy deserializer loads it (`rules`): field
/// errors first (the schema's fields), then the access right (a `post_load`), then the
/// upload type's vocabulary id; what passes is stored as zenodo.org stores it (license
/// as read back, description sanitised, default license filled).
fn load_metadata(mut md: Map<String, Value>) -> Result<Map<String, Value>, HttpResponse> {
    let mut errors = validate_metadata_types(&md);
    let license = match md.get("license") {
        Some(l) => load_license(l).map_err(|e| errors.push(e)).ok(),
        None => default_license(&md).and_then(|d| load_license(&json!(d)).ok()),
    };
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    if let Some(e) = access_refusal(&md) {
        return Err(validation(vec![e]));
    }
    if unknown_resource_type(&md).is_some() {
        return Err(error(400, "Not a valid value."));
    }
    if let Some(l) = license {
        md.insert("license".into(), Value::String(l));
    }
    if let Some(Value::String(t)) = md.get_mut("title") {
        *t = sanitize_unicode(t);
    }
    if let Some(Value::String(d)) = md.get_mut("description") {
        *d = sanitize_description(d);
    }
    Ok(md)
}

/// Bearer header or `access_token` query. No token: 403 (live; the docs say 401).
/// An unknown token: 401.
fn authenticate(req: &HttpRequest, st: &State) -> Result<String, HttpResponse> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("access_token").cloned());
    let Some(token) = header.or(query) else {
        return Err(error(
            403,
            "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
        ));
    };
    st.tokens.get(&token).cloned().ok_or_else(|| {
        error(
            401,
            "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
        )
    })
}

/// Finds a deposition of `owner`: unknown → 404, someone else's → 403.
fn find<'a>(st: &'a mut State, owner: &str, id: &str) -> Result<&'a mut Deposition, HttpResponse> {
    let not_found = || error(404, "PID does not exist.");
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let dep = st.depositions.get_mut(&id).ok_or_else(not_found)?;
    if dep.owner != owner {
        return Err(error(
            403,
            "You don't have the permission to access the requested resource.",
        ));
    }
    Ok(dep)
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(resp) => return resp,
        }
    };
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

/// The `metadata` object of a create/update body.
fn metadata_of(body: &[u8], required: bool) -> Result<Map<String, Value>, HttpResponse> {
    let bad = |m: &str| error(400, m);
    if body.iter().all(u8::is_ascii_whitespace) {
        return if required {
            Err(bad("Missing metadata."))
        } else {
            Ok(Map::new())
        };
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("Invalid JSON."))?;
    // zenodo-rdm `legacy/deserializers/schemas.py`: `LegacySchema` has `unknown = RAISE`
    // and the fields `metadata` and `files` (its test_rest_api_metadata.py
    // `test_invalid_create`); marshmallow's message.
    if let Some(o) = v.as_object() {
        let unknown: Vec<Value> = o
            .keys()
            .filter(|k| !matches!(k.as_str(), "metadata" | "files"))
            .map(|k| super::rules::field_error(k, "Unknown field."))
            .collect();
        if !unknown.is_empty() {
            return Err(validation(unknown));
        }
    }
    match v.get("metadata") {
        None | Some(Value::Null) if !required => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(bad("Missing or invalid metadata object.")),
    }
}

pub(crate) async fn list(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let q = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let page: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = q.get("size").and_then(|p| p.parse().ok()).unwrap_or(10);
    if size == 0 || size > 100 {
        return error(400, "Invalid page size: at most 100.");
    }
    let status = q.get("status").map(String::as_str);
    // Newest first, like Zenodo's default `mostrecent` sort.
    let mine: Vec<Value> = st
        .depositions
        .values()
        .rev()
        .filter(|d| d.owner == owner)
        .filter(|d| match status {
            Some("draft") => !d.submitted,
            Some("published") => d.submitted,
            _ => true,
        })
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|d| st.deposition_json(d))
        .collect();
    HttpResponse::Ok().json(mine)
}

pub(crate) async fn create(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    if !is_json(&req) {
        return error(415, "Unsupported media type: send application/json.");
    }
    let metadata = tri!(metadata_of(&body, false));
    let metadata = tri!(load_metadata(metadata));
    st.next_id += 2;
    let id = st.next_id;
    let n = st.owners.len() as u64 + 1;
    let owner_num = *st.owners.entry(owner.clone()).or_insert(n);
    let now = iso_timestamp(now_secs());
    let bucket = format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        id.wrapping_mul(2_246_822_519) & 0xffff_ffff,
        id & 0xffff,
        id
    );
    let dep = Deposition {
        id,
        conceptrecid: id - 1,
        owner,
        owner_num,
        created: now.clone(),
        modified: now,
        metadata,
        state: "unsubmitted",
        submitted: false,
        doi: None,
        bucket,
        files: Vec::new(),
    };
    let v = st.deposition_json(&dep);
    st.depositions.insert(id, dep);
    HttpResponse::Created().json(v)
}

pub(crate) async fn get(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id)).clone();
    HttpResponse::Ok().json(st.deposition_json(&dep))
}

pub(crate) async fn update(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    if !is_json(&req) {
        return error(415, "Unsupported media type: send application/json.");
    }
    let mut metadata = tri!(metadata_of(&body, true));
    // Server-managed keys are not the user's to set.
    metadata.remove("prereserve_doi");
    metadata.remove("doi");
    let metadata = tri!(load_metadata(metadata));
    let dep = tri!(find(&mut st, &owner, &id));
    if dep.submitted {
        return error(403, "Deposition is published: use the edit action first.");
    }
    // PUT replaces the whole metadata object.
    dep.metadata = metadata;
    dep.modified = iso_timestamp(now_secs());
    let dep = dep.clone();
    HttpResponse::Ok().json(st.deposition_json(&dep))
}

pub(crate) async fn delete(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id));
    // Live: a published record is no draft any more → 404 (the docs say 403).
    if dep.submitted {
        return error(404, "PID does not exist.");
    }
    let num = dep.id;
    if let Some(dep) = st.depositions.remove(&num) {
        for f in dep.files {
            let _ = std::fs::remove_file(&f.path);
        }
    }
    // Live: 204 (the docs say 201).
    HttpResponse::NoContent().finish()
}

pub(crate) async fn publish(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id));
    if dep.submitted {
        return error(400, "Deposition is already published.");
    }
    let errors = validate_for_publish(dep);
    if !errors.is_empty() {
        return validation(errors);
    }
    dep.submitted = true;
    dep.state = "done";
    dep.doi = Some(State::prereserved_doi(dep.id));
    dep.modified = iso_timestamp(now_secs());
    let dep = dep.clone();
    HttpResponse::Accepted().json(st.deposition_json(&dep))
}

pub(crate) async fn list_files(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id)).clone();
    let files: Vec<Value> = dep.files.iter().map(|f| st.file_json(&dep, f)).collect();
    HttpResponse::Ok().json(files)
}

pub(crate) async fn get_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, file_id) = path.into_inner();
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id)).clone();
    match dep.files.iter().find(|f| f.id == file_id) {
        Some(f) => HttpResponse::Ok().json(st.file_json(&dep, f)),
        None => error(404, "File does not exist."),
    }
}

pub(crate) async fn delete_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, file_id) = path.into_inner();
    let mut st = lock(&st);
    let owner = tri!(authenticate(&req, &st));
    let dep = tri!(find(&mut st, &owner, &id));
    if dep.submitted {
        return error(403, "Files of a published deposition cannot be deleted.");
    }
    match dep.files.iter().position(|f| f.id == file_id) {
        Some(i) => {
            let f = dep.files.remove(i);
            let _ = std::fs::remove_file(&f.path);
            HttpResponse::NoContent().finish()
        }
        None => error(404, "File does not exist."),
    }
}

/// Streams a body to `path`, hashing as it goes; `limit` cuts it off (→ `Err(true)`).
struct Written {
    size: u64,
    md5: String,
    sha256: String,
}

impl Written {
    fn into_file(self, id: String, key: String, path: PathBuf) -> StoredFile {
        StoredFile {
            id,
            mimetype: mimetype(&key),
            key,
            size: self.size,
            md5: self.md5,
            sha256: self.sha256,
            path,
        }
    }
}

/// With `corrupt`, the middle byte of what arrives is flipped before it is stored and
/// hashed: the checksum then describes the stored copy, as a store that corrupts does.
async fn write_stream<S, E>(
    path: &Path,
    mut body: S,
    limit: u64,
    corrupt: bool,
) -> Result<Written, bool>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
{
    let mut corrupt_at = corrupt.then_some(limit / 2);
    let mut file = tokio::fs::File::create(path).await.map_err(|_| false)?;
    let (mut md5, mut sha) = (Md5::new(), Sha256::new());
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| false)?;
        size += chunk.len() as u64;
        if size > limit {
            drop(file);
            let _ = tokio::fs::remove_file(path).await;
            return Err(true);
        }
        let start = size - chunk.len() as u64;
        let chunk = match corrupt_at.filter(|&at| at >= start && at < size) {
            Some(at) => {
                corrupt_at = None;
                let mut owned = chunk.to_vec();
                owned[(at - start) as usize] ^= 0x01;
                web::Bytes::from(owned)
            }
            None => chunk,
        };
        md5.update(&chunk);
        sha.update(&chunk);
        file.write_all(&chunk).await.map_err(|_| false)?;
    }
    file.flush().await.map_err(|_| false)?;
    Ok(Written {
        size,
        md5: hex::encode(md5.finalize()),
        sha256: hex::encode(sha.finalize()),
    })
}

fn new_blob_path(st: &mut State) -> (PathBuf, String) {
    let id = st.new_file_id();
    (st.files_dir.join(&id), id)
}

/// Adds or replaces (same name) a file of a deposition.
fn store(dep: &mut Deposition, file: StoredFile) -> Result<(), HttpResponse> {
    if let Some(old) = dep.files.iter_mut().find(|f| f.key == file.key) {
        let _ = std::fs::remove_file(&old.path);
        *old = file;
        return Ok(());
    }
    if let Err(resp) = room_for_another(dep, &file.key) {
        let _ = std::fs::remove_file(&file.path);
        return Err(resp);
    }
    dep.files.push(file);
    Ok(())
}

/// invenio-records-resources `services/files/components/metadata.py` (`init_files`): a new
/// key beyond `max_files_count` is `FilesCountExceededException`, answered 400 with the
/// handler's fixed message (`resources/errors.py`). Replacing a key adds none (the
/// legacy `_create_or_update_file` deletes the old one first).
fn room_for_another(dep: &Deposition, key: &str) -> Result<(), HttpResponse> {
    if dep.files.len() >= MAX_FILES && !dep.files.iter().any(|f| f.key == key) {
        return Err(error(
            400,
            "Uploading selected files will result in exceeding the max amount per record.",
        ));
    }
    Ok(())
}

/// invenio-files-rest `Bucket.size_limit` / `limiters.py`: the smaller of the quota left
/// ("Bucket quota exceeded.") and the largest file ("Maximum file size exceeded."), the
/// quota winning a tie; a declared length above it is `FileSizeError`, 400 with that
/// reason (invenio-records-resources `services/files/transfer/base.py`). A file replaced
/// under the same key frees its size first.
fn size_limit(st: &State, dep: &Deposition, key: &str) -> (u64, &'static str) {
    let used: u64 = dep
        .files
        .iter()
        .filter(|f| f.key != key)
        .map(|f| f.size)
        .sum();
    let quota_left = st.bucket_quota.saturating_sub(used);
    if quota_left <= st.max_file_size {
        (quota_left, "Bucket quota exceeded.")
    } else {
        (st.max_file_size, "Maximum file size exceeded.")
    }
}

fn mimetype(name: &str) -> String {
    match name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if e == "txt" => "text/plain".into(),
        Some(e) if e == "json" => "application/json".into(),
        Some(e) if e == "zip" => "application/zip".into(),
        Some(e) if e == "csv" => "text/csv".into(),
        _ => "application/octet-stream".into(),
    }
}

/// What a bucket call does: reading is allowed after publishing, writing is not.
#[derive(PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The deposition whose bucket is `bucket`, if the caller owns it: 404 for an unknown
/// bucket, 403 for another user's, and 403 for a write once the record is published
/// (its bucket is locked).
fn bucket_of<'a>(
    req: &HttpRequest,
    g: &'a mut State,
    bucket: &str,
    access: Access,
) -> Result<&'a mut Deposition, HttpResponse> {
    let owner = authenticate(req, g)?;
    let Some(dep) = g.depositions.values_mut().find(|d| d.bucket == bucket) else {
        return Err(error(404, "Bucket does not exist."));
    };
    if dep.owner != owner {
        return Err(error(
            403,
            "You don't have the permission to access the requested resource.",
        ));
    }
    if access == Access::Write && dep.submitted {
        return Err(error(403, "Bucket is locked: the record is published."));
    }
    Ok(dep)
}

/// `PUT /api/files/{bucket}/{key}`: the raw body is the file. Needs `Content-Length`:
/// a chunked body is refused with 400 (zenodo/zenodo#1986).
pub(crate) async fn bucket_put(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (bucket, key) = path.into_inner();
    let (blob, file_id, dep_id, corrupt, limit) = {
        let mut g = lock(&st);
        let dep = tri!(bucket_of(&req, &mut g, &bucket, Access::Write)).clone();
        tri!(room_for_another(&dep, &key));
        let limit = size_limit(&g, &dep, &key);
        let (blob, file_id) = new_blob_path(&mut g);
        let corrupt = g.corrupt_uploads > 0;
        g.corrupt_uploads = g.corrupt_uploads.saturating_sub(1);
        (blob, file_id, dep.id, corrupt, limit)
    };
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(declared) = declared else {
        return error(400, "File is smaller than expected.");
    };
    if declared > limit.0 {
        return error(400, limit.1);
    }
    if key.is_empty() || key.contains('/') {
        return error(400, "Invalid file name.");
    }
    let written = match write_stream(&blob, payload, declared, corrupt).await {
        Ok(w) => w,
        Err(true) => return error(400, "File is larger than expected."),
        Err(false) => {
            let _ = tokio::fs::remove_file(&blob).await;
            return error(400, "File is smaller than expected.");
        }
    };
    if written.size != declared {
        let _ = tokio::fs::remove_file(&blob).await;
        return error(400, "File is smaller than expected.");
    }
    let file = written.into_file(file_id, key, blob.clone());
    let mut g = lock(&st);
    let Some(dep) = g.depositions.get_mut(&dep_id) else {
        let _ = std::fs::remove_file(&blob);
        return error(404, "Bucket does not exist.");
    };
    tri!(store(dep, file.clone()));
    dep.modified = iso_timestamp(now_secs());
    let dep = dep.clone();
    HttpResponse::Created().json(g.bucket_object_json(&dep, &file))
}

/// `POST /api/deposit/depositions/{id}/files`, multipart `name` + `file`: the legacy
/// upload, limited to 100 MB (413 above).
pub(crate) async fn legacy_upload(
    req: HttpRequest,
    id: web::Path<String>,
    mut form: Multipart,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (limit, quota, blob, file_id, dep_id) = {
        let mut g = lock(&st);
        let owner = tri!(authenticate(&req, &g));
        let dep = tri!(find(&mut g, &owner, &id));
        if dep.submitted {
            return error(403, "Bucket is locked: the record is published.");
        }
        let dep = dep.clone();
        // The key is known only once the form is read: count and quota are checked
        // against the files there are (a replacement is rare on this path).
        tri!(room_for_another(&dep, ""));
        let quota = size_limit(&g, &dep, "");
        let (blob, file_id) = new_blob_path(&mut g);
        (g.legacy_upload_limit, quota, blob, file_id, dep.id)
    };
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|d| d > limit.saturating_add(1024 * 1024)) {
        return error(413, "Request entity too large.");
    }
    let mut name: Option<String> = None;
    let mut written = None;
    let mut part_name = None;
    while let Some(field) = form.next().await {
        let Ok(mut field) = field else {
            return error(400, "Invalid multipart body.");
        };
        match field.name().unwrap_or_default() {
            "name" => {
                let mut buf = Vec::new();
                while let Some(Ok(chunk)) = field.next().await {
                    buf.extend_from_slice(&chunk);
                    if buf.len() > 4096 {
                        return error(400, "Invalid file name.");
                    }
                }
                name = Some(String::from_utf8_lossy(&buf).into_owned());
            }
            "file" => {
                part_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename().map(str::to_owned));
                written = match write_stream(&blob, &mut field, limit.min(quota.0), false).await {
                    Ok(w) => Some(w),
                    Err(true) if quota.0 < limit => return error(400, quota.1),
                    Err(true) => return error(413, "Request entity too large."),
                    Err(false) => return error(400, "Invalid multipart body."),
                };
            }
            _ => while let Some(Ok(_)) = field.next().await {},
        }
    }
    let (Some(written), Some(key)) = (written, name.or(part_name)) else {
        let _ = tokio::fs::remove_file(&blob).await;
        return error(400, "Missing file or name.");
    };
    let file = written.into_file(file_id, key, blob.clone());
    let mut g = lock(&st);
    let Some(dep) = g.depositions.get_mut(&dep_id) else {
        let _ = std::fs::remove_file(&blob);
        return error(404, "PID does not exist.");
    };
    tri!(store(dep, file.clone()));
    let dep = dep.clone();
    HttpResponse::Created().json(g.file_json(&dep, &file))
}

/// `GET /api/files/{bucket}/{key}`: the file's bytes, streamed from disk.
pub(crate) async fn bucket_get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (bucket, key) = path.into_inner();
    let file = {
        let mut g = lock(&st);
        let dep = tri!(bucket_of(&req, &mut g, &bucket, Access::Read));
        match dep.files.iter().find(|f| f.key == key) {
            Some(f) => f.clone(),
            None => return error(404, "Object does not exist."),
        }
    };
    let Ok(handle) = tokio::fs::File::open(&file.path).await else {
        return error(404, "Object does not exist.");
    };
    let chunks = futures_util::stream::unfold(handle, |mut handle| async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; 64 * 1024];
        match handle.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), handle))
            }
            Err(e) => Some((Err(e), handle)),
        }
    });
    HttpResponse::Ok()
        .content_type(file.mimetype.as_str())
        .insert_header(("content-length", file.size.to_string()))
        .streaming(chunks)
}

/// `DELETE /api/files/{bucket}/{key}`: 204 (invenio-files-rest `ObjectResource.delete`),
/// 404 for an unknown key, 403 once the record is published (its bucket is locked).
pub(crate) async fn bucket_delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (bucket, key) = path.into_inner();
    let mut g = lock(&st);
    let dep = tri!(bucket_of(&req, &mut g, &bucket, Access::Write));
    match dep.files.iter().position(|f| f.key == key) {
        Some(i) => {
            let f = dep.files.remove(i);
            let _ = std::fs::remove_file(&f.path);
            HttpResponse::NoContent().finish()
        }
        None => error(404, "Object does not exist."),
    }
}

pub(crate) async fn not_found() -> HttpResponse {
    error(404, "The requested URL was not found on the server.")
}
