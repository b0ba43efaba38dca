//! The calls the scenarios time: directly against the providers, and through the
//! connectors (with the fields RDS sends). Bodies are streamed from and to disk.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use tokio_util::io::ReaderStream;

use owncloud_emulator::OWNCLOUD_ROOT;

use crate::stack::{Providers, USER, WEBDAV_TOKEN, ZENODO_TOKEN};

const READ_BUFFER: usize = 256 * 1024;
pub const PROPFIND_BODY: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/></d:prop></d:propfind>"#;

/// One timed transfer.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    pub bytes: u64,
    pub elapsed: Duration,
    pub first_byte: Duration,
}

impl Transfer {
    pub fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / crate::stats::MIB / self.elapsed.as_secs_f64()
    }
}

pub fn client() -> Result<Client> {
    Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .context("building the HTTP client")
}

async fn ok(resp: Response, what: &str) -> Result<Response> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    bail!(
        "{what}: HTTP {status}: {}",
        body.chars().take(300).collect::<String>()
    )
}

/// Reads a response to the end, counting bytes and the first byte's arrival.
async fn drain(resp: Response, started: Instant, what: &str) -> Result<Transfer> {
    let resp = ok(resp, what).await?;
    let mut first_byte = None;
    let mut bytes = 0u64;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.with_context(|| format!("{what}: body broke off"))?;
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len() as u64;
    }
    Ok(Transfer {
        bytes,
        elapsed: started.elapsed(),
        first_byte: first_byte.unwrap_or_else(|| started.elapsed()),
    })
}

/// A streamed body read from `path`, and its length.
pub async fn file_body(path: &Path) -> Result<(reqwest::Body, u64)> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().await?.len();
    let stream = ReaderStream::with_capacity(file, READ_BUFFER);
    Ok((reqwest::Body::wrap_stream(stream), len))
}

/// A WebDAV GET of `url` (any WebDAV server, or nginx in front of one), drained.
pub async fn dav_get(http: &Client, url: &str) -> Result<Transfer> {
    let started = Instant::now();
    let resp = http.get(url).bearer_auth(WEBDAV_TOKEN).send().await?;
    drain(resp, started, "WebDAV GET").await
}

/// A WebDAV PUT of `local` to `url`, with Content-Length, the body streamed.
pub async fn dav_put(http: &Client, url: &str, local: &Path) -> Result<Transfer> {
    let (body, len) = file_body(local).await?;
    let started = Instant::now();
    let resp = http
        .put(url)
        .bearer_auth(WEBDAV_TOKEN)
        .header(CONTENT_LENGTH, len)
        .body(body)
        .send()
        .await?;
    ok(resp, "WebDAV PUT").await?;
    Ok(upload_done(len, started))
}

/// Direct calls to the WebDAV server and the Zenodo emulator.
pub struct Direct {
    pub http: Client,
    /// `http://127.0.0.1:<port>` of the WebDAV server.
    pub dav_base: String,
    pub dav_root: String,
    pub zenodo: String,
}

impl Direct {
    pub fn new(http: &Client, p: &Providers) -> Self {
        Self {
            http: http.clone(),
            dav_base: p.webdav.base_url(),
            dav_root: p.webdav.owncloud_url(),
            zenodo: p.zenodo.url().to_owned(),
        }
    }

    pub fn dav_url(&self, path: &str) -> String {
        format!("{}{path}", self.dav_root)
    }

    pub async fn get(&self, path: &str) -> Result<Transfer> {
        dav_get(&self.http, &self.dav_url(path)).await
    }

    /// A GET of a server path (`/remote.php/webdav/...`), for piping into an upload.
    pub async fn open(&self, server_path: &str) -> Result<Response> {
        let resp = self
            .http
            .get(format!("{}{server_path}", self.dav_base))
            .bearer_auth(WEBDAV_TOKEN)
            .send()
            .await?;
        ok(resp, "WebDAV GET").await
    }

    pub async fn put(&self, path: &str, local: &Path) -> Result<Transfer> {
        dav_put(&self.http, &self.dav_url(path), local).await
    }

    /// One Depth-1 PROPFIND of a server path (`/remote.php/webdav/...`): (href, is folder).
    /// A chunked upload of `local` to `path`, as a client of the server's chunked-upload
    /// protocol makes it: MKCOL of an upload folder, numbered chunks of `chunk` bytes, the
    /// assembling MOVE (ownCloud's and Nextcloud's `/remote.php/dav/uploads/{user}/`).
    pub async fn chunked_put(&self, path: &str, local: &Path, chunk: usize) -> Result<Transfer> {
        let folder = format!(
            "{}/remote.php/dav/uploads/{USER}/bench-{}",
            self.dav_base,
            std::process::id()
        );
        let dest = self.dav_url(path);
        let method = |m: &str| reqwest::Method::from_bytes(m.as_bytes()).context("method");
        let started = Instant::now();
        let resp = self
            .http
            .request(method("MKCOL")?, &folder)
            .bearer_auth(WEBDAV_TOKEN)
            .header("Destination", &dest)
            .send()
            .await?;
        ok(resp, "MKCOL of the upload folder").await?;
        let mut file = tokio::fs::File::open(local).await?;
        let total = file.metadata().await?.len();
        let mut n = 0u32;
        loop {
            let mut buf = vec![0u8; chunk];
            let mut filled = 0;
            while filled < chunk {
                let got = tokio::io::AsyncReadExt::read(&mut file, &mut buf[filled..]).await?;
                if got == 0 {
                    break;
                }
                filled += got;
            }
            if filled == 0 {
                break;
            }
            buf.truncate(filled);
            n += 1;
            let resp = self
                .http
                .put(format!("{folder}/{n}"))
                .bearer_auth(WEBDAV_TOKEN)
                .header("Destination", &dest)
                .header("OC-Total-Length", total)
                .body(buf)
                .send()
                .await?;
            ok(resp, "chunk PUT").await?;
        }
        let resp = self
            .http
            .request(method("MOVE")?, format!("{folder}/.file"))
            .bearer_auth(WEBDAV_TOKEN)
            .header("Destination", &dest)
            .header("Overwrite", "T")
            .header("OC-Total-Length", total)
            .send()
            .await?;
        ok(resp, "assembling MOVE").await?;
        Ok(upload_done(total, started))
    }

    pub async fn propfind(&self, server_path: &str) -> Result<Vec<(String, bool)>> {
        let resp = self
            .http
            .request(
                Method::from_bytes(b"PROPFIND")?,
                format!("{}{server_path}", self.dav_base),
            )
            .bearer_auth(WEBDAV_TOKEN)
            .header("Depth", "1")
            .header(CONTENT_TYPE, "application/xml")
            .body(PROPFIND_BODY)
            .send()
            .await?;
        let text = ok(resp, "PROPFIND").await?.text().await?;
        Ok(parse_multistatus(&text))
    }

    /// The sequential walk: one Depth-1 PROPFIND per folder, breadth first. Returns the
    /// files (server paths) and the number of PROPFINDs sent.
    pub async fn walk(&self, folder: &str) -> Result<(Vec<String>, usize)> {
        let root_path = format!("{OWNCLOUD_ROOT}{}/", folder.trim_end_matches('/'));
        let mut queue = std::collections::VecDeque::from([root_path]);
        let (mut files, mut requests) = (Vec::new(), 0usize);
        while let Some(dir) = queue.pop_front() {
            requests += 1;
            if requests > 100_000 {
                bail!("the walk does not end");
            }
            for (href, is_dir) in self.propfind(&dir).await? {
                if href.trim_end_matches('/') == dir.trim_end_matches('/') {
                    continue;
                }
                if is_dir {
                    queue.push_back(href);
                } else {
                    files.push(href);
                }
            }
        }
        Ok((files, requests))
    }

    /// Creates a deposition with complete metadata; returns (id, bucket URL).
    pub async fn create_deposition(&self, title: &str) -> Result<(u64, String)> {
        let metadata = json!({"metadata": {
            "upload_type": "dataset",
            "publication_date": "2026-11-28",
            "title": title,
            "creators": [{"name": "Carberry, Josiah"}],
            "description": "Benchmark deposition.",
        }});
        let resp = self
            .http
            .post(format!("{}/api/deposit/depositions", self.zenodo))
            .bearer_auth(ZENODO_TOKEN)
            .json(&metadata)
            .send()
            .await?;
        let v: Value = ok(resp, "creating a deposition").await?.json().await?;
        let id = v["id"].as_u64().context("the deposition has no id")?;
        let bucket = v["links"]["bucket"]
            .as_str()
            .context("the deposition has no bucket link")?;
        Ok((id, bucket.to_owned()))
    }

    /// `PUT {bucket}/{key}` with Content-Length, the body streamed.
    pub async fn bucket_put(
        &self,
        bucket: &str,
        key: &str,
        body: reqwest::Body,
        len: u64,
    ) -> Result<Transfer> {
        let started = Instant::now();
        let resp = self
            .http
            .put(format!("{bucket}/{key}"))
            .bearer_auth(ZENODO_TOKEN)
            .header(CONTENT_LENGTH, len)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await?;
        ok(resp, "bucket PUT").await?;
        Ok(upload_done(len, started))
    }

    pub async fn publish(&self, id: u64) -> Result<()> {
        let resp = self
            .http
            .post(format!(
                "{}/api/deposit/depositions/{id}/actions/publish",
                self.zenodo
            ))
            .bearer_auth(ZENODO_TOKEN)
            .send()
            .await?;
        ok(resp, "publishing").await?;
        Ok(())
    }

    /// The drafts list as the Zenodo connector asks for it.
    pub fn drafts_url(&self) -> String {
        format!(
            "{}/api/deposit/depositions?status=draft&size=100&page=1",
            self.zenodo
        )
    }
}

fn upload_done(len: u64, started: Instant) -> Transfer {
    let elapsed = started.elapsed();
    Transfer {
        bytes: len,
        elapsed,
        first_byte: elapsed,
    }
}

/// `(href, is collection)` of each `<response>` of a multistatus (namespace prefix agnostic).
pub fn parse_multistatus(xml: &str) -> Vec<(String, bool)> {
    xml.split("response>")
        .filter_map(|block| {
            let start = block.find("href>")? + "href>".len();
            let end = start + block[start..].find("</")?;
            let mut href = block[start..end].trim().to_owned();
            if let Some(rest) = href
                .strip_prefix("http://")
                .or_else(|| href.strip_prefix("https://"))
            {
                href = rest
                    .find('/')
                    .map(|i| rest[i..].to_owned())
                    .unwrap_or_default();
            }
            Some((
                href,
                block.contains("collection/>") || block.contains("collection>"),
            ))
        })
        .collect()
}

/// Calls to the connectors, with the fields RDS sends (`userId` in normal format).
pub struct Via {
    pub http: Client,
    pub owncloud: String,
    pub zenodo: String,
}

impl Via {
    /// The same calls to another ownCloud connector (the one in front of Apache).
    pub fn owncloud_at(&self, url: &str) -> Self {
        Self {
            http: self.http.clone(),
            owncloud: url.to_owned(),
            zenodo: self.zenodo.clone(),
        }
    }

    pub async fn get_file(&self, path: &str) -> Result<Transfer> {
        let started = Instant::now();
        let resp = self.open_file(path).await?;
        drain(resp, started, "GET /storage/file").await
    }

    /// The response of `GET /storage/file`, for piping into an upload.
    pub async fn open_file(&self, path: &str) -> Result<Response> {
        let resp = self
            .http
            .get(format!("{}/storage/file", self.owncloud))
            .json(&json!({"userId": USER, "filepath": path}))
            .send()
            .await?;
        ok(resp, "GET /storage/file").await
    }

    pub async fn post_file(&self, path: &str, local: &Path) -> Result<Transfer> {
        let (body, len) = file_body(local).await?;
        let form = reqwest::multipart::Form::new()
            .text("userId", USER)
            .text("filepath", path.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::stream_with_length(body, len).file_name("upload.bin"),
            );
        let started = Instant::now();
        let resp = self
            .http
            .post(format!("{}/storage/file", self.owncloud))
            .multipart(form)
            .send()
            .await?;
        ok(resp, "POST /storage/file").await?;
        Ok(upload_done(len, started))
    }

    pub async fn list_folder(&self, path: &str) -> Result<Vec<String>> {
        let resp = self
            .http
            .get(format!("{}/storage/folder", self.owncloud))
            .json(&json!({"userId": USER, "filepath": path}))
            .send()
            .await?;
        let v: Value = ok(resp, "GET /storage/folder").await?.json().await?;
        serde_json::from_value(v["files"].clone()).context("the listing has no files array")
    }

    pub async fn create_project(&self, metadata: Value) -> Result<String> {
        let resp = self
            .http
            .post(format!("{}/metadata/project", self.zenodo))
            .json(&json!({"userId": USER, "metadata": metadata}))
            .send()
            .await?;
        let v: Value = ok(resp, "POST /metadata/project").await?.json().await?;
        v["projectId"]
            .as_str()
            .map(str::to_owned)
            .context("no projectId in the answer")
    }

    /// `POST /metadata/project/{id}/files` (userId, filename, [size], file), as RDS sends it.
    pub async fn upload(
        &self,
        project: &str,
        filename: &str,
        body: reqwest::Body,
        len: u64,
        sizing: Sizing,
    ) -> Result<Transfer> {
        let mut form = reqwest::multipart::Form::new()
            .text("userId", USER)
            .text("filename", filename.to_owned());
        if sizing == Sizing::SizeField {
            form = form.text("size", len.to_string());
        }
        let part = match sizing {
            Sizing::Chunked => reqwest::multipart::Part::stream(body),
            _ => reqwest::multipart::Part::stream_with_length(body, len),
        };
        let form = form.part("file", part.file_name(filename.to_owned()));
        let started = Instant::now();
        let resp = self
            .http
            .post(format!("{}/metadata/project/{project}/files", self.zenodo))
            .multipart(form)
            .send()
            .await?;
        ok(resp, "POST /metadata/project/{id}/files").await?;
        Ok(upload_done(len, started))
    }

    pub async fn publish(&self, project: &str) -> Result<String> {
        let resp = self
            .http
            .put(format!("{}/metadata/project/{project}", self.zenodo))
            .json(&json!({"userId": USER}))
            .send()
            .await?;
        let v: Value = ok(resp, "PUT /metadata/project/{id}").await?.json().await?;
        v["DOI"]
            .as_str()
            .map(str::to_owned)
            .context("no DOI in the answer")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistatus() {
        let xml = r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/r/a/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>
<D:response><D:href>http://h:1/r/a/x.txt</D:href><D:propstat><D:prop><D:resourcetype/></D:prop></D:propstat></D:response></D:multistatus>"#;
        assert_eq!(
            parse_multistatus(xml),
            vec![("/r/a/".to_owned(), true), ("/r/a/x.txt".to_owned(), false)]
        );
    }
}

/// How a Zenodo upload tells its length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// A request `Content-Length`, no `size` field: as RDS's exporter (Python
    /// `requests`) sends it; the connector derives the file's length.
    ContentLength,
    /// The optional `size` form field as well.
    SizeField,
    /// Chunked, no length anywhere: the connector must spool the file.
    Chunked,
}
