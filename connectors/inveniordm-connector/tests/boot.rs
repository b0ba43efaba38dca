//! Registration in both auth modes, as RDS's Token Storage receives it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connector_core::{server, CommonConfig, ConnectorSpec};
use inveniordm_connector::{Config, Inveniordm};
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
    let built = Inveniordm::build(&common, config).unwrap();
    let running = server::start(common, built).await.unwrap();
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);
    let services = ts.services();
    running.stop().await;
    assert_eq!(services.len(), 1, "{services:?}");
    services[0].clone()
}

fn config() -> Config {
    Config {
        inveniordm_address: Some("https://repo.example.org/".into()),
        ..Default::default()
    }
}

#[actix_web::test]
async fn login_mode_registers_a_login_service() {
    let s = registered(Config {
        servicename: Some("TUW".into()),
        ..config()
    })
    .await;
    assert_eq!(s["servicename"], "port-inveniordm-tuw");
    assert_eq!(s["implements"], serde_json::json!(["metadata"]));
    assert_eq!(
        s["credentials"],
        serde_json::json!({"userId": true, "password": true})
    );
    assert!(s.get("client_secret").is_none(), "{s}");
    assert_eq!(
        s["projectLinkTemplate"],
        "https://repo.example.org/records/${projectId}"
    );
}

#[actix_web::test]
async fn oauth2_mode_registers_the_authorize_url_as_zenodo_does() {
    let s = registered(Config {
        inveniordm_oauth_client_id: Some("cid".into()),
        inveniordm_oauth_client_secret: Some("csecret".into()),
        ..config()
    })
    .await;
    assert_eq!(s["servicename"], "port-inveniordm");
    let authorize = s["authorize_url"].as_str().unwrap();
    assert!(
        authorize.starts_with("https://repo.example.org/oauth/authorize%3Fredirect_uri="),
        "{authorize}"
    );
    assert!(
        authorize.contains("scope%3Ddeposit%3Awrite%20deposit%3Aactions"),
        "{authorize}"
    );
    assert_eq!(s["refresh_url"], "https://repo.example.org/oauth/token");
    assert_eq!(s["client_id"], "cid");
}

#[test]
fn half_an_oauth_client_is_a_config_error() {
    let common = CommonConfig::default();
    let only_id = Config {
        inveniordm_oauth_client_id: Some("cid".into()),
        ..config()
    };
    let err = Inveniordm::build(&common, only_id).err().unwrap();
    assert!(
        err.to_string().contains("INVENIORDM_OAUTH_CLIENT_SECRET"),
        "{err}"
    );
    let err = Inveniordm::build(&common, Config::default()).err().unwrap();
    assert!(err.to_string().contains("INVENIORDM_ADDRESS"), "{err}");
}
