//! The Sciebo RDS metadata connector for Dataverse installations, servicename
//! `port-dataverse[-{SERVICENAME}]`, a login service (the user's API token). See
//! README.md; where its rules come from: emulator/SOURCES.md.

pub mod config;
pub mod dataverse;
pub mod descriptor;
pub mod mapping;

use connector_core::{Built, CommonConfig, ConfigError, ConnectorSpec};

pub use config::Config;
use config::Settings;
pub use connector_core::retry::RetryPolicy;
use dataverse::core::DataverseApi;
pub use dataverse::DataverseBackend;

/// The connector, as `connector_core::main` runs it.
pub struct Dataverse;

/// Settings that are not configuration keys: tests choose them.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub retry: RetryPolicy,
    /// Where uploads of unknown size are spooled; `None`: the system temp dir (`TMPDIR`).
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Dataverse {
    /// [`ConnectorSpec::build`] with chosen [`Options`] (tests shorten the retry waits).
    pub fn build_with(
        common: &CommonConfig,
        config: Config,
        options: Options,
    ) -> Result<Built, ConfigError> {
        let settings = Settings::validate(&config)?;
        let descriptor = descriptor::build(&config, &settings)?;
        let http = common.upstream("dataverse", Self::NAME)?;
        let api = DataverseApi::new(
            http,
            settings.address.clone(),
            options.retry,
            common.max_upstream_answer_bytes,
            settings.max_pages,
        );
        let backend = DataverseBackend::new(api, settings, options.spool_dir);
        Ok(Built::new(descriptor, "dataverse").with_metadata(backend))
    }
}

impl ConnectorSpec for Dataverse {
    type Config = Config;
    const NAME: &'static str = "dataverse-connector";
    const SECRET_KEYS: &'static [&'static str] = config::SECRET_KEYS;

    fn build(common: &CommonConfig, config: Config) -> Result<Built, ConfigError> {
        Self::build_with(common, config, Options::default())
    }
}
