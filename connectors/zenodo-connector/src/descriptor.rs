//! What the connector registers at the Token Storage.

use std::path::Path;

use connector_core::config::{present, ConfigError};
use connector_core::descriptor::{
    AuthUrl, ClientId, ClientSecret, FileTransferArchive, FileTransferMode, Icon, OAuth2Descriptor,
    Scope, ServiceAuth, ServiceDescriptor, TokenUrl,
};
use connector_core::CommonConfig;
use url::Url;

use crate::config::{
    ZenodoConfig, DEFAULT_DISPLAYNAME, DEFAULT_HELP_URL, DEFAULT_INFO_URL,
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
    let client_id =
        common.required_to_register("ZENODO_OAUTH_CLIENT_ID", &cfg.zenodo_oauth_client_id)?;
    let client_secret = common.required_to_register(
        "ZENODO_OAUTH_CLIENT_SECRET",
        &cfg.zenodo_oauth_client_secret,
    )?;
    let auth_url = AuthUrl::new(join(address, "oauth/authorize"))
        .map_err(|e| ConfigError::new("ZENODO_ADDRESS", e.to_string()))?;
    let token_url = TokenUrl::new(join(address, "oauth/token"))
        .map_err(|e| ConfigError::new("ZENODO_ADDRESS", e.to_string()))?;
    let redirect_url = common.redirect_url()?;
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
    let path = present(&cfg.zenodo_icon).map(Path::new);
    Icon::configured("ZENODO_ICON", path, BUILTIN_ICON)
}

fn metadata_profile(cfg: &ZenodoConfig) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(path) = present(&cfg.zenodo_metadata_profile) else {
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
    let info_url = present(&cfg.zenodo_info_url).unwrap_or(DEFAULT_INFO_URL);
    let help_url = present(&cfg.zenodo_help_url).unwrap_or(DEFAULT_HELP_URL);
    Ok(ServiceDescriptor {
        servicename: SERVICENAME.into(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::Zip,
        auth: ServiceAuth::OAuth2(oauth(common, cfg, address)?),
        description: vec![
            ("en".into(), DESCRIPTION_EN.into()),
            ("de".into(), DESCRIPTION_DE.into()),
        ],
        display_name: present(&cfg.zenodo_displayname)
            .unwrap_or(DEFAULT_DISPLAYNAME)
            .to_owned(),
        info_url: info_url.to_owned(),
        help_url: help_url.to_owned(),
        icon: Some(icon(cfg)?),
        metadata_profile: metadata_profile(cfg)?,
        project_link_template: present(&cfg.zenodo_project_link_template)
            .unwrap_or(DEFAULT_PROJECT_LINK_TEMPLATE)
            .to_owned(),
    })
}
