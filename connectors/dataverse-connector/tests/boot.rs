//! Boots the connector in process against the Token Storage emulator: it registers as
//! `port-dataverse`, turns ready, and its interface answers (501 problem+json until the
//! methods are written; update these assertions as they are).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connector_core::{server, CommonConfig, ConnectorSpec};
use dataverse_connector::{Config, Dataverse, SERVICENAME};
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

async fn assert_not_implemented(response: reqwest::Response) {
    assert_eq!(response.status().as_u16(), 501);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 501, "{body}");
    assert!(body["title"].is_string(), "{body}");
}

#[actix_web::test]
async fn registers_and_answers_not_implemented() {
    let ts = TokenStorage::start().await;
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        central_service_token_storage: Some(ts.url().parse().unwrap()),
        ..Default::default()
    };
    let config = Config {
        ..Default::default()
    };
    let built = Dataverse::build(&common, config).unwrap();
    let running = server::start(common, built).await.unwrap();
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);

    let services = ts.services();
    assert_eq!(services.len(), 1, "{services:?}");
    assert_eq!(services[0]["servicename"], SERVICENAME);
    assert_eq!(services[0]["implements"], serde_json::json!(["metadata"]));

    let client = reqwest::Client::new();
    let user_id = format!("{SERVICENAME}://alice:access-token");
    // metadata: GET /metadata/project
    let r = client
        .get(format!("{}/metadata/project", running.url()))
        .query(&[("userId", user_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_not_implemented(r).await;

    running.stop().await;
}
