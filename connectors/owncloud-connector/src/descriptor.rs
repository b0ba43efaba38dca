//! What the connector tells the Token Storage: an OAuth2 service implementing
//! fileStorage, with ownCloud's oauth2 app endpoints.

use connector_core::descriptor::{
    AuthUrl, ClientId, ClientSecret, FileTransferArchive, FileTransferMode, Icon, OAuth2Descriptor,
    ServiceAuth, ServiceDescriptor, TokenUrl,
};
use connector_core::{CommonConfig, ConfigError};

use crate::config::Settings;

/// The logo sent when `OWNCLOUD_ICON` is unset: a plain cloud, drawn for this project.
pub const BUILTIN_ICON: &[u8] = include_bytes!("../assets/owncloud.svg");

const DESCRIPTION_EN: &str =
    "ownCloud and Nextcloud are self-hosted file sync and share platforms: keep your research files there and hand them to RDS.";
const DESCRIPTION_DE: &str =
    "ownCloud und Nextcloud sind selbst betriebene Plattformen zum Synchronisieren und Teilen von Dateien: Ihre Forschungsdaten liegen dort und gelangen von dort zu RDS.";

fn trimmed(url: &url::Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// `OWNCLOUD_ICON`, else ours; an unreadable file is a configuration error (exit 2).
fn icon(settings: &Settings) -> Result<Icon, ConfigError> {
    Icon::configured("OWNCLOUD_ICON", settings.icon.as_deref(), BUILTIN_ICON)
}

pub fn build(common: &CommonConfig, settings: &Settings) -> Result<ServiceDescriptor, ConfigError> {
    let auth_url = AuthUrl::new(format!(
        "{}/index.php/apps/oauth2/authorize",
        trimmed(&settings.installation_url)
    ))
    .map_err(|e| ConfigError::new("OWNCLOUD_INSTALLATION_URL", e.to_string()))?;
    let token_url = TokenUrl::new(format!(
        "{}/index.php/apps/oauth2/api/v1/token",
        trimmed(&settings.internal_url)
    ))
    .map_err(|e| ConfigError::new("OWNCLOUD_INTERNAL_INSTALLATION_URL", e.to_string()))?;
    let redirect_url = common.redirect_url()?;
    Ok(ServiceDescriptor {
        servicename: settings.servicename.clone(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::None,
        auth: ServiceAuth::OAuth2(OAuth2Descriptor {
            auth_url,
            token_url,
            redirect_url,
            client_id: ClientId::new(settings.client_id.clone()),
            client_secret: ClientSecret::new(settings.client_secret.clone()),
            scopes: Vec::new(),
        }),
        description: vec![
            ("en".into(), DESCRIPTION_EN.into()),
            ("de".into(), DESCRIPTION_DE.into()),
        ],
        display_name: settings.display_name.clone(),
        info_url: settings.info_url.clone(),
        help_url: settings.help_url.clone(),
        icon: Some(icon(settings)?),
        metadata_profile: None,
        project_link_template: String::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::config::OwncloudConfig;
    use connector_core::ConnectorSpec;

    #[test]
    fn payload_matches_the_original_port() {
        let common = CommonConfig {
            rds_oauth_redirect_uri: Some("https://rds.example.org/redirect".into()),
            ..Default::default()
        };
        let cfg = OwncloudConfig {
            owncloud_installation_url: Some("https://cloud.example.org/".into()),
            owncloud_internal_installation_url: Some("http://oc.internal".into()),
            owncloud_oauth_client_id: Some("cid".into()),
            owncloud_oauth_client_secret: Some("csecret".into()),
            servicename: Some("Uni-A".into()),
            ..Default::default()
        };
        // Built as the core gets it: `implements` follows from what it serves.
        let p = <crate::Owncloud as ConnectorSpec>::build(&common, cfg)
            .unwrap()
            .registration_payload();
        assert_eq!(p["servicename"], "port-owncloud-uni-a");
        assert_eq!(p["implements"], serde_json::json!(["fileStorage"]));
        assert_eq!(p["fileTransferMode"], 0);
        assert_eq!(p["fileTransferArchive"], 0);
        assert_eq!(
            p["authorize_url"],
            "https://cloud.example.org/index.php/apps/oauth2/authorize%3Fredirect_uri=https://rds.example.org/redirect&response_type=code&client_id=cid"
        );
        assert_eq!(
            p["refresh_url"],
            "http://oc.internal/index.php/apps/oauth2/api/v1/token"
        );
        assert_eq!(p["client_secret"], "csecret");
        assert_eq!(p["displayName"], "ownCloud");
        assert!(p["description"]["en"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
        assert!(p["description"]["de"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
        assert!(p["icon"]
            .as_str()
            .is_some_and(|i| i.starts_with("data:image/svg+xml;base64,")));
    }

    #[test]
    fn icon_file_or_builtin_and_an_unreadable_one_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("logo.png");
        std::fs::write(&png, b"\x89PNG").unwrap();
        let mut cfg = OwncloudConfig {
            owncloud_installation_url: Some("https://c.example".into()),
            owncloud_icon: Some(png),
            ..Default::default()
        };
        let common = CommonConfig::default();
        let s = Settings::validate(&common, &cfg).unwrap();
        let data_url = |s: &Settings| icon(s).map(|i| i.data_url().to_owned());
        assert!(data_url(&s).unwrap().starts_with("data:image/png;base64,"));
        cfg.owncloud_icon = None;
        let s = Settings::validate(&common, &cfg).unwrap();
        assert!(data_url(&s)
            .unwrap()
            .starts_with("data:image/svg+xml;base64,"));
        // Was a warning and the built-in icon; the operator asked for this file.
        cfg.owncloud_icon = Some(dir.path().join("missing.svg"));
        let s = Settings::validate(&common, &cfg).unwrap();
        assert_eq!(
            build(&common, &s).err().map(|e| e.key).as_deref(),
            Some("OWNCLOUD_ICON")
        );
    }
}
