//! The InvenioRDM connector's keys (issue 13's names: operators and RDS's charts use
//! them) and their validated form.

use connector_core::config::{parse_url, present, require_url, ConfigError};
use serde::{Deserialize, Serialize};
use url::Url;

pub const DEFAULT_DISPLAYNAME: &str = "InvenioRDM";
pub const DEFAULT_HELP_URL: &str = "https://inveniordm.docs.cern.ch/";
/// `deposit:write deposit:actions`: Zenodo's scopes to create, edit and publish.
pub const DEFAULT_SCOPES: &str = "deposit:write deposit:actions";
/// `RDM_RECORDS_MAX_FILES_COUNT`'s default (invenio-rdm-records `config.py`), Zenodo's too.
pub const DEFAULT_MAX_FILES: usize = 100;
/// Zenodo's `RDM_FILES_DEFAULT_QUOTA_SIZE` (zenodo-rdm `invenio.cfg`): 50 GB per record.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 50_000_000_000;
/// The most pages of `/api/user/records` one project listing reads.
pub const DEFAULT_MAX_PAGES: usize = 50;
/// Files larger than one part of this size go as multipart transfers where offered.
pub const DEFAULT_MULTIPART_PART_BYTES: u64 = 64 * 1024 * 1024;

/// Field names are the environment names in lower case. No `Debug`: it holds the secret.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `INVENIORDM_ADDRESS`: the instance's base URL (required).
    pub inveniordm_address: Option<String>,
    /// Set both: OAuth2 mode; neither: login mode (a pasted personal token).
    pub inveniordm_oauth_client_id: Option<String>,
    pub inveniordm_oauth_client_secret: Option<String>,
    /// Space-separated; default `deposit:write deposit:actions`.
    pub inveniordm_oauth_scopes: Option<String>,
    /// `port-inveniordm-{SERVICENAME}`, plain `port-inveniordm` without it.
    pub servicename: Option<String>,
    pub inveniordm_displayname: Option<String>,
    pub inveniordm_info_url: Option<String>,
    pub inveniordm_help_url: Option<String>,
    pub inveniordm_icon: Option<String>,
    /// Default `{INVENIORDM_ADDRESS}/records/${projectId}`.
    pub inveniordm_project_link_template: Option<String>,
    /// The instance's `RDM_RECORDS_MAX_FILES_COUNT` (default 100).
    pub inveniordm_max_files: Option<usize>,
    /// The instance's quota per record in bytes (default 50 GB, Zenodo's).
    pub inveniordm_max_record_bytes: Option<u64>,
    /// Pages of 100 drafts one project listing reads at most (default 50).
    pub inveniordm_max_pages: Option<usize>,
    /// Part size of multipart transfers (default 64 MiB; 0: never multipart).
    pub inveniordm_multipart_part_bytes: Option<u64>,
}

/// Keys that may come from `<KEY>_FILE` (Kubernetes Secrets).
pub const SECRET_KEYS: &[&str] = &["INVENIORDM_OAUTH_CLIENT_SECRET"];

/// How users authenticate.
#[derive(Clone)]
pub enum AuthMode {
    /// RDS `LoginService`: the user pastes a personal access token.
    Login,
    OAuth2 {
        client_id: String,
        client_secret: String,
        scopes: Vec<String>,
    },
}

/// The instance's limits, checked before an upload starts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_record_bytes: u64,
    pub max_pages: usize,
    /// 0: local transfers only.
    pub multipart_part_bytes: u64,
}

/// The validated configuration.
#[derive(Clone)]
pub struct Settings {
    /// Without a trailing slash.
    pub address: Url,
    pub servicename: String,
    pub auth: AuthMode,
    pub limits: Limits,
}

fn positive<T: PartialOrd + From<u8> + Copy>(
    key: &str,
    v: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if n >= T::from(1) => Ok(n),
        Some(_) => Err(ConfigError::new(key, "must be at least 1")),
    }
}

impl Settings {
    pub fn validate(c: &Config) -> Result<Self, ConfigError> {
        let address = require_url("INVENIORDM_ADDRESS", &c.inveniordm_address)?;
        let address = parse_url("INVENIORDM_ADDRESS", address.as_str().trim_end_matches('/'))?;
        let servicename = match present(&c.servicename) {
            Some(s) => format!("port-inveniordm-{}", s.to_lowercase()),
            None => "port-inveniordm".to_owned(),
        };
        let id = present(&c.inveniordm_oauth_client_id);
        let secret = present(&c.inveniordm_oauth_client_secret);
        let auth = match (id, secret) {
            (None, None) => AuthMode::Login,
            (Some(id), Some(secret)) => AuthMode::OAuth2 {
                client_id: id.to_owned(),
                client_secret: secret.to_owned(),
                scopes: present(&c.inveniordm_oauth_scopes)
                    .unwrap_or(DEFAULT_SCOPES)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            },
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "INVENIORDM_OAUTH_CLIENT_SECRET",
                    "is required with INVENIORDM_OAUTH_CLIENT_ID (set both for OAuth2, neither for personal tokens)",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "INVENIORDM_OAUTH_CLIENT_ID",
                    "is required with INVENIORDM_OAUTH_CLIENT_SECRET (set both for OAuth2, neither for personal tokens)",
                ))
            }
        };
        let limits = Limits {
            max_files: positive(
                "INVENIORDM_MAX_FILES",
                c.inveniordm_max_files,
                DEFAULT_MAX_FILES,
            )?,
            max_record_bytes: positive(
                "INVENIORDM_MAX_RECORD_BYTES",
                c.inveniordm_max_record_bytes,
                DEFAULT_MAX_RECORD_BYTES,
            )?,
            max_pages: positive(
                "INVENIORDM_MAX_PAGES",
                c.inveniordm_max_pages,
                DEFAULT_MAX_PAGES,
            )?,
            multipart_part_bytes: c
                .inveniordm_multipart_part_bytes
                .unwrap_or(DEFAULT_MULTIPART_PART_BYTES),
        };
        Ok(Self {
            address,
            servicename,
            auth,
            limits,
        })
    }
}
