//! Faults of the port service's token lookup (normal-format userIds): 5xx, garbage, an
//! answer cut short, no answer at all, nobody listening. Each is a gateway problem+json
//! (never a 500, never a hang) and the connector serves on; the lookup recovers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::built;
use connector_core::server::{self, RunningConnector};
use serde_json::{json, Value};
use test_support::faulty::{FaultyUpstream, Mode};

async fn start(lookup: &str) -> RunningConnector {
    let mut cfg = common::common();
    cfg.use_case_service_port_service = Some(lookup.parse().unwrap());
    cfg.response_timeout_secs = 2;
    cfg.idle_timeout_secs = 60;
    cfg.token_cache_ttl_secs = 0;
    server::start(cfg, built("port-echo", Arc::default()))
        .await
        .unwrap()
}

async fn list(c: &RunningConnector) -> (u16, String, Value) {
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}/storage/folder", c.url()))
        .json(&json!({"userId": "carol", "filepath": "/"}))
        .send()
        .await
        .expect("an answer within 20 s (RESPONSE_TIMEOUT_SECS=2)");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, r.json().await.unwrap_or(Value::Null))
}

fn token_answer() -> Mode {
    Mode::Respond {
        status: 200,
        content_type: "application/json".into(),
        body: json!({"type": "OAuth2Token", "data": {"access_token": "tok", "refresh_token": "r",
            "expiration_date": 0, "service": {}, "user": {"type": "User", "data": {"username": "carol"}}}})
        .to_string()
        .into_bytes(),
    }
}

#[actix_web::test]
async fn lookup_faults_are_gateway_problems_and_recover() {
    let up = FaultyUpstream::start(token_answer()).await.unwrap();
    let c = start(&up.url()).await;
    let (s, _, v) = list(&c).await;
    assert_eq!(s, 200, "{v}");

    let cases = [
        (
            "5xx",
            Mode::Respond {
                status: 500,
                content_type: "application/json".into(),
                body: b"{\"error\": \"boom\"}".to_vec(),
            },
        ),
        (
            "not JSON",
            Mode::Respond {
                status: 200,
                content_type: "text/html".into(),
                body: b"<html>proxy error</html>".to_vec(),
            },
        ),
        (
            "cut short",
            Mode::Truncate {
                declared: 5000,
                sent: 20,
            },
        ),
        (
            "reset",
            Mode::Reset {
                declared: 5000,
                sent: 20,
            },
        ),
        ("never answers", Mode::Blackhole),
    ];
    for (name, mode) in cases {
        up.set_mode(mode);
        let (s, ct, v) = list(&c).await;
        assert!(matches!(s, 502..=504), "{name}: {s} {v}");
        assert_eq!(ct, "application/problem+json", "{name}");
        assert!(
            !v["detail"].as_str().unwrap_or_default().is_empty(),
            "{name}"
        );
    }
    up.set_mode(token_answer());
    let (s, _, v) = list(&c).await;
    assert_eq!(s, 200, "recovered: {v}");
    c.stop().await;
}

#[actix_web::test]
async fn lookup_service_down_is_a_503_problem() {
    let up = FaultyUpstream::start(token_answer()).await.unwrap();
    let url = up.url();
    drop(up);
    let c = start(&url).await;
    let (s, ct, v) = list(&c).await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(ct, "application/problem+json");
    assert!(!v["detail"].as_str().unwrap_or_default().is_empty());
    let health = reqwest::get(format!("{}/health", c.url())).await.unwrap();
    assert_eq!(health.status(), 200);
    c.stop().await;
}
