//! The emulator's model: drafts and records, their files, tokens, faults, the request log,
//! and their JSON as InvenioRDM renders it (invenio-rdm-records' `RDMRecordSchema`,
//! invenio-records-resources' `FileSchema` and its links).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// Which instance is emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// A stock InvenioRDM: ids like `abcde-12345`, `application/json` is the RDM shape.
    Stock,
    /// zenodo.org: numeric ids, DOIs `10.5281/zenodo.<id>`, `application/json` answers
    /// the legacy shape (zenodo-rdm `site/zenodo_rdm/resources.py`), empty files refused
    /// (`RECORDS_RESOURCES_ALLOW_EMPTY_FILES = False`, zenodo-rdm `invenio.cfg`).
    Zenodo,
}

/// The instance's limits (invenio-rdm-records `config.py`; zenodo-rdm `invenio.cfg`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `RDM_RECORDS_MAX_FILES_COUNT` (default 100).
    pub max_files: usize,
    /// `RDM_FILES_DEFAULT_MAX_FILE_SIZE` (Zenodo 50 GB).
    pub max_file_bytes: u64,
    /// `RDM_FILES_DEFAULT_QUOTA_SIZE`: all files of a record together (Zenodo 50 GB).
    pub quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_files: 100,
            max_file_bytes: 50_000_000_000,
            quota_bytes: 50_000_000_000,
        }
    }
}

/// A file's transfer state (invenio-records-resources `transfer/base.py`
/// `TransferStatus`): `pending` from init until commit, then `completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Initialised; `content` says whether bytes were received (not yet committed).
    Pending {
        content: bool,
    },
    Completed,
}

#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: String,
    pub status: FileStatus,
    /// Bytes received by the content PUT.
    pub size: u64,
    /// Lower-case hex MD5 of the stored bytes.
    pub md5: String,
    pub path: PathBuf,
    pub file_id: String,
    pub created: String,
    pub updated: String,
    /// A multipart transfer (`"M"`) in progress; `None` for local ones and after commit.
    pub multipart: Option<Multipart>,
    /// Whether `checksum` is shown: a multipart commit leaves it to a background task
    /// (`recompute_multipart_checksum_task`, invenio-records-resources `services/files/
    /// tasks.py`), so the commit's answer has none; later reads have it.
    pub checksum_ready: bool,
}

/// invenio-records-resources `transfer/providers/multipart.py`: the parts announced at
/// init, each but the last exactly `part_size` bytes.
#[derive(Debug, Clone)]
pub struct Multipart {
    pub parts: u64,
    pub part_size: u64,
    pub size: u64,
    pub received: std::collections::BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub struct Draft {
    pub id: String,
    pub owner: String,
    pub created: String,
    pub updated: String,
    pub metadata: Map<String, Value>,
    pub access: Value,
    pub files_enabled: bool,
    pub files: Vec<StoredFile>,
    /// The errors of the last save (rendered as `errors` while present).
    pub errors: Vec<Value>,
    pub published: bool,
    pub doi: Option<String>,
    pub revision: u64,
}

/// One request as seen by the emulator; header values other than the User-Agent are not
/// kept (a token never lands in the log).
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub authorization: bool,
    pub content_length: Option<u64>,
    pub chunked: bool,
    pub user_agent: Option<String>,
    /// The answer's status; 0 while the request is still being served.
    pub status: u16,
}

#[derive(Debug, Clone)]
pub enum Fault {
    RateLimited {
        retry_after_secs: u64,
    },
    Status(u16),
    Saying(u16, String),
    /// No answer, the body unread.
    Hang,
}

#[derive(Default)]
pub struct State {
    pub base_url: String,
    pub flavour: Option<Flavour>,
    pub limits: Limits,
    pub tokens: HashMap<String, String>,
    /// By id, in creation order of the counter.
    pub drafts: BTreeMap<u64, Draft>,
    pub next: u64,
    pub files_dir: PathBuf,
    pub next_blob: u64,
    /// (method, path prefix) filter, or any call.
    pub faults: VecDeque<(Option<(String, String)>, Fault)>,
    pub corrupt_uploads: usize,
    /// Whether multipart transfers are offered (an instance's `IfTransferType` permission).
    pub multipart: bool,
    pub down: bool,
    pub log: Vec<LoggedRequest>,
}

/// Crockford's base32 without `ilou`, as invenio-rdm-records' recid provider draws ids.
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Now as Invenio's timestamps (`2024-01-31T12:00:00.123456+00:00`).
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
    );
    now.format(&fmt).unwrap_or_default()
}

impl State {
    pub fn flavour(&self) -> Flavour {
        self.flavour.unwrap_or(Flavour::Stock)
    }

    /// A new record id: numeric on Zenodo, `xxxxx-xxxxx` on a stock instance.
    pub fn new_id(&mut self) -> (u64, String) {
        self.next += 1;
        let n = self.next;
        let id = match self.flavour() {
            Flavour::Zenodo => n.to_string(),
            Flavour::Stock => {
                // A scrambled counter, so ids do not look sequential but never repeat.
                let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 14;
                let mut s = String::new();
                for i in 0..10 {
                    if i == 5 {
                        s.push('-');
                    }
                    s.push(ALPHABET[(x % 32) as usize] as char);
                    x /= 32;
                }
                s
            }
        };
        (n, id)
    }

    pub fn find_key(&self, id: &str) -> Option<u64> {
        self.drafts
            .iter()
            .find(|(_, d)| d.id == id)
            .map(|(k, _)| *k)
    }

    pub fn doi_for(&self, id: &str) -> String {
        match self.flavour() {
            Flavour::Zenodo => format!("10.5281/zenodo.{id}"),
            Flavour::Stock => format!("10.1234/{id}"),
        }
    }

    fn record_url(&self, id: &str) -> String {
        format!("{}/api/records/{id}", self.base_url)
    }

    pub fn file_json(&self, d: &Draft, f: &StoredFile) -> Value {
        let files = format!("{}/draft/files", self.record_url(&d.id));
        let key = crate::handlers::encode_segment(&f.key);
        let status = match f.status {
            FileStatus::Pending { .. } => "pending",
            FileStatus::Completed => "completed",
        };
        let mut v = json!({
            "key": f.key,
            "created": f.created,
            "updated": f.updated,
            "status": status,
            "metadata": null,
            "access": {"hidden": false},
            "transfer": {"type": "L"},
            "links": {
                "self": format!("{files}/{key}"),
                "content": format!("{files}/{key}/content"),
                "commit": format!("{files}/{key}/commit"),
            },
        });
        if let Some(m) = &f.multipart {
            // `MultipartStorageExt.multipart_links`: part URLs, `content` null.
            let parts: Vec<Value> = (1..=m.parts)
                .map(|n| {
                    json!({
                        "part": n,
                        "url": format!("{files}/{key}/content/{n}"),
                        "expiration": "2099-01-01T00:00:00+00:00",
                    })
                })
                .collect();
            v["transfer"] = json!({"type": "M", "parts": m.parts, "part_size": m.part_size});
            v["links"]["parts"] = Value::Array(parts);
            v["links"]["content"] = Value::Null;
            v["size"] = json!(m.size);
        }
        if f.status == FileStatus::Completed {
            if let Some(o) = v.as_object_mut() {
                if f.checksum_ready {
                    o.insert("checksum".into(), json!(format!("md5:{}", f.md5)));
                }
                o.insert("size".into(), json!(f.size));
                o.insert("mimetype".into(), json!("application/octet-stream"));
                o.insert("storage_class".into(), json!("L"));
                o.insert("file_id".into(), json!(f.file_id));
            }
        }
        v
    }

    pub fn files_json(&self, d: &Draft) -> Value {
        json!({
            "enabled": d.files_enabled,
            "default_preview": null,
            "order": [],
            "entries": d.files.iter().map(|f| self.file_json(d, f)).collect::<Vec<_>>(),
            "links": {"self": format!("{}/draft/files", self.record_url(&d.id))},
        })
    }

    /// The RDM shape of a draft or record (`RDMRecordSchema`): what a stock instance's
    /// `application/json` and every instance's `application/vnd.inveniordm.v1+json` serve.
    pub fn rdm_json(&self, d: &Draft) -> Value {
        let url = self.record_url(&d.id);
        let html = format!("{}/records/{}", self.base_url, d.id);
        let pids = match &d.doi {
            Some(doi) => {
                json!({"doi": {"identifier": doi, "provider": "datacite", "client": "datacite"}})
            }
            None => json!({}),
        };
        let mut v = json!({
            "id": d.id,
            "created": d.created,
            "updated": d.updated,
            "revision_id": d.revision,
            "is_published": d.published,
            "is_draft": !d.published,
            "status": if d.published { "published" } else { "draft" },
            "pids": pids,
            "metadata": d.metadata,
            "access": d.access,
            "files": {"enabled": d.files_enabled, "order": [], "count": d.files.len()},
            "parent": {"id": format!("{}-p", d.id), "access": {"owned_by": {"user": d.owner}}},
            "versions": {"index": 1, "is_latest": d.published, "is_latest_draft": true},
            "links": {
                "self": if d.published { url.clone() } else { format!("{url}/draft") },
                "self_html": html,
                "files": format!("{url}/draft/files"),
                "publish": format!("{url}/draft/actions/publish"),
                "versions": format!("{url}/versions"),
                "record": url,
            },
        });
        if !d.errors.is_empty() {
            if let Some(o) = v.as_object_mut() {
                o.insert("errors".into(), Value::Array(d.errors.clone()));
            }
        }
        v
    }

    /// zenodo.org's `application/json` on `/api/records`: the legacy shape of zenodo-rdm's
    /// `ZenodoJSONSerializer` (numeric `id`, `title` and `metadata.upload_type` rather
    /// than `resource_type`, `state`, ...). Only the outline: a client that reads RDM fields
    /// from it finds none.
    pub fn legacy_json(&self, d: &Draft) -> Value {
        let title = d.metadata.get("title").cloned().unwrap_or(Value::Null);
        json!({
            "id": d.id.parse::<u64>().ok(),
            "recid": d.id,
            "conceptrecid": format!("{}-p", d.id),
            "title": title,
            "doi": d.doi.clone().unwrap_or_default(),
            "state": if d.published { "done" } else { "unsubmitted" },
            "submitted": d.published,
            "metadata": {"title": title, "upload_type": "other"},
            "created": d.created,
            "modified": d.updated,
        })
    }
}
