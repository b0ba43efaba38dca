//! The shared core of the RDS connectors.
//!
//! A provider crate describes itself with a [`ConnectorSpec`] and implements
//! [`interface::FileStorage`] and/or [`interface::Metadata`]; [`main`] does the rest:
//! configuration, logging, Token Storage registration, routing, credentials, errors,
//! health, readiness, metrics and graceful shutdown. See ARCHITECTURE.md.

pub mod answer;
pub mod breaker;
mod cli;
pub mod config;
pub mod credentials;
pub mod descriptor;
pub mod error;
pub mod http;
mod inflight;
pub mod interface;
mod logging;
pub mod metrics;
mod ops;
pub mod registration;
pub mod retry;
mod routes;
pub mod server;
pub mod transfer;

use std::process::ExitCode;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use config::{CommonConfig, ConfigError};
pub use credentials::Credentials;
pub use descriptor::ServiceDescriptor;
pub use error::{ConnectorError, Result};
pub use interface::{FileStorage, Metadata};
pub use routes::mounted_routes;

/// Exit code for a configuration error found at start (bad value, missing key, or a
/// registration payload the Token Storage rejected).
pub const EXIT_CONFIG: u8 = 2;

/// What a connector is: its binary name, its provider configuration and how to build it.
pub trait ConnectorSpec {
    /// The provider's keys, deserialised by figment. Field names are the environment names
    /// in lower case (`zenodo_address` for `ZENODO_ADDRESS`); use `#[serde(default)]`.
    /// The core derives the environment names from it ([`provider_keys`]): every field
    /// must serialise (no `skip_serializing_if`), `None` included.
    type Config: DeserializeOwned + Serialize + Default;

    /// e.g. `owncloud-connector`: the User-Agent and log name.
    const NAME: &'static str;

    /// Keys that may also come from `<KEY>_FILE` (client secrets); each must be one of
    /// [`provider_keys`] (checked at start, and by [`provider_keys`]).
    const SECRET_KEYS: &'static [&'static str];

    /// Validates the configuration and builds the descriptor and interface implementations.
    fn build(common: &CommonConfig, config: Self::Config) -> Result<Built, ConfigError>;
}

/// A connector ready to serve.
pub struct Built {
    pub descriptor: ServiceDescriptor,
    /// The provider's upstream name ([`http::Upstream::name`]): the `upstream` label of
    /// the transfer metrics.
    pub provider: &'static str,
    pub file_storage: Option<Arc<dyn FileStorage>>,
    pub metadata: Option<Arc<dyn Metadata>>,
}

impl Built {
    /// `provider`: the name of the provider's [`http::Upstream`] (e.g. `zenodo`).
    pub fn new(descriptor: ServiceDescriptor, provider: &'static str) -> Self {
        Self {
            descriptor,
            provider,
            file_storage: None,
            metadata: None,
        }
    }

    pub fn with_file_storage(mut self, fs: impl FileStorage) -> Self {
        self.file_storage = Some(Arc::new(fs));
        self
    }

    pub fn with_metadata(mut self, md: impl Metadata) -> Self {
        self.metadata = Some(Arc::new(md));
        self
    }

    /// The interfaces registered: exactly those this connector serves.
    pub fn implements(&self) -> Vec<descriptor::Interface> {
        let mut implements = Vec::new();
        if self.file_storage.is_some() {
            implements.push(descriptor::Interface::FileStorage);
        }
        if self.metadata.is_some() {
            implements.push(descriptor::Interface::Metadata);
        }
        implements
    }

    /// The JSON body of `POST /service` ([`ServiceDescriptor::registration_payload`]).
    pub fn registration_payload(&self) -> serde_json::Value {
        self.descriptor.registration_payload(&self.implements())
    }
}

/// The request-field parser (query string, then a body of the given content type) as
/// the handlers use it; public for the fuzz targets only.
#[doc(hidden)]
pub fn parse_request_fields(
    query: &str,
    content_type: &str,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    routes::params::parse(query, content_type, body)
}

/// The provider's environment names: the field names of `S::Config::default()` as it
/// serialises, upper-cased (the names figment reads), in alphabetical order. Derived, so
/// the keys read can never drift from the struct; fails when the config does not
/// serialise to a map or a [`ConnectorSpec::SECRET_KEYS`] entry is not one of them.
pub fn provider_keys<S: ConnectorSpec>() -> Result<Vec<String>, ConfigError> {
    let spec_error = |problem: String| ConfigError::new(S::NAME, problem);
    let fields = match serde_json::to_value(S::Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields,
        Ok(other) => {
            return Err(spec_error(format!(
                "ConnectorSpec::Config must serialise to a map of keys, not {other}"
            )))
        }
        Err(e) => return Err(spec_error(format!("ConnectorSpec::Config: {e}"))),
    };
    let keys: Vec<String> = fields.keys().map(|k| k.to_uppercase()).collect();
    if let Some(stray) = S::SECRET_KEYS
        .iter()
        .find(|s| !keys.iter().any(|k| k == *s))
    {
        return Err(spec_error(format!(
            "SECRET_KEYS names {stray}, which is no field of ConnectorSpec::Config \
             (its keys: {})",
            keys.join(", ")
        )));
    }
    Ok(keys)
}

/// Loads the configuration of `S` from file and environment.
pub fn load_config<S: ConnectorSpec>() -> Result<config::Config<S::Config>, ConfigError> {
    let keys = provider_keys::<S>()?;
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let file = config::config_file()?;
    let mut secret_keys: Vec<&str> = S::SECRET_KEYS.to_vec();
    secret_keys.push("CENTRAL_SERVICE_TOKEN_STORAGE");
    config::extract(&config::figment::<S::Config>(
        file.as_deref(),
        &keys,
        &secret_keys,
    ))
}

/// The whole life of a connector process; call it from `fn main`. `--help` and
/// `--version` print and exit 0; any other argument exits 2.
pub fn main<S: ConnectorSpec>() -> ExitCode {
    if let Some(code) = cli::handle::<S>() {
        return code;
    }
    let cfg = match load_config::<S>() {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("{}: configuration error: {e}", S::NAME);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    logging::init(&cfg.common, S::NAME);
    let built = match S::build(&cfg.common, cfg.provider) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(key = %e.key, "configuration error: {e}");
            eprintln!("{}: configuration error: {e}", S::NAME);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    server::run_to_completion(cfg.common, built, S::NAME)
}
