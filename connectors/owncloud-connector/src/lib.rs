//! The ownCloud/Nextcloud connector of Sciebo RDS: RDS's fileStorage interface over
//! WebDAV, a drop-in replacement for the original `port_owncloud`.
//!
//! Everything is in the library so tests build the connector in process; `main.rs` only
//! hands [`Owncloud`] to the core.

pub mod config;
pub mod descriptor;
pub mod webdav;

use connector_core::{Built, CommonConfig, ConfigError, ConnectorSpec};

use crate::config::{OwncloudConfig, Settings};
use crate::webdav::core::DavCore;
use crate::webdav::lister::Walk;
use crate::webdav::OwncloudStorage;

/// The connector's spec for the core.
pub struct Owncloud;

impl ConnectorSpec for Owncloud {
    type Config = OwncloudConfig;

    const NAME: &'static str = "owncloud-connector";
    const SECRET_KEYS: &'static [&'static str] = config::SECRET_KEYS;

    fn build(common: &CommonConfig, config: OwncloudConfig) -> Result<Built, ConfigError> {
        let settings = Settings::validate(common, &config)?;
        let descriptor = descriptor::build(common, &settings)?;
        let http = common.upstream("webdav", Self::NAME)?;
        let core = DavCore::new(http, &settings.internal_url, settings.layout, settings.auth)
            .with_answer_bounds(common.max_upstream_answer_bytes, common.max_listing_entries);
        let walk = Walk {
            concurrency: settings.list_concurrency,
            max_depth: common.max_listing_depth,
            max_entries: common.max_listing_entries,
        };
        Ok(
            Built::new(descriptor, "webdav").with_file_storage(OwncloudStorage::new(
                core,
                walk,
                settings.chunking,
            )),
        )
    }
}
