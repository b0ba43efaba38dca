//! Work a Zenodo can make unbounded, against hostile servers (`test_support::hostile`):
//! a deposition list whose pages never run out, and an answer far larger than any real one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use connector_core::server::RunningConnector;
use futures_util::stream;
use serde_json::{json, Value};
use test_support::hostile::{full, streamed, HostileServer};
use zenodo_connector::{Options, Zenodo, ZenodoConfig};

use common::{test_policy, user_id};

async fn connector(base: &str) -> RunningConnector {
    let common = connector_core::CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 2,
        response_timeout_secs: 20,
        ..Default::default()
    };
    let cfg = ZenodoConfig {
        zenodo_address: Some(base.to_owned()),
        ..Default::default()
    };
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Zenodo::build_with(&common, cfg, options).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

/// The start of an answer, for assertion messages (a wrong answer here may be huge).
fn short(body: &Value) -> String {
    body.to_string().chars().take(300).collect()
}

async fn list_projects(conn: &RunningConnector) -> (u16, Value) {
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
        .get(format!("{}/metadata/project", conn.url()))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .expect("an answer within 60 s");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A Zenodo that answers every page of the deposition list full (one that ignores `page`,
/// as the probe's did): one listing once cost 1,000 calls. Now at most `ZENODO_MAX_PAGES`
/// (50), then a 502 naming the limit, never a shortened list.
#[tokio::test]
async fn a_deposition_list_without_end_costs_at_most_max_pages_calls() {
    let page: Vec<Value> = (1..=100)
        .map(|id| json!({"id": id, "submitted": false, "metadata": {"title": format!("d{id}")}}))
        .collect();
    let page = Bytes::from(serde_json::to_vec(&page).unwrap());
    let zenodo = HostileServer::start(move |_req, _counters| {
        let page = page.clone();
        async move { full(200, "application/json", page) }
    })
    .await
    .unwrap();
    let conn = connector(&zenodo.url()).await;
    let (status, body) = list_projects(&conn).await;
    assert_eq!(status, 502, "{}", short(&body));
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("ZENODO_MAX_PAGES"), "{}", short(&body));
    assert_eq!(zenodo.requests(), 50);
    conn.stop().await;
}

/// A 64 MB JSON answer streamed without a length (the probe's 100 MB array took the
/// connector to 2.26 GB): a 502 naming `MAX_UPSTREAM_ANSWER_BYTES` once 8 MiB have come,
/// the rest never read.
#[tokio::test]
async fn a_gigantic_json_answer_is_refused_at_the_cap() {
    const TOTAL: usize = 64 * 1024 * 1024;
    let zenodo = HostileServer::start(|_req, counters| async move {
        let piece = Bytes::from(vec![b'x'; 64 * 1024]);
        let chunks = stream::iter(
            std::iter::once(Bytes::from_static(b"[\""))
                .chain(std::iter::repeat_n(piece, TOTAL / (64 * 1024)))
                .chain(std::iter::once(Bytes::from_static(b"\"]"))),
        );
        streamed(&counters, 200, "application/json", chunks)
    })
    .await
    .unwrap();
    let conn = connector(&zenodo.url()).await;
    for route in ["/metadata/project", "/metadata/project/17"] {
        let resp = reqwest::Client::new()
            .get(format!("{}{route}", conn.url()))
            .json(&json!({"userId": user_id()}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 502, "{route}: {}", short(&body));
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("MAX_UPSTREAM_ANSWER_BYTES"),
            "{route}: {}",
            short(&body)
        );
    }
    // Two answers of 64 MB were offered; socket buffers hold a few MiB beyond each cap.
    let sent = zenodo.counters().body_bytes_sent();
    assert!(sent < 48 * 1024 * 1024, "{sent} bytes were sent");
    conn.stop().await;
}
