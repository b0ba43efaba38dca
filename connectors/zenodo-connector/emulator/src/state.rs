//! The emulator's model: depositions, their files, tokens, faults and the request log.
//!
//! JSON shapes follow the deposition and file representations of Zenodo's legacy REST API
//! (developers.zenodo.org, "Depositions" and "Deposition files"), as served today by
//! zenodo-rdm's `site/zenodo_rdm/legacy/` serializers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

pub use crate::rules::field_error;
use crate::rules::{embargo_refusal, parse_iso_date, today};

/// A file held by a deposition, stored on disk.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Zenodo's file id (a UUID string).
    pub id: String,
    /// The file name (Zenodo calls it `key` in a bucket, `filename` in a deposition).
    pub key: String,
    pub size: u64,
    /// Lower-case hex MD5, as Zenodo reports it.
    pub md5: String,
    /// Lower-case hex SHA-256, for tests to compare content without reading it back.
    pub sha256: String,
    pub mimetype: String,
    /// Where the bytes are.
    pub path: PathBuf,
}

/// One deposition as the emulator keeps it.
#[derive(Debug, Clone)]
pub struct Deposition {
    pub id: u64,
    pub conceptrecid: u64,
    pub owner: String,
    pub owner_num: u64,
    pub created: String,
    pub modified: String,
    /// The user's metadata; `prereserve_doi` is added when rendered.
    pub metadata: Map<String, Value>,
    /// `unsubmitted` or `done`.
    pub state: &'static str,
    pub submitted: bool,
    pub doi: Option<String>,
    pub bucket: String,
    pub files: Vec<StoredFile>,
}

/// One request as seen by the emulator. Query values are never kept (they may hold a
/// token); only whether an `access_token` was present.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query_access_token: bool,
    pub authorization: bool,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub user_agent: Option<String>,
    /// The answer's status; 0 while the request is still being served.
    pub status: u16,
}

/// A canned failure for the next calls.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// 429 with `Retry-After: secs` and `X-RateLimit-*`.
    RateLimited { retry_after_secs: u64 },
    /// Any status, with Zenodo's JSON error body.
    Status(u16),
    /// Any status, with Zenodo's JSON error body saying `message`.
    Saying(u16, String),
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub next_id: u64,
    pub next_file: u64,
    pub tokens: HashMap<String, String>,
    pub owners: HashMap<String, u64>,
    pub depositions: BTreeMap<u64, Deposition>,
    /// Pending faults, each for any call or only for calls matching (method, path prefix).
    pub faults: VecDeque<(Option<(String, String)>, Fault)>,
    pub down: bool,
    pub log: Vec<LoggedRequest>,
    pub base_url: String,
    pub files_dir: PathBuf,
    pub legacy_upload_limit: u64,
    /// A record's bucket: its quota (all files together) and its largest file.
    pub bucket_quota: u64,
    pub max_file_size: u64,
    /// Bucket uploads still to be stored with one byte flipped (a corrupting store).
    pub corrupt_uploads: usize,
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.000000+00:00` for `secs` since the epoch (Zenodo's timestamp form).
pub fn iso_timestamp(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000000+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Checks the types of the fields given on create/update (upload type, access right and
/// license: `rules`).
pub fn validate_metadata_types(md: &Map<String, Value>) -> Vec<Value> {
    let mut errors = Vec::new();
    if let Some(d) = md.get("publication_date") {
        if d.as_str().and_then(parse_iso_date).is_none() {
            errors.push(field_error(
                "metadata.publication_date",
                "Not a valid date.",
            ));
        }
    }
    for key in ["title", "description"] {
        if md.get(key).is_some_and(|v| !v.is_string()) {
            errors.push(field_error(
                &format!("metadata.{key}"),
                "Not a valid string.",
            ));
        }
    }
    if let Some(c) = md.get("creators") {
        match c.as_array() {
            Some(list) => {
                for (i, creator) in list.iter().enumerate() {
                    let named = creator
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.trim().is_empty());
                    if !named {
                        errors.push(field_error(
                            &format!("metadata.creators.{i}.name"),
                            "Missing data for required field.",
                        ));
                    }
                }
            }
            None => errors.push(field_error("metadata.creators", "Not a valid list.")),
        }
    }
    if let Some(k) = md.get("keywords") {
        if !k.as_array().is_some_and(|l| l.iter().all(Value::is_string)) {
            errors.push(field_error("metadata.keywords", "Not a valid list."));
        }
    }
    errors
}

/// What publishing requires (developers.zenodo.org, "Deposit metadata", required fields),
/// plus at least one file.
pub fn validate_for_publish(dep: &Deposition) -> Vec<Value> {
    let md = &dep.metadata;
    let mut errors = validate_metadata_types(md);
    let missing = |k: &str| match md.get(k) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    for key in [
        "upload_type",
        "publication_date",
        "title",
        "creators",
        "description",
    ] {
        if missing(key) {
            errors.push(field_error(
                &format!("metadata.{key}"),
                "Missing data for required field.",
            ));
        }
    }
    // invenio-rdm-records `services/schemas/metadata.py`: `description =
    // SanitizedHTML(required=True, validate=validate.Length(min=3))` (marshmallow's message).
    if md
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty() && d.chars().count() < 3)
    {
        errors.push(field_error(
            "metadata.description",
            "Shorter than minimum length 3.",
        ));
    }
    errors.extend(embargo_refusal(md, today()));
    // No subtype is needed: `publication` and `image` alone are resource types of
    // today's vocabulary (`rules::unknown_resource_type`); the pre-2023 site wanted
    // `publication_type` / `image_type`.
    if dep.files.is_empty() {
        errors.push(field_error(
            "files",
            "Missing uploaded files. To disable files for this record please mark it as metadata-only.",
        ));
    }
    errors
}

impl State {
    pub fn prereserved_doi(id: u64) -> String {
        format!("10.5072/zenodo.{id}")
    }

    pub fn deposition_url(&self, id: u64) -> String {
        format!("{}/api/deposit/depositions/{id}", self.base_url)
    }

    pub fn file_json(&self, dep: &Deposition, f: &StoredFile) -> Value {
        let dep_url = self.deposition_url(dep.id);
        json!({
            "id": f.id,
            "filename": f.key,
            "filesize": f.size,
            "checksum": f.md5,
            "links": {
                "self": format!("{dep_url}/files/{}", f.id),
                "download": format!("{}/api/files/{}/{}", self.base_url, dep.bucket, f.key),
            },
        })
    }

    pub fn bucket_object_json(&self, dep: &Deposition, f: &StoredFile) -> Value {
        let url = format!("{}/api/files/{}/{}", self.base_url, dep.bucket, f.key);
        let now = iso_timestamp(now_secs());
        json!({
            "key": f.key,
            "mimetype": f.mimetype,
            "checksum": format!("md5:{}", f.md5),
            "version_id": f.id,
            "size": f.size,
            "created": now,
            "updated": now,
            "is_head": true,
            "delete_marker": false,
            "links": {
                "self": url,
                "version": format!("{url}?versionId={}", f.id),
                "uploads": format!("{url}?uploads"),
            },
        })
    }

    /// The deposition as the API renders it.
    pub fn deposition_json(&self, dep: &Deposition) -> Value {
        let base = &self.base_url;
        let url = self.deposition_url(dep.id);
        let mut metadata = dep.metadata.clone();
        metadata.insert(
            "prereserve_doi".into(),
            json!({ "doi": Self::prereserved_doi(dep.id), "recid": dep.id }),
        );
        if let Some(doi) = &dep.doi {
            metadata.insert("doi".into(), Value::String(doi.clone()));
        }
        let title = metadata
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut v = json!({
            "created": dep.created,
            "modified": dep.modified,
            "id": dep.id,
            "record_id": dep.id,
            "conceptrecid": dep.conceptrecid.to_string(),
            "owner": dep.owner_num,
            "state": dep.state,
            "submitted": dep.submitted,
            "title": title,
            "metadata": metadata,
            "files": dep.files.iter().map(|f| self.file_json(dep, f)).collect::<Vec<_>>(),
            "links": {
                "self": url,
                "html": format!("{base}/deposit/{}", dep.id),
                "badge": format!("{base}/badge/doi/.svg"),
                "files": format!("{url}/files"),
                "bucket": format!("{base}/api/files/{}", dep.bucket),
                "latest_draft": url,
                "latest_draft_html": format!("{base}/deposit/{}", dep.id),
                "publish": format!("{url}/actions/publish"),
                "edit": format!("{url}/actions/edit"),
                "discard": format!("{url}/actions/discard"),
                "newversion": format!("{url}/actions/newversion"),
                "registerconceptdoi": format!("{url}/actions/registerconceptdoi"),
            },
        });
        if let (Some(doi), Some(obj)) = (&dep.doi, v.as_object_mut()) {
            obj.insert("doi".into(), Value::String(doi.clone()));
            obj.insert(
                "doi_url".into(),
                Value::String(format!("https://doi.org/{doi}")),
            );
            obj.insert(
                "conceptdoi".into(),
                Value::String(format!("10.5072/zenodo.{}", dep.conceptrecid)),
            );
        }
        v
    }

    pub fn new_file_id(&mut self) -> String {
        self.next_file += 1;
        format!(
            "{:08x}-{:04x}-4{:03x}-8000-{:012x}",
            self.next_file.wrapping_mul(2_654_435_761) & 0xffff_ffff,
            self.next_id & 0xffff,
            self.next_file & 0xfff,
            self.next_file
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso_timestamp(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            iso_timestamp(1_709_251_199),
            "2024-02-29T23:59:59.000000+00:00"
        );
    }
}
