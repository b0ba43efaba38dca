//! What the connector registers at the Token Storage.

use std::path::Path;

use connector_core::config::ConfigError;
use connector_core::descriptor::{
    FileTransferArchive, FileTransferMode, Icon, Interface, OAuth2Descriptor, ServiceAuth,
    ServiceDescriptor,
};
use connector_core::CommonConfig;
use oauth2::{AuthUrl, ClientId, ClientSecret, RedirectUrl, Scope, TokenUrl};
use url::Url;

use crate::config::{
    set, ZenodoConfig, DEFAULT_DISPLAYNAME, DEFAULT_HELP_URL, DEFAULT_INFO_URL,
    DEFAULT_PROJECT_LINK_TEMPLATE,
};

pub const SERVICENAME: &str = "port-zenodo";
/// Create/update deposits, and publish them.
pub const SCOPES: &[&str] = &["deposit:write", "deposit:actions"];

/// The built-in icon (drawn for this project), sent when `ZENODO_ICON` is unset.
const BUILTIN_ICON: &[u8] = include_bytes!("../assets/zenodo.svg");

const DESCRIPTION_EN: &str = "Publish your research data on Zenodo, CERN's open repository: \
    Sciebo RDS creates a deposit with your metadata, uploads your files and mints a DOI when you publish.";
const DESCRIPTION_DE: &str = "Veröffentlichen Sie Ihre Forschungsdaten bei Zenodo, dem offenen Repositorium \
    des CERN: Sciebo RDS legt einen Eintrag mit Ihren Metadaten an, lädt Ihre Dateien hoch und vergibt beim \
    Veröffentlichen eine DOI.";

/// `{base}/{path}` with the base's trailing slash removed.
pub fn join(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn oauth(
    common: &CommonConfig,
    cfg: &ZenodoConfig,
    address: &Url,
) -> Result<OAuth2Descriptor, ConfigError> {
    let registering = common.central_service_token_storage.is_some();
    let required = |key: &str, v: &Option<String>| -> Result<String, ConfigError> {
        match set(v) {
            Some(v) => Ok(v.to_owned()),
            None if registering => Err(ConfigError::new(
                key,
                "is required when the connector registers at the Token Storage (CENTRAL_SERVICE_TOKEN_STORAGE is set)",
            )),
            None => Ok(String::new()),
        }
    };
    let client_id = required("ZENODO_OAUTH_CLIENT_ID", &cfg.zenodo_oauth_client_id)?;
    let client_secret = required(
        "ZENODO_OAUTH_CLIENT_SECRET",
        &cfg.zenodo_oauth_client_secret,
    )?;
    let auth_url = AuthUrl::new(join(address, "oauth/authorize"))
        .map_err(|e| ConfigError::new("ZENODO_ADDRESS", e.to_string()))?;
    let token_url = TokenUrl::new(join(address, "oauth/token"))
        .map_err(|e| ConfigError::new("ZENODO_ADDRESS", e.to_string()))?;
    let redirect_url = match common
        .rds_oauth_redirect_uri
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(r) => Some(
            RedirectUrl::new(r.to_owned())
                .map_err(|e| ConfigError::new("RDS_OAUTH_REDIRECT_URI", e.to_string()))?,
        ),
        None => None,
    };
    Ok(OAuth2Descriptor {
        auth_url,
        token_url,
        redirect_url,
        client_id: ClientId::new(client_id),
        client_secret: ClientSecret::new(client_secret),
        scopes: SCOPES.iter().map(|s| Scope::new((*s).to_owned())).collect(),
    })
}

fn icon(cfg: &ZenodoConfig) -> Result<Icon, ConfigError> {
    match set(&cfg.zenodo_icon) {
        Some(path) => Icon::from_file(Path::new(path))
            .map_err(|e| ConfigError::new("ZENODO_ICON", format!("cannot read {path}: {e}"))),
        None => Ok(Icon::from_bytes("image/svg+xml", BUILTIN_ICON)),
    }
}

fn metadata_profile(cfg: &ZenodoConfig) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(path) = set(&cfg.zenodo_metadata_profile) else {
        return Ok(None);
    };
    let key = "ZENODO_METADATA_PROFILE";
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {path}: {e}")))?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .map_err(|e| ConfigError::new(key, format!("{path} is not JSON: {e}")))?;
    Ok(Some(bytes))
}

pub fn build(
    common: &CommonConfig,
    cfg: &ZenodoConfig,
    address: &Url,
) -> Result<ServiceDescriptor, ConfigError> {
    let info_url = set(&cfg.zenodo_info_url).unwrap_or(DEFAULT_INFO_URL);
    let help_url = set(&cfg.zenodo_help_url).unwrap_or(DEFAULT_HELP_URL);
    Ok(ServiceDescriptor {
        servicename: SERVICENAME.into(),
        implements: vec![Interface::Metadata],
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::Zip,
        auth: ServiceAuth::OAuth2(oauth(common, cfg, address)?),
        description: vec![
            ("en".into(), DESCRIPTION_EN.into()),
            ("de".into(), DESCRIPTION_DE.into()),
        ],
        display_name: set(&cfg.zenodo_displayname)
            .unwrap_or(DEFAULT_DISPLAYNAME)
            .to_owned(),
        info_url: info_url.to_owned(),
        help_url: help_url.to_owned(),
        icon: Some(icon(cfg)?),
        metadata_profile: metadata_profile(cfg)?,
        project_link_template: set(&cfg.zenodo_project_link_template)
            .unwrap_or(DEFAULT_PROJECT_LINK_TEMPLATE)
            .to_owned(),
    })
}
