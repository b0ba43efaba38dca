//! The Dataverse connector's keys (issue 14's names) and their validated form.

use connector_core::config::{parse_url, present, require_url, ConfigError};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::mapping::SUBJECTS;

pub const DEFAULT_DISPLAYNAME: &str = "Dataverse";
pub const DEFAULT_HELP_URL: &str = "https://guides.dataverse.org/en/latest/user/";
pub const DEFAULT_COLLECTION: &str = "root";
pub const DEFAULT_SUBJECT: &str = "Other";
/// The most pages of 100 drafts one project listing reads.
pub const DEFAULT_MAX_PAGES: usize = 50;

/// Field names are the environment names in lower case.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `DATAVERSE_ADDRESS`: the installation's base URL (required).
    pub dataverse_address: Option<String>,
    /// Alias of the collection new datasets go into (default `root`).
    pub dataverse_collection: Option<String>,
    /// The dataset contact when the RO-Crate names none.
    pub dataverse_contact_email: Option<String>,
    /// One of the citation block's 14 subjects (default `Other`).
    pub dataverse_subject: Option<String>,
    /// `port-dataverse-{SERVICENAME}`, plain `port-dataverse` without it.
    pub servicename: Option<String>,
    pub dataverse_displayname: Option<String>,
    pub dataverse_info_url: Option<String>,
    pub dataverse_help_url: Option<String>,
    pub dataverse_icon: Option<String>,
    /// Default `{DATAVERSE_ADDRESS}/dataset.xhtml?id=${projectId}&version=DRAFT`.
    pub dataverse_project_link_template: Option<String>,
    /// Pages of 100 drafts one project listing reads at most (default 50).
    pub dataverse_max_pages: Option<usize>,
    /// The installation's `:MaxFileUploadSizeInBytes`, checked before any byte is sent
    /// (unset: no local check; Dataverse's own 400 is passed on).
    pub dataverse_max_file_bytes: Option<u64>,
}

/// No secrets among the keys: the API token comes with each request.
pub const SECRET_KEYS: &[&str] = &[];

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Without a trailing slash.
    pub address: Url,
    pub servicename: String,
    pub collection: String,
    pub contact_email: Option<String>,
    pub subject: String,
    pub max_pages: usize,
    pub max_file_bytes: Option<u64>,
}

/// A collection alias as Dataverse allows it (`Dataverse.java`: `[a-zA-Z0-9_-]`, ≤ 60).
fn collection(raw: Option<&str>) -> Result<String, ConfigError> {
    let alias = raw.unwrap_or(DEFAULT_COLLECTION).trim();
    let ok = !alias.is_empty()
        && alias.len() <= 60
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(alias.to_owned())
    } else {
        Err(ConfigError::new(
            "DATAVERSE_COLLECTION",
            "must be a collection alias (letters, digits, `_`, `-`; at most 60)",
        ))
    }
}

impl Settings {
    pub fn validate(c: &Config) -> Result<Self, ConfigError> {
        let address = require_url("DATAVERSE_ADDRESS", &c.dataverse_address)?;
        let address = parse_url("DATAVERSE_ADDRESS", address.as_str().trim_end_matches('/'))?;
        let servicename = match present(&c.servicename) {
            Some(s) => format!("port-dataverse-{}", s.to_lowercase()),
            None => "port-dataverse".to_owned(),
        };
        let subject = present(&c.dataverse_subject)
            .unwrap_or(DEFAULT_SUBJECT)
            .trim()
            .to_owned();
        if !SUBJECTS.contains(&subject.as_str()) {
            return Err(ConfigError::new(
                "DATAVERSE_SUBJECT",
                format!(
                    "must be one of the citation block's subjects: {}",
                    SUBJECTS.join(", ")
                ),
            ));
        }
        let contact_email = present(&c.dataverse_contact_email).map(|e| e.trim().to_owned());
        if contact_email
            .as_deref()
            .is_some_and(|e| !crate::mapping::looks_like_email(e))
        {
            return Err(ConfigError::new(
                "DATAVERSE_CONTACT_EMAIL",
                "must be an e-mail address",
            ));
        }
        let max_pages = match c.dataverse_max_pages {
            None => DEFAULT_MAX_PAGES,
            Some(n) if n >= 1 => n,
            Some(_) => {
                return Err(ConfigError::new(
                    "DATAVERSE_MAX_PAGES",
                    "must be at least 1",
                ))
            }
        };
        let max_file_bytes = match c.dataverse_max_file_bytes {
            Some(0) => {
                return Err(ConfigError::new(
                    "DATAVERSE_MAX_FILE_BYTES",
                    "must be at least 1 (unset it for no local check)",
                ))
            }
            n => n,
        };
        Ok(Self {
            address,
            servicename,
            collection: collection(present(&c.dataverse_collection))?,
            contact_email,
            subject,
            max_pages,
            max_file_bytes,
        })
    }
}
