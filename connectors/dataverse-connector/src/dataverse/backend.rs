//! The trait impl: RDS's metadata interface on the Dataverse client.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use connector_core::interface::{FileRecord, Metadata, Project, Publication, Upload};
use connector_core::transfer::form::{fields_only, form_data};
use connector_core::transfer::parts::Parts;
use connector_core::transfer::upload::{self, Spool, UploadBody};
use connector_core::transfer::{self, Algorithm, DigestHandle, Digests};
use connector_core::{ConnectorError, Credentials, Result};
use serde_json::{json, Value};

use super::core::DataverseApi;
use super::paths;
use crate::config::Settings;
use crate::mapping::{self, Citation};

pub struct DataverseBackend {
    api: DataverseApi,
    settings: Settings,
    spool_dir: Option<PathBuf>,
    /// The installation's checksum type, once an answer told it (`:FileFixityChecksum
    /// Algorithm`): until then every upload is hashed with all four.
    checksum: Mutex<Option<Algorithm>>,
    /// Whether the store may offer direct upload: false once it said it does not.
    direct: AtomicBool,
}

const ALL: &[Algorithm] = &[
    Algorithm::Md5,
    Algorithm::Sha1,
    Algorithm::Sha256,
    Algorithm::Sha512,
];

/// A dataset's database id: digits only (Dataverse parses anything else as a PID).
fn dataset_id(raw: &str) -> Result<&str> {
    let id = raw.trim();
    if !id.is_empty() && id.len() <= 19 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(ConnectorError::BadRequest(format!(
            "the project id {raw:?} is not a Dataverse dataset id (its database id, digits)"
        )))
    }
}

fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// `MD5`, `SHA-1`, `SHA-256`, `SHA-512` (`DataFile.ChecksumType`).
fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "MD5" => Some(Algorithm::Md5),
        "SHA-1" => Some(Algorithm::Sha1),
        "SHA-256" => Some(Algorithm::Sha256),
        "SHA-512" => Some(Algorithm::Sha512),
        _ => None,
    }
}

fn citation_fields(version: &Value) -> Vec<Value> {
    version
        .pointer("/metadataBlocks/citation/fields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A version's citation and license.
fn citation_of(version: &Value) -> Citation {
    Citation {
        license: mapping::license_from_json(version.get("license")),
        ..mapping::from_fields(&citation_fields(version))
    }
}

/// A Search API card as a citation (what the list shows without one call per dataset).
fn citation_of_card(card: &Value) -> Citation {
    let text = |k: &str| {
        card.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let strings = |k: &str| -> Vec<String> {
        card.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(mapping::MAX_ITEMS)
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    Citation {
        title: text("name"),
        description: text("description"),
        authors: strings("authors")
            .into_iter()
            .map(|name| mapping::Author {
                name,
                ..mapping::Author::default()
            })
            .collect(),
        keywords: strings("keywords"),
        subjects: strings("subjects"),
        ..Citation::default()
    }
}

/// A file metadata object as RDS receives it, with the fields of the Zenodo connector's
/// answers added (`id`, `filename`, `filesize`). Its id is the data file's database id.
fn file_record(mut native: Value) -> Result<FileRecord> {
    let id = id_string(native.pointer("/dataFile/id"));
    let label = native
        .get("label")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (Some(id), Some(label)) = (id, label) else {
        return Err(ConnectorError::BadGateway(
            "Dataverse listed a file without an id or label".into(),
        ));
    };
    let name = paths::joined(native.get("directoryLabel").and_then(Value::as_str), &label);
    let size = native.pointer("/dataFile/filesize").cloned();
    if let Some(o) = native.as_object_mut() {
        o.insert("id".into(), json!(id));
        o.insert("filename".into(), json!(name));
        if let Some(size) = size {
            o.insert("filesize".into(), size);
        }
    }
    Ok(FileRecord { id, name, native })
}

impl DataverseBackend {
    pub fn new(api: DataverseApi, settings: Settings, spool_dir: Option<PathBuf>) -> Self {
        Self {
            api,
            settings,
            spool_dir,
            checksum: Mutex::new(None),
            direct: AtomicBool::new(true),
        }
    }

    fn known_checksum(&self) -> Option<Algorithm> {
        self.checksum.lock().ok().and_then(|g| *g)
    }

    fn learn_checksum(&self, a: Algorithm) {
        if let Ok(mut g) = self.checksum.lock() {
            *g = Some(a);
        }
    }

    /// Removes a file the connector just added and cannot vouch for.
    async fn discard(&self, creds: &Credentials, file_id: Option<&str>, what: &str) {
        let Some(file_id) = file_id else { return };
        if let Err(e) = self.api.delete_file(creds, file_id).await {
            tracing::warn!(file = file_id, error = %e, "could not remove {what}");
        }
    }

    /// Checks what Dataverse stored against what was sent: name and folder as sent (a
    /// same-path file makes Dataverse rename, `name-1.ext`), checksum as computed.
    fn verify_added(
        &self,
        added: &Value,
        dir: Option<&str>,
        label: &str,
        sent: Option<Digests>,
        len: u64,
        learn: bool,
    ) -> Result<()> {
        let path = paths::joined(dir, label);
        let what = format!("file {path:?}");
        let got_label = added.get("label").and_then(Value::as_str);
        let got_dir = added
            .get("directoryLabel")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty());
        if got_label != Some(label) || got_dir != dir {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse stored {what} as {:?}",
                paths::joined(got_dir, got_label.unwrap_or_default())
            )));
        }
        let checksum = added.pointer("/dataFile/checksum");
        let kind = checksum
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str)
            .and_then(algorithm);
        let value = checksum
            .and_then(|c| c.get("value"))
            .and_then(Value::as_str);
        let (Some(kind), Some(value)) = (kind, value) else {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse stored {what} without a checksum, so it cannot be verified"
            )));
        };
        // A direct upload's checksum is the one the connector registered: it says
        // nothing of the installation's own algorithm.
        if learn {
            self.learn_checksum(kind);
        }
        if let Some(size) = added.pointer("/dataFile/filesize").and_then(Value::as_u64) {
            if size != len {
                return Err(ConnectorError::BadGateway(format!(
                    "Dataverse stored {what} with {size} bytes; {len} were sent"
                )));
            }
        }
        let sent = sent.filter(|d| d.bytes == len).ok_or_else(|| {
            ConnectorError::Internal(format!("the upload of {what} was not hashed whole"))
        })?;
        if sent.get(kind).is_none() {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse checks {what} with {}, which this upload was not hashed with; \
                 upload it again",
                kind.name()
            )));
        }
        sent.verify(kind, value, &what)
    }

    /// A direct upload where the store offers it (SOURCES.md §5): the bytes go to the
    /// store's presigned URL(s), each part's `ETag` checked against its MD5, then the file
    /// is registered with `/add` (`storageIdentifier` and the whole file's MD5). `None`:
    /// the store offers none (remembered), and `body` is untouched for `/add`.
    #[allow(clippy::too_many_arguments)]
    async fn try_direct(
        &self,
        creds: &Credentials,
        id: &str,
        dir: Option<&str>,
        label: &str,
        content_type: &str,
        body: &mut Option<UploadBody>,
        len: u64,
        sent: &DigestHandle,
    ) -> Result<Option<Value>> {
        if !self.direct.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let Some(urls) = self.api.upload_urls(creds, id, len).await? else {
            self.direct.store(false, Ordering::Relaxed);
            tracing::info!("Dataverse's store offers no direct upload; files go through /add");
            return Ok(None);
        };
        let path = paths::joined(dir, label);
        let bad = |why: &str| {
            ConnectorError::BadGateway(format!(
                "Dataverse's direct-upload URLs for {path:?}: {why}"
            ))
        };
        let sid = urls
            .get("storageIdentifier")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no storageIdentifier"))?
            .to_owned();
        let source = body
            .take()
            .ok_or_else(|| ConnectorError::Internal("the upload body was taken".into()))?;
        let store_url = |v: &Value| {
            v.as_str()
                .and_then(|u| url::Url::parse(u).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        };
        if let Some(single) = urls.get("url") {
            let url = store_url(single).ok_or_else(|| bad("an unusable URL"))?;
            let what = format!("the direct upload of {path:?}");
            let (etag, md5) = self
                .api
                .put_object(creds, &url, source, true, &what)
                .await?;
            if md5.as_deref() != Some(etag.as_str()) {
                return Err(ConnectorError::BadGateway(format!(
                    "the store's copy of {path:?} differs from what was sent: ETag {etag}, MD5 {}",
                    md5.unwrap_or_default()
                )));
            }
        } else {
            let part_size = urls
                .get("partSize")
                .and_then(Value::as_u64)
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("no partSize"))?;
            let complete = urls
                .get("complete")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no complete path"))?
                .to_owned();
            let abort = urls.get("abort").and_then(Value::as_str).map(str::to_owned);
            let mut split = Parts::new(source, part_size, self.spool_dir.as_deref())?;
            let count = split.count();
            let listed = urls
                .get("urls")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("no part URLs"))?;
            if listed.len() as u64 != count {
                return Err(bad(&format!(
                    "{} part URLs for {count} parts",
                    listed.len()
                )));
            }
            let result = async {
                let mut etags = serde_json::Map::new();
                while let Some(p) = split.next().await? {
                    let n = p.number.to_string();
                    let url = listed.get(&n).and_then(store_url).ok_or_else(|| bad("a part without its URL"))?;
                    let what = format!("part {n} of {count} of {path:?}");
                    let (etag, md5) = self.api.put_object(creds, &url, p.body, false, &what).await?;
                    drop(p.spool);
                    if md5.as_deref() != Some(etag.as_str()) {
                        return Err(ConnectorError::BadGateway(format!(
                            "the store's copy of {what} differs from what was sent: ETag {etag}, MD5 {}",
                            md5.unwrap_or_default()
                        )));
                    }
                    etags.insert(n, json!(format!("\"{etag}\"")));
                }
                let what = format!("completing the direct upload of {path:?}");
                self.api
                    .complete_multipart(creds, &complete, &Value::Object(etags), &what)
                    .await
            }
            .await;
            if let Err(e) = result {
                if let Some(abort) = &abort {
                    let what = format!("aborting the direct upload of {path:?}");
                    if let Err(a) = self.api.abort_multipart(creds, abort, &what).await {
                        tracing::warn!(dataset = id, error = %a, "could not abort a direct upload");
                    }
                }
                return Err(e);
            }
        }
        let md5 = sent
            .get()
            .filter(|d| d.bytes == len)
            .and_then(|d| d.md5)
            .ok_or_else(|| {
                ConnectorError::Internal(format!("the upload of {path:?} was not hashed whole"))
            })?;
        let mut json_data = json!({
            "storageIdentifier": sid,
            "fileName": label,
            "mimeType": content_type,
            "checksum": {"@type": "MD5", "@value": md5},
            "tabIngest": "false",
        });
        if let Some(d) = dir {
            json_data["directoryLabel"] = json!(d);
        }
        let json_data = json_data.to_string();
        let what = format!("the registration of {path:?} in dataset {id}");
        let data = self
            .api
            .add_file(
                creds,
                id,
                &what,
                fields_only(&[("jsonData", json_data.as_str())]),
            )
            .await?;
        Ok(Some(data))
    }
}

#[async_trait]
impl Metadata for DataverseBackend {
    async fn list_projects(&self, creds: &Credentials) -> Result<Vec<Project>> {
        let cards = self
            .api
            .list_drafts(creds, &self.settings.collection)
            .await?;
        Ok(cards
            .iter()
            .filter_map(|c| {
                Some(Project {
                    project_id: id_string(c.get("entity_id"))?,
                    metadata: mapping::to_ro_crate(&citation_of_card(c)),
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
        let given = metadata
            .as_ref()
            .map(mapping::from_ro_crate)
            .unwrap_or_default();
        let citation = mapping::with_defaults(
            given,
            creds.username(),
            self.settings.contact_email.as_deref(),
            &self.settings.subject,
            &mapping::today(),
        )
        .map_err(|_| {
            ConnectorError::BadRequest(
                "Dataverse needs a dataset contact: the RO-Crate names no contactPoint (or \
                 author) with an e-mail, and DATAVERSE_CONTACT_EMAIL is not set"
                    .into(),
            )
        })?;
        let license = citation
            .license
            .clone()
            .unwrap_or_else(mapping::default_license);
        let body = json!({"datasetVersion": {
            "license": mapping::license_json(&license),
            "metadataBlocks": {"citation": {"fields": mapping::to_fields(&citation)}},
        }});
        let created = self
            .api
            .create(creds, &self.settings.collection, &body)
            .await?;
        let id = id_string(created.get("id")).ok_or_else(|| {
            ConnectorError::BadGateway("Dataverse's new dataset has no id".into())
        })?;
        tracing::info!(dataset = %id, "dataset created on Dataverse");
        Ok(Project {
            project_id: id,
            metadata: mapping::to_ro_crate(&citation),
        })
    }

    async fn get_project(&self, creds: &Credentials, project: &str) -> Result<Value> {
        let version = self.api.draft(creds, dataset_id(project)?).await?;
        Ok(mapping::to_ro_crate(&citation_of(&version)))
    }

    /// Read, merge, write: Dataverse's PUT replaces every field and the license.
    async fn update_project(
        &self,
        creds: &Credentials,
        project: &str,
        metadata: Value,
    ) -> Result<Value> {
        let id = dataset_id(project)?;
        mapping::check_shape(&metadata).map_err(ConnectorError::BadRequest)?;
        let update = mapping::from_ro_crate(&metadata);
        self.api.wait_unlocked(creds, id).await?;
        let mut version = self.api.draft(creds, id).await?;
        let fields = mapping::merge_fields(citation_fields(&version), mapping::to_fields(&update));
        let license = update
            .license
            .clone()
            .or_else(|| mapping::license_from_json(version.get("license")))
            .unwrap_or_else(mapping::default_license);
        let Some(o) = version.as_object_mut() else {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse's draft of dataset {id} is not an object"
            )));
        };
        o.remove("files");
        o.insert("license".into(), mapping::license_json(&license));
        let blocks = o.entry("metadataBlocks").or_insert_with(|| json!({}));
        if !blocks.is_object() {
            *blocks = json!({});
        }
        blocks["citation"]["fields"] = Value::Array(fields);
        let saved = self.api.put_draft(creds, id, &version).await?;
        Ok(mapping::to_ro_crate(&citation_of(&saved)))
    }

    async fn delete_project(&self, creds: &Credentials, project: &str) -> Result<()> {
        let id = dataset_id(project)?;
        self.api.wait_unlocked(creds, id).await?;
        self.api.delete_draft(creds, id).await
    }

    /// Publish, wait for the finalisation's lock to go, check the version is released.
    async fn publish_project(&self, creds: &Credentials, project: &str) -> Result<Publication> {
        let id = dataset_id(project)?;
        self.api.wait_unlocked(creds, id).await?;
        self.api.publish(creds, id).await?;
        self.api.wait_unlocked(creds, id).await?;
        let dataset = self.api.dataset(creds, id).await?;
        let state = dataset
            .pointer("/latestVersion/versionState")
            .and_then(Value::as_str);
        if state != Some("RELEASED") {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse accepted publishing dataset {id}, but its latest version is {} \
                 with no lock left: the publication's finalisation failed on Dataverse",
                state.unwrap_or("unknown")
            )));
        }
        let part = |k: &str| {
            dataset
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(authority), Some(identifier)) = (part("authority"), part("identifier")) else {
            return Err(ConnectorError::BadGateway(format!(
                "Dataverse published dataset {id} but reports no persistent identifier"
            )));
        };
        let protocol = part("protocol").unwrap_or("doi");
        if protocol != "doi" {
            tracing::warn!(dataset = id, protocol, "the installation's persistent ids are not DOIs; RDS gets authority/identifier as its DOI");
        }
        tracing::info!(dataset = id, "dataset published on Dataverse");
        Ok(Publication {
            doi: format!("{authority}/{identifier}"),
        })
    }

    async fn list_files(&self, creds: &Credentials, project: &str) -> Result<Vec<FileRecord>> {
        let files = self.api.list_files(creds, dataset_id(project)?).await?;
        files.into_iter().map(file_record).collect()
    }

    async fn upload_file(&self, creds: &Credentials, project: &str, upload: Upload) -> Result<()> {
        let id = dataset_id(project)?;
        let (dir, label) = upload
            .filename
            .as_deref()
            .and_then(paths::split)
            .ok_or_else(|| ConnectorError::BadRequest("the file name is empty".into()))?;
        let path = paths::joined(dir.as_deref(), &label);
        let max = self.settings.max_file_bytes;
        if let (Some(max), Some(size)) = (max, upload.size) {
            if size > max {
                return Err(ConnectorError::PayloadTooLarge(format!(
                    "{path:?} has {size} bytes, more than this Dataverse takes per file \
                     ({max}, DATAVERSE_MAX_FILE_BYTES)"
                )));
            }
        }
        // Before taking the bytes: a wrong id fails fast, locks are waited for, and a
        // file of the same path is replaced (Dataverse would rename the new one).
        self.api.wait_unlocked(creds, id).await?;
        let files = self.api.list_files(creds, id).await?;
        for f in files {
            let Ok(record) = file_record(f) else { continue };
            if record.name == path {
                self.api.delete_file(creds, &record.id).await?;
            }
        }
        // MD5 always: direct uploads are registered and their ETags checked with it.
        let algorithms = match self.known_checksum() {
            Some(a) if a != Algorithm::Md5 => vec![Algorithm::Md5, a],
            Some(_) => vec![Algorithm::Md5],
            None => ALL.to_vec(),
        };
        let (body, sent) = transfer::hashing(upload.body, &algorithms);
        let content_type = upload
            .content_type
            .clone()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let upload = Upload { body, ..upload };
        let spool = Spool {
            provider: "Dataverse",
            max_file_bytes: max.unwrap_or(u64::MAX),
            dir: self.spool_dir.as_deref(),
        };
        let prepared = upload::prepare(upload, spool).await?;
        let len = prepared.body.length();
        let mut body = Some(prepared.body);
        let what = format!("the upload of {path:?} to dataset {id}");
        let result: Result<(Value, bool)> = async {
            let direct = self
                .try_direct(
                    creds,
                    id,
                    dir.as_deref(),
                    &label,
                    &content_type,
                    &mut body,
                    len,
                    &sent,
                )
                .await?;
            if let Some(data) = direct {
                return Ok((data, false));
            }
            let body = body
                .take()
                .ok_or_else(|| ConnectorError::Internal("the upload body was taken".into()))?;
            let mut json_data = json!({"tabIngest": "false"});
            if let Some(d) = &dir {
                json_data["directoryLabel"] = json!(d);
            }
            let json_data = json_data.to_string();
            let form = form_data(
                &[("jsonData", json_data.as_str())],
                "file",
                &label,
                &content_type,
                body,
            );
            Ok((self.api.add_file(creds, id, &what, form).await?, true))
        }
        .await;
        drop(prepared.spool);
        let (data, learn) = result?;
        let added = data.pointer("/files/0").cloned().ok_or_else(|| {
            ConnectorError::BadGateway(format!("Dataverse's answer to {what} lists no file"))
        })?;
        let file_id = id_string(added.pointer("/dataFile/id"));
        if let Err(e) = self.verify_added(&added, dir.as_deref(), &label, sent.get(), len, learn) {
            self.discard(creds, file_id.as_deref(), "an unverified upload")
                .await;
            return Err(e);
        }
        tracing::info!(dataset = id, file = %path, bytes = len, "file uploaded to Dataverse, checksum verified");
        Ok(())
    }

    async fn delete_file(
        &self,
        creds: &Credentials,
        project: &str,
        file: &FileRecord,
    ) -> Result<()> {
        let id = dataset_id(project)?;
        self.api.wait_unlocked(creds, id).await?;
        self.api.delete_file(creds, &file.id).await
    }
}
