//! The trait impl: RDS's metadata interface on the Zenodo client.

use std::path::PathBuf;

use async_trait::async_trait;
use connector_core::interface::{FileRecord, Metadata, Project, Publication, Upload};
use connector_core::transfer::upload::{self, flat_name, Spool};
use connector_core::transfer::{self, Algorithm, Digests};
use connector_core::{ConnectorError, Credentials, Result};
use serde_json::{Map, Value};
use url::Url;

use super::core::{ZenodoApi, MAX_FILE_BYTES};
use crate::mapping;

pub struct ZenodoBackend {
    api: ZenodoApi,
    base: Url,
    /// Where uploads of unknown size are spooled (`None`: the system temp dir, `TMPDIR`).
    spool_dir: Option<PathBuf>,
    /// Bucket links by (token digest, deposition): RDS uploads a project's files one call
    /// each, and a draft's bucket does not change. Keyed by the token, so a link is only
    /// reused for the credentials that fetched it.
    buckets: moka::sync::Cache<(String, u64), String>,
}

/// How long a bucket link is reused; shorter than an export of many files takes.
const BUCKET_TTL: std::time::Duration = std::time::Duration::from_secs(300);

fn token_digest(creds: &Credentials) -> String {
    use secrecy::ExposeSecret;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(creds.token().expose_secret().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn project_id(raw: &str) -> Result<u64> {
    raw.trim().parse::<u64>().map_err(|_| {
        ConnectorError::BadRequest(format!(
            "the project id {raw:?} is not a Zenodo deposition id (a number)"
        ))
    })
}

fn metadata_of(dep: &Value) -> Map<String, Value> {
    dep.get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn id_of(dep: &Value) -> Option<String> {
    match dep.get("id").or_else(|| dep.get("record_id")) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

impl ZenodoBackend {
    pub fn new(api: ZenodoApi, base: Url, spool_dir: Option<PathBuf>) -> Self {
        Self {
            api,
            base,
            spool_dir,
            buckets: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(BUCKET_TTL)
                .build(),
        }
    }

    /// The deposition's bucket link, fetched once per deposition and token.
    async fn bucket(&self, creds: &Credentials, id: u64) -> Result<String> {
        let key = (token_digest(creds), id);
        if let Some(hit) = self.buckets.get(&key) {
            return Ok(hit);
        }
        let dep = self.api.get(creds, id).await?;
        let bucket = self.bucket_of(&dep)?;
        self.buckets.insert(key, bucket.clone());
        Ok(bucket)
    }

    /// The bucket link of a deposition, only if it points at the configured Zenodo (the
    /// token is never sent to another host).
    fn bucket_of(&self, dep: &Value) -> Result<String> {
        let bucket = dep
            .get("links")
            .and_then(|l| l.get("bucket"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ConnectorError::BadGateway("Zenodo's deposition has no bucket link".into())
            })?;
        let url = Url::parse(bucket)
            .map_err(|_| ConnectorError::BadGateway("Zenodo's bucket link is not a URL".into()))?;
        if url.origin() != self.base.origin() {
            return Err(ConnectorError::BadGateway(
                "Zenodo's bucket link points at another host; refusing to send the token there"
                    .into(),
            ));
        }
        Ok(bucket.to_owned())
    }
}

/// A file of Zenodo's deposition file list (`{"id", "filename", "filesize", "checksum",
/// "links"}`), the whole object kept as RDS receives it.
fn file_record(native: Value) -> Result<FileRecord> {
    let field = |name: &str| native.get(name).and_then(Value::as_str).map(str::to_owned);
    match (field("id"), field("filename")) {
        (Some(id), Some(name)) => Ok(FileRecord { id, name, native }),
        _ => Err(ConnectorError::BadGateway(
            "Zenodo listed a file without an id or a file name".into(),
        )),
    }
}

#[async_trait]
impl Metadata for ZenodoBackend {
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
            .map(mapping::to_zenodo)
            .unwrap_or_default();
        let md = mapping::with_defaults(mapped, creds.username(), &mapping::today());
        let dep = self.api.create(creds, md).await?;
        let project_id = id_of(&dep).ok_or_else(|| {
            ConnectorError::BadGateway("Zenodo's new deposition has no id".into())
        })?;
        Ok(Project {
            project_id,
            metadata: mapping::to_ro_crate(&metadata_of(&dep)),
        })
    }

    async fn get_project(&self, creds: &Credentials, project: &str) -> Result<Value> {
        let dep = self.api.get(creds, project_id(project)?).await?;
        Ok(mapping::to_ro_crate(&metadata_of(&dep)))
    }

    /// Read, merge, write: Zenodo's update replaces the whole metadata object.
    async fn update_project(
        &self,
        creds: &Credentials,
        project: &str,
        metadata: Value,
    ) -> Result<Value> {
        let id = project_id(project)?;
        let current = self.api.get(creds, id).await?;
        mapping::check_shape(&metadata).map_err(ConnectorError::BadRequest)?;
        let merged = mapping::merge(metadata_of(&current), mapping::to_zenodo(&metadata));
        let dep = self.api.put_metadata(creds, id, merged).await?;
        Ok(mapping::to_ro_crate(&metadata_of(&dep)))
    }

    async fn delete_project(&self, creds: &Credentials, project: &str) -> Result<()> {
        let id = project_id(project)?;
        self.buckets.invalidate(&(token_digest(creds), id));
        self.api.delete(creds, id).await
    }

    async fn publish_project(&self, creds: &Credentials, project: &str) -> Result<Publication> {
        let id = project_id(project)?;
        // A published record's bucket is closed: later uploads must ask Zenodo again.
        self.buckets.invalidate(&(token_digest(creds), id));
        let dep = self.api.publish(creds, id).await?;
        let doi = dep
            .get("doi")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .or_else(|| {
                dep.get("metadata")
                    .and_then(|m| m.get("doi"))
                    .and_then(Value::as_str)
            })
            .ok_or_else(|| {
                ConnectorError::BadGateway("Zenodo published the deposition but sent no DOI".into())
            })?;
        Ok(Publication {
            doi: doi.to_owned(),
        })
    }

    async fn list_files(&self, creds: &Credentials, project: &str) -> Result<Vec<FileRecord>> {
        let files = self.api.list_files(creds, project_id(project)?).await?;
        files.into_iter().map(file_record).collect()
    }

    async fn upload_file(&self, creds: &Credentials, project: &str, upload: Upload) -> Result<()> {
        let id = project_id(project)?;
        // Zenodo has no folders (zenodo/zenodo#1089).
        let name = upload
            .filename
            .as_deref()
            .and_then(flat_name)
            .ok_or_else(|| ConnectorError::BadRequest("the file name is empty".into()))?;
        // Find the bucket before taking the bytes, so a wrong id fails fast.
        let bucket = self.bucket(creds, id).await?;
        // Zenodo answers each stored object with its MD5: hash what we send to compare.
        let (body, sent) = transfer::hashing(upload.body, &[Algorithm::Md5]);
        let upload = Upload { body, ..upload };
        let spool = Spool {
            provider: "Zenodo",
            max_file_bytes: MAX_FILE_BYTES,
            dir: self.spool_dir.as_deref(),
        };
        let prepared = upload::prepare(upload, spool).await?;
        let (bytes, spooled) = (prepared.body.length(), prepared.spool.is_some());
        let result = self
            .api
            .put_bucket_object(creds, &bucket, &name, prepared.body)
            .await;
        // The spool file (if any) is removed here, whatever the outcome.
        drop(prepared.spool);
        let stored = result?;
        if let Err(e) = verify_stored(&stored, sent.get(), bytes, &name) {
            // Never leave a corrupt copy that looks complete.
            if let Err(del) = self.api.delete_bucket_object(creds, &bucket, &name).await {
                tracing::warn!(project = id, file = %name, error = %del, "could not remove a corrupt upload");
            }
            return Err(e);
        }
        tracing::info!(project = id, file = %name, bytes, spooled, "file uploaded to Zenodo, MD5 verified");
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

/// Compares the MD5 Zenodo reports for a stored object (`checksum: "md5:<hex>"`, as
/// Invenio's files REST API serialises every object version) with the digest of the
/// `len` bytes we sent.
fn verify_stored(stored: &Value, sent: Option<Digests>, len: u64, name: &str) -> Result<()> {
    let what = format!("file {name:?}");
    let reported = stored
        .get("checksum")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix("md5:"))
        .ok_or_else(|| {
            ConnectorError::BadGateway(format!(
                "Zenodo stored {what} but reported no MD5 checksum, so it cannot be verified"
            ))
        })?;
    let sent = sent.filter(|d| d.bytes == len).ok_or_else(|| {
        ConnectorError::Internal(format!("the upload of {what} was not hashed whole"))
    })?;
    sent.verify(Algorithm::Md5, reported, &what)
}
