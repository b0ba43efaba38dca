//! The Sciebo RDS metadata connector for Zenodo: a drop-in replacement for the original
//! `port_zenodo` (servicename `port-zenodo`). See README.md.

pub mod config;
pub mod descriptor;
pub mod mapping;
pub mod zenodo;

use connector_core::config::{parse_url, present, ConfigError};
use connector_core::{Built, CommonConfig, ConnectorSpec};

pub use config::ZenodoConfig;
pub use connector_core::retry::RetryPolicy;
use zenodo::core::ZenodoApi;
pub use zenodo::ZenodoBackend;

/// The connector's spec for the core.
pub struct Zenodo;

/// Settings that are not configuration keys: tests and the demo choose them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub retry: RetryPolicy,
    /// Where uploads of unknown size are spooled; `None`: the system temp dir (`TMPDIR`).
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Zenodo {
    /// [`ConnectorSpec::build`] with chosen [`Options`] (tests shorten the retry waits).
    pub fn build_with(
        common: &CommonConfig,
        config: ZenodoConfig,
        options: Options,
    ) -> Result<Built, ConfigError> {
        let address = present(&config.zenodo_address)
            .unwrap_or(config::DEFAULT_ADDRESS)
            .to_owned();
        let address = parse_url("ZENODO_ADDRESS", &address)?;
        let descriptor = descriptor::build(common, &config, &address)?;
        let http = common.upstream("zenodo", Self::NAME)?;
        let max_pages = match config.zenodo_max_pages {
            None => zenodo::core::DEFAULT_MAX_PAGES,
            Some(n @ 1..) => n,
            Some(_) => return Err(ConfigError::new("ZENODO_MAX_PAGES", "must be at least 1")),
        };
        let limits = zenodo::core::Limits {
            max_answer_bytes: common.max_upstream_answer_bytes,
            max_pages,
        };
        let api = ZenodoApi::new(http, address.clone(), options.retry, limits);
        Ok(
            Built::new(descriptor, "zenodo").with_metadata(ZenodoBackend::new(
                api,
                address,
                options.spool_dir,
            )),
        )
    }
}

impl ConnectorSpec for Zenodo {
    type Config = ZenodoConfig;

    const NAME: &'static str = "zenodo-connector";

    const SECRET_KEYS: &'static [&'static str] = &["ZENODO_OAUTH_CLIENT_SECRET"];

    fn build(common: &CommonConfig, config: Self::Config) -> Result<Built, ConfigError> {
        Self::build_with(common, config, Options::default())
    }
}
