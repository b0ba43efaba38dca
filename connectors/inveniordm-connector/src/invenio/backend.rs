//! The trait impl: RDS's metadata interface on the InvenioRDM client.

use std::path::PathBuf;

use async_trait::async_trait;
use connector_core::interface::{FileRecord, Metadata, Project, Publication, Upload};
use connector_core::transfer::{self, Algorithm, Digests};
use connector_core::{ConnectorError, Credentials, Result};
use serde_json::{json, Map, Value};

use super::core::InvenioApi;
use super::error::field_errors;
use super::writer;
use crate::config::Limits;
use crate::mapping;

pub struct InvenioBackend {
    api: InvenioApi,
    limits: Limits,
    /// Where uploads of unknown size are spooled (`None`: the system temp dir).
    spool_dir: Option<PathBuf>,
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

/// A file entry of Invenio's list, kept whole as RDS receives it; its id is its key.
fn file_record(native: Value) -> Result<FileRecord> {
    let key = native.get("key").and_then(Value::as_str).map(str::to_owned);
    match key {
        Some(key) => Ok(FileRecord {
            id: key.clone(),
            name: key,
            native,
        }),
        None => Err(ConnectorError::BadGateway(
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

    /// Refuses an upload the instance's limits would refuse, before any byte is sent.
    fn check_limits(&self, files: &[Value], key: &str, len: Option<u64>) -> Result<()> {
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
        let mapped = metadata
            .as_ref()
            .map(mapping::to_invenio)
            .unwrap_or_default();
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
        let merged = mapping::merge(metadata_of(&current), mapping::to_invenio(&metadata));
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
            .and_then(writer::flat_name)
            .ok_or_else(|| ConnectorError::BadRequest("the file name is empty".into()))?;
        // Before taking the bytes: a wrong id fails fast, the limits are checked, and a
        // file of the same name is replaced (as a Zenodo bucket PUT of the same key).
        let files = self.api.list_files(creds, id).await?;
        self.check_limits(&files, &key, upload.size)?;
        if files
            .iter()
            .any(|f| f.get("key").and_then(Value::as_str) == Some(key.as_str()))
        {
            self.api.delete_file(creds, id, &key).await?;
        }
        let (body, sent) = transfer::hashing(upload.body, &[Algorithm::Md5]);
        let upload = Upload { body, ..upload };
        let max = self.limits.max_record_bytes;
        let prepared =
            writer::prepare(upload, self.spool_dir.as_deref(), max, || self.too_large(0)).await?;
        let bytes = prepared.body.length();
        self.api.init_file(creds, id, &key).await?;
        let result = async {
            self.api.put_content(creds, id, &key, prepared.body).await?;
            let committed = self.api.commit(creds, id, &key).await?;
            verify_committed(&committed, sent.get(), bytes, &key)
        }
        .await;
        drop(prepared.spool);
        if let Err(e) = result {
            // Never leave a pending or corrupt file behind: a pending one blocks publishing.
            if let Err(del) = self.api.delete_file(creds, id, &key).await {
                tracing::warn!(project = id, file = %key, error = %del, "could not remove a failed upload");
            }
            return Err(e);
        }
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
    let sent = sent.filter(|d| d.bytes == len).ok_or_else(|| {
        ConnectorError::Internal(format!("the upload of {what} was not hashed whole"))
    })?;
    sent.verify(Algorithm::Md5, reported, &what)
}
