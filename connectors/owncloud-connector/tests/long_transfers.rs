//! Transfers longer than the idle timeout, and transfers that stall, through the
//! ownCloud connector: `IDLE_TIMEOUT_SECS` is shrunk to 1 s and healthy transfers are
//! paced over several times that (a wall-clock cap would cut them); stalled ones must be
//! cut within a few seconds, leaving nothing at the target.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use owncloud_emulator::WebDavServer;
use test_support::faulty::{pattern_sha256, FaultyUpstream, Mode};
use test_support::paced::{read_answer, PacedForm};

use common::{sha256_body, sha256_file, shrunk_connector, shrunk_user_id, TOKEN, USER};

const IDLE_SECS: u64 = common::SHRUNK_IDLE_SECS;
/// Far more than any healthy step takes, far less than a hang.
const CUT_WITHIN: Duration = Duration::from_secs(15);

/// Every file under `dir`, hidden ones included (temporary upload names).
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn a_steady_upload_longer_than_the_idle_timeout_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let dav = WebDavServer::start(dir.path(), USER, TOKEN).await.unwrap();
    let conn = shrunk_connector(dav.base_url()).await;
    // 2 MB in 100 KB pieces every 250 ms: about 5 s, five times the idle timeout.
    let len = 2_000_000;
    let uid = shrunk_user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filepath", "/slow/steady.bin")],
        "steady.bin",
        len,
    );
    let started = Instant::now();
    let resp = form
        .post(
            &reqwest::Client::new(),
            &format!("http://{}/storage/file", conn.addr()),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() >= Duration::from_secs(4 * IDLE_SECS),
        "the upload was paced"
    );
    assert_eq!(
        body["sha256"],
        pattern_sha256(len),
        "the digest of what was received"
    );
    let stored = dir.path().join("slow/steady.bin");
    assert_eq!(sha256_file(&stored), pattern_sha256(len));
    conn.stop().await;
}

#[tokio::test]
async fn a_steady_download_to_a_slow_reader_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    common::write_big(&dir.path().join("f.bin"), 2_000_000);
    let dav = WebDavServer::start(dir.path(), USER, TOKEN).await.unwrap();
    let conn = shrunk_connector(dav.base_url()).await;
    let mut resp = reqwest::Client::new()
        .get(format!("http://{}/storage/file", conn.addr()))
        .json(&serde_json::json!({"userId": shrunk_user_id(), "filepath": "/f.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The caller takes 400 KB/s: slow, never idle for 1 s.
    let started = Instant::now();
    let mut got = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
        let due = started + Duration::from_secs_f64(got.len() as f64 / 400_000.0);
        tokio::time::sleep_until(due.into()).await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(4 * IDLE_SECS),
        "the download was paced"
    );
    assert_eq!(got, std::fs::read(dir.path().join("f.bin")).unwrap());
    conn.stop().await;
}

#[tokio::test]
async fn a_trickling_provider_that_keeps_moving_is_not_cut() {
    // One 50 KB piece every 300 ms for about 6 s.
    let total = 1_000_000;
    let up = FaultyUpstream::start(Mode::Trickle {
        total,
        chunk: 50_000,
        interval: Duration::from_millis(300),
    })
    .await
    .unwrap();
    let conn = shrunk_connector(up.url()).await;
    let resp = reqwest::Client::new()
        .get(format!("http://{}/storage/file", conn.addr()))
        .json(&serde_json::json!({"userId": shrunk_user_id(), "filepath": "/t.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (sha, len) = sha256_body(resp).await;
    assert_eq!((sha, len), (pattern_sha256(total), total));
    conn.stop().await;
}

#[tokio::test]
async fn a_caller_that_stops_sending_is_cut_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let dav = WebDavServer::start(dir.path(), USER, TOKEN).await.unwrap();
    let conn = shrunk_connector(dav.base_url()).await;
    let uid = shrunk_user_id();
    let form = PacedForm::new(
        &[("userId", &uid), ("filepath", "/stalled.bin")],
        "stalled.bin",
        4_000_000,
    );
    let started = Instant::now();
    let mut stream = form
        .send_stalling(conn.addr(), "POST", "/storage/file", 1_000_000)
        .await
        .unwrap();
    let (status, body) = tokio::time::timeout(CUT_WITHIN, read_answer(&mut stream))
        .await
        .expect("a stalled upload is answered, not held")
        .unwrap();
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("stalled"), "{body}");
    assert!(started.elapsed() >= Duration::from_secs(IDLE_SECS));
    // The unfinished upload is removed (the cleanup runs right after the answer).
    let deadline = Instant::now() + CUT_WITHIN;
    loop {
        let left = all_files(dir.path());
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left at the target: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    conn.stop().await;
}

#[tokio::test]
async fn a_provider_that_stops_taking_the_upload_is_cut() {
    // The target's lookup is answered (404: a new file); the upload is not read.
    let up = FaultyUpstream::start(Mode::Deaf).await.unwrap();
    up.script(vec![Mode::Respond {
        status: 404,
        content_type: "application/xml".into(),
        body: b"<?xml version=\"1.0\"?><d:error xmlns:d=\"DAV:\"/>".to_vec(),
    }]);
    let conn = shrunk_connector(up.url()).await;
    let uid = shrunk_user_id();
    // More than the socket buffers on the way hold; below any chunking threshold.
    let len = 24 * 1024 * 1024;
    let form = PacedForm::new(
        &[("userId", &uid), ("filepath", "/deaf.bin")],
        "deaf.bin",
        len,
    )
    .pace(1024 * 1024, Duration::from_millis(1));
    let url = format!("http://{}/storage/file", conn.addr());
    let resp = tokio::time::timeout(CUT_WITHIN, form.post(&reqwest::Client::new(), &url))
        .await
        .expect("a stalled provider is cut, not waited for");
    let resp = resp.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("moved no byte"), "{body}");
    conn.stop().await;
}

#[tokio::test]
async fn a_caller_that_stops_reading_a_download_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    // More than every buffer between the connector and the caller can hold.
    let size = 64 * 1024 * 1024;
    common::write_big(&dir.path().join("big.bin"), size);
    let dav = WebDavServer::start(dir.path(), USER, TOKEN).await.unwrap();
    let conn = shrunk_connector(dav.base_url()).await;
    let mut resp = reqwest::Client::new()
        .get(format!("http://{}/storage/file", conn.addr()))
        .json(&serde_json::json!({"userId": shrunk_user_id(), "filepath": "/big.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(size as u64));
    // Read nothing for several idle timeouts: the connector gives up on us.
    tokio::time::sleep(Duration::from_secs(4 * IDLE_SECS)).await;
    let mut got = 0usize;
    let outcome = tokio::time::timeout(CUT_WITHIN, async {
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => got += c.len(),
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("the cut download ends, it does not hang");
    assert!(
        outcome.is_err(),
        "a cut download is a broken body, never a whole one"
    );
    assert!(got < size, "only what was buffered arrived: {got}");
    conn.stop().await;
}

#[tokio::test]
async fn a_provider_that_stalls_mid_download_is_cut() {
    let up = FaultyUpstream::start(Mode::StallBody {
        declared: 10_000_000,
        sent: 1_000_000,
    })
    .await
    .unwrap();
    let conn = shrunk_connector(up.url()).await;
    let resp = reqwest::Client::new()
        .get(format!("http://{}/storage/file", conn.addr()))
        .json(&serde_json::json!({"userId": shrunk_user_id(), "filepath": "/s.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = tokio::time::timeout(CUT_WITHIN, resp.bytes())
        .await
        .expect("a stalled provider is cut");
    assert!(body.is_err(), "a stalled download is a broken body");
    conn.stop().await;
}
