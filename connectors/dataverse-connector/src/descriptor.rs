//! What the connector registers at the Token Storage: a `LoginService` (the user's name
//! and their Dataverse API token, `research-data-services-common` `RDS/Service.py`).

use std::path::Path;

use connector_core::config::{present, ConfigError};
use connector_core::descriptor::{
    FileTransferArchive, FileTransferMode, Icon, ServiceAuth, ServiceDescriptor,
};

use crate::config::{Config, Settings, DEFAULT_DISPLAYNAME, DEFAULT_HELP_URL};

/// The built-in icon, sent when `DATAVERSE_ICON` is unset (the RDS UI always wants one).
const BUILTIN_ICON: &[u8] = include_bytes!("../assets/icon.svg");

const DESCRIPTION_EN: &str = "Publish your research data in a Dataverse installation: Sciebo RDS \
    creates a draft dataset with your metadata, uploads your files with their folders and publishes \
    it with a persistent identifier. Sign in with your account name and your Dataverse API token.";
const DESCRIPTION_DE: &str = "Veröffentlichen Sie Ihre Forschungsdaten in einer Dataverse-Installation: \
    Sciebo RDS legt einen Datensatz-Entwurf mit Ihren Metadaten an, lädt Ihre Dateien mit ihren Ordnern \
    hoch und veröffentlicht ihn mit einem persistenten Identifikator. Melden Sie sich mit Ihrem \
    Kontonamen und Ihrem Dataverse-API-Token an.";

/// `{base}/{path}`.
pub fn join(base: &url::Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The default project link: the dataset page by database id (`dataset.xhtml`'s `id`
/// view parameter), `version=DRAFT` so that its author sees the draft; after publishing
/// Dataverse redirects it to the published version (emulator/SOURCES.md §12). RDS
/// substitutes only `${projectId}`, the database id, so the persistent id cannot be used.
pub fn default_link(address: &str) -> String {
    format!("{address}/dataset.xhtml?id=${{projectId}}&version=DRAFT")
}

pub fn build(cfg: &Config, s: &Settings) -> Result<ServiceDescriptor, ConfigError> {
    let address = s.address.as_str().trim_end_matches('/');
    let icon = Icon::configured(
        "DATAVERSE_ICON",
        present(&cfg.dataverse_icon).map(Path::new),
        BUILTIN_ICON,
    )?;
    Ok(ServiceDescriptor {
        servicename: s.servicename.clone(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::None,
        auth: ServiceAuth::Login {
            user_id: true,
            password: true,
        },
        description: vec![
            ("en".into(), DESCRIPTION_EN.into()),
            ("de".into(), DESCRIPTION_DE.into()),
        ],
        display_name: present(&cfg.dataverse_displayname)
            .unwrap_or(DEFAULT_DISPLAYNAME)
            .to_owned(),
        info_url: present(&cfg.dataverse_info_url)
            .unwrap_or(address)
            .to_owned(),
        help_url: present(&cfg.dataverse_help_url)
            .unwrap_or(DEFAULT_HELP_URL)
            .to_owned(),
        icon: Some(icon),
        metadata_profile: None,
        project_link_template: present(&cfg.dataverse_project_link_template)
            .map(str::to_owned)
            .unwrap_or_else(|| default_link(address)),
    })
}
