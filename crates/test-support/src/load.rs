//! Shared by the load and shutdown tests: a connector binary started like a deployment,
//! its peak memory, and test data that is generated, streamed and verified without ever
//! being held whole.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use tokio::process::{Child, Command};

/// An odd size, so a dropped, repeated or reordered piece shows up as a mismatch.
pub const BLOCK: usize = 1_048_573;

/// The pseudo-random block all test data repeats (xorshift, deterministic).
pub fn block() -> Arc<Vec<u8>> {
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

/// The transfer size: `RDS_LOAD_MB` megabytes, else `default_mb`.
pub fn size_from_env(default_mb: u64) -> u64 {
    let mb = std::env::var("RDS_LOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_mb);
    mb * 1_000_000
}

/// `size` bytes of the repeated block, as a stream of 256 KiB chunks.
pub fn stream(
    block: Arc<Vec<u8>>,
    size: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let chunk = 256 * 1024u64;
    futures_util::stream::iter((0..size.div_ceil(chunk)).map(move |i| {
        let (start, end) = (i * chunk, ((i + 1) * chunk).min(size));
        let mut v = Vec::with_capacity((end - start) as usize);
        let mut off = start;
        while off < end {
            let at = (off % BLOCK as u64) as usize;
            let n = ((end - off) as usize).min(BLOCK - at);
            v.extend_from_slice(&block[at..at + n]);
            off += n as u64;
        }
        Ok(Bytes::from(v))
    }))
}

/// Writes `size` bytes of the repeated block to `path`.
pub fn write_file(path: &Path, block: &[u8], size: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut left = size;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.flush()
}

/// Checks chunks against the repeated block as they arrive.
pub struct Verifier {
    block: Arc<Vec<u8>>,
    pub offset: u64,
    pub ok: bool,
}

impl Verifier {
    pub fn new(block: Arc<Vec<u8>>) -> Self {
        Self {
            block,
            offset: 0,
            ok: true,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let at = (self.offset % BLOCK as u64) as usize;
            let n = data.len().min(BLOCK - at);
            self.ok &= data[..n] == self.block[at..at + n];
            data = &data[n..];
            self.offset += n as u64;
        }
    }
}

/// True when the file is exactly `size` bytes of the repeated block.
pub fn verify_file(path: &Path, block: &Arc<Vec<u8>>, size: u64) -> std::io::Result<bool> {
    let mut f = std::fs::File::open(path)?;
    let mut v = Verifier::new(block.clone());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(v.ok && v.offset == size);
        }
        v.update(&buf[..n]);
    }
}

/// Peak resident memory of a process, in KiB (Linux).
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Starts a connector binary on a loopback port with only `env` (plus `LISTEN_ADDR` and
/// `LOGLEVEL=INFO`, its log in the temp dir) and waits until `/ready` answers 200; returns
/// the child (killed on drop) and its base URL. Panics when it never becomes ready.
pub async fn spawn_ready(bin: &str, env: &[(&str, &str)]) -> (Child, String) {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let name = Path::new(bin)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let log = std::env::temp_dir().join(format!(
        "{name}-{}-{}.log",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    ));
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("LOGLEVEL", "INFO")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let (child, addr) = crate::process::spawn_listening(&mut cmd, &log, Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://{addr}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{base}/ready"))
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(
            Instant::now() < deadline,
            "{bin} never became ready; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Creates a project from null metadata through the metadata connector at `base`; its id.
pub async fn create_project(http: &reqwest::Client, base: &str, user_id: &str) -> String {
    let created: serde_json::Value = http
        .post(format!("{base}/metadata/project"))
        .json(&serde_json::json!({"userId": user_id, "metadata": null}))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("creating a project: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("creating a project: {e}"));
    created["projectId"]
        .as_str()
        .unwrap_or_else(|| panic!("no projectId in {created}"))
        .to_owned()
}

/// `n` concurrent uploads of `size` bytes into project `id` through the metadata
/// connector at `base`, named `{prefix}u{i}.bin`: even ones declare their size (streamed),
/// odd ones do not (spooled), as the RDS exporter sends. The failures, one line each.
#[allow(clippy::too_many_arguments)]
pub async fn upload_concurrently(
    http: &reqwest::Client,
    base: &str,
    user_id: &str,
    id: &str,
    prefix: &str,
    n: usize,
    size: u64,
    block: &Arc<Vec<u8>>,
) -> Vec<String> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (http, block) = (http.clone(), block.clone());
            let url = format!("{base}/metadata/project/{id}/files");
            let (user_id, name) = (user_id.to_owned(), format!("{prefix}u{i}.bin"));
            tokio::spawn(async move {
                let mut form = reqwest::multipart::Form::new()
                    .text("userId", user_id)
                    .text("filename", name);
                if i % 2 == 0 {
                    form = form.text("size", size.to_string());
                }
                let part = reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(stream(
                    block, size,
                )))
                .file_name(format!("u{i}.bin"));
                let resp = http
                    .post(url)
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
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("an upload task failed: {e}")),
        }
    }
    errors
}
