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

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use test_support::webdav::WebDavServer;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");
const TOKEN: &str = "load-token";
const DOWNLOADS: usize = 64;
const UPLOADS: usize = 16;
/// A generous bound: streaming keeps the connector far below it at any size.
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

fn size_bytes() -> u64 {
    let mb: u64 = std::env::var("RDS_LOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    mb * 1_000_000
}

/// Checks a stream of chunks against the repeated block, without holding it.
struct Verifier {
    block: Arc<Vec<u8>>,
    offset: u64,
    ok: bool,
}

impl Verifier {
    fn new(block: Arc<Vec<u8>>) -> Self {
        Self {
            block,
            offset: 0,
            ok: true,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let at = (self.offset % BLOCK as u64) as usize;
            let n = data.len().min(BLOCK - at);
            self.ok &= data[..n] == self.block[at..at + n];
            data = &data[n..];
            self.offset += n as u64;
        }
    }
}

fn write_source(path: &Path, block: &[u8], size: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut left = size;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn spawn(dav: &WebDavServer) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(BIN)
        .env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("OWNCLOUD_INSTALLATION_URL", dav.base_url())
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

/// A streamed upload body: `size` bytes of the repeated block.
fn upload_body(block: Arc<Vec<u8>>, size: u64) -> reqwest::Body {
    let chunk = 256 * 1024u64;
    let stream = futures_util::stream::iter((0..size.div_ceil(chunk)).map(move |i| {
        let start = i * chunk;
        let end = (start + chunk).min(size);
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

fn verify_file(path: &Path, block: &Arc<Vec<u8>>, size: u64) -> bool {
    use std::io::Read;
    let mut f = std::fs::File::open(path).unwrap();
    let mut v = Verifier::new(block.clone());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        v.update(&buf[..n]);
    }
    v.ok && v.offset == size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_downloads_and_uploads_are_whole_and_memory_stays_bounded() {
    let size = size_bytes();
    let block = block();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Data/up")).unwrap();
    let source = dir.path().join("Data/source.bin");
    write_source(&source, &block, size);
    let dav = WebDavServer::start(dir.path(), "alice", TOKEN)
        .await
        .unwrap();
    let (child, base) = spawn(&dav).await;
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
            let mut v = Verifier::new(block);
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
            let part = reqwest::multipart::Part::stream_with_length(upload_body(block, size), size)
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
    let hwm = vm_hwm_kib(pid);
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
            tokio::task::spawn_blocking(move || verify_file(&path, &block, size))
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
