//! A dead or broken Dataverse fails fast: a hang is a 504 within the response deadline,
//! a reset or garbage answer a 502, a stalled upload is cut; never a hang of the caller.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use connector_core::CommonConfig;
use dataverse_connector::{Config, Dataverse, Options};
use serde_json::json;
use test_support::faulty::{FaultyUpstream, Mode};

use common::{local, test_policy, user_id};

async fn status_against(mode: Mode) -> (u16, Duration) {
    let up = FaultyUpstream::start(mode).await.unwrap();
    let common = CommonConfig {
        response_timeout_secs: 1,
        connect_timeout_secs: 1,
        ..local()
    };
    let cfg = Config {
        dataverse_address: Some(up.url()),
        ..Default::default()
    };
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Dataverse::build_with(&common, cfg, options).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();
    let started = Instant::now();
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}/metadata/project/42", conn.url()))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .expect("an answer within 20 s");
    let status = resp.status().as_u16();
    let took = started.elapsed();
    conn.stop().await;
    (status, took)
}

#[tokio::test]
async fn a_hang_is_a_504_within_the_deadline() {
    let (status, took) = status_against(Mode::Blackhole).await;
    assert_eq!(status, 504);
    // One deadline for the call and its retries (1 s here), generously bounded.
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_reset_or_garbage_is_a_502() {
    let (status, _) = status_against(Mode::Reset {
        declared: 1000,
        sent: 10,
    })
    .await;
    assert_eq!(status, 502);
    let html = Mode::Respond {
        status: 200,
        content_type: "text/html".into(),
        body: b"<html>maintenance</html>".to_vec(),
    };
    assert_eq!(status_against(html).await.0, 502);
}

/// Dataverse takes the upload's head and then nothing: the idle timeout cuts it (504)
/// within seconds, and no file is left behind.
#[tokio::test]
async fn a_stalled_upload_is_cut() {
    let common = CommonConfig {
        response_timeout_secs: 2,
        idle_timeout_secs: 1,
        ..local()
    };
    let env = common::start_with(common, Default::default(), |_| {}).await;
    let id = env.create(common::sample_crate()).await;
    env.emu
        .hang_next_on("POST", &format!("/api/datasets/{id}/add"), 1);
    let started = Instant::now();
    let (s, body) = env
        .upload(&id, "/big.bin", common::bytes(8_000_000, 5))
        .await;
    assert_eq!(s, 504, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(env.emu.files(id.parse().unwrap()).is_empty());
    env.stop().await;
}
