//! The trait impl: RDS's metadata interface on the InvenioRDM client.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connector_core::interface::{FileRecord, Metadata, Project, Publication, Upload};
use connector_core::transfer::parts::Parts;
use connector_core::transfer::upload::{self, flat_name, Spool, UploadBody};
use connector_core::transfer::{self, Algorithm, Digests};
use connector_core::{ConnectorError, Credentials, Result};
use serde_json::{json, Map, Value};

use super::core::InvenioApi;
use super::error::field_errors;
use crate::config::Limits;
use crate::mapping;

pub struct InvenioBackend {
    api: InvenioApi,
    limits: Limits,
    /// Where uploads of unknown size are spooled (`None`: the system temp dir).
    spool_dir: Option<PathBuf>,
    /// Whether the instance may offer multipart transfers: false once it refused one (403)
    /// and then took a local one from the same user.
    multipart: AtomicBool,
}

/// A record id as one plain path segment (Invenio's ids are `[0-9a-z-]`; Zenodo's digits).
fn project_id(raw: &str) -> Result<&str> {
    let id = raw.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id)
    } else {
        Err(ConnectorError::BadRequest(format!(
            "the project id {raw:?} is not an InvenioRDM record id"
        )))
    }
}

fn metadata_of(record: &Value) -> Map<String, Value> {
    record
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn id_of(record: &Value) -> Option<String> {
    match record.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The draft's own schema errors that are not "still missing" (a draft may lack required
/// fields until it is published): Invenio saved the draft *without* these fields.
fn rejected_fields(record: &Value) -> Vec<connector_core::error::FieldError> {
    field_errors(record.get("errors"))
        .into_iter()
        .filter(|e| e.message != "Missing data for required field.")
        .collect()
}

/// A file entry of Invenio's list, kept whole as RDS receives it, with the fields of
/// the Zenodo connector's answers added (`id`, `filename`, `filesize`: the contract's
/// `File` in specs/metadata.openapi.yaml, and what RDS and the conformance hooks read).
/// Its id is its key, the file's name in Invenio's files API.
fn file_record(mut native: Value) -> Result<FileRecord> {
    let key = native.get("key").and_then(Value::as_str).map(str::to_owned);
    let size = native.get("size").cloned();
    match (key, native.as_object_mut()) {
        (Some(key), Some(o)) => {
            o.insert("id".into(), json!(key));
            o.insert("filename".into(), json!(key));
            if let Some(size) = size {
                o.insert("filesize".into(), size);
            }
            Ok(FileRecord {
                id: key.clone(),
                name: key,
                native,
            })
        }
        _ => Err(ConnectorError::BadGateway(
            "InvenioRDM listed a file without a key".into(),
        )),
    }
}

impl InvenioBackend {
    pub fn new(api: InvenioApi, limits: Limits, spool_dir: Option<PathBuf>) -> Self {
        Self {
            api,
            limits,
            spool_dir,
            multipart: AtomicBool::new(true),
        }
    }

    /// The draft body of a create or update: the metadata and what the draft keeps.
    fn body(metadata: Map<String, Value>, current: Option<&Value>) -> Value {
        let access = current
            .and_then(|c| c.get("access"))
            .filter(|a| a.get("record").is_some())
            .cloned()
            .unwrap_or_else(|| json!({"record": "public", "files": "public"}));
        let enabled = current
            .and_then(|c| c.pointer("/files/enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        json!({"access": access, "files": {"enabled": enabled}, "metadata": metadata})
    }

    /// Refuses an upload the instance's limits would refuse, before any byte is sent;
    /// the bytes the record's other files use.
    fn check_limits(&self, files: &[Value], key: &str, len: Option<u64>) -> Result<u64> {
        let others: Vec<&Value> = files
            .iter()
            .filter(|f| f.get("key").and_then(Value::as_str) != Some(key))
            .collect();
        if others.len() >= self.limits.max_files {
            return Err(ConnectorError::BadRequest(format!(
                "the record already holds {} files, the most this InvenioRDM accepts \
                 (INVENIORDM_MAX_FILES)",
                others.len()
            )));
        }
        let used: u64 = others
            .iter()
            .filter_map(|f| f.get("size").and_then(Value::as_u64))
            .sum();
        if len.is_some_and(|l| used.saturating_add(l) > self.limits.max_record_bytes) {
            return Err(self.too_large(used));
        }
        Ok(used)
    }

    /// A multipart transfer where it fits (larger than one part of
    /// `INVENIORDM_MULTIPART_PART_BYTES`, and the instance has not refused one): init with
    /// the parts, each part sent (and retried) alone, commit. `None`: not tried, or the
    /// instance refused it (403, its `IfTransferType` permission): the caller sends the
    /// file locally, and `body` is untouched.
    async fn try_multipart(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
        body: &mut Option<UploadBody>,
        bytes: u64,
        initialised: &AtomicBool,
    ) -> Result<Option<Value>> {
        let part = self.limits.multipart_part_bytes;
        if part == 0 || bytes <= part || !self.multipart.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let parts = bytes.div_ceil(part);
        let entry = match self
            .api
            .init_multipart(creds, id, key, bytes, parts, part)
            .await
        {
            Ok(entry) => entry,
            Err(ConnectorError::Forbidden(_)) => {
                // Local transfers only here (Zenodo's case). Remembered only once a
                // local init works for the same user, so one user's refusal does not
                // turn multipart off for everyone.
                let source = body
                    .take()
                    .ok_or_else(|| ConnectorError::Internal("the upload body was taken".into()))?;
                self.api.init_file(creds, id, key).await?;
                initialised.store(true, Ordering::Relaxed);
                self.multipart.store(false, Ordering::Relaxed);
                tracing::info!("InvenioRDM refused a multipart transfer; uploads go as local ones");
                self.api.put_content(creds, id, key, source).await?;
                return Ok(Some(self.api.commit(creds, id, key).await?));
            }
            Err(e) => return Err(e),
        };
        initialised.store(true, Ordering::Relaxed);
        let urls = part_urls(&entry, parts)?;
        let source = body
            .take()
            .ok_or_else(|| ConnectorError::Internal("the upload body was taken".into()))?;
        let mut split = Parts::new(source, part, self.spool_dir.as_deref())?;
        while let Some(p) = split.next().await? {
            let url = urls
                .get((p.number - 1) as usize)
                .ok_or_else(|| ConnectorError::Internal("a part without its URL".into()))?;
            let what = format!("part {} of {parts} of {key:?} in draft {id}", p.number);
            self.api.put_part(creds, url, &what, p.body).await?;
            drop(p.spool);
        }
        // The whole stream has been read: its digest is complete.
        drop(split);
        Ok(Some(self.api.commit(creds, id, key).await?))
    }

    /// The committed entry with its `md5:` checksum. After a multipart commit Invenio
    /// computes it in a background task (invenio-records-resources `services/files/
    /// tasks.py`, `recompute_multipart_checksum_task`): the entry is read again, every
    /// 500 ms, until it has one or the response deadline has passed (then a 504: the copy
    /// cannot be verified, and is removed by the caller).
    async fn checksum_of(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
        mut entry: Value,
    ) -> Result<Value> {
        let deadline = Instant::now() + self.api.response_timeout();
        loop {
            let md5 = entry
                .get("checksum")
                .and_then(Value::as_str)
                .is_some_and(|c| c.starts_with("md5:"));
            if md5 {
                return Ok(entry);
            }
            if Instant::now() + CHECKSUM_POLL > deadline {
                return Err(ConnectorError::GatewayTimeout(format!(
                    "InvenioRDM committed {key:?} but reported no MD5 checksum in time, so the \
                     copy cannot be verified"
                )));
            }
            tokio::time::sleep(CHECKSUM_POLL).await;
            entry = self.api.get_file(creds, id, key).await?;
        }
    }

    /// Rights ids the instance's license vocabulary lacks become free-text rights (their
    /// id as the title, the SPDX page as the link): Invenio would refuse the whole draft
    /// ("Not a valid value.") for one unknown license. At most [`MAX_RIGHTS_LOOKUPS`] are
    /// looked up per request; further ones are sent as they are.
    async fn known_rights(&self, creds: &Credentials, md: &mut Map<String, Value>) -> Result<()> {
        let Some(Value::Array(rights)) = md.get_mut("rights") else {
            return Ok(());
        };
        for r in rights.iter_mut().take(MAX_RIGHTS_LOOKUPS) {
            let Some(id) = r.get("id").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            if !self.api.license_exists(creds, &id).await? {
                *r = json!({"title": {"en": id}, "link": mapping::license_url(&id)});
            }
        }
        Ok(())
    }

    fn too_large(&self, used: u64) -> ConnectorError {
        ConnectorError::PayloadTooLarge(format!(
            "the file would take the record past {} bytes (INVENIORDM_MAX_RECORD_BYTES; {used} \
             used)",
            self.limits.max_record_bytes
        ))
    }
}

#[async_trait]
impl Metadata for InvenioBackend {
    async fn list_projects(&self, creds: &Credentials) -> Result<Vec<Project>> {
        let drafts = self.api.list_drafts(creds).await?;
        Ok(drafts
            .iter()
            .filter_map(|d| {
                Some(Project {
                    project_id: id_of(d)?,
                    metadata: mapping::to_ro_crate(&metadata_of(d)),
                })
            })
            .collect())
    }

    async fn create_project(
        &self,
        creds: &Credentials,
        metadata: Option<Value>,
    ) -> Result<Project> {
        if let Some(m) = &metadata {
            mapping::check_shape(m).map_err(ConnectorError::BadRequest)?;
        }
        let mut mapped = metadata
            .as_ref()
            .map(mapping::to_invenio)
            .unwrap_or_default();
        self.known_rights(creds, &mut mapped).await?;
        let md = mapping::with_defaults(mapped, creds.username(), &mapping::today());
        let draft = self.api.create(creds, &Self::body(md, None)).await?;
        let id = id_of(&draft)
            .ok_or_else(|| ConnectorError::BadGateway("InvenioRDM's new draft has no id".into()))?;
        let rejected = rejected_fields(&draft);
        if !rejected.is_empty() {
            // Invenio saved the draft without the fields it refused: not what was asked.
            if let Err(e) = self.api.delete_draft(creds, &id).await {
                tracing::warn!(project = %id, error = %e, "could not remove a refused draft");
            }
            return Err(ConnectorError::Validation {
                detail: "InvenioRDM refused fields of the new draft's metadata".into(),
                errors: rejected,
            });
        }
        Ok(Project {
            project_id: id,
            metadata: mapping::to_ro_crate(&metadata_of(&draft)),
        })
    }

    async fn get_project(&self, creds: &Credentials, project: &str) -> Result<Value> {
        let draft = self.api.get_draft(creds, project_id(project)?).await?;
        Ok(mapping::to_ro_crate(&metadata_of(&draft)))
    }

    /// Read, merge, write: Invenio's `PUT` replaces the whole draft.
    async fn update_project(
        &self,
        creds: &Credentials,
        project: &str,
        metadata: Value,
    ) -> Result<Value> {
        let id = project_id(project)?;
        mapping::check_shape(&metadata).map_err(ConnectorError::BadRequest)?;
        let current = self.api.get_draft(creds, id).await?;
        let mut update = mapping::to_invenio(&metadata);
        self.known_rights(creds, &mut update).await?;
        let merged = mapping::merge(metadata_of(&current), update);
        let draft = self
            .api
            .put_draft(creds, id, &Self::body(merged, Some(&current)))
            .await?;
        let rejected = rejected_fields(&draft);
        if !rejected.is_empty() {
            return Err(ConnectorError::Validation {
                detail: format!("InvenioRDM saved draft {id} without the fields it refused"),
                errors: rejected,
            });
        }
        Ok(mapping::to_ro_crate(&metadata_of(&draft)))
    }

    async fn delete_project(&self, creds: &Credentials, project: &str) -> Result<()> {
        self.api.delete_draft(creds, project_id(project)?).await
    }

    async fn publish_project(&self, creds: &Credentials, project: &str) -> Result<Publication> {
        let record = self.api.publish(creds, project_id(project)?).await?;
        let doi = record
            .pointer("/pids/doi/identifier")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                ConnectorError::BadGateway(
                    "InvenioRDM published the record but it has no DOI (pids.doi.identifier)"
                        .into(),
                )
            })?;
        Ok(Publication {
            doi: doi.to_owned(),
        })
    }

    async fn list_files(&self, creds: &Credentials, project: &str) -> Result<Vec<FileRecord>> {
        let files = self.api.list_files(creds, project_id(project)?).await?;
        files.into_iter().map(file_record).collect()
    }

    /// Init, content, commit; the commit's MD5 must equal the one computed while sending.
    async fn upload_file(&self, creds: &Credentials, project: &str, upload: Upload) -> Result<()> {
        let id = project_id(project)?;
        let key = upload
            .filename
            .as_deref()
            .and_then(flat_name)
            .ok_or_else(|| ConnectorError::BadRequest("the file name is empty".into()))?;
        // Before taking the bytes: a wrong id fails fast, the limits are checked, and a
        // file of the same name is replaced (as a Zenodo bucket PUT of the same key).
        let files = self.api.list_files(creds, id).await?;
        let used = self.check_limits(&files, &key, upload.size)?;
        if files
            .iter()
            .any(|f| f.get("key").and_then(Value::as_str) == Some(key.as_str()))
        {
            self.api.delete_file(creds, id, &key).await?;
        }
        let (body, sent) = transfer::hashing(upload.body, &[Algorithm::Md5]);
        let upload = Upload { body, ..upload };
        // An upload of unknown size is bounded by what the record has left.
        let room = self.limits.max_record_bytes.saturating_sub(used);
        let spool = Spool {
            provider: "InvenioRDM",
            max_file_bytes: room,
            dir: self.spool_dir.as_deref(),
        };
        let prepared = upload::prepare(upload, spool).await.map_err(|e| match e {
            ConnectorError::PayloadTooLarge(_) => self.too_large(used),
            e => e,
        })?;
        let bytes = prepared.body.length();
        let mut body = Some(prepared.body);
        let initialised = AtomicBool::new(false);
        let result = async {
            let committed = match self
                .try_multipart(creds, id, &key, &mut body, bytes, &initialised)
                .await?
            {
                Some(committed) => committed,
                None => {
                    let body = body.take().ok_or_else(|| {
                        ConnectorError::Internal("the upload body was taken".into())
                    })?;
                    self.api.init_file(creds, id, &key).await?;
                    initialised.store(true, Ordering::Relaxed);
                    self.api.put_content(creds, id, &key, body).await?;
                    self.api.commit(creds, id, &key).await?
                }
            };
            let committed = self.checksum_of(creds, id, &key, committed).await?;
            verify_committed(&committed, sent.get(), bytes, &key)
        }
        .await;
        drop(prepared.spool);
        if let (Err(e), true) = (&result, initialised.load(Ordering::Relaxed)) {
            // Never leave a pending or corrupt file behind: a pending one blocks publishing.
            if let Err(del) = self.api.delete_file(creds, id, &key).await {
                tracing::warn!(project = id, file = %key, error = %del, "could not remove a failed upload");
            }
            tracing::debug!(project = id, file = %key, error = %e, "upload failed");
        }
        result?;
        tracing::info!(project = id, file = %key, bytes, "file uploaded to InvenioRDM, MD5 verified");
        Ok(())
    }

    async fn delete_file(
        &self,
        creds: &Credentials,
        project: &str,
        file: &FileRecord,
    ) -> Result<()> {
        self.api
            .delete_file(creds, project_id(project)?, &file.id)
            .await
    }
}

/// Compares the commit's `checksum: "md5:<hex>"` and `size` with what was sent.
fn verify_committed(committed: &Value, sent: Option<Digests>, len: u64, key: &str) -> Result<()> {
    let what = format!("file {key:?}");
    let reported = committed
        .get("checksum")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix("md5:"))
        .ok_or_else(|| {
            ConnectorError::BadGateway(format!(
                "InvenioRDM committed {what} without an MD5 checksum, so it cannot be verified"
            ))
        })?;
    if let Some(size) = committed.get("size").and_then(Value::as_u64) {
        if size != len {
            return Err(ConnectorError::BadGateway(format!(
                "InvenioRDM committed {what} with {size} bytes; {len} were sent"
            )));
        }
    }
    let sent = sent.filter(|d| d.bytes == len).ok_or_else(|| {
        ConnectorError::Internal(format!("the upload of {what} was not hashed whole"))
    })?;
    sent.verify(Algorithm::Md5, reported, &what)
}

/// The most license ids one create or update looks up in the instance's vocabulary.
const MAX_RIGHTS_LOOKUPS: usize = 16;

/// How often a multipart commit's checksum is asked for.
const CHECKSUM_POLL: Duration = Duration::from_millis(500);

/// The part URLs of a multipart init entry (`links.parts [{part, url}]`), in part order;
/// exactly `parts` of them, each an http(s) URL.
fn part_urls(entry: &Value, parts: u64) -> Result<Vec<url::Url>> {
    let bad = |why: &str| ConnectorError::BadGateway(format!("InvenioRDM's multipart init: {why}"));
    let listed = entry
        .pointer("/links/parts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no part links"))?;
    let mut urls = vec![None; parts as usize];
    for p in listed {
        let n = p
            .get("part")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("a part without a number"))?;
        let url = p
            .get("url")
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| bad("a part without a usable URL"))?;
        let slot = n
            .checked_sub(1)
            .and_then(|i| urls.get_mut(i as usize))
            .ok_or_else(|| bad("a part number out of range"))?;
        *slot = Some(url);
    }
    urls.into_iter()
        .map(|u| u.ok_or_else(|| bad("a part is missing")))
        .collect()
}
