//! The Sciebo RDS metadata connector for InvenioRDM repositories (zenodo.org's records
//! API and every InvenioRDM v12+ instance), servicename `port-inveniordm[-{SERVICENAME}]`.
//! See README.md; where its rules come from: emulator/SOURCES.md.

pub mod config;
pub mod descriptor;
pub mod invenio;
pub mod mapping;

use connector_core::{Built, CommonConfig, ConfigError, ConnectorSpec};

pub use config::Config;
use config::Settings;
pub use connector_core::retry::RetryPolicy;
use invenio::core::InvenioApi;
pub use invenio::InvenioBackend;

/// The connector, as `connector_core::main` runs it.
pub struct Inveniordm;

/// Settings that are not configuration keys: tests choose them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub retry: RetryPolicy,
    /// Where uploads of unknown size are spooled; `None`: the system temp dir (`TMPDIR`).
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Inveniordm {
    /// [`ConnectorSpec::build`] with chosen [`Options`] (tests shorten the retry waits).
    pub fn build_with(
        common: &CommonConfig,
        config: Config,
        options: Options,
    ) -> Result<Built, ConfigError> {
        let settings = Settings::validate(&config)?;
        let descriptor = descriptor::build(common, &config, &settings)?;
        let http = common.upstream("inveniordm", Self::NAME)?;
        let api = InvenioApi::new(
            http,
            settings.address.clone(),
            options.retry,
            common.max_upstream_answer_bytes,
            settings.limits.max_pages,
        );
        let backend = InvenioBackend::new(api, settings.limits, options.spool_dir);
        Ok(Built::new(descriptor, "inveniordm").with_metadata(backend))
    }
}

impl ConnectorSpec for Inveniordm {
    type Config = Config;
    const NAME: &'static str = "inveniordm-connector";
    const SECRET_KEYS: &'static [&'static str] = config::SECRET_KEYS;

    fn build(common: &CommonConfig, config: Config) -> Result<Built, ConfigError> {
        Self::build_with(common, config, Options::default())
    }
}
