//! The provider's configuration keys (the original port's environment names) and their
//! validation at start: every problem is a [`ConfigError`] naming the key.

use std::fmt;
use std::path::PathBuf;

use connector_core::config::{parse_url, present, require_url};
use connector_core::{CommonConfig, ConfigError};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::webdav::core::{AuthMode, Layout};
use crate::webdav::writer::Chunking;

/// Folders listed at once during a recursive listing, unless configured.
pub const DEFAULT_LIST_CONCURRENCY: usize = 8;

const MIB: u64 = 1024 * 1024;
/// Uploads larger than this go in chunks, unless configured.
pub const DEFAULT_CHUNK_THRESHOLD: u64 = 32 * MIB;
/// The chunk size, unless configured: each chunked upload in flight holds one chunk in
/// memory.
pub const DEFAULT_CHUNK_SIZE: u64 = 8 * MIB;
/// What all chunk buffers together may hold, unless configured: 4 chunked uploads at
/// once; more run as plain PUTs.
pub const DEFAULT_CHUNK_MEMORY: u64 = 32 * MIB;
/// Nextcloud's chunking v2 limits (developer manual, "Chunked file upload"): 5 MiB to
/// 5 GiB per chunk except the last. We cap lower: a chunk is held in memory.
const CHUNK_SIZE_RANGE: std::ops::RangeInclusive<u64> = 5 * MIB..=1024 * MIB;

/// As read from file and environment: field names are the env names in lower case.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OwncloudConfig {
    pub owncloud_installation_url: Option<String>,
    pub owncloud_internal_installation_url: Option<String>,
    pub owncloud_oauth_client_id: Option<String>,
    pub owncloud_oauth_client_secret: Option<String>,
    pub servicename: Option<String>,
    pub efss_system: Option<String>,
    pub owncloud_auth: Option<String>,
    pub owncloud_displayname: Option<String>,
    pub owncloud_info_url: Option<String>,
    pub owncloud_help_url: Option<String>,
    pub owncloud_icon: Option<PathBuf>,
    pub owncloud_list_concurrency: Option<usize>,
    pub owncloud_chunk_threshold_bytes: Option<u64>,
    pub owncloud_chunk_size_bytes: Option<u64>,
    pub owncloud_chunk_memory_bytes: Option<u64>,
}

impl fmt::Debug for OwncloudConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwncloudConfig")
            .field("owncloud_installation_url", &self.owncloud_installation_url)
            .field(
                "owncloud_internal_installation_url",
                &self.owncloud_internal_installation_url,
            )
            .field("owncloud_oauth_client_id", &self.owncloud_oauth_client_id)
            .field(
                "owncloud_oauth_client_secret",
                &self
                    .owncloud_oauth_client_secret
                    .as_ref()
                    .map(|_| "[REDACTED]"),
            )
            .field("servicename", &self.servicename)
            .field("efss_system", &self.efss_system)
            .field("owncloud_auth", &self.owncloud_auth)
            .finish_non_exhaustive()
    }
}

/// Keys that may come from `<KEY>_FILE` (Kubernetes Secrets).
pub const SECRET_KEYS: &[&str] = &["OWNCLOUD_OAUTH_CLIENT_SECRET", "OWNCLOUD_OAUTH_CLIENT_ID"];

/// The validated configuration.
#[derive(Clone)]
pub struct Settings {
    /// Public URL: the user's browser goes there to authorize.
    pub installation_url: Url,
    /// Where we (and the Token Storage) reach the server; the public URL unless set.
    pub internal_url: Url,
    pub layout: Layout,
    pub auth: AuthMode,
    /// `port-owncloud[-{SERVICENAME}]`, lower case.
    pub servicename: String,
    /// Empty when registration is off and none was configured.
    pub client_id: String,
    pub client_secret: String,
    pub display_name: String,
    pub info_url: String,
    pub help_url: String,
    pub icon: Option<PathBuf>,
    pub list_concurrency: usize,
    pub chunking: Chunking,
}

impl Settings {
    pub fn validate(common: &CommonConfig, c: &OwncloudConfig) -> Result<Self, ConfigError> {
        let installation_url =
            require_url("OWNCLOUD_INSTALLATION_URL", &c.owncloud_installation_url)?;
        let internal_url = match present(&c.owncloud_internal_installation_url) {
            Some(v) => parse_url("OWNCLOUD_INTERNAL_INSTALLATION_URL", v)?,
            None => installation_url.clone(),
        };
        let layout = match present(&c.efss_system)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("owncloud") => Layout::Owncloud,
            Some("nextcloud") => Layout::Nextcloud,
            Some(other) => {
                return Err(ConfigError::new(
                    "EFSS_SYSTEM",
                    format!("must be owncloud or nextcloud, not {other:?}"),
                ))
            }
        };
        let auth = match present(&c.owncloud_auth)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("bearer") => AuthMode::Bearer,
            Some("basic") => AuthMode::Basic,
            Some(other) => {
                return Err(ConfigError::new(
                    "OWNCLOUD_AUTH",
                    format!("must be bearer or basic, not {other:?}"),
                ))
            }
        };
        let client_id =
            common.required_to_register("OWNCLOUD_OAUTH_CLIENT_ID", &c.owncloud_oauth_client_id)?;
        let client_secret = common.required_to_register(
            "OWNCLOUD_OAUTH_CLIENT_SECRET",
            &c.owncloud_oauth_client_secret,
        )?;
        let servicename = match present(&c.servicename) {
            Some(s) => format!("port-owncloud-{s}").to_lowercase(),
            None => "port-owncloud".to_owned(),
        };
        let list_concurrency = match c.owncloud_list_concurrency {
            None => DEFAULT_LIST_CONCURRENCY,
            Some(n @ 1..=64) => n,
            Some(n) => {
                return Err(ConfigError::new(
                    "OWNCLOUD_LIST_CONCURRENCY",
                    format!("must be between 1 and 64, not {n}"),
                ))
            }
        };
        let chunk_size = c.owncloud_chunk_size_bytes.unwrap_or(DEFAULT_CHUNK_SIZE);
        if !CHUNK_SIZE_RANGE.contains(&chunk_size) {
            return Err(ConfigError::new(
                "OWNCLOUD_CHUNK_SIZE_BYTES",
                format!(
                    "must be between {} and {} (5 MiB is Nextcloud's smallest chunk), not {chunk_size}",
                    CHUNK_SIZE_RANGE.start(),
                    CHUNK_SIZE_RANGE.end()
                ),
            ));
        }
        let memory = c
            .owncloud_chunk_memory_bytes
            .unwrap_or(DEFAULT_CHUNK_MEMORY);
        if memory < chunk_size {
            return Err(ConfigError::new(
                "OWNCLOUD_CHUNK_MEMORY_BYTES",
                format!("must hold at least one chunk ({chunk_size} bytes), not {memory}"),
            ));
        }
        let threshold = c
            .owncloud_chunk_threshold_bytes
            .unwrap_or(DEFAULT_CHUNK_THRESHOLD);
        let chunking = Chunking::new(threshold, chunk_size as usize, memory);
        Ok(Self {
            installation_url,
            internal_url,
            layout,
            auth,
            servicename,
            client_id,
            client_secret,
            display_name: present(&c.owncloud_displayname)
                .unwrap_or("ownCloud")
                .to_owned(),
            info_url: present(&c.owncloud_info_url)
                .unwrap_or("https://owncloud.com/")
                .to_owned(),
            help_url: present(&c.owncloud_help_url)
                .unwrap_or("https://owncloud.com/docs-guides/")
                .to_owned(),
            icon: c
                .owncloud_icon
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
            list_concurrency,
            chunking,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn base() -> OwncloudConfig {
        OwncloudConfig {
            owncloud_installation_url: Some("https://cloud.example.org".into()),
            ..Default::default()
        }
    }

    fn key_of(common: &CommonConfig, c: &OwncloudConfig) -> Option<String> {
        Settings::validate(common, c).err().map(|e| e.key)
    }

    #[test]
    fn defaults_and_names() {
        let s = Settings::validate(&CommonConfig::default(), &base()).unwrap();
        assert_eq!(s.servicename, "port-owncloud");
        assert_eq!(s.internal_url, s.installation_url);
        assert_eq!(s.layout, Layout::Owncloud);
        assert_eq!(s.auth, AuthMode::Bearer);
        assert_eq!(s.display_name, "ownCloud");
        assert_eq!(s.list_concurrency, 8);
        assert_eq!(s.chunking.threshold, 32 * MIB);
        assert_eq!(s.chunking.chunk_size, 8 * MIB as usize);
        let c = OwncloudConfig {
            servicename: Some("Uni-A-DE".into()),
            efss_system: Some("nextcloud".into()),
            owncloud_auth: Some("Basic".into()),
            owncloud_internal_installation_url: Some("http://owncloud.internal:8080".into()),
            ..base()
        };
        let s = Settings::validate(&CommonConfig::default(), &c).unwrap();
        assert_eq!(s.servicename, "port-owncloud-uni-a-de");
        assert_eq!(s.layout, Layout::Nextcloud);
        assert_eq!(s.auth, AuthMode::Basic);
        assert_eq!(s.internal_url.as_str(), "http://owncloud.internal:8080/");
    }

    #[test]
    fn errors_name_the_key() {
        let common = CommonConfig::default();
        assert_eq!(
            key_of(&common, &OwncloudConfig::default()).as_deref(),
            Some("OWNCLOUD_INSTALLATION_URL")
        );
        let bad_url = OwncloudConfig {
            owncloud_installation_url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert_eq!(
            key_of(&common, &bad_url).as_deref(),
            Some("OWNCLOUD_INSTALLATION_URL")
        );
        let efss = OwncloudConfig {
            efss_system: Some("seafile".into()),
            ..base()
        };
        assert_eq!(key_of(&common, &efss).as_deref(), Some("EFSS_SYSTEM"));
        let auth = OwncloudConfig {
            owncloud_auth: Some("digest".into()),
            ..base()
        };
        assert_eq!(key_of(&common, &auth).as_deref(), Some("OWNCLOUD_AUTH"));
        let no_room = OwncloudConfig {
            owncloud_chunk_memory_bytes: Some(4 * MIB),
            ..base()
        };
        assert_eq!(
            key_of(&common, &no_room).as_deref(),
            Some("OWNCLOUD_CHUNK_MEMORY_BYTES")
        );
        for bad in [MIB, 4 * 1024 * MIB] {
            let chunk = OwncloudConfig {
                owncloud_chunk_size_bytes: Some(bad),
                ..base()
            };
            assert_eq!(
                key_of(&common, &chunk).as_deref(),
                Some("OWNCLOUD_CHUNK_SIZE_BYTES")
            );
        }
        let registering = CommonConfig {
            central_service_token_storage: Some(Url::parse("http://ts").unwrap()),
            ..Default::default()
        };
        assert_eq!(
            key_of(&registering, &base()).as_deref(),
            Some("OWNCLOUD_OAUTH_CLIENT_ID")
        );
        let with_id = OwncloudConfig {
            owncloud_oauth_client_id: Some("id".into()),
            ..base()
        };
        assert_eq!(
            key_of(&registering, &with_id).as_deref(),
            Some("OWNCLOUD_OAUTH_CLIENT_SECRET")
        );
    }
}
