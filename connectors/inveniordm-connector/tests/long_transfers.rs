//! Uploads longer than the idle timeout and the response deadline: `IDLE_TIMEOUT_SECS`
//! 1 s, `RESPONSE_TIMEOUT_SECS` 2 s, and the upload paced over about 5 s. A healthy one
//! must arrive whole, as a local transfer and as a multipart one (a wall-clock cap would
//! cut it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use connector_core::CommonConfig;
use inveniordm_emulator::{Flavour, Limits};
use test_support::faulty::pattern_sha256;
use test_support::paced::PacedForm;

use common::*;

async fn steady_upload_arrives_whole(multipart: bool) {
    let common = CommonConfig {
        idle_timeout_secs: 1,
        response_timeout_secs: 2,
        ..local()
    };
    let env = start_with(common, Flavour::Stock, Limits::default(), |c| {
        c.inveniordm_multipart_part_bytes = Some(if multipart { 512 * 1024 } else { 0 });
    })
    .await;
    env.emu.offer_multipart(multipart);
    let id = env.create(sample_crate()).await;
    // 2 MB in 100 KB pieces every 250 ms: about 5 s.
    let len = 2_000_000;
    let uid = user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filename", "steady.bin")],
        "steady.bin",
        len,
    );
    let (status, body, took) = form
        .post_timed(
            &reqwest::Client::new(),
            &env.url(&format!("/metadata/project/{id}/files")),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(took >= Duration::from_secs(4), "the upload was paced");
    assert_eq!(body["sha256"], pattern_sha256(len));
    let parts = env
        .emu
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/content/"))
        .count();
    assert_eq!(parts > 0, multipart, "the way it went ({parts} part PUTs)");
    let files = env.emu.files(&id);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, len);
    env.stop().await;
}

#[tokio::test]
async fn a_steady_local_upload_arrives_whole() {
    steady_upload_arrives_whole(false).await;
}

#[tokio::test]
async fn a_steady_multipart_upload_arrives_whole() {
    steady_upload_arrives_whole(true).await;
}
