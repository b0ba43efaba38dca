//! Draining: in-flight transfers complete, new interface requests get 503 meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::built;
use connector_core::server;
use serde_json::json;

#[actix_web::test]
async fn stop_waits_for_transfers_and_refuses_new_requests() {
    let running = server::start(common::common(), built("port-echo", Arc::default()))
        .await
        .unwrap();
    let base = running.url();
    let client = reqwest::Client::new();
    let download = client
        .get(format!("{base}/storage/file"))
        .json(&json!({"userId": "port-echo://u:t", "filepath": "/slow/20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let transfer = tokio::spawn(async move { download.bytes().await.map(|b| b.len()) });

    let stopping = tokio::spawn(running.stop());
    // Wait for the drain to begin (its first sign: /ready turns 503), not a fixed time.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("{base}/ready"))
        .send()
        .await
        .unwrap()
        .status()
        != 503
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the drain never began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While draining: the listener is still open; the interface and /ready say 503.
    let r = client
        .get(format!("{base}/storage/folder"))
        .json(&json!({"userId": "port-echo://u:t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("shutting down"));
    assert_eq!(
        client
            .get(format!("{base}/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    assert_eq!(
        transfer.await.unwrap().unwrap(),
        20 * 64 * 1024,
        "the transfer completed"
    );
    stopping.await.unwrap();
    // A new connection: one pooled from above may outlive the listener by a moment
    // while the workers wind down.
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(format!("{base}/health")).send().await.is_err(),
        "stopped after the drain"
    );
}
