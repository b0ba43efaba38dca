//! The emulated routes: drafts and records (invenio-drafts-resources' `RecordResource`
//! routes with invenio-rdm-records' config) and draft files (invenio-records-resources'
//! `FileResource`). Each refusal names the source of the rule.

// Early answers travel as `Err(HttpResponse)`: simple, and size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use md5::{Digest as _, Md5};
use serde_json::{json, Map, Value};
use tokio::io::AsyncWriteExt as _;

use crate::state::{timestamp, Draft, FileStatus, Flavour, Multipart, State, StoredFile};
use crate::validate::{self, field_error};

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(st: &Shared) -> MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|p| p.into_inner())
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(resp) => return resp,
        }
    };
}

/// flask-resources' `HTTPJSONException` body: `{"status": N, "message": "..."}`.
pub(crate) fn error(status: u16, message: &str) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({ "status": status, "message": message }))
}

/// invenio-records-resources `resources/errors.py` `HTTPJSONValidationException`.
fn validation(errors: Vec<Value>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "status": 400,
        "message": "A validation error occurred.",
        "errors": errors,
    }))
}

/// A key as one URL path segment (for links).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Authorization: Bearer <token>` (invenio-oauth2server). No token: 403 "Permission
/// denied." (the `PermissionDeniedError` handler, anonymous users may not create or read
/// drafts); an unknown token: 401.
fn authenticate(req: &HttpRequest, st: &State) -> Result<String, HttpResponse> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(token) = token else {
        return Err(error(403, "Permission denied."));
    };
    st.tokens.get(&token).cloned().ok_or_else(|| {
        error(
            401,
            "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.",
        )
    })
}

/// Which form a record is rendered in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Rdm,
    Ui,
    Legacy,
}

/// Content negotiation of `record_serializers` (invenio-rdm-records `resources/config.py`;
/// zenodo-rdm `site/zenodo_rdm/resources.py` for zenodo.org's `application/json`). An
/// `Accept` naming none of them: 406 (flask-resources).
fn shape(req: &HttpRequest, st: &State) -> Result<Shape, HttpResponse> {
    let accept = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    let json_default = match st.flavour() {
        Flavour::Zenodo => Shape::Legacy,
        Flavour::Stock => Shape::Rdm,
    };
    let mut best = None;
    for part in accept.split(',') {
        let mime = part.split(';').next().unwrap_or("").trim();
        let found = match mime {
            "application/vnd.inveniordm.v1+json" => Some(Shape::Ui),
            "application/json" | "*/*" | "application/*" => Some(json_default),
            _ => None,
        };
        if found == Some(Shape::Ui) {
            return Ok(Shape::Ui);
        }
        best = best.or(found);
    }
    best.ok_or_else(|| error(406, "Not Acceptable."))
}

fn render(st: &State, d: &Draft, shape: Shape) -> Value {
    match shape {
        Shape::Legacy => st.legacy_json(d),
        Shape::Rdm => st.rdm_json(d),
        Shape::Ui => {
            let mut v = st.rdm_json(d);
            if let Some(o) = v.as_object_mut() {
                o.insert("ui".into(), json!({}));
            }
            v
        }
    }
}

/// The record `id` of `owner`. Unknown: 404 (`PIDDoesNotExistError`); another user's:
/// 403 (`PermissionDeniedError`).
fn find<'a>(st: &'a mut State, owner: &str, id: &str) -> Result<&'a mut Draft, HttpResponse> {
    let key = st
        .find_key(id)
        .ok_or_else(|| error(404, "The persistent identifier does not exist."))?;
    let d = st
        .drafts
        .get_mut(&key)
        .ok_or_else(|| error(404, "The persistent identifier does not exist."))?;
    if d.owner != owner {
        return Err(error(403, "Permission denied."));
    }
    Ok(d)
}

/// The unpublished draft `id` of `owner`: a published record has no draft (404, as
/// `read_draft` finds no draft row: `NoResultFound` → "Not found.").
fn find_draft<'a>(st: &'a mut State, owner: &str, id: &str) -> Result<&'a mut Draft, HttpResponse> {
    let d = find(st, owner, id)?;
    if d.published {
        return Err(error(404, "Not found."));
    }
    Ok(d)
}

/// A JSON request body. Unparseable: 400 (`JSONDecodeError` handler); empty: `{}` (an
/// empty create is what zenodo-rdm's `scripts/new_api_flow.py` sends).
fn json_body(body: &[u8]) -> Result<Value, HttpResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| error(400, "Unable to decode JSON data in request body."))
}

/// Applies a create/update body to `d`: metadata, access, files.enabled. Unknown
/// vocabulary ids refuse the whole request (400 "Not a valid value.": the relation check,
/// invenio-records-resources `resources/errors.py` `InvalidRelationValue`); schema errors
/// are kept in `d.errors` and the invalid fields dropped (draft saves, see
/// `validate::keep_valid`).
fn apply(d: &mut Draft, body: &Value) -> Result<(), HttpResponse> {
    let Some(body) = body.as_object() else {
        return Err(validation(vec![field_error(
            "_schema",
            "Invalid input type.",
        )]));
    };
    let empty = Map::new();
    let md = match body.get("metadata") {
        None => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(validation(vec![field_error(
                "metadata",
                "Invalid input type.",
            )]))
        }
    };
    if validate::unknown_vocabulary_id(md).is_some() {
        return Err(error(400, "Not a valid value."));
    }
    let mut errors = validate::metadata_errors(md);
    let mut kept = validate::keep_valid(md, &errors);
    validate::normalise(&mut kept);
    // `AccessSchema`: `record` and `files` each "public" or "restricted".
    let access = body
        .get("access")
        .cloned()
        .unwrap_or_else(|| json!({"record": "public", "files": "public"}));
    for k in ["record", "files"] {
        match access.get(k).and_then(Value::as_str) {
            Some("public" | "restricted") => {}
            _ => errors.push(field_error(
                &format!("access.{k}"),
                &format!("'{k}' must be either 'public' or 'restricted'"),
            )),
        }
    }
    if let Some(enabled) = body.get("files").and_then(|f| f.get("enabled")) {
        match enabled.as_bool() {
            // Disabling files with files present is refused (drafts-resources
            // `components/base.py` `assign_files_enabled`).
            Some(false) if !d.files.is_empty() => errors.push(field_error(
                "files.enabled",
                "You must first delete all files to set the record to be metadata-only.",
            )),
            Some(e) => d.files_enabled = e,
            None => errors.push(field_error("files.enabled", "Not a valid boolean.")),
        }
    }
    d.metadata = kept;
    d.access = access;
    d.errors = errors;
    d.updated = timestamp();
    d.revision += 1;
    Ok(())
}

/// `POST /api/records`: 201 with the new draft.
pub(crate) async fn create(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let body = tri!(json_body(&body));
    let (n, id) = g.new_id();
    let now = timestamp();
    let mut d = Draft {
        id,
        owner,
        created: now.clone(),
        updated: now,
        metadata: Map::new(),
        access: Value::Null,
        // `RDM_DEFAULT_FILES_ENABLED`, default true (invenio-rdm-records `services/config.py`).
        files_enabled: true,
        files: Vec::new(),
        errors: Vec::new(),
        published: false,
        doi: None,
        revision: 0,
    };
    tri!(apply(&mut d, &body));
    let v = render(&g, &d, shape);
    g.drafts.insert(n, d);
    HttpResponse::Created().json(v)
}

pub(crate) async fn get_draft(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id)).clone();
    HttpResponse::Ok().json(render(&g, &d, shape))
}

/// `PUT /api/records/{id}/draft`: replaces metadata and access (a full update).
pub(crate) async fn update_draft(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let body = tri!(json_body(&body));
    let d = tri!(find_draft(&mut g, &owner, &id));
    let mut updated = d.clone();
    tri!(apply(&mut updated, &body));
    *d = updated.clone();
    HttpResponse::Ok().json(render(&g, &updated, shape))
}

/// `DELETE /api/records/{id}/draft`: 204; the draft's files go with it.
pub(crate) async fn delete_draft(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    tri!(find_draft(&mut g, &owner, &id));
    if let Some(key) = g.find_key(&id) {
        if let Some(d) = g.drafts.remove(&key) {
            for f in d.files {
                let _ = std::fs::remove_file(f.path);
            }
        }
    }
    HttpResponse::NoContent().finish()
}

/// `POST /api/records/{id}/draft/actions/publish`: 202 with the record. Refused (400,
/// the validation shape) for schema errors (`raise_errors=True` on publish,
/// drafts-resources `services/records/service.py`), files enabled without files, and any
/// file not completed (drafts-resources `services/records/components/base.py`).
pub(crate) async fn publish(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id)).clone();
    let mut errors = validate::metadata_errors(&d.metadata);
    errors.extend(
        d.errors
            .iter()
            .filter(|e| {
                e.get("field")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.starts_with("access."))
            })
            .cloned(),
    );
    if !errors.is_empty() {
        return validation(errors);
    }
    if d.files_enabled && d.files.is_empty() {
        return validation(vec![field_error(
            "files.enabled",
            "Missing uploaded files. To disable files for this record please mark it as metadata-only.",
        )]);
    }
    if d.files_enabled && d.files.iter().any(|f| f.status != FileStatus::Completed) {
        return validation(vec![field_error(
            "files",
            "One or more files have not completed their transfer, please wait.",
        )]);
    }
    let doi = g.doi_for(&d.id);
    let d = tri!(find_draft(&mut g, &owner, &id));
    d.published = true;
    d.doi = Some(doi);
    d.updated = timestamp();
    let d = d.clone();
    HttpResponse::Accepted().json(render(&g, &d, shape))
}

/// `GET /api/records/{id}`: the published record; a draft never published: 404
/// (`PIDUnregistered`).
pub(crate) async fn get_record(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let d = tri!(find(&mut g, &owner, &id)).clone();
    if !d.published {
        return error(404, "The persistent identifier is not registered.");
    }
    HttpResponse::Ok().json(render(&g, &d, shape))
}

/// `GET /api/user/records`: the user's records and drafts, newest first, paginated
/// (`size` default 25, `page` default 1, `page * size` at most 10,000:
/// invenio-records-resources `services/records/config.py` and `params/pagination.py`).
/// `q` understood: empty, `is_published:false`, `is_published:true`; anything else is
/// refused here (a real instance runs any search query).
pub(crate) async fn user_records(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let shape = tri!(shape(&req, &g));
    let Ok(q) = web::Query::<HashMap<String, String>>::from_query(req.query_string()) else {
        return error(400, "Invalid querystring parameters.");
    };
    let num = |k: &str, default: usize| match q.get(k) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| error(400, "Invalid querystring parameters.")),
    };
    let size = tri!(num("size", 25));
    let page = tri!(num("page", 1));
    if size == 0 || page == 0 || size.saturating_mul(page) > 10_000 {
        return error(400, "Invalid pagination parameters.");
    }
    let published = match q.get("q").map(|s| s.trim()) {
        None | Some("") => None,
        Some("is_published:false") => Some(false),
        Some("is_published:true") => Some(true),
        Some(_) => return error(400, "Invalid query string syntax."),
    };
    let mine: Vec<&Draft> = g
        .drafts
        .values()
        .rev()
        .filter(|d| d.owner == owner && published.is_none_or(|p| d.published == p))
        .collect();
    let total = mine.len();
    let hits: Vec<Value> = mine
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|d| render(&g, d, shape))
        .collect();
    let base = format!("{}/api/user/records", g.base_url);
    let mut links = json!({"self": format!("{base}?page={page}&size={size}")});
    if page * size < total {
        links["next"] = json!(format!("{base}?page={}&size={size}", page + 1));
    }
    HttpResponse::Ok().json(json!({
        "hits": {"hits": hits, "total": total},
        "links": links,
        "sortBy": "newest",
    }))
}

// ---- draft files (invenio-records-resources `resources/files/resource.py`) ----

fn no_file(id: &str, key: &str) -> HttpResponse {
    // `FileKeyNotFoundError` → 404.
    error(404, &format!("Record '{id}' has no file '{key}'."))
}

pub(crate) async fn list_files(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id)).clone();
    HttpResponse::Ok().json(g.files_json(&d))
}

/// `POST .../draft/files` with `[{"key": ...}, ...]`: 201 with every entry, the new ones
/// `pending`. Refused: not a non-empty list ("No files to upload.", `init_files`), a
/// missing key, a key already there, a transfer type other than local `L`, more files than
/// `RDM_RECORDS_MAX_FILES_COUNT` (`FilesCountExceededException`, 400). A multipart entry
/// (`transfer: {type: "M", parts, part_size}` and `size`) where offered: the three are
/// required (`MultipartTransfer.init_file`, `MultipartStorageExt.multipart_initialize_upload`
/// for local storage: "... requires part_size."), and the parts must cover the size.
pub(crate) async fn init_files(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let body = tri!(json_body(&body));
    let max = g.limits.max_files;
    let dir = g.files_dir.clone();
    let first_blob = g.next_blob;
    let offered = g.multipart;
    let d = tri!(find_draft(&mut g, &owner, &id));
    let Some(entries) = body.as_array() else {
        return validation(vec![field_error("_schema", "Invalid input type.")]);
    };
    if entries.is_empty() {
        return validation(vec![field_error("_schema", "No files to upload.")]);
    }
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        match e.get("key").and_then(Value::as_str) {
            Some(k) if !k.is_empty() => keys.push((k.to_owned(), None)),
            _ => errors.push(field_error(
                &format!("{i}.key"),
                "Missing data for required field.",
            )),
        }
        match e
            .get("transfer")
            .and_then(|t| t.get("type"))
            .and_then(Value::as_str)
        {
            None | Some("L") => {}
            Some("M") if offered => {
                let num = |v: Option<&Value>| v.and_then(Value::as_u64).filter(|n| *n > 0);
                let t = e.get("transfer");
                let Some(parts) = num(t.and_then(|t| t.get("parts"))) else {
                    return error(400, "Multipart file transfer requires parts.");
                };
                let Some(size) = num(e.get("size")) else {
                    return error(400, "Multipart file transfer requires file size.");
                };
                let Some(part_size) = num(t.and_then(|t| t.get("part_size"))) else {
                    return error(
                        400,
                        "Multipart file transfer to local storage requires part_size.",
                    );
                };
                if (parts - 1).saturating_mul(part_size) >= size
                    || parts.saturating_mul(part_size) < size
                {
                    return error(400, "The parts do not cover the file size.");
                }
                if let Some(last) = keys.last_mut() {
                    last.1 = Some(Multipart {
                        parts,
                        part_size,
                        size,
                        received: Default::default(),
                    });
                }
            }
            // Other transfer types are the instance's permission (`IfTransferType`):
            // this instance does not offer them.
            Some("M" | "F" | "R") => return error(403, "Permission denied."),
            Some(_) => errors.push(field_error(
                &format!("{i}.transfer.type"),
                "Invalid transfer type.",
            )),
        }
    }
    if !errors.is_empty() {
        return validation(errors);
    }
    let resulting = d.files.len() + keys.len();
    if d.files.len() <= max && resulting > max {
        return error(
            400,
            "Uploading selected files will result in exceeding the max amount per record.",
        );
    }
    for (k, _) in &keys {
        if d.files.iter().any(|f| &f.key == k) || keys.iter().filter(|x| &x.0 == k).count() > 1 {
            return error(400, &format!("File with key {k} already exists."));
        }
    }
    let now = timestamp();
    for (n, (key, multipart)) in keys.into_iter().enumerate() {
        let blob = first_blob + n as u64;
        let path = dir.join(format!("blob-{blob}"));
        if let Some(m) = &multipart {
            // The local storage preallocates the file (`storage.initialize(size=size)`).
            let made = std::fs::File::create(&path).and_then(|f| f.set_len(m.size));
            if made.is_err() {
                return error(500, "Internal server error.");
            }
        }
        d.files.push(StoredFile {
            multipart,
            checksum_ready: true,
            key,
            status: FileStatus::Pending { content: false },
            size: 0,
            md5: String::new(),
            path,
            file_id: format!("f{blob:08}"),
            created: now.clone(),
            updated: now.clone(),
        });
    }
    let d = d.clone();
    g.next_blob += entries.len() as u64;
    HttpResponse::Created().json(g.files_json(&d))
}

fn file_of<'a>(d: &'a mut Draft, key: &str) -> Result<&'a mut StoredFile, HttpResponse> {
    let id = d.id.clone();
    d.files
        .iter_mut()
        .find(|f| f.key == key)
        .ok_or_else(|| no_file(&id, key))
}

pub(crate) async fn get_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key) = path.into_inner();
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id));
    let f = tri!(file_of(d, &key)).clone();
    let d = d.clone();
    HttpResponse::Ok().json(g.file_json(&d, &f))
}

/// `DELETE .../draft/files/{key}`: 204.
pub(crate) async fn delete_file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key) = path.into_inner();
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id));
    tri!(file_of(d, &key));
    if let Some(i) = d.files.iter().position(|f| f.key == key) {
        let f = d.files.remove(i);
        let _ = std::fs::remove_file(f.path);
    }
    HttpResponse::NoContent().finish()
}

/// `DELETE .../draft/files`: 204, every file removed.
pub(crate) async fn delete_all_files(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id));
    for f in std::mem::take(&mut d.files) {
        let _ = std::fs::remove_file(f.path);
    }
    HttpResponse::NoContent().finish()
}

/// `PUT .../draft/files/{key}/content`, `application/octet-stream`: 200 with the entry,
/// still `pending`. Refused: a key never initialised (404, `_get_record`), another
/// content type (415, the `request_stream` parser accepts only octet-stream), a committed
/// file (`LocalTransfer.set_file_content`: "already committed"), no `Content-Length`
/// (the contract; zenodo/zenodo#1986 for Zenodo's buckets), a size over the
/// file or record limit (`Transfer.set_file_content`, `FileSizeError`), and a body
/// shorter or longer than declared (invenio-files-rest's size check).
pub(crate) async fn put_content(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key) = path.into_inner();
    let (blob, corrupt) = {
        let mut g = lock(&st);
        let owner = tri!(authenticate(&req, &g));
        let limits = g.limits;
        let corrupt = g.corrupt_uploads > 0;
        let d = tri!(find_draft(&mut g, &owner, &id));
        let others: u64 = d
            .files
            .iter()
            .filter(|f| f.key != key)
            .map(|f| f.size)
            .sum();
        let f = tri!(file_of(d, &key));
        let ctype = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        if ctype.is_some_and(|c| !c.starts_with("application/octet-stream")) {
            return error(415, "Unsupported media type.");
        }
        if f.status == FileStatus::Completed {
            return error(
                400,
                &format!("File with key \"{key}\" is already committed."),
            );
        }
        if f.multipart.is_some() {
            // A multipart file takes its content by parts (`.../content/{part}`).
            return error(400, "This file is uploaded in parts.");
        }
        let declared = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            // A request without either header has no body (RFC 9112 §6.3).
            .or_else(|| (!req.headers().contains_key("transfer-encoding")).then_some(0));
        let Some(declared) = declared else {
            return error(400, "File is smaller than expected.");
        };
        // invenio-files-rest `limiters.py`: the bucket's limits and their reasons.
        if others + declared > limits.quota_bytes {
            return error(400, "Bucket quota exceeded.");
        }
        if declared > limits.max_file_bytes {
            return error(400, "Maximum file size exceeded.");
        }
        let blob = f.path.clone();
        if corrupt {
            g.corrupt_uploads -= 1;
        }
        (blob, (declared, corrupt))
    };
    let (declared, corrupt) = corrupt;
    let written = match write_stream(&blob, payload, declared, corrupt).await {
        Ok(w) => w,
        Err(msg) => {
            let _ = tokio::fs::remove_file(&blob).await;
            return error(400, msg);
        }
    };
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id));
    let f = tri!(file_of(d, &key));
    f.size = written.0;
    f.md5 = written.1;
    f.status = FileStatus::Pending { content: true };
    f.updated = timestamp();
    let f = f.clone();
    let d = d.clone();
    HttpResponse::Ok().json(g.file_json(&d, &f))
}

/// Streams `payload` to `path`, hashing it; at most `declared` bytes are accepted.
async fn write_stream(
    path: &std::path::Path,
    mut payload: web::Payload,
    declared: u64,
    corrupt: bool,
) -> Result<(u64, String), &'static str> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|_| "The file upload transfer failed, please try again.")?;
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut flipped = !corrupt;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Err("File is smaller than expected.");
        };
        size += chunk.len() as u64;
        if size > declared {
            return Err("File is bigger than expected.");
        }
        let mut chunk = chunk.to_vec();
        if !flipped && !chunk.is_empty() {
            chunk[0] ^= 0xff;
            flipped = true;
        }
        md5.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|_| "The file upload transfer failed, please try again.")?;
    }
    if size != declared {
        return Err("File is smaller than expected.");
    }
    file.flush()
        .await
        .map_err(|_| "The file upload transfer failed, please try again.")?;
    Ok((size, hex::encode(md5.finalize())))
}

/// `POST .../draft/files/{key}/commit`: 200 with the entry `completed`, its `checksum`
/// `md5:<hex>` and `size`. Refused: a key never initialised (404), no content yet
/// (`FilesManager.commit`: "File with key ... not uploaded yet."; a real instance answers
/// that with a 500, the emulator with 400), an empty file where empty files are not
/// accepted (Zenodo; `FileMetadataComponent.commit_file`).
pub(crate) async fn commit(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key) = path.into_inner();
    // A multipart file's MD5 is computed here, from the assembled blob, outside the lock.
    let assembled = {
        let mut g = lock(&st);
        let owner = tri!(authenticate(&req, &g));
        let d = tri!(find_draft(&mut g, &owner, &id));
        let f = tri!(file_of(d, &key));
        match &f.multipart {
            // `MultipartTransfer.commit_file` does not check the parts; a file with
            // holes would be committed. The emulator is stricter.
            Some(m) if m.received.len() as u64 != m.parts => {
                return error(400, "Not all parts of the file were uploaded.");
            }
            Some(m) => Some((f.path.clone(), m.size)),
            None => None,
        }
    };
    let md5 = match &assembled {
        Some((path, _)) => match md5_of(path).await {
            Ok(m) => Some(m),
            Err(_) => return error(500, "Internal server error."),
        },
        None => None,
    };
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let zenodo = g.flavour() == Flavour::Zenodo;
    let d = tri!(find_draft(&mut g, &owner, &id));
    let f = tri!(file_of(d, &key));
    if let (Some((_, size)), Some(md5)) = (assembled, md5) {
        f.size = size;
        f.md5 = md5;
        f.multipart = None;
        // The whole-file checksum comes from a background task, after this answer.
        f.checksum_ready = false;
        f.status = FileStatus::Pending { content: true };
    }
    if f.status == (FileStatus::Pending { content: false }) {
        return error(400, &format!("File with key {key} not uploaded yet."));
    }

    if zenodo && f.size == 0 {
        return error(400, "Empty files are not accepted.");
    }
    f.status = FileStatus::Completed;
    f.updated = timestamp();
    let answer = f.clone();
    f.checksum_ready = true;
    let d = d.clone();
    HttpResponse::Ok().json(g.file_json(&d, &answer))
}

async fn md5_of(path: &std::path::Path) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt as _;
    let mut file = tokio::fs::File::open(path).await?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(hex::encode(md5.finalize()));
        }
        md5.update(&buf[..n]);
    }
}

/// `PUT .../draft/files/{key}/content/{part}`: one part of a multipart transfer, 200 with
/// the entry. Refused (`MultipartStorageExt.multipart_set_content`): a part number above
/// the parts announced, a part but the last not of `part_size` bytes; here also a last
/// part that does not end the file, and a file that is not a multipart one.
pub(crate) async fn put_part(
    req: HttpRequest,
    path: web::Path<(String, String, u64)>,
    payload: web::Payload,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key, part) = path.into_inner();
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (blob, offset, len, corrupt) = {
        let mut g = lock(&st);
        let owner = tri!(authenticate(&req, &g));
        let corrupt = g.corrupt_uploads > 0;
        let d = tri!(find_draft(&mut g, &owner, &id));
        let f = tri!(file_of(d, &key));
        let Some(m) = &f.multipart else {
            return error(400, "This file is not uploaded in parts.");
        };
        if part == 0 || part > m.parts {
            return error(
                400,
                "Part number is higher than total parts sent in multipart initialization.",
            );
        }
        let want = if part < m.parts {
            m.part_size
        } else {
            m.size - (m.parts - 1) * m.part_size
        };
        if declared != Some(want) {
            return error(
                400,
                "Size of this part must be equal to part_size sent in multipart initialization.",
            );
        }
        let blob = f.path.clone();
        let offset = (part - 1) * m.part_size;
        if corrupt {
            g.corrupt_uploads -= 1;
        }
        (blob, offset, want, corrupt)
    };
    if let Err(msg) = write_part(&blob, offset, payload, len, corrupt).await {
        return error(400, msg);
    }
    let mut g = lock(&st);
    let owner = tri!(authenticate(&req, &g));
    let d = tri!(find_draft(&mut g, &owner, &id));
    let f = tri!(file_of(d, &key));
    if let Some(m) = f.multipart.as_mut() {
        m.received.insert(part);
    }
    f.updated = timestamp();
    let f = f.clone();
    let d = d.clone();
    HttpResponse::Ok().json(g.file_json(&d, &f))
}

/// Writes exactly `len` bytes of `payload` at `offset` of the preallocated `path`.
async fn write_part(
    path: &std::path::Path,
    offset: u64,
    mut payload: web::Payload,
    len: u64,
    corrupt: bool,
) -> Result<(), &'static str> {
    use tokio::io::AsyncSeekExt as _;
    let failed = "The file upload transfer failed, please try again.";
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .await
        .map_err(|_| failed)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|_| failed)?;
    let mut written = 0u64;
    let mut flipped = !corrupt;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Err("File is smaller than expected.");
        };
        written += chunk.len() as u64;
        if written > len {
            return Err("File is bigger than expected.");
        }
        let mut chunk = chunk.to_vec();
        if !flipped && !chunk.is_empty() {
            chunk[0] ^= 0xff;
            flipped = true;
        }
        file.write_all(&chunk).await.map_err(|_| failed)?;
    }
    if written != len {
        return Err("File is smaller than expected.");
    }
    file.flush().await.map_err(|_| failed)
}

/// `GET .../draft/files/{key}/content`: the bytes of a committed file.
pub(crate) async fn get_content(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, key) = path.into_inner();
    let blob = {
        let mut g = lock(&st);
        let owner = tri!(authenticate(&req, &g));
        let d = tri!(find_draft(&mut g, &owner, &id));
        let f = tri!(file_of(d, &key));
        if f.status != FileStatus::Completed {
            return no_file(&id, &key);
        }
        f.path.clone()
    };
    match tokio::fs::read(&blob).await {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/octet-stream")
            .body(bytes),
        Err(_) => no_file(&id, &key),
    }
}

/// `GET /api/vocabularies/licenses/{id}` (invenio-vocabularies `resources/config.py`,
/// readable by any user): the license, or 404 (`PIDDoesNotExistError`).
pub(crate) async fn license(id: web::Path<String>) -> HttpResponse {
    match crate::vocab::license_url(&id) {
        Some(url) => HttpResponse::Ok().json(json!({
            "id": *id,
            "type": "licenses",
            "title": {"en": *id},
            "props": {"url": url, "scheme": "spdx"},
        })),
        None => error(404, "The persistent identifier does not exist."),
    }
}

pub(crate) async fn not_found() -> HttpResponse {
    error(404, "The requested URL was not found on the server.")
}
