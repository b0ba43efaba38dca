//! A dead Zenodo fails fast: one deadline for a whole retried call, and a circuit breaker
//! that answers 503 at once after a run of timeouts and closes when Zenodo is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use connector_core::server::RunningConnector;
use connector_core::CommonConfig;
use reqwest::Method;
use serde_json::json;
use test_support::faulty::{FaultyUpstream, Mode};
use zenodo_connector::{Options, RetryPolicy, Zenodo, ZenodoConfig};

use common::{local, start_with_options, test_policy, user_id};

/// Calls `GET /metadata/project/17`; `(status, Retry-After)`.
async fn get_project(conn: &RunningConnector) -> (u16, Option<u64>) {
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}/metadata/project/17", conn.url()))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .expect("an answer within 20 s");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (resp.status().as_u16(), retry_after)
}

async fn metrics(conn: &RunningConnector) -> String {
    reqwest::get(format!("{}/metrics", conn.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn circuit(state: &str) -> String {
    format!("connector_upstream_circuit_state{{state=\"{state}\",upstream=\"zenodo\"}} 1")
}

/// Zenodo hangs: the first calls wait out `RESPONSE_TIMEOUT_SECS` (504), then the circuit
/// opens and calls get 503 with `Retry-After` without reaching Zenodo; after the
/// cool-down one probe goes through, Zenodo answers, and the circuit is closed again.
#[tokio::test]
async fn a_hanging_zenodo_opens_the_circuit_and_its_return_closes_it() {
    let up = FaultyUpstream::start(Mode::Blackhole).await.unwrap();
    let common = CommonConfig {
        response_timeout_secs: 1,
        connect_timeout_secs: 1,
        circuit_breaker_failures: 2,
        circuit_breaker_cooldown_secs: 2,
        ..local()
    };
    let cfg = ZenodoConfig {
        zenodo_address: Some(up.url()),
        ..Default::default()
    };
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Zenodo::build_with(&common, cfg, options).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();

    for _ in 0..2 {
        assert_eq!(get_project(&conn).await.0, 504, "waits the deadline");
    }
    let reached = up.requests();
    assert_eq!(reached, 2);
    for _ in 0..3 {
        let (status, retry_after) = get_project(&conn).await;
        assert_eq!(status, 503, "the circuit is open");
        assert!(
            retry_after.is_some_and(|s| (1..=2).contains(&s)),
            "Retry-After within the cool-down: {retry_after:?}"
        );
    }
    assert_eq!(up.requests(), reached, "open: Zenodo is not called");
    assert!(metrics(&conn).await.contains(&circuit("open")));

    // Zenodo is back (it answers; a 404 is an answer).
    up.set_mode(Mode::Respond {
        status: 404,
        content_type: "application/json".into(),
        body: br#"{"status": 404, "message": "PID does not exist."}"#.to_vec(),
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(get_project(&conn).await.0, 404, "the probe reached Zenodo");
    assert_eq!(get_project(&conn).await.0, 404, "closed: calls go through");
    assert_eq!(up.requests(), reached + 2);
    assert!(metrics(&conn).await.contains(&circuit("closed")));
    conn.stop().await;
}

/// A rate limit that asks for 20 s twice used to keep the caller 40 s and more (past a
/// Kubernetes ingress' 60 s with a few more attempts); with one deadline for the whole
/// call (2 s here) the caller gets the 429 at once instead of a wait that cannot fit.
#[tokio::test]
async fn a_retried_call_keeps_one_deadline() {
    let common = CommonConfig {
        response_timeout_secs: 2,
        ..local()
    };
    let options = Options {
        retry: RetryPolicy::default(),
        spool_dir: None,
    };
    let env = start_with_options(common, options).await;
    env.zenodo.rate_limit_next(10, 20);
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
        .request(Method::GET, env.url("/metadata/project"))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .expect("an answer well before the 20 s Retry-After");
    assert_eq!(resp.status(), 429);
    assert_eq!(env.zenodo.requests().len(), 1, "no wait past the deadline");
    env.stop().await;
}

#[test]
fn the_default_deadline_is_under_an_ingress_timeout() {
    assert!(CommonConfig::default().response_timeout_secs <= 30);
}
