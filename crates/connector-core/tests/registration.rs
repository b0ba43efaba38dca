//! Registration with the Token Storage emulator: success, late Token Storage, duplicates,
//! rejection, and the readiness gate in front of the interface.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use common::{built, wait_for_status, Received};
use connector_core::server;
use test_support::token_storage::TokenStorage;

#[actix_web::test]
async fn registers_and_becomes_ready() {
    let ts = TokenStorage::start().await;
    let mut cfg = common::common();
    cfg.central_service_token_storage = Some(ts.url().parse().unwrap());
    let running = server::start(cfg, built("port-Echo", Arc::default()))
        .await
        .unwrap();
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);

    let services = ts.services();
    assert_eq!(services.len(), 1);
    let expected = built("port-Echo", Arc::default()).registration_payload();
    assert_eq!(
        services[0], expected,
        "the Token Storage holds exactly what we describe"
    );
    assert_eq!(services[0]["servicename"], "port-echo");
    assert_eq!(
        services[0]["authorize_url"],
        "https://cloud.example.org/index.php/apps/oauth2/authorize%3Fredirect_uri=https://rds.example.org/redirect&response_type=code&client_id=client-id"
    );
    let metrics = reqwest::get(format!("{}/metrics", running.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("connector_registered 1"), "{metrics}");
    running.stop().await;
}

#[actix_web::test]
async fn late_token_storage_then_ready_and_gate_before() {
    // Reserve a port, so the connector points at a Token Storage that is not there yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ts_url = format!("http://127.0.0.1:{port}");
    let mut cfg = common::common();
    cfg.central_service_token_storage = Some(ts_url.parse().unwrap());
    let running = server::start(cfg, built("port-late", Arc::default()))
        .await
        .unwrap();
    let client = reqwest::Client::new();

    // Alive, not ready; the interface refuses with problem+json.
    assert_eq!(
        client
            .get(format!("{}/health", running.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(format!("{}/ready", running.url()))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    let r = client
        .get(format!("{}/storage/folder", running.url()))
        .json(&serde_json::json!({"userId": "port-late://u:t", "filepath": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("not registered"));

    // First it answers 503 twice, then accepts.
    let ts = TokenStorage::start_on(format!("127.0.0.1:{port}").parse().unwrap());
    ts.fail_next(2, 503);
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);
    assert!(
        ts.registration_attempts() >= 3,
        "{}",
        ts.registration_attempts()
    );
    assert_eq!(ts.services().len(), 1);
    let r = client
        .get(format!("{}/storage/folder", running.url()))
        .json(&serde_json::json!({"userId": "port-late://u:t", "filepath": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    running.stop().await;
}

#[actix_web::test]
async fn already_registered_counts_as_registered() {
    let ts = TokenStorage::start().await;
    ts.add_service(built("port-dup", Arc::default()).registration_payload());
    let mut cfg = common::common();
    cfg.central_service_token_storage = Some(ts.url().parse().unwrap());
    let running = server::start(cfg, built("port-dup", Arc::default()))
        .await
        .unwrap();
    assert!(wait_for_status(&format!("{}/ready", running.url()), 200).await);
    assert_eq!(ts.registration_attempts(), 1);
    assert_eq!(ts.services().len(), 1);
    running.stop().await;
}

#[test]
fn rejected_registration_ends_the_process_with_exit_2() {
    let ts = TokenStorage::start_on("127.0.0.1:0".parse().unwrap());
    ts.reject_registrations(true);
    let mut cfg = common::common();
    cfg.central_service_token_storage = Some(ts.url().parse().unwrap());
    let code = server::run_to_completion(
        cfg,
        built("port-rejected", Arc::<Received>::default()),
        "test",
    );
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::from(2))
    );
    assert_eq!(ts.registration_attempts(), 1, "a 400 is not retried");
}
