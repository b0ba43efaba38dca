//! File routes: `POST /api/datasets/{id}/add` (`Datasets.addFileToDataset`,
//! `AddReplaceFileHelper`, `CreateNewDataFilesCommand`), `GET .../versions/{v}/files`
//! (`Datasets.getVersionFiles`), `DELETE /api/files/{id}` (`Files.deleteFileInDataset`);
//! SOURCES.md §4.

#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use serde_json::{json, Value};
use sha2::digest::DynDigest;
use tokio::io::AsyncWriteExt as _;

use crate::handlers::{
    add_lock, blocks_update, caller, error, find_dataset, lock, ok, param, pick_version, tri, user,
    Shared,
};
use crate::render;
use crate::state::{ChecksumType, FileEntry, State, StoredFile, Version};

/// `jsonData` is small; a bigger one is not a Dataverse request.
const JSON_DATA_LIMIT: usize = 1024 * 1024;

fn hasher(t: ChecksumType) -> Box<dyn DynDigest + Send> {
    match t {
        ChecksumType::Md5 => Box::new(md5::Md5::default()),
        ChecksumType::Sha1 => Box::new(sha1::Sha1::default()),
        ChecksumType::Sha256 => Box::new(sha2::Sha256::default()),
        ChecksumType::Sha512 => Box::new(sha2::Sha512::default()),
    }
}

fn hex_of(h: Box<dyn DynDigest + Send>) -> String {
    hex::encode(h.finalize())
}

/// The `file` part as stored.
struct Upload {
    name: Option<String>,
    content_type: Option<String>,
    path: PathBuf,
    size: u64,
    md5: String,
    checksum: String,
}

/// Streams one part to `path`, hashing the stored bytes (first byte flipped when
/// `corrupt`).
async fn store_part(
    field: &mut actix_multipart::Field,
    path: &Path,
    kind: ChecksumType,
    corrupt: bool,
) -> std::io::Result<(u64, String, String)> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut md5 = hasher(ChecksumType::Md5);
    let mut sum = hasher(kind);
    let mut size = 0u64;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut bytes = chunk.to_vec();
        if corrupt && size == 0 {
            if let Some(b) = bytes.first_mut() {
                *b ^= 0xff;
            }
        }
        size += bytes.len() as u64;
        md5.update(&bytes);
        sum.update(&bytes);
        file.write_all(&bytes).await?;
    }
    file.flush().await?;
    Ok((size, hex_of(md5), hex_of(sum)))
}

/// `FileSizeChecker.bytesToHumanReadable`.
pub(crate) fn human(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < 6 {
        v /= 1024.0;
        unit += 1;
    }
    let prefix = [' ', 'K', 'M', 'G', 'T', 'P', 'E'][unit];
    format!("{v:.1} {prefix}B")
}

/// `FileMetadata.setDirectoryLabel` → `StringUtil.sanitizeFileDirectory(value, false)`:
/// runs of `/` or `\` become one `/`; leading and trailing `/`, `-`, `.`, space go.
fn sanitize_directory(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        let c = if c == '\\' { '/' } else { c };
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_matches(|c| matches!(c, '/' | '-' | '.' | ' '));
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// `FileDirectoryNameValidator`: `[\w\\/. -]+` with Java's ASCII `\w`.
fn directory_valid(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_\\/. -".contains(c))
}

/// `FileLabelValidator`: `^[^:<>;#/"*|?\\]*$`.
fn label_valid(s: &str) -> bool {
    !s.chars().any(|c| ":<>;#/\"*|?\\".contains(c))
}

/// `IngestUtil.generateNewFileName`: `a.txt` → `a-1.txt`, `a-1.txt` → `a-2.txt`.
fn next_name(name: &str) -> String {
    let (base, ext) = match name.rfind('.') {
        Some(i) => (&name[..i], Some(&name[i + 1..])),
        None => (name, None),
    };
    let base = match base.rfind('-') {
        Some(i) if i + 1 < base.len() && base[i + 1..].chars().all(|c| c.is_ascii_digit()) => {
            let n: u64 = base[i + 1..].parse().unwrap_or(0);
            format!("{}-{}", &base[..i], n + 1)
        }
        _ => format!("{base}-1"),
    };
    match ext {
        Some(e) => format!("{base}.{e}"),
        None => base,
    }
}

/// `IngestUtil.checkForDuplicateFileNamesFinal`: renamed until its path is free.
fn unique_label(v: &Version, dir: Option<&str>, label: &str) -> String {
    let taken = |l: &str| {
        v.files
            .iter()
            .any(|f| f.stored.label == l && f.stored.directory_label.as_deref() == dir)
    };
    let mut label = label.to_owned();
    while taken(&label) {
        label = next_name(&label);
    }
    label
}

/// What Dataverse ingests as tabular data (CSV, TSV, XLSX; `TabularIngestSizeLimit`
/// not emulated).
fn is_tabular(content_type: &str, label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    matches!(
        content_type,
        "text/csv"
            | "text/tab-separated-values"
            | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ) || [".csv", ".tsv", ".xlsx"].iter().any(|e| lower.ends_with(e))
}

fn content_type_of(given: Option<&str>, label: &str) -> String {
    match given {
        Some(t) if !t.is_empty() && t != "application/octet-stream" => t.to_owned(),
        // Dataverse detects the type of an `application/octet-stream` part.
        _ => mime_guess::from_path(label)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    }
}

fn json_flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    }
}

const NOT_ADDED: &str =
    "You must upload a file or provide a valid storageidentifier, filename, and mimetype.";

/// `POST /api/datasets/{id}/add`. The body is read whole (streamed to disk) before the
/// method runs, as Jersey does with multipart; only the auth filter answers earlier.
pub(crate) async fn add(
    req: HttpRequest,
    id: web::Path<String>,
    mut payload: Multipart,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (files_dir, kind) = {
        let g = lock(&st);
        tri!(caller(&req, &g));
        (g.files_dir.clone(), g.options.checksum)
    };
    let is_multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return error(415, "Unsupported Media Type");
    }
    let mut json_data: Option<String> = None;
    let mut upload: Option<Upload> = None;
    while let Some(field) = payload.next().await {
        let mut field = match field {
            Ok(f) => f,
            Err(e) => return error(400, &format!("Bad multipart body: {e}")),
        };
        match field.name() {
            Some("jsonData") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    let Ok(chunk) = chunk else {
                        return error(400, "Bad multipart body");
                    };
                    if text.len() + chunk.len() > JSON_DATA_LIMIT {
                        return error(400, "Error in parsing provided json");
                    }
                    text.extend_from_slice(&chunk);
                }
                json_data = Some(String::from_utf8_lossy(&text).into_owned());
            }
            Some("file") if upload.is_none() => {
                let name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(str::to_owned);
                let content_type = field.content_type().map(|m| m.essence_str().to_owned());
                let corrupt = {
                    let mut g = lock(&st);
                    let c = g.corrupt_uploads > 0;
                    g.corrupt_uploads = g.corrupt_uploads.saturating_sub(1);
                    c
                };
                let path = files_dir.join(uuid::Uuid::new_v4().to_string());
                match store_part(&mut field, &path, kind, corrupt).await {
                    Ok((size, md5, checksum)) => {
                        upload = Some(Upload {
                            name,
                            content_type,
                            path,
                            size,
                            md5,
                            checksum,
                        })
                    }
                    Err(_) => {
                        let _ = tokio::fs::remove_file(&path).await;
                        return error(400, "Bad multipart body");
                    }
                }
            }
            _ => {
                while let Some(chunk) = field.next().await {
                    if chunk.is_err() {
                        return error(400, "Bad multipart body");
                    }
                }
            }
        }
    }
    let answer = register(&req, &id, json_data.as_deref(), upload.as_ref(), &st);
    if let (Err(_), Some(u)) = (&answer, &upload) {
        let _ = tokio::fs::remove_file(&u.path).await;
    }
    match answer {
        Ok(resp) | Err(resp) => resp,
    }
}

/// The method's checks and the new file (`AddReplaceFileHelper` steps).
fn register(
    req: &HttpRequest,
    id: &str,
    json_data: Option<&str>,
    upload: Option<&Upload>,
    st: &Shared,
) -> Result<HttpResponse, HttpResponse> {
    let mut g = lock(st);
    // `getRequestUser`: a guest gets as far as the permission check.
    let who = caller(req, &g)?;
    let id = find_dataset(req, &g, id)?;
    let meta: Value = match json_data {
        None => json!({}),
        Some(s) => serde_json::from_str(s)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| error(400, "Error in parsing provided json"))?,
    };
    // `step_015_auto_check_permissions`.
    if g.datasets
        .get(&id)
        .is_none_or(|d| who.as_deref() != Some(d.owner.as_str()))
    {
        return Err(error(
            403,
            "You do not have permission to edit this dataset.",
        ));
    }
    let text = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned);
    let file = match upload {
        Some(u) => {
            let label = text("label")
                .or_else(|| u.name.clone())
                .unwrap_or_else(|| "file".to_owned());
            let checksum_type = g.options.checksum.name().to_owned();
            NewFile {
                label,
                content_type: u.content_type.clone(),
                path: u.path.clone(),
                size: u.size,
                md5: u.md5.clone(),
                checksum_type,
                checksum_value: u.checksum.clone(),
                storage_identifier: format!("file://{}", uuid::Uuid::new_v4().simple()),
            }
        }
        None => direct_file(&mut g, id, &meta)?,
    };
    if !label_valid(&file.label) {
        return Err(error(
            400,
            "File Name cannot contain any of the following characters: \\ / : * ? \" < > | ; # .",
        ));
    }
    let dir = text("directoryLabel").and_then(|d| sanitize_directory(&d));
    if dir.as_deref().is_some_and(|d| !directory_valid(d)) {
        return Err(error(
            400,
            "Directory Name cannot contain invalid characters. Valid characters are a-Z, 0-9, '_', '-', '.', '\\', '/' and ' ' (white space).",
        ));
    }
    // `CreateNewDataFilesCommand`: `:MaxFileUploadSizeInBytes`, after the body was saved.
    if let Some(max) = g.options.max_file_bytes {
        if file.size > max {
            return Err(error(
                400,
                &format!(
                    "There was an error when trying to add the new file. This file size ({}) exceeds the size limit of {}.",
                    human(file.size),
                    human(max)
                ),
            ));
        }
    }
    let version_id = g.next_id();
    let file_id = g.next_id();
    let ingest_polls = g.ingest_polls;
    let Some(d) = g.datasets.get_mut(&id) else {
        return Err(error(404, &format!("Dataset with ID {id} not found.")));
    };
    // Step 070: `UpdateDatasetVersionCommand` fails under a lock other than Ingest.
    if blocks_update(d) {
        return Err(error(400, "Failed to add file to dataset."));
    }
    let now = render::timestamp();
    let draft = d.ensure_draft(version_id, &now);
    // `DuplicateFileChecker`: same content is accepted with a warning.
    let warning = draft
        .files
        .iter()
        .find(|f| f.stored.checksum_value == file.checksum_value)
        .map(|f| {
            format!(
                "This file has the same content as {} that is in the dataset. ",
                f.stored.label
            )
        });
    let label = unique_label(draft, dir.as_deref(), &file.label);
    let content_type = content_type_of(file.content_type.as_deref(), &label);
    let tab_ingest = json_flag(&meta, "tabIngest").unwrap_or(true);
    let tabular = tab_ingest && is_tabular(&content_type, &label);
    let entry = FileEntry {
        stored: StoredFile {
            id: file_id,
            label,
            directory_label: dir,
            size: file.size,
            md5: file.md5,
            checksum_type: file.checksum_type,
            checksum_value: file.checksum_value,
            path: file.path,
            content_type,
            description: text("description").filter(|s| !s.is_empty()),
        },
        categories: meta
            .get("categories")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        restricted: json_flag(&meta, "restrict").unwrap_or(false),
        storage_identifier: file.storage_identifier,
        created: now.clone(),
        released: false,
    };
    let shown = render::file(draft, &entry);
    draft.files.push(entry);
    draft.last_update = now;
    if tabular {
        // Ingest runs after the answer and locks the dataset (`step_100_startIngestJobs`).
        add_lock(&mut g, id, "Ingest", ingest_polls);
    }
    let mut body = json!({"status": "OK", "data": {"files": [shown]}});
    if let Some(w) = warning {
        body["message"] = json!(w);
    }
    Ok(HttpResponse::Ok().json(body))
}

struct NewFile {
    label: String,
    content_type: Option<String>,
    path: PathBuf,
    size: u64,
    md5: String,
    checksum_type: String,
    checksum_value: String,
    storage_identifier: String,
}

/// A direct upload's registration: `storageIdentifier`, `fileName`, `mimeType` and a
/// `checksum` (`OptionalFileParams`); the object must be in this dataset's store
/// (`DataAccess.uploadToDatasetAllowed`). The checksum is stored as given, unverified.
fn direct_file(g: &mut State, id: u64, meta: &Value) -> Result<NewFile, HttpResponse> {
    let text = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(sid), Some(name), Some(mime)) = (
        text("storageIdentifier"),
        text("fileName"),
        text("mimeType"),
    ) else {
        return Err(error(400, NOT_ADDED));
    };
    let Some(obj) = g
        .objects
        .get(&sid)
        .filter(|o| o.dataset == id && o.complete)
    else {
        return Err(error(
            400,
            "Dataset store configuration does not allow provided storageIdentifier.",
        ));
    };
    let (checksum_type, checksum_value) = match (meta.get("checksum"), text("md5Hash")) {
        (Some(c), _) => {
            let t = c.get("@type").and_then(Value::as_str).unwrap_or("");
            let Some(t) = ChecksumType::from_name(t) else {
                // `DataFile.ChecksumType.fromString`, uncaught by the endpoint.
                return Err(error(
                    500,
                    "ChecksumType must be one of these values: [MD5, SHA-1, SHA-256, SHA-512].",
                ));
            };
            let v = c.get("@value").and_then(Value::as_str).unwrap_or("");
            (t.name().to_owned(), v.to_ascii_lowercase())
        }
        (None, Some(md5)) => ("MD5".to_owned(), md5.to_ascii_lowercase()),
        (None, None) => (String::new(), String::new()),
    };
    let label = text("label").unwrap_or(name);
    Ok(NewFile {
        label,
        content_type: Some(mime).filter(|m| !m.trim().is_empty()),
        path: obj.path.clone(),
        // The size is read from the store (`trustSuppliedSizes` off).
        size: obj.size,
        md5: obj.md5.clone(),
        checksum_type,
        checksum_value,
        storage_identifier: sid,
    })
}

/// `GET /api/datasets/{id}/versions/{v}/files` (`Datasets.getVersionFiles`): NameAZ by
/// default, `limit`/`offset`, `totalCount` beside `data`.
pub(crate) async fn list(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, v) = path.into_inner();
    let g = lock(&st);
    let who = tri!(caller(&req, &g));
    let id = tri!(find_dataset(&req, &g, &id));
    let Some(d) = g.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    let version = tri!(pick_version(d, &v, who.as_deref()));
    let mut files: Vec<&FileEntry> = version.files.iter().collect();
    match param(&req, "orderCriteria").as_deref() {
        None | Some("NameAZ") => files.sort_by(|a, b| a.stored.label.cmp(&b.stored.label)),
        Some("NameZA") => files.sort_by(|a, b| b.stored.label.cmp(&a.stored.label)),
        Some("Newest") => files.sort_by_key(|f| std::cmp::Reverse(f.stored.id)),
        Some("Oldest") => files.sort_by_key(|f| f.stored.id),
        Some("Size") => files.sort_by_key(|f| f.stored.size),
        Some("Type") => files.sort_by(|a, b| a.stored.content_type.cmp(&b.stored.content_type)),
        // Bundle `datasets.api.version.files.invalid.order.criteria`.
        Some(o) => return error(400, &format!("Invalid order criteria: {o}")),
    }
    let total = files.len();
    let offset = param(&req, "offset")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit = param(&req, "limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let data: Vec<Value> = files
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|f| render::file(version, f))
        .collect();
    HttpResponse::Ok().json(json!({"status": "OK", "totalCount": total, "data": data}))
}

/// `DELETE /api/files/{id}` (`Files.deleteFileInDataset`): `data` is whether the
/// physical file went (never released); failures of the command are 400s.
pub(crate) async fn delete(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let user = tri!(user(&req, &g));
    let Ok(file_id) = id.parse::<u64>() else {
        return error(400, &format!("Bad file ID number: {id}."));
    };
    let owner_of = g.datasets.values().find(|d| {
        d.latest()
            .is_some_and(|v| v.files.iter().any(|f| f.stored.id == file_id))
    });
    let Some(d) = owner_of else {
        return error(404, &format!("File with ID {file_id} not found."));
    };
    let failed = |msg: &str| {
        error(
            400,
            &format!("Delete failed for file ID {file_id} (CommandException): {msg}"),
        )
    };
    if d.owner != user {
        return failed(&format!(
            "User @{user} is not permitted to perform requested action."
        ));
    }
    if blocks_update(d) {
        return failed("Dataset cannot be edited due to dataset lock.");
    }
    let dataset_id = d.id;
    let version_id = g.next_id();
    let Some(d) = g.datasets.get_mut(&dataset_id) else {
        return error(404, &format!("File with ID {file_id} not found."));
    };
    let draft = d.ensure_draft(version_id, &render::timestamp());
    let Some(pos) = draft.files.iter().position(|f| f.stored.id == file_id) else {
        return error(404, &format!("File with ID {file_id} not found."));
    };
    let removed = draft.files.remove(pos);
    draft.last_update = render::timestamp();
    let physical = !removed.released;
    if physical {
        let _ = std::fs::remove_file(&removed.stored.path);
    }
    ok(json!(physical))
}
