//! What the connector registers, and its configuration errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use connector_core::{CommonConfig, ConnectorSpec};
use zenodo_connector::{Zenodo, ZenodoConfig};

fn registering() -> CommonConfig {
    CommonConfig {
        central_service_token_storage: Some(
            url::Url::parse("http://token-storage.invalid").unwrap(),
        ),
        rds_oauth_redirect_uri: Some("https://rds.example.org/redirect".into()),
        ..Default::default()
    }
}

fn creds() -> ZenodoConfig {
    ZenodoConfig {
        zenodo_oauth_client_id: Some("cid".into()),
        zenodo_oauth_client_secret: Some("csecret".into()),
        ..Default::default()
    }
}

#[test]
fn payload_is_the_contracts() {
    let built = Zenodo::build(&registering(), creds()).unwrap();
    assert!(built.metadata.is_some());
    assert!(built.file_storage.is_none());
    let p = built.registration_payload();
    assert_eq!(p["servicename"], "port-zenodo");
    assert_eq!(p["implements"], serde_json::json!(["metadata"]));
    assert_eq!(p["fileTransferMode"], 0);
    assert_eq!(p["fileTransferArchive"], 1);
    assert_eq!(
        p["authorize_url"],
        "https://sandbox.zenodo.org/oauth/authorize%3Fredirect_uri=https://rds.example.org/redirect\
         &response_type=code&scope%3Ddeposit%3Awrite%20deposit%3Aactions&client_id=cid"
    );
    assert_eq!(p["refresh_url"], "https://sandbox.zenodo.org/oauth/token");
    assert_eq!(p["client_id"], "cid");
    assert_eq!(p["displayName"], "Zenodo");
    assert_eq!(
        p["projectLinkTemplate"],
        "https://zenodo.org/record/${projectId}"
    );
    assert_eq!(p["metadataProfile"], serde_json::Value::Null);
    assert!(p["description"]["en"]
        .as_str()
        .is_some_and(|d| d.contains("Zenodo")));
    assert!(p["description"]["de"]
        .as_str()
        .is_some_and(|d| d.contains("Zenodo")));
    let icon = p["icon"].as_str().unwrap();
    let svg = icon.strip_prefix("data:image/svg+xml;base64,").unwrap();
    let svg = base64::engine::general_purpose::STANDARD
        .decode(svg)
        .unwrap();
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
}

#[test]
fn files_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.json");
    std::fs::write(&profile, br#"{"title": "required"}"#).unwrap();
    let icon = dir.path().join("logo.png");
    std::fs::write(&icon, b"\x89PNG").unwrap();
    let cfg = ZenodoConfig {
        zenodo_address: Some("https://zenodo.org/".into()),
        zenodo_metadata_profile: Some(profile.display().to_string()),
        zenodo_icon: Some(icon.display().to_string()),
        zenodo_displayname: Some("Zenodo (CERN)".into()),
        zenodo_project_link_template: Some("https://zenodo.org/deposit/${projectId}".into()),
        ..creds()
    };
    let p = Zenodo::build(&registering(), cfg)
        .unwrap()
        .registration_payload();
    assert_eq!(p["metadataProfile"], "eyJ0aXRsZSI6ICJyZXF1aXJlZCJ9");
    assert!(p["icon"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert_eq!(p["refresh_url"], "https://zenodo.org/oauth/token");
    assert_eq!(p["displayName"], "Zenodo (CERN)");
    assert_eq!(
        p["projectLinkTemplate"],
        "https://zenodo.org/deposit/${projectId}"
    );
}

#[test]
fn configuration_errors_name_the_key() {
    let key =
        |common: &CommonConfig, cfg: ZenodoConfig| Zenodo::build(common, cfg).err().map(|e| e.key);
    assert_eq!(
        key(&registering(), ZenodoConfig::default()).as_deref(),
        Some("ZENODO_OAUTH_CLIENT_ID")
    );
    let no_secret = ZenodoConfig {
        zenodo_oauth_client_id: Some("cid".into()),
        zenodo_oauth_client_secret: Some("  ".into()),
        ..Default::default()
    };
    assert_eq!(
        key(&registering(), no_secret).as_deref(),
        Some("ZENODO_OAUTH_CLIENT_SECRET")
    );
    // Registration off: no client needed.
    assert!(Zenodo::build(&CommonConfig::default(), ZenodoConfig::default()).is_ok());
    let bad = ZenodoConfig {
        zenodo_address: Some("not a url".into()),
        ..creds()
    };
    assert_eq!(key(&registering(), bad).as_deref(), Some("ZENODO_ADDRESS"));
    let bad = ZenodoConfig {
        zenodo_icon: Some("/nonexistent/icon.svg".into()),
        ..creds()
    };
    assert_eq!(key(&registering(), bad).as_deref(), Some("ZENODO_ICON"));
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("p.json");
    std::fs::write(&not_json, b"{nope").unwrap();
    let bad = ZenodoConfig {
        zenodo_metadata_profile: Some(not_json.display().to_string()),
        ..creds()
    };
    assert_eq!(
        key(&registering(), bad).as_deref(),
        Some("ZENODO_METADATA_PROFILE")
    );
}
