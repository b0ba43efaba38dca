//! Load through the real binary: 64 concurrent downloads of one shared file served by the
//! WebDAV server, and 16 concurrent uploads; every byte verified, no error, and the
//! connector's peak resident memory (VmHWM) bounded and reported.
//!
//! Nothing is held whole: the source is one file on disk made of a repeated odd-sized
//! block, streamed uploads are generated from that block, and every body is compared
//! block-wise as it streams (a memcmp, cheap even in debug builds).
//!
//! `cargo test` runs it at 8 MB per transfer (debug builds move a few hundred MB/s on
//! two cores); the full size, 100 MB per transfer, runs in release:
//! `RDS_LOAD_MB=100 cargo test --release -p owncloud-connector --test load -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use futures_util::StreamExt;
use owncloud_emulator::WebDavServer;
use test_support::load;

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");
const TOKEN: &str = "load-token";
const DOWNLOADS: usize = 64;
const UPLOADS: usize = 16;
/// A generous bound: streaming keeps the connector far below it at any size.
const MAX_HWM_KIB: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_downloads_and_uploads_are_whole_and_memory_stays_bounded() {
    let size = load::size_from_env(8);
    let block = load::block();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Data/up")).unwrap();
    let source = dir.path().join("Data/source.bin");
    load::write_file(&source, &block, size).unwrap();
    let dav = WebDavServer::start(dir.path(), "alice", TOKEN)
        .await
        .unwrap();
    let (child, base) =
        load::spawn_ready(BIN, &[("OWNCLOUD_INSTALLATION_URL", &dav.base_url())]).await;
    let pid = child.id().unwrap();
    let user_id = format!("port-owncloud://alice:{TOKEN}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(DOWNLOADS)
        .build()
        .unwrap();
    let started = Instant::now();

    let downloads = (0..DOWNLOADS).map(|_| {
        let (http, base, user_id, block) =
            (http.clone(), base.clone(), user_id.clone(), block.clone());
        tokio::spawn(async move {
            let resp = http
                .get(format!("{base}/storage/file"))
                .json(&serde_json::json!({"userId": user_id, "filepath": "/Data/source.bin"}))
                .send()
                .await
                .map_err(|e| format!("download: {e}"))?;
            if resp.status() != 200 {
                return Err(format!("download: {}", resp.status()));
            }
            let mut v = load::Verifier::new(block);
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                v.update(&chunk.map_err(|e| format!("download body: {e}"))?);
            }
            Ok::<_, String>((v.ok, v.offset))
        })
    });
    let uploads = (0..UPLOADS).map(|i| {
        let (http, base, user_id, block) =
            (http.clone(), base.clone(), user_id.clone(), block.clone());
        tokio::spawn(async move {
            let part = reqwest::multipart::Part::stream_with_length(
                reqwest::Body::wrap_stream(load::stream(block, size)),
                size,
            )
            .file_name(format!("u{i}.bin"));
            let form = reqwest::multipart::Form::new()
                .text("userId", user_id)
                .text("filepath", format!("/Data/up/u{i}.bin"))
                .part("file", part);
            let resp = http
                .post(format!("{base}/storage/file"))
                .multipart(form)
                .send()
                .await
                .map_err(|e| format!("upload {i}: {e}"))?;
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            if status != 200 {
                return Err(format!("upload {i}: {status} {text}"));
            }
            Ok::<_, String>((true, size))
        })
    });
    let down: Vec<_> = downloads.collect();
    let up: Vec<_> = uploads.collect();
    let mut errors = Vec::new();
    for (i, task) in down.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok((true, n)) if n == size => {}
            Ok((ok, n)) => errors.push(format!(
                "download {i}: {n} of {size} bytes, content ok: {ok}"
            )),
            Err(e) => errors.push(e),
        }
    }
    for task in up {
        if let Err(e) = task.await.unwrap() {
            errors.push(e);
        }
    }
    let elapsed = started.elapsed();
    let hwm = load::vm_hwm_kib(pid).unwrap();
    assert!(
        errors.is_empty(),
        "{} failures:\n{}",
        errors.len(),
        errors.join("\n")
    );
    for i in 0..UPLOADS {
        let path = dir.path().join(format!("Data/up/u{i}.bin"));
        let block = block.clone();
        assert!(
            tokio::task::spawn_blocking(move || load::verify_file(&path, &block, size).unwrap())
                .await
                .unwrap(),
            "upload {i} differs on the server"
        );
    }
    println!(
        "owncloud-connector: {DOWNLOADS} downloads + {UPLOADS} uploads of {} MB in {elapsed:.1?}; VmHWM {} MiB",
        size / 1_000_000,
        hwm / 1024
    );
    assert!(hwm < MAX_HWM_KIB, "VmHWM {hwm} kB");
    drop(child);
}
