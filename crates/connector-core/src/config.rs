//! Configuration: built-in defaults < one TOML file < environment.
//!
//! Keys are the original ports' environment names; in the TOML file they are written in
//! lower case (`central_service_token_storage = "..."`). The file is
//! `/etc/rds/connector.toml`, or the path in `CONNECTOR_CONFIG`. Secrets may come from
//! files: `<NAME>_FILE=/path` (as Kubernetes mounts Secrets) sets `<NAME>` to the file's
//! content, without its trailing newline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value as FValue};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::http::{BreakerSettings, HttpSettings, HttpSetupError, Upstream};

pub const DEFAULT_CONFIG_FILE: &str = "/etc/rds/connector.toml";

/// A configuration problem, reported at start as one line naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// The environment name of the key, e.g. `ZENODO_ADDRESS`.
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The default of `MAX_LISTING_DEPTH`. No real project tree is 64 folders deep (ownCloud's
/// file cache stores a path in 4,000 characters; 64 levels of common names come close),
/// while a loop reaches it after 64 calls.
pub const DEFAULT_MAX_LISTING_DEPTH: usize = 64;

/// The default of `MAX_LISTING_ENTRIES`: more files than RDS exports from one project
/// (each is fetched with its own call), a listing answer of ~10 MB; a tree that fans out
/// without end reaches it after ~12,500 PROPFINDs at 8 entries per folder, not never.
pub const DEFAULT_MAX_LISTING_ENTRIES: usize = 100_000;

/// The keys every connector has.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct CommonConfig {
    /// `LISTEN_ADDR`: where the HTTP server listens.
    pub listen_addr: SocketAddr,
    /// `CENTRAL_SERVICE_TOKEN_STORAGE`: the Token Storage; unset = registration off.
    pub central_service_token_storage: Option<Url>,
    /// `USE_CASE_SERVICE_PORT_SERVICE`: where tokens of normal-format userIds are looked up.
    pub use_case_service_port_service: Option<Url>,
    /// `RDS_OAUTH_REDIRECT_URI`: RDS's OAuth2 callback, part of the authorize URL.
    pub rds_oauth_redirect_uri: Option<String>,
    /// `VERIFY_SSL`: `False` turns off TLS verification of outbound calls (loud warning).
    #[serde(deserialize_with = "lenient_bool")]
    pub verify_ssl: bool,
    /// `LOGLEVEL`: Python-style level name (DEBUG, INFO, WARNING, ERROR); `RUST_LOG` wins.
    pub loglevel: String,
    /// `LOG_FORMAT`: `pretty` or `json`.
    pub log_format: LogFormat,
    /// `CA_CERTIFICATES_FILE`: extra PEM CA certificates for outbound TLS.
    pub ca_certificates_file: Option<PathBuf>,
    /// `CONNECT_TIMEOUT_SECS`: TCP/TLS connect timeout of outbound calls.
    pub connect_timeout_secs: u64,
    /// `RESPONSE_TIMEOUT_SECS`: deadline of a small upstream call, retries included. Under
    /// the 60 s of a Kubernetes ingress (nginx' `proxy-read-timeout`), so that the caller
    /// gets our 504/503 rather than the proxy's bare 504.
    pub response_timeout_secs: u64,
    /// `IDLE_TIMEOUT_SECS`: a transfer that moves no byte for this long is cut.
    pub idle_timeout_secs: u64,
    /// `TRANSFER_PROGRESS_SECS`: how often a running file transfer logs its progress.
    pub transfer_progress_secs: u64,
    /// `SHUTDOWN_TIMEOUT_SECS`: grace period for in-flight requests on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// `TOKEN_CACHE_TTL_SECS`: how long a looked-up token is reused.
    pub token_cache_ttl_secs: u64,
    /// `MAX_JSON_BODY_BYTES`: the largest JSON request body accepted (413 above).
    pub max_json_body_bytes: usize,
    /// `REQUEST_BODY_TIMEOUT_SECS`: deadline for reading a non-file request body (408 past it).
    pub request_body_timeout_secs: u64,
    /// `WORKERS`: HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// `CIRCUIT_BREAKER_FAILURES`: consecutive connect failures or timeouts of one
    /// upstream that open its circuit (0 = no breaker).
    pub circuit_breaker_failures: u32,
    /// `CIRCUIT_BREAKER_COOLDOWN_SECS`: how long an open circuit answers 503 at once.
    pub circuit_breaker_cooldown_secs: u64,
    /// `REGISTRATION_CHECK_SECS`: how often the Token Storage is asked whether it still
    /// holds our registration (re-registered when not; 0 = never).
    pub registration_check_secs: u64,
    /// `MAX_UPSTREAM_ANSWER_BYTES`: the most bytes of a small-call answer read (502 above).
    pub max_upstream_answer_bytes: usize,
    /// `MAX_PATH_DEPTH`: the most folders in a path written to (400 above).
    pub max_path_depth: usize,
    /// `MAX_LISTING_DEPTH`: the deepest sub-folder a recursive listing walks into (502 above).
    pub max_listing_depth: usize,
    /// `MAX_LISTING_ENTRIES`: the most entries one listing collects (502 above).
    pub max_listing_entries: usize,
}

impl Default for CommonConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            central_service_token_storage: None,
            use_case_service_port_service: None,
            rds_oauth_redirect_uri: None,
            verify_ssl: true,
            loglevel: "INFO".into(),
            log_format: LogFormat::Pretty,
            ca_certificates_file: None,
            connect_timeout_secs: 5,
            response_timeout_secs: 30,
            idle_timeout_secs: 120,
            transfer_progress_secs: 30,
            shutdown_timeout_secs: 30,
            token_cache_ttl_secs: 30,
            max_json_body_bytes: 1024 * 1024,
            request_body_timeout_secs: 30,
            workers: 0,
            circuit_breaker_failures: 5,
            circuit_breaker_cooldown_secs: 30,
            registration_check_secs: 60,
            max_upstream_answer_bytes: crate::answer::DEFAULT_MAX_UPSTREAM_ANSWER_BYTES,
            max_path_depth: crate::interface::DEFAULT_MAX_PATH_DEPTH,
            max_listing_depth: DEFAULT_MAX_LISTING_DEPTH,
            max_listing_entries: DEFAULT_MAX_LISTING_ENTRIES,
        }
    }
}

impl CommonConfig {
    /// Settings for outbound clients; `agent` names the connector in the User-Agent.
    pub fn http_settings(&self, agent: &str) -> HttpSettings {
        HttpSettings {
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            response_timeout: Duration::from_secs(self.response_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            verify_tls: self.verify_ssl,
            extra_ca_file: self.ca_certificates_file.clone(),
            user_agent: format!(
                "rds-connectors/{} ({agent}; +https://github.com/rds-connectors/rds-connectors)",
                env!("CARGO_PKG_VERSION")
            ),
            breaker: BreakerSettings {
                failures: self.circuit_breaker_failures,
                cooldown: Duration::from_secs(self.circuit_breaker_cooldown_secs),
            },
        }
    }

    /// An outbound client for one upstream, labelled `name` in the metrics.
    pub fn upstream(&self, name: &'static str, agent: &str) -> Result<Upstream, ConfigError> {
        Upstream::new(name, &self.http_settings(agent)).map_err(|e| match e {
            HttpSetupError::CaFile { .. } | HttpSetupError::CaPem(_) => {
                ConfigError::new("CA_CERTIFICATES_FILE", e.to_string())
            }
            HttpSetupError::Build(_) => ConfigError::new("VERIFY_SSL", e.to_string()),
        })
    }

    /// Refuses limits that would refuse everything (0) or every answer (a byte cap too
    /// small for any provider's answer).
    pub fn check_limits(&self) -> Result<(), ConfigError> {
        for (key, value, least) in [
            (
                "MAX_UPSTREAM_ANSWER_BYTES",
                self.max_upstream_answer_bytes,
                64 * 1024,
            ),
            ("MAX_PATH_DEPTH", self.max_path_depth, 1),
            ("MAX_LISTING_DEPTH", self.max_listing_depth, 1),
            ("MAX_LISTING_ENTRIES", self.max_listing_entries, 1),
            (
                "TRANSFER_PROGRESS_SECS",
                usize::try_from(self.transfer_progress_secs).unwrap_or(usize::MAX),
                1,
            ),
        ] {
            if value < least {
                return Err(ConfigError::new(
                    key,
                    format!("must be at least {least}, not {value}"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the connector registers at the Token Storage
    /// (`CENTRAL_SERVICE_TOKEN_STORAGE` is set).
    pub fn registers(&self) -> bool {
        self.central_service_token_storage.is_some()
    }

    /// A key only registration needs (an OAuth2 client's id or secret): its value, an
    /// error naming it when it is unset or blank and the connector registers, else "".
    pub fn required_to_register(
        &self,
        key: &str,
        value: &Option<String>,
    ) -> Result<String, ConfigError> {
        match present(value) {
            Some(v) => Ok(v.to_owned()),
            None if self.registers() => Err(ConfigError::new(
                key,
                "is required to register with the Token Storage (CENTRAL_SERVICE_TOKEN_STORAGE is set)",
            )),
            None => Ok(String::new()),
        }
    }

    /// `RDS_OAUTH_REDIRECT_URI` for an [`crate::descriptor::OAuth2Descriptor`]; `None`
    /// when unset or blank (the authorize URL then carries an empty `redirect_uri`, as
    /// the originals sent it).
    pub fn redirect_url(&self) -> Result<Option<oauth2::RedirectUrl>, ConfigError> {
        present(&self.rds_oauth_redirect_uri)
            .map(|r| {
                oauth2::RedirectUrl::new(r.to_owned())
                    .map_err(|e| ConfigError::new("RDS_OAUTH_REDIRECT_URI", e.to_string()))
            })
            .transpose()
    }
}

/// A value, `None` when unset or blank (Helm charts often render unset keys as "").
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Accepts `true/false`, and the strings Python's ports compared against (`True`,
/// `False`), plus `1/0/yes/no/on/off`, in any case.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
        Str(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Int(i) => Ok(i != 0),
        B::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected True or False, found {other:?}"
            ))),
        },
    }
}

/// A connector's whole configuration: the common keys plus its provider's.
#[derive(Debug, Clone)]
pub struct Config<P> {
    pub common: CommonConfig,
    pub provider: P,
}

/// Reads `<NAME>_FILE` variables for the given secret keys.
struct SecretFiles {
    keys: Vec<String>,
}

impl Provider for SecretFiles {
    fn metadata(&self) -> Metadata {
        Metadata::named("secret files (<NAME>_FILE)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for key in &self.keys {
            let var = format!("{key}_FILE");
            let Ok(path) = std::env::var(&var) else {
                continue;
            };
            let content = std::fs::read_to_string(&path)
                .map_err(|e| figment::Error::from(format!("{var}: cannot read {path}: {e}")))?;
            let value = content.strip_suffix('\n').unwrap_or(&content);
            let value = value.strip_suffix('\r').unwrap_or(value);
            dict.insert(key.to_lowercase(), FValue::from(value.to_owned()));
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// The figment for a connector: defaults < TOML file < environment < `_FILE` secrets.
///
/// Only the environment names the connector knows are read (the common keys and the
/// provider's `keys`), so unrelated variables of the pod never leak in.
pub fn figment<P: Serialize + Default>(
    file: Option<&Path>,
    provider_keys: &[&str],
    secret_keys: &[&str],
) -> Figment {
    let mut known: Vec<String> = COMMON_KEYS.iter().map(|k| k.to_lowercase()).collect();
    known.extend(provider_keys.iter().map(|k| k.to_lowercase()));
    let mut fig = Figment::from(Serialized::defaults(CommonConfig::default()))
        .merge(Serialized::defaults(P::default()));
    if let Some(file) = file {
        fig = fig.merge(Toml::file_exact(file));
    }
    let env_known = known.clone();
    fig.merge(
        Env::raw()
            .filter(move |k| {
                env_known
                    .iter()
                    .any(|n| n.as_str() == k.as_str().to_lowercase())
            })
            .lowercase(true)
            .split("__"),
    )
    .merge(SecretFiles {
        keys: secret_keys.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// The environment names of [`CommonConfig`].
pub const COMMON_KEYS: &[&str] = &[
    "LISTEN_ADDR",
    "CENTRAL_SERVICE_TOKEN_STORAGE",
    "USE_CASE_SERVICE_PORT_SERVICE",
    "RDS_OAUTH_REDIRECT_URI",
    "VERIFY_SSL",
    "LOGLEVEL",
    "LOG_FORMAT",
    "CA_CERTIFICATES_FILE",
    "CONNECT_TIMEOUT_SECS",
    "RESPONSE_TIMEOUT_SECS",
    "IDLE_TIMEOUT_SECS",
    "SHUTDOWN_TIMEOUT_SECS",
    "TOKEN_CACHE_TTL_SECS",
    "MAX_JSON_BODY_BYTES",
    "REQUEST_BODY_TIMEOUT_SECS",
    "WORKERS",
    "CIRCUIT_BREAKER_FAILURES",
    "CIRCUIT_BREAKER_COOLDOWN_SECS",
    "REGISTRATION_CHECK_SECS",
    "MAX_UPSTREAM_ANSWER_BYTES",
    "MAX_PATH_DEPTH",
    "MAX_LISTING_DEPTH",
    "MAX_LISTING_ENTRIES",
];

/// The config file to read: `CONNECTOR_CONFIG`, else the fixed path when it exists.
pub fn config_file() -> Result<Option<PathBuf>, ConfigError> {
    match std::env::var_os("CONNECTOR_CONFIG") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_file() {
                Ok(Some(p))
            } else {
                Err(ConfigError::new(
                    "CONNECTOR_CONFIG",
                    format!("{} is not a readable file", p.display()),
                ))
            }
        }
        None => Ok(Path::new(DEFAULT_CONFIG_FILE)
            .is_file()
            .then(|| PathBuf::from(DEFAULT_CONFIG_FILE))),
    }
}

/// Extracts both parts, naming the offending key (as its environment name) on error.
pub fn extract<P: DeserializeOwned>(fig: &Figment) -> Result<Config<P>, ConfigError> {
    let common: CommonConfig = fig.extract().map_err(to_config_error)?;
    common.check_limits()?;
    let provider: P = fig.extract().map_err(to_config_error)?;
    Ok(Config { common, provider })
}

fn to_config_error(err: figment::Error) -> ConfigError {
    // figment reports the failing key as a path; the first one names it.
    let key = err
        .path
        .first()
        .map(|k| k.to_uppercase())
        .unwrap_or_else(|| "configuration".into());
    let mut problem = err.kind.to_string();
    if let Some(meta) = &err.metadata {
        problem.push_str(&format!(" (from {})", meta.name));
    }
    ConfigError::new(key, problem)
}

/// Reads a URL-valued key that the provider requires.
pub fn require_url(key: &str, value: &Option<String>) -> Result<Url, ConfigError> {
    match present(value) {
        None => Err(ConfigError::new(key, "is required but not set")),
        Some(v) => parse_url(key, v),
    }
}

/// Parses an http(s) URL, naming the key on failure.
pub fn parse_url(key: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim())
        .map_err(|e| ConfigError::new(key, format!("{value:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            key,
            format!("{value:?} is not an http(s) URL"),
        ));
    }
    Ok(url)
}

#[cfg(test)]
// figment's Jail closures return its (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[derive(Debug, Default, Deserialize, Serialize)]
    #[serde(default)]
    struct Prov {
        zenodo_address: Option<String>,
        zenodo_oauth_client_secret: Option<String>,
    }

    fn load(jail: &Jail) -> Result<Config<Prov>, ConfigError> {
        let file = jail.directory().join("connector.toml");
        let file = file.is_file().then_some(file);
        extract(&figment::<Prov>(
            file.as_deref(),
            &["ZENODO_ADDRESS", "ZENODO_OAUTH_CLIENT_SECRET"],
            &["ZENODO_OAUTH_CLIENT_SECRET"],
        ))
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        Jail::expect_with(|jail| {
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.common.listen_addr.port(), 8080);
            assert!(c.common.verify_ssl);
            jail.create_file(
                "connector.toml",
                "listen_addr = \"127.0.0.1:9000\"\nloglevel = \"DEBUG\"\nzenodo_address = \"https://file.example\"\n",
            )?;
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.common.listen_addr.port(), 9000);
            assert_eq!(
                c.provider.zenodo_address.as_deref(),
                Some("https://file.example")
            );
            jail.set_env("LISTEN_ADDR", "127.0.0.1:9100");
            jail.set_env("ZENODO_ADDRESS", "https://env.example");
            jail.set_env("VERIFY_SSL", "False");
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.common.listen_addr.port(), 9100);
            assert_eq!(
                c.common.loglevel, "DEBUG",
                "file value kept where env is silent"
            );
            assert_eq!(
                c.provider.zenodo_address.as_deref(),
                Some("https://env.example")
            );
            assert!(!c.common.verify_ssl);
            Ok(())
        });
    }

    #[test]
    fn secrets_from_files() {
        Jail::expect_with(|jail| {
            jail.create_file("secret", "s3cr3t\n")?;
            jail.set_env(
                "ZENODO_OAUTH_CLIENT_SECRET_FILE",
                jail.directory().join("secret").display(),
            );
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(
                c.provider.zenodo_oauth_client_secret.as_deref(),
                Some("s3cr3t")
            );
            jail.set_env("ZENODO_OAUTH_CLIENT_SECRET_FILE", "/nonexistent/secret");
            assert!(load(jail).is_err());
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("LISTEN_ADDR", "not-an-address");
            let err = load(jail).err().map(|e| e.key);
            assert_eq!(err.as_deref(), Some("LISTEN_ADDR"));
            jail.set_env("LISTEN_ADDR", "127.0.0.1:1");
            jail.set_env("CENTRAL_SERVICE_TOKEN_STORAGE", "::nope");
            let err = load(jail).err().map(|e| e.key);
            assert_eq!(err.as_deref(), Some("CENTRAL_SERVICE_TOKEN_STORAGE"));
            jail.set_env("CENTRAL_SERVICE_TOKEN_STORAGE", "http://ts");
            jail.set_env("VERIFY_SSL", "maybe");
            let err = load(jail).err().map(|e| e.key);
            assert_eq!(err.as_deref(), Some("VERIFY_SSL"));
            jail.set_env("VERIFY_SSL", "True");
            jail.set_env("MAX_LISTING_DEPTH", "0");
            let err = load(jail).err().map(|e| e.key);
            assert_eq!(err.as_deref(), Some("MAX_LISTING_DEPTH"));
            jail.set_env("MAX_LISTING_DEPTH", "8");
            jail.set_env("MAX_UPSTREAM_ANSWER_BYTES", "100");
            let err = load(jail).err().map(|e| e.key);
            assert_eq!(err.as_deref(), Some("MAX_UPSTREAM_ANSWER_BYTES"));
            jail.set_env("MAX_UPSTREAM_ANSWER_BYTES", "1048576");
            let c = load(jail).map_err(|e| e.to_string())?;
            assert_eq!(c.common.max_listing_depth, 8);
            assert_eq!(c.common.max_upstream_answer_bytes, 1 << 20);
            Ok(())
        });
    }

    #[test]
    fn registration_keys_and_redirect() {
        let off = CommonConfig::default();
        let on = CommonConfig {
            central_service_token_storage: Url::parse("http://ts").ok(),
            rds_oauth_redirect_uri: Some(" https://rds.example.org/redirect ".into()),
            ..Default::default()
        };
        for blank in [None, Some("  ".to_owned())] {
            assert_eq!(off.required_to_register("K", &blank), Ok(String::new()));
            let err = on.required_to_register("K", &blank).err();
            assert_eq!(err.map(|e| e.key).as_deref(), Some("K"));
        }
        assert_eq!(
            on.required_to_register("K", &Some(" id ".into())),
            Ok("id".to_owned())
        );
        assert!(matches!(off.redirect_url(), Ok(None)));
        let redirect = on.redirect_url().ok().flatten();
        assert_eq!(
            redirect.as_ref().map(|r| r.as_str()),
            Some("https://rds.example.org/redirect")
        );
        let bad = CommonConfig {
            rds_oauth_redirect_uri: Some("not a url".into()),
            ..Default::default()
        };
        let err = bad.redirect_url().err().map(|e| e.key);
        assert_eq!(err.as_deref(), Some("RDS_OAUTH_REDIRECT_URI"));
    }

    #[test]
    fn url_helpers() {
        assert!(parse_url("X", "https://a.b").is_ok());
        assert_eq!(
            parse_url("X", "ftp://a.b").err().map(|e| e.key),
            Some("X".into())
        );
        assert!(require_url("Y", &None).is_err());
    }
}
