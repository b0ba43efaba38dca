//! Uploads longer than the idle timeout, uploads that stall, and uploads Zenodo stores
//! wrongly: `IDLE_TIMEOUT_SECS` is shrunk to 1 s and the healthy upload is paced over
//! several times that; a stalled one is cut within seconds and leaves nothing in the
//! deposition; a corrupt copy (its MD5 differs from ours) is a 502, and removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{bytes, local, sample_crate, sha256, start, start_with, user_id};
use connector_core::CommonConfig;
use test_support::faulty::pattern_sha256;
use test_support::paced::{read_answer, PacedForm};

const IDLE_SECS: u64 = 1;
const CUT_WITHIN: Duration = Duration::from_secs(15);

fn shrunk() -> CommonConfig {
    CommonConfig {
        idle_timeout_secs: IDLE_SECS,
        response_timeout_secs: 10,
        ..local()
    }
}

#[tokio::test]
async fn a_steady_upload_longer_than_the_idle_timeout_arrives_whole() {
    let env = start_with(shrunk()).await;
    let id = env.create(sample_crate()).await;
    // 2 MB in 100 KB pieces every 250 ms: about 5 s, five times the idle timeout. Above
    // the in-memory size, so it streams straight to the bucket.
    let len = 2_000_000;
    let uid = user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filename", "steady.bin")],
        "steady.bin",
        len,
    );
    let (status, body, took) = form
        .post_timed(
            &env.http,
            &env.url(&format!("/metadata/project/{id}/files")),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        took >= Duration::from_secs(4 * IDLE_SECS),
        "the upload was paced"
    );
    assert_eq!(body["sha256"], pattern_sha256(len));
    let stored = env.zenodo.files(id);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].sha256, pattern_sha256(len));
    env.stop().await;
}

#[tokio::test]
async fn a_caller_that_stops_sending_is_cut_and_nothing_is_stored() {
    let env = start_with(shrunk()).await;
    let id = env.create(sample_crate()).await;
    let mut stream = env
        .stall_upload(id, "stalled.bin", 4_000_000, 1_500_000)
        .await;
    let (status, body) = tokio::time::timeout(CUT_WITHIN, read_answer(&mut stream))
        .await
        .expect("a stalled upload is answered, not held")
        .unwrap();
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("stalled"), "{body}");
    assert!(env.zenodo.files(id).is_empty(), "nothing is stored");
    env.stop().await;
}

#[tokio::test]
async fn a_copy_zenodo_stores_wrongly_is_a_502_and_removed() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    // Both paths: read into memory (small) and streamed (large).
    for (name, content) in [
        ("small.txt", bytes(1000, 3)),
        ("large.bin", bytes(3 << 20, 4)),
    ] {
        env.zenodo.corrupt_next_uploads(1);
        let (status, body) = env.upload(id, name, content.clone()).await;
        assert_eq!(status, 502, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(name) && detail.contains("md5"), "{detail}");
        assert!(
            env.zenodo.files(id).iter().all(|f| f.key != name),
            "the corrupt copy of {name} is removed"
        );
        // Sent again without the fault, it is stored and verified.
        let (status, body) = env.upload(id, name, content.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["sha256"], sha256(&content));
        let stored = env.zenodo.files(id);
        assert!(stored
            .iter()
            .any(|f| f.key == name && f.sha256 == sha256(&content)));
    }
    env.stop().await;
}
