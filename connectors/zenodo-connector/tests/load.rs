//! Load through the real binary: 16 concurrent uploads into one deposition, half with a
//! declared size (streamed to the bucket), half without (spooled to `TMPDIR`); every byte
//! verified in the emulator's store, no spool file left, and the connector's peak
//! resident memory (VmHWM) bounded and reported.
//!
//! `cargo test` runs it at 4 MB per upload (the emulator hashes every byte, slowly in a
//! debug build: 16 x 8 MB take ~17 s on two cores); the full size runs in release:
//! `RDS_LOAD_MB=100 cargo test --release -p zenodo-connector --test load -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use test_support::zenodo::ZenodoEmulator;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_zenodo-connector");
const TOKEN: &str = "load-token";
const UPLOADS: usize = 16;
const MAX_HWM_KIB: u64 = 256 * 1024;
/// An odd size, so a dropped, repeated or reordered piece shows up as a mismatch.
const BLOCK: usize = 1_048_573;

fn block() -> Arc<Vec<u8>> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    Arc::new(
        (0..BLOCK)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect(),
    )
}

/// `size` bytes of the repeated block, streamed in 256 KiB chunks.
fn body(block: Arc<Vec<u8>>, size: u64) -> reqwest::Body {
    let chunk = 256 * 1024u64;
    let stream = futures_util::stream::iter((0..size.div_ceil(chunk)).map(move |i| {
        let (start, end) = (i * chunk, ((i + 1) * chunk).min(size));
        let mut v = Vec::with_capacity((end - start) as usize);
        let mut off = start;
        while off < end {
            let at = (off % BLOCK as u64) as usize;
            let n = ((end - off) as usize).min(BLOCK - at);
            v.extend_from_slice(&block[at..at + n]);
            off += n as u64;
        }
        Ok::<_, std::io::Error>(bytes::Bytes::from(v))
    }));
    reqwest::Body::wrap_stream(stream)
}

/// Whether the file holds exactly `size` bytes of the repeated block (compared
/// block-wise: a memcmp, cheap even in debug builds).
fn verify_file(path: &Path, block: &[u8], size: u64) -> bool {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; BLOCK];
    let mut off = 0u64;
    loop {
        let mut filled = 0;
        while filled < BLOCK {
            let n = f.read(&mut buf[filled..]).unwrap();
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            return off == size;
        }
        if buf[..filled] != block[..filled] {
            return false;
        }
        off += filled as u64;
    }
}

fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn spawn(zenodo: &ZenodoEmulator, tmp: &Path) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(BIN)
        .env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("ZENODO_ADDRESS", zenodo.url())
        .env("TMPDIR", tmp)
        .env("LOGLEVEL", "WARNING")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{base}/ready"))
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_are_whole_and_memory_stays_bounded() {
    let mb: u64 = std::env::var("RDS_LOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let size = mb * 1_000_000;
    let block = block();
    let zenodo = ZenodoEmulator::start().await.unwrap();
    zenodo.add_token(TOKEN, "alice");
    let tmp = tempfile::tempdir().unwrap();
    let (child, base) = spawn(&zenodo, tmp.path()).await;
    let pid = child.id().unwrap();
    let user_id = format!("port-zenodo://alice:{TOKEN}");
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{base}/metadata/project"))
        .json(&serde_json::json!({"userId": user_id, "metadata": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: u64 = created["projectId"].as_str().unwrap().parse().unwrap();
    let started = Instant::now();

    let tasks: Vec<_> = (0..UPLOADS)
        .map(|i| {
            let (http, base, user_id, block) =
                (http.clone(), base.clone(), user_id.clone(), block.clone());
            tokio::spawn(async move {
                let mut form = reqwest::multipart::Form::new()
                    .text("userId", user_id)
                    .text("filename", format!("u{i}.bin"));
                // Even: size declared (streamed); odd: unknown, as the RDS exporter sends.
                if i % 2 == 0 {
                    form = form.text("size", size.to_string());
                }
                let part = reqwest::multipart::Part::stream(body(block, size))
                    .file_name(format!("u{i}.bin"));
                let resp = http
                    .post(format!("{base}/metadata/project/{id}/files"))
                    .multipart(form.part("file", part))
                    .send()
                    .await
                    .map_err(|e| format!("upload {i}: {e}"))?;
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                if status != 200 {
                    return Err(format!("upload {i}: {status} {text}"));
                }
                Ok(())
            })
        })
        .collect();
    let mut errors = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            errors.push(e);
        }
    }
    let elapsed = started.elapsed();
    let hwm = vm_hwm_kib(pid);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    let files = zenodo.files(id);
    assert_eq!(files.len(), UPLOADS);
    for f in files {
        assert_eq!(f.size, size, "{}", f.key);
        let (path, block) = (f.path.clone(), block.clone());
        let whole = tokio::task::spawn_blocking(move || verify_file(&path, &block, size))
            .await
            .unwrap();
        assert!(whole, "{} differs in the store", f.key);
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spool files left: {left:?}");
    println!(
        "zenodo-connector: {UPLOADS} uploads of {mb} MB in {elapsed:.1?}; VmHWM {} MiB",
        hwm / 1024
    );
    assert!(hwm < MAX_HWM_KIB, "VmHWM {hwm} kB");
    drop(child);
    zenodo.stop().await;
}
