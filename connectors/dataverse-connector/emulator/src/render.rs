//! Dataverse's JSON of datasets, versions, files and locks (`util/json/JsonPrinter.java`:
//! `json(Dataset, Boolean)`, `json(DatasetVersion, ...)`, `json(FileMetadata)`,
//! `json(DataFile, ...)`, `json(DatasetLock)`), SOURCES.md §3, §4, §6.

use serde_json::{json, Map, Value};

use crate::state::{Dataset, FileEntry, Lock, State, Version};
use crate::vocab;

/// Now as `lastUpdateTime` (`yyyy-MM-dd'T'HH:mm:ss'Z'`).
pub(crate) fn timestamp() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

/// Now as `java.util.Date.toString()` (a lock's `date`): `Tue Dec 01 16:20:01 UTC 2026`.
pub(crate) fn java_date() -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_default()
}

pub(crate) fn persistent_id(st: &State, d: &Dataset) -> String {
    format!(
        "{}:{}/{}",
        st.options.protocol, st.options.authority, d.identifier
    )
}

fn persistent_url(st: &State, d: &Dataset) -> String {
    let resolver = if st.options.protocol == "hdl" {
        "https://hdl.handle.net"
    } else {
        "https://doi.org"
    };
    format!("{resolver}/{}/{}", st.options.authority, d.identifier)
}

/// `json(Dataset, Boolean)`; `version` is the one shown as `latestVersion`.
pub(crate) fn dataset(st: &State, d: &Dataset, version: Option<&Version>) -> Value {
    let mut o = json!({
        "id": d.id,
        "identifier": d.identifier,
        "persistentUrl": persistent_url(st, d),
        "protocol": st.options.protocol,
        "authority": st.options.authority,
        "separator": "/",
        "publisher": d.collection,
        "storageIdentifier": format!("file://{}/{}", st.options.authority, d.identifier),
        "datasetType": "dataset",
        "locks": d.locks.iter().map(|l| l.reason.clone()).collect::<Vec<_>>(),
    });
    if let Some(p) = &d.publication_date {
        o["publicationDate"] = json!(p);
    }
    if let Some(v) = version {
        o["latestVersion"] = self::version(st, d, v, true);
    }
    o
}

/// `json(DatasetVersion, ...)`.
pub(crate) fn version(st: &State, d: &Dataset, v: &Version, with_files: bool) -> Value {
    let draft = v.number.is_none();
    let mut o = json!({
        "id": v.id,
        "datasetId": d.id,
        "datasetPersistentId": persistent_id(st, d),
        "datasetType": "dataset",
        "storageIdentifier": format!("file://{}/{}", st.options.authority, d.identifier),
        "internalVersionNumber": 1,
        "versionState": if draft { "DRAFT" } else { "RELEASED" },
        "latestVersionPublishingState": if d.draft.is_some() { "DRAFT" } else { "RELEASED" },
        "lastUpdateTime": v.last_update,
        "createTime": v.create_time,
        "fileAccessRequest": true,
        "metadataBlocks": {
            "citation": {
                "displayName": "Citation Metadata",
                "name": "citation",
                "fields": v.fields,
            }
        },
    });
    if let Some((major, minor)) = v.number {
        o["versionNumber"] = json!(major);
        o["versionMinorNumber"] = json!(minor);
    }
    if let Some(t) = &v.release_time {
        o["releaseTime"] = json!(t);
        o["publicationDate"] = json!(t.get(..10).unwrap_or(t));
    }
    if let Some((name, uri)) = &v.license {
        let icon = vocab::license(uri).map(|(_, _, i)| i).unwrap_or_default();
        o["license"] = json!({ "name": name, "uri": uri, "iconUri": icon });
    } else if let Some(terms) = &v.terms_of_use {
        o["termsOfUse"] = json!(terms);
    }
    if with_files {
        o["files"] = Value::Array(v.files.iter().map(|f| file(v, f)).collect());
    }
    o
}

/// `json(FileMetadata)` with its `dataFile` (`json(DataFile, FileMetadata, ...)`); `md5`
/// only for MD5 (`getChecksumTypeAndValue`).
pub(crate) fn file(v: &Version, f: &FileEntry) -> Value {
    let s = &f.stored;
    let mut data_file = json!({
        "id": s.id,
        "persistentId": "",
        "filename": s.label,
        "contentType": s.content_type,
        "friendlyType": s.content_type,
        "filesize": s.size,
        "storageIdentifier": f.storage_identifier,
        "rootDataFileId": -1,
        "checksum": { "type": s.checksum_type, "value": s.checksum_value },
        "tabularData": false,
        "creationDate": f.created.get(..10).unwrap_or(&f.created),
        "lastUpdateTime": f.created,
        "fileAccessRequest": true,
    });
    let mut meta = Map::new();
    if let Some(desc) = &s.description {
        meta.insert("description".into(), json!(desc));
        data_file["description"] = json!(desc);
    }
    meta.insert("label".into(), json!(s.label));
    meta.insert("restricted".into(), json!(f.restricted));
    if let Some(dir) = &s.directory_label {
        meta.insert("directoryLabel".into(), json!(dir));
        data_file["directoryLabel"] = json!(dir);
    }
    meta.insert("version".into(), json!(1));
    meta.insert("datasetVersionId".into(), json!(v.id));
    if !f.categories.is_empty() {
        meta.insert("categories".into(), json!(f.categories));
        data_file["categories"] = json!(f.categories);
    }
    if s.checksum_type == "MD5" {
        data_file["md5"] = json!(s.checksum_value);
    }
    meta.insert("dataFile".into(), data_file);
    Value::Object(meta)
}

/// `json(DatasetLock)`: `message` omitted when null.
pub(crate) fn lock(st: &State, d: &Dataset, l: &Lock) -> Value {
    let mut o = json!({
        "lockType": l.reason,
        "date": l.date,
        "user": l.user,
        "dataset": persistent_id(st, d),
    });
    if let Some(m) = &l.message {
        o["message"] = json!(m);
    }
    o
}
