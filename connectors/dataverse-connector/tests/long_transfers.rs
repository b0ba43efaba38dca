//! Uploads longer than the idle timeout and the response deadline: `IDLE_TIMEOUT_SECS`
//! 1 s, `RESPONSE_TIMEOUT_SECS` 2 s, and the upload paced over about 5 s. A healthy one
//! must arrive whole, through `/add` and through direct upload (a wall-clock cap would
//! cut it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use connector_core::CommonConfig;
use dataverse_emulator::Options as EmuOptions;
use test_support::faulty::pattern_sha256;
use test_support::paced::PacedForm;

use common::*;

async fn steady_upload_arrives_whole(emu: EmuOptions) {
    let emu_direct = emu.direct_upload.is_some();
    let common = CommonConfig {
        idle_timeout_secs: 1,
        response_timeout_secs: 2,
        ..local()
    };
    let env = start_with(common, emu, |_| {}).await;
    let id = env.create(sample_crate()).await;
    // 2 MB in 100 KB pieces every 250 ms: about 5 s.
    let len = 2_000_000;
    let uid = user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filename", "/slow/steady.bin")],
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
    let direct = env
        .emu
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/s3/"));
    assert_eq!(direct, emu_direct, "the way it went");
    let files = env.emu.files(id.parse().unwrap());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, len);
    assert_eq!(files[0].directory_label.as_deref(), Some("slow"));
    env.stop().await;
}

#[tokio::test]
async fn a_steady_upload_through_add_arrives_whole() {
    steady_upload_arrives_whole(EmuOptions::default()).await;
}

#[tokio::test]
async fn a_steady_direct_upload_arrives_whole() {
    steady_upload_arrives_whole(EmuOptions {
        direct_upload: Some(1024 * 1024),
        ..Default::default()
    })
    .await;
}

/// The caller sends a quarter of the file, then nothing: cut after the idle timeout
/// (408), and Dataverse is left without the file.
#[tokio::test]
async fn a_caller_that_stalls_is_cut_and_nothing_is_left() {
    use test_support::paced::read_answer;
    let common = CommonConfig {
        idle_timeout_secs: 1,
        response_timeout_secs: 2,
        ..local()
    };
    let env = start_with(common, EmuOptions::default(), |_| {}).await;
    let id = env.create(sample_crate()).await;
    let uid = user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filename", "/stalled.bin")],
        "stalled.bin",
        4_000_000,
    );
    let path = format!("/metadata/project/{id}/files");
    let mut stream = form
        .send_stalling(env.conn.addr(), "POST", &path, 1_000_000)
        .await
        .unwrap();
    let (status, body) = tokio::time::timeout(Duration::from_secs(15), read_answer(&mut stream))
        .await
        .expect("a stalled upload is answered, not held")
        .unwrap();
    assert_eq!(status, 408, "{body}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !env.emu.files(id.parse().unwrap()).is_empty() {
        assert!(Instant::now() < deadline, "a file is left in Dataverse");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.stop().await;
}
