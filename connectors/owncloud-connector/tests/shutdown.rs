//! SIGTERM during a slow download (the real binary; a trickling upstream makes the
//! transfer take seconds): the download completes byte for byte, new requests meanwhile
//! get 503, and the process exits 0 once it is done; a transfer that outlasts
//! `SHUTDOWN_TIMEOUT_SECS` is cut and the process still exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use test_support::faulty::{pattern_sha256, FaultyUpstream, Mode};
use test_support::load;
use tokio::process::Child;

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");
const USER_ID: &str = "port-owncloud://alice:tok";

async fn spawn(upstream: &str, grace_secs: u64) -> (Child, String) {
    let grace = grace_secs.to_string();
    load::spawn_ready(
        BIN,
        &[
            ("OWNCLOUD_INSTALLATION_URL", upstream),
            ("SHUTDOWN_TIMEOUT_SECS", &grace),
        ],
    )
    .await
}

fn sigterm(child: &Child) {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
}

/// Status of a new request on a fresh connection (`None`: refused or failed).
async fn fresh_status(base: &str, route: &str) -> Option<u16> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    http.get(format!("{base}{route}"))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/f.bin"}))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_download_finish_then_exits_0() {
    // 8 MiB at 512 KiB per 250 ms: about 4 s.
    let total: u64 = 8 << 20;
    let up = FaultyUpstream::start(Mode::Trickle {
        total,
        chunk: 512 << 10,
        interval: Duration::from_millis(250),
    })
    .await
    .unwrap();
    let grace = 30;
    let (mut child, base) = spawn(&up.url(), grace).await;

    let resp = reqwest::Client::new()
        .get(format!("{base}/storage/file"))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/f.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(total));
    let mut body = resp.bytes_stream();
    let mut hash = Sha256::new();
    let mut got = 0u64;
    // Some bytes have arrived: the transfer is under way.
    while got == 0 {
        let chunk = body.next().await.unwrap().unwrap();
        got += chunk.len() as u64;
        hash.update(&chunk);
    }
    sigterm(&child);
    let signalled = Instant::now();

    // While draining: new interface requests and /ready get 503, /health still answers.
    let mut saw_drain = false;
    for _ in 0..50 {
        if fresh_status(&base, "/storage/folder").await == Some(503) {
            saw_drain = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_drain, "a new request during the drain did not get 503");
    assert_eq!(fresh_status(&base, "/ready").await, Some(503));
    assert_eq!(fresh_status(&base, "/storage/file").await, Some(503));
    assert!(child.try_wait().unwrap().is_none(), "exited mid-transfer");

    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("the download completes during the drain");
        got += chunk.len() as u64;
        hash.update(&chunk);
    }
    assert_eq!(got, total);
    assert_eq!(hex::encode(hash.finalize()), pattern_sha256(total));

    let status = tokio::time::timeout(Duration::from_secs(grace + 10), child.wait())
        .await
        .expect("exits within the grace period")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        signalled.elapsed() < Duration::from_secs(grace),
        "waited for the grace period"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_period_cuts_a_transfer_that_outlasts_it() {
    // About 60 s of trickle against a 2 s grace period.
    let total: u64 = 60 << 20;
    let up = FaultyUpstream::start(Mode::Trickle {
        total,
        chunk: 256 << 10,
        interval: Duration::from_millis(250),
    })
    .await
    .unwrap();
    let (mut child, base) = spawn(&up.url(), 2).await;
    let resp = reqwest::Client::new()
        .get(format!("{base}/storage/file"))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/f.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let _ = body.next().await.unwrap().unwrap();
    sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits once the grace period is over")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // The cut transfer is an error for the client, never a clean short body.
    let mut got = 0u64;
    let mut failed = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(c) => got += c.len() as u64,
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(
        failed,
        "the body ended cleanly after {got} of {total} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_callers_do_not_hold_the_drain_past_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.bin"), vec![7u8; 32 << 20]).unwrap();
    let dav = owncloud_emulator::WebDavServer::start(dir.path(), "alice", "tok")
        .await
        .unwrap();
    let grace = 2;
    // A long idle timeout: only the grace period may end these transfers.
    let (mut child, base) = load::spawn_ready(
        BIN,
        &[
            ("OWNCLOUD_INSTALLATION_URL", &dav.base_url()),
            ("SHUTDOWN_TIMEOUT_SECS", &grace.to_string()),
            ("IDLE_TIMEOUT_SECS", "600"),
        ],
    )
    .await;
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    // A caller that stops sending halfway through its upload...
    let form = test_support::paced::PacedForm::new(
        &[("userId", USER_ID), ("filepath", "/up.bin")],
        "up.bin",
        4 << 20,
    );
    let _stalled_upload = form
        .send_stalling(addr, "POST", "/storage/file", 1 << 20)
        .await
        .unwrap();
    // ...and one that stops reading its download.
    let resp = reqwest::Client::new()
        .get(format!("{base}/storage/file"))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/f.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let signalled = Instant::now();
    sigterm(&child);
    let status = tokio::time::timeout(Duration::from_secs(grace + 10), child.wait())
        .await
        .expect("stalled callers held the drain past the grace period")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() >= Duration::from_secs(grace) - Duration::from_millis(500));
    drop(resp);
}
