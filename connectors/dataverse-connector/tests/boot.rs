//! Registration as RDS's Token Storage receives it: a `LoginService` (RDS/Service.py:
//! `credentials {userId, password}`, no client secret), the servicename and link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connector_core::{server, CommonConfig, ConnectorSpec};
use dataverse_connector::{Config, Dataverse};
use test_support::token_storage::TokenStorage;

async fn wait_for_status(url: &str, status: u16) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().as_u16() == status {
                return true;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

async fn registered(config: Config) -> serde_json::Value {
    let ts = TokenStorage::start().await;
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        central_service_token_storage: Some(ts.url().parse().unwrap()),
        ..Default::default()
    };
    let built = Dataverse::build(&common, config).unwrap();
    let running = server::start(common, built).await.unwrap();
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);
    let services = ts.services();
    running.stop().await;
    assert_eq!(services.len(), 1, "{services:?}");
    services[0].clone()
}

fn config() -> Config {
    Config {
        dataverse_address: Some("https://demo.dataverse.example/".into()),
        ..Default::default()
    }
}

#[actix_web::test]
async fn registers_a_login_service() {
    let s = registered(config()).await;
    assert_eq!(s["servicename"], "port-dataverse");
    assert_eq!(s["implements"], serde_json::json!(["metadata"]));
    assert_eq!(
        s["credentials"],
        serde_json::json!({"userId": true, "password": true})
    );
    assert!(s.get("client_secret").is_none(), "{s}");
    assert_eq!(
        s["projectLinkTemplate"],
        "https://demo.dataverse.example/dataset.xhtml?id=${projectId}&version=DRAFT"
    );
    assert_eq!(s["displayName"], "Dataverse");
    // The core percent-encodes the URLs as the originals did.
    assert_eq!(s["infoUrl"], "https%3A%2F%2Fdemo.dataverse.example");
    assert!(s["icon"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml;base64,"));
}

#[actix_web::test]
async fn a_named_instance_registers_its_own_name_and_texts() {
    let s = registered(Config {
        servicename: Some("DaRUS".into()),
        dataverse_displayname: Some("DaRUS".into()),
        dataverse_info_url: Some("https://darus.example/info".into()),
        dataverse_help_url: Some("https://darus.example/help".into()),
        dataverse_project_link_template: Some("https://darus.example/d/${projectId}".into()),
        ..config()
    })
    .await;
    assert_eq!(s["servicename"], "port-dataverse-darus");
    assert_eq!(s["displayName"], "DaRUS");
    assert_eq!(s["infoUrl"], "https%3A%2F%2Fdarus.example%2Finfo");
    assert_eq!(s["helpUrl"], "https%3A%2F%2Fdarus.example%2Fhelp");
    assert_eq!(
        s["projectLinkTemplate"],
        "https://darus.example/d/${projectId}"
    );
}

#[test]
fn bad_keys_are_config_errors_naming_the_key() {
    let common = CommonConfig::default();
    let err = |c: Config| Dataverse::build(&common, c).err().unwrap().to_string();
    assert!(err(Config::default()).contains("DATAVERSE_ADDRESS"));
    let e = err(Config {
        dataverse_subject: Some("Biology".into()),
        ..config()
    });
    assert!(
        e.contains("DATAVERSE_SUBJECT") && e.contains("Medicine, Health and Life Sciences"),
        "{e}"
    );
    assert!(err(Config {
        dataverse_contact_email: Some("not an address".into()),
        ..config()
    })
    .contains("DATAVERSE_CONTACT_EMAIL"));
    assert!(err(Config {
        dataverse_collection: Some("a/b".into()),
        ..config()
    })
    .contains("DATAVERSE_COLLECTION"));
    assert!(err(Config {
        dataverse_max_pages: Some(0),
        ..config()
    })
    .contains("DATAVERSE_MAX_PAGES"));
    assert!(Dataverse::build(
        &common,
        Config {
            dataverse_subject: Some("Physics".into()),
            ..config()
        }
    )
    .is_ok());
}
