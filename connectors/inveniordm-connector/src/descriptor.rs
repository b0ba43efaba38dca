//! What the connector registers at the Token Storage: a `LoginService` (personal tokens)
//! or an `OAuth2Service` (client credentials configured), one binary.

use std::path::Path;

use connector_core::config::{present, ConfigError};
use connector_core::descriptor::{
    AuthUrl, ClientId, ClientSecret, FileTransferArchive, FileTransferMode, Icon, OAuth2Descriptor,
    Scope, ServiceAuth, ServiceDescriptor, TokenUrl,
};
use connector_core::CommonConfig;
use url::Url;

use crate::config::{AuthMode, Config, Settings, DEFAULT_DISPLAYNAME, DEFAULT_HELP_URL};

/// The built-in icon, sent when `INVENIORDM_ICON` is unset (the RDS UI always wants one).
const BUILTIN_ICON: &[u8] = include_bytes!("../assets/icon.svg");

const DESCRIPTION_EN: &str = "Publish your research data in an InvenioRDM repository (Zenodo and \
    many institutional ones): Sciebo RDS creates a draft with your metadata, uploads your files and \
    publishes it with a DOI.";
const DESCRIPTION_DE: &str = "Veröffentlichen Sie Ihre Forschungsdaten in einem InvenioRDM-Repositorium \
    (Zenodo und viele institutionelle): Sciebo RDS legt einen Entwurf mit Ihren Metadaten an, lädt Ihre \
    Dateien hoch und veröffentlicht ihn mit einer DOI.";

/// `{base}/{path}`.
pub fn join(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

fn auth(common: &CommonConfig, s: &Settings) -> Result<ServiceAuth, ConfigError> {
    let AuthMode::OAuth2 {
        client_id,
        client_secret,
        scopes,
    } = &s.auth
    else {
        // The user name and the pasted personal token (the password slot).
        return Ok(ServiceAuth::Login {
            user_id: true,
            password: true,
        });
    };
    let url_error = |e: url::ParseError| ConfigError::new("INVENIORDM_ADDRESS", e.to_string());
    Ok(ServiceAuth::OAuth2(OAuth2Descriptor {
        auth_url: AuthUrl::new(join(&s.address, "oauth/authorize")).map_err(url_error)?,
        token_url: TokenUrl::new(join(&s.address, "oauth/token")).map_err(url_error)?,
        redirect_url: common.redirect_url()?,
        client_id: ClientId::new(client_id.clone()),
        client_secret: ClientSecret::new(client_secret.clone()),
        scopes: scopes.iter().map(|s| Scope::new(s.clone())).collect(),
    }))
}

pub fn build(
    common: &CommonConfig,
    cfg: &Config,
    s: &Settings,
) -> Result<ServiceDescriptor, ConfigError> {
    let address = s.address.as_str().trim_end_matches('/');
    let icon = Icon::configured(
        "INVENIORDM_ICON",
        present(&cfg.inveniordm_icon).map(Path::new),
        BUILTIN_ICON,
    )?;
    Ok(ServiceDescriptor {
        servicename: s.servicename.clone(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::None,
        auth: auth(common, s)?,
        description: vec![
            ("en".into(), DESCRIPTION_EN.into()),
            ("de".into(), DESCRIPTION_DE.into()),
        ],
        display_name: present(&cfg.inveniordm_displayname)
            .unwrap_or(DEFAULT_DISPLAYNAME)
            .to_owned(),
        info_url: present(&cfg.inveniordm_info_url)
            .unwrap_or(address)
            .to_owned(),
        help_url: present(&cfg.inveniordm_help_url)
            .unwrap_or(DEFAULT_HELP_URL)
            .to_owned(),
        icon: Some(icon),
        metadata_profile: None,
        project_link_template: present(&cfg.inveniordm_project_link_template)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{address}/records/${{projectId}}")),
    })
}
