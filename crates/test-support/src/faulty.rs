//! A misbehaving HTTP upstream on raw TCP, for the faults a well-behaved server library
//! cannot produce: a body cut short after a full `Content-Length`, a connection reset
//! mid-body, a stall, a server that accepts and never answers (or never reads an
//! upload), a trickling download.
//!
//! It answers every request (any method and path) the same way, per its [`Mode`], and
//! reads and discards the request body first. Body bytes come from [`pattern`], so a
//! test can verify a transfer without holding it ([`pattern_sha256`]).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How every request is answered.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A complete answer (`Connection: close`).
    Respond {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    /// 200 with `Content-Length: declared`, `sent` pattern bytes, then a clean close (FIN).
    Truncate { declared: u64, sent: u64 },
    /// As `Truncate`, but the connection is reset (RST) instead of closed.
    Reset { declared: u64, sent: u64 },
    /// 200 with `Content-Length: declared`, `sent` bytes, then silence (kept open).
    StallBody { declared: u64, sent: u64 },
    /// Reads the request and never answers (kept open).
    Blackhole,
    /// Reads the request's head, then neither its body nor answers: an upload stalls
    /// once the socket buffers are full (kept open).
    Deaf,
    /// A correct 200 of `total` pattern bytes, `chunk` bytes every `interval`.
    Trickle {
        total: u64,
        chunk: usize,
        interval: Duration,
    },
}

/// A running upstream; stopped (every connection dropped) when dropped.
pub struct FaultyUpstream {
    addr: SocketAddr,
    mode: Arc<Mutex<Modes>>,
    requests: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultyUpstream {
    /// Listens on a free loopback port.
    pub async fn start(mode: Mode) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(Modes {
            next: VecDeque::new(),
            then: mode,
        }));
        let requests = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(listener, mode.clone(), requests.clone()));
        Ok(Self {
            addr,
            mode,
            requests,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests whose head was read so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut m) = self.mode.lock() {
            m.then = mode;
        }
    }

    /// The next connections are answered by `modes`, one each, before the set mode.
    pub fn script(&self, modes: Vec<Mode>) {
        if let Ok(mut m) = self.mode.lock() {
            m.next = modes.into();
        }
    }
}

/// The modes of the next connections, then the mode of all others.
struct Modes {
    next: VecDeque<Mode>,
    then: Mode,
}

impl Modes {
    fn take(&mut self) -> Mode {
        self.next.pop_front().unwrap_or_else(|| self.then.clone())
    }
}

impl Drop for FaultyUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, mode: Arc<Mutex<Modes>>, requests: Arc<AtomicU64>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let mode = mode.lock().map(|mut m| m.take()).unwrap_or(Mode::Blackhole);
                let requests = requests.clone();
                conns.spawn(async move {
                    let _ = serve(stream, mode, requests).await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Reads a request head and, with `body`, discards its body (by `Content-Length`;
/// chunked bodies are read until the terminating chunk).
async fn read_request(stream: &mut TcpStream, body: bool) -> std::io::Result<bool> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut byte).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&byte[..n]);
    };
    if !body {
        return Ok(true);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let mut rest = buf.len() - head_end;
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        while rest < len {
            let n = stream.read(&mut byte).await?;
            if n == 0 {
                return Ok(true);
            }
            rest += n;
        }
    } else if head.contains("transfer-encoding: chunked") {
        let mut tail = buf[head_end..].to_vec();
        while find(&tail, b"0\r\n\r\n").is_none() {
            let n = stream.read(&mut byte).await?;
            if n == 0 {
                return Ok(true);
            }
            tail.extend_from_slice(&byte[..n]);
            if tail.len() > 8 {
                tail.drain(..tail.len() - 8);
            }
        }
    }
    Ok(true)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn write_pattern(stream: &mut TcpStream, from: u64, len: u64) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut off = from;
    let end = from + len;
    while off < end {
        let n = (end - off).min(buf.len() as u64) as usize;
        pattern(off, &mut buf[..n]);
        stream.write_all(&buf[..n]).await?;
        off += n as u64;
    }
    stream.flush().await
}

fn ok_head(len: u64) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\
         ETag: \"faulty\"\r\nConnection: close\r\n\r\n"
    )
}

async fn serve(mut stream: TcpStream, mode: Mode, requests: Arc<AtomicU64>) -> std::io::Result<()> {
    if !read_request(&mut stream, !matches!(mode, Mode::Deaf)).await? {
        return Ok(());
    }
    requests.fetch_add(1, Ordering::SeqCst);
    match mode {
        Mode::Respond {
            status,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.shutdown().await
        }
        Mode::Truncate { declared, sent } => {
            stream.write_all(ok_head(declared).as_bytes()).await?;
            write_pattern(&mut stream, 0, sent).await?;
            stream.shutdown().await
        }
        Mode::Reset { declared, sent } => {
            stream.write_all(ok_head(declared).as_bytes()).await?;
            write_pattern(&mut stream, 0, sent).await?;
            // Let the bytes leave before the reset discards what is still queued.
            tokio::time::sleep(Duration::from_millis(200)).await;
            stream.set_zero_linger()?;
            drop(stream);
            Ok(())
        }
        Mode::StallBody { declared, sent } => {
            stream.write_all(ok_head(declared).as_bytes()).await?;
            write_pattern(&mut stream, 0, sent).await?;
            std::future::pending::<()>().await;
            Ok(())
        }
        Mode::Blackhole | Mode::Deaf => {
            std::future::pending::<()>().await;
            Ok(())
        }
        Mode::Trickle {
            total,
            chunk,
            interval,
        } => {
            stream.write_all(ok_head(total).as_bytes()).await?;
            let mut off = 0;
            while off < total {
                let n = (total - off).min(chunk.max(1) as u64);
                write_pattern(&mut stream, off, n).await?;
                off += n;
                tokio::time::sleep(interval).await;
            }
            stream.shutdown().await
        }
    }
}

/// The bytes at `offset..offset + buf.len()` of the endless test pattern (a shift or a
/// dropped byte changes every later byte's value relative to its position).
pub fn pattern(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let x = (offset + i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        *b = (x >> 56) as u8;
    }
}

/// SHA-256 of the first `len` pattern bytes.
pub fn pattern_sha256(len: u64) -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        pattern(off, &mut buf[..n]);
        h.update(&buf[..n]);
        off += n as u64;
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn truncated_and_complete_bodies() {
        let up = FaultyUpstream::start(Mode::Truncate {
            declared: 1000,
            sent: 400,
        })
        .await
        .unwrap();
        let client = reqwest::Client::new();
        let resp = client.get(up.url()).send().await.unwrap();
        assert_eq!(resp.content_length(), Some(1000));
        assert!(resp.bytes().await.is_err(), "a short body is an error");

        up.set_mode(Mode::Trickle {
            total: 3000,
            chunk: 1000,
            interval: Duration::from_millis(1),
        });
        let body = client
            .put(up.url())
            .body(vec![1u8; 5000])
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let mut want = vec![0u8; 3000];
        pattern(0, &mut want);
        assert_eq!(body.as_ref(), want.as_slice());
        assert_eq!(up.requests(), 2);
    }
}
