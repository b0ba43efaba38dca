//! Uploads as a slow but steady client sends them, and as one that stalls: multipart
//! bodies written by hand so that their pace (and their stop) is the test's to choose.
//! Their file bytes are [`crate::faulty::pattern`] bytes, verifiable by
//! [`crate::faulty::pattern_sha256`].

use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::faulty::pattern;

const BOUNDARY: &str = "rds-paced-boundary-7c1f";

/// A multipart body: text fields, then the file part `file` of `len` pattern bytes.
pub struct PacedForm {
    pub fields: Vec<(String, String)>,
    pub filename: String,
    pub len: u64,
    /// Bytes per piece, and the wait before each piece.
    pub piece: usize,
    pub every: Duration,
}

impl PacedForm {
    pub fn new(fields: &[(&str, &str)], filename: &str, len: u64) -> Self {
        Self {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            filename: filename.to_owned(),
            len,
            piece: 100 * 1024,
            every: Duration::from_millis(250),
        }
    }

    /// `piece` bytes every `every`.
    pub fn pace(mut self, piece: usize, every: Duration) -> Self {
        self.piece = piece.max(1);
        self.every = every;
        self
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    fn head(&self) -> String {
        let mut head = String::new();
        for (k, v) in &self.fields {
            head.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            self.filename
        ));
        head
    }

    fn tail() -> String {
        format!("\r\n--{BOUNDARY}--\r\n")
    }

    /// The whole body's length (its `Content-Length`).
    pub fn content_length(&self) -> u64 {
        self.head().len() as u64 + self.len + Self::tail().len() as u64
    }

    /// The body as a stream: the head at once, the file in paced pieces, the tail.
    pub fn body(&self) -> reqwest::Body {
        let head = Bytes::from(self.head());
        let (len, piece, every) = (self.len, self.piece as u64, self.every);
        let file = futures_util::stream::unfold(0u64, move |off| async move {
            if off >= len {
                return None;
            }
            tokio::time::sleep(every).await;
            let n = (len - off).min(piece);
            let mut buf = vec![0u8; n as usize];
            pattern(off, &mut buf);
            Some((Ok::<_, std::io::Error>(Bytes::from(buf)), off + n))
        });
        let head = futures_util::stream::iter([Ok::<_, std::io::Error>(head)]);
        let tail = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(Self::tail()))]);
        use futures_util::StreamExt as _;
        reqwest::Body::wrap_stream(head.chain(file).chain(tail))
    }

    /// POSTs the form to `url`, paced, with its `Content-Length` (as RDS's exporter sends
    /// a file: the length of the whole request, none of the part).
    pub async fn post(
        &self,
        client: &reqwest::Client,
        url: &str,
    ) -> reqwest::Result<reqwest::Response> {
        client
            .post(url)
            .header("content-type", self.content_type())
            .header("content-length", self.content_length())
            .body(self.body())
            .send()
            .await
    }

    /// POSTs the form to `url`, paced, and reads the answer: its status, its JSON body
    /// (`null` when it is not JSON) and how long the whole upload took.
    pub async fn post_timed(
        &self,
        client: &reqwest::Client,
        url: &str,
    ) -> reqwest::Result<(u16, serde_json::Value, std::time::Duration)> {
        let started = std::time::Instant::now();
        let resp = self.post(client, url).await?;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or_default();
        Ok((status, body, started.elapsed()))
    }

    /// Sends the head and the first `sent` file bytes over a raw connection to
    /// `addr` (`path` on it), then stops sending and keeps the connection open: the
    /// caller that stalls. Read its answer from the returned stream.
    pub async fn send_stalling(
        &self,
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        sent: u64,
    ) -> std::io::Result<TcpStream> {
        let mut stream = TcpStream::connect(addr).await?;
        let request_head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
            self.content_type(),
            self.content_length()
        );
        stream.write_all(request_head.as_bytes()).await?;
        stream.write_all(self.head().as_bytes()).await?;
        let mut buf = vec![0u8; sent.min(self.len) as usize];
        pattern(0, &mut buf);
        stream.write_all(&buf).await?;
        stream.flush().await?;
        Ok(stream)
    }
}

/// Reads an HTTP answer's status and body from a raw connection (until it closes, or
/// until `Content-Length` bytes of body have come).
pub async fn read_answer(stream: &mut TcpStream) -> std::io::Result<(u16, String)> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head.lines().find_map(|l| {
                let l = l.to_ascii_lowercase();
                l.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            if len.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
