//! Shared set-up of the integration tests: a real WebDAV server (dav-server) on a temp
//! folder, the connector in process in front of it, and a sample tree with hard names.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use connector_core::server::RunningConnector;
use connector_core::{CommonConfig, ConnectorSpec};
use owncloud_connector::config::OwncloudConfig;
use owncloud_connector::Owncloud;
use owncloud_emulator::{Chunking, Reported, ServerAuth, WebDavOptions, WebDavServer};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const USER: &str = "alice";
pub const TOKEN: &str = "tok-3f9a:with+special/chars";
pub const RCLONE_USER: &str = "u";
pub const RCLONE_PASS: &str = "app-pass:w0rd";

/// Names that break naive clients, one per kind of trouble.
pub const SPECIAL_NAMES: &[&str] = &[
    "with space.txt",
    "ünïcødé 文件.txt",
    "hash#tag.txt",
    "100% sure.txt",
    "what?.txt",
    "a+b.txt",
    "rock&roll.txt",
    "%20literally.txt",
];

/// 50 MB, a size that would hurt if it were buffered.
pub const BIG_SIZE: usize = 50 * 1024 * 1024;

/// The idle timeout (and progress interval) of [`shrunk_connector`]: long behaviour is
/// tested by pacing transfers over several of these.
pub const SHRUNK_IDLE_SECS: u64 = 1;

/// The connector in process in front of `base_url`, its idle timeout and progress
/// interval shrunk to [`SHRUNK_IDLE_SECS`]; service name `x` (see [`shrunk_user_id`]).
pub async fn shrunk_connector(base_url: String) -> RunningConnector {
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 2,
        response_timeout_secs: 10,
        idle_timeout_secs: SHRUNK_IDLE_SECS,
        transfer_progress_secs: SHRUNK_IDLE_SECS,
        ..Default::default()
    };
    let cfg = OwncloudConfig {
        owncloud_installation_url: Some(base_url),
        efss_system: Some("owncloud".into()),
        servicename: Some("x".into()),
        ..Default::default()
    };
    let built = Owncloud::build(&common, cfg).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

/// The userId of [`shrunk_connector`]'s service with the test user's token.
pub fn shrunk_user_id() -> String {
    format!("port-owncloud-x://{USER}:{TOKEN}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Efss {
    Owncloud,
    Nextcloud,
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub conn: RunningConnector,
    pub http: reqwest::Client,
    user_id: String,
}

/// The WebDAV server behind the connector.
pub enum Server {
    /// Ours: dav-server, with counters and fault injection.
    Dav(WebDavServer),
    /// rclone's WebDAV server, an independent implementation (see [`Harness::start_rclone`]).
    Rclone(tokio::process::Child),
}

pub struct Setup {
    pub efss: Efss,
    pub server_auth: ServerAuth,
    /// `OWNCLOUD_AUTH`
    pub connector_auth: &'static str,
    pub port_service: Option<String>,
    /// `RESPONSE_TIMEOUT_SECS`
    pub response_timeout_secs: u64,
    /// Whose chunked-upload rules the server follows.
    pub chunking: Chunking,
    /// Which checksums the server reports (ownCloud's computed, or Nextcloud's sent).
    pub reported: Reported,
    /// `OWNCLOUD_CHUNK_THRESHOLD_BYTES`, `OWNCLOUD_CHUNK_SIZE_BYTES`
    pub chunk_threshold: Option<u64>,
    pub chunk_size: Option<u64>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            efss: Efss::Owncloud,
            server_auth: ServerAuth::Bearer,
            connector_auth: "bearer",
            port_service: None,
            response_timeout_secs: 20,
            chunking: Chunking::default(),
            reported: Reported::default(),
            chunk_threshold: None,
            chunk_size: None,
        }
    }
}

/// Builds and starts the connector in process.
async fn start_connector(base_url: String, setup: &Setup) -> RunningConnector {
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        use_case_service_port_service: setup.port_service.as_ref().map(|u| u.parse().unwrap()),
        connect_timeout_secs: 2,
        response_timeout_secs: setup.response_timeout_secs,
        ..Default::default()
    };
    let cfg = OwncloudConfig {
        owncloud_installation_url: Some(base_url),
        efss_system: Some(
            match setup.efss {
                Efss::Owncloud => "owncloud",
                Efss::Nextcloud => "nextcloud",
            }
            .into(),
        ),
        owncloud_auth: Some(setup.connector_auth.into()),
        servicename: Some("x".into()),
        owncloud_chunk_threshold_bytes: setup.chunk_threshold,
        owncloud_chunk_size_bytes: setup.chunk_size,
        ..Default::default()
    };
    let built = Owncloud::build(&common, cfg).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

impl Harness {
    pub async fn start(efss: Efss) -> Self {
        Self::start_with(Setup {
            efss,
            ..Default::default()
        })
        .await
    }

    pub async fn start_with(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let dav = WebDavServer::start_with(
            WebDavOptions::new(dir.path(), USER, TOKEN)
                .auth(setup.server_auth)
                .chunking(setup.chunking)
                .reported(setup.reported),
        )
        .await
        .unwrap();
        let conn = start_connector(dav.base_url(), &setup).await;
        Self {
            dir,
            server: Server::Dav(dav),
            conn,
            http: reqwest::Client::new(),
            // Session format: the token rides in the userId. The `@domain` must be
            // stripped for Nextcloud's root and Basic auth.
            user_id: format!("port-owncloud-x://{USER}@uni-a.de:{TOKEN}"),
        }
    }

    /// The connector in front of `rclone serve webdav` (ownCloud layout, Basic auth with
    /// an app password): `rclone` from the PATH, or the binary `RDS_TEST_RCLONE` names.
    /// Panics when it does not start: the test that calls this is `#[ignore]`d for that.
    pub async fn start_rclone() -> Self {
        let bin = std::env::var("RDS_TEST_RCLONE").unwrap_or_else(|_| "rclone".to_owned());
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = tokio::process::Command::new(&bin)
            .args(["serve", "webdav"])
            .arg(dir.path())
            .args(["--addr", &addr, "--baseurl", "/remote.php/webdav"])
            .args(["--user", RCLONE_USER, "--pass", RCLONE_PASS])
            .args(["--config", "/dev/null", "--log-level", "ERROR"])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{bin} does not start ({e}); install rclone or name it in RDS_TEST_RCLONE")
            });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "rclone did not listen on {addr}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let setup = Setup {
            connector_auth: "basic",
            ..Default::default()
        };
        let conn = start_connector(format!("http://{addr}"), &setup).await;
        Self {
            dir,
            server: Server::Rclone(child),
            conn,
            http: reqwest::Client::new(),
            user_id: format!("port-owncloud-x://{RCLONE_USER}:{RCLONE_PASS}"),
        }
    }

    /// Our dav-server (tests that inject faults or count requests).
    pub fn dav(&self) -> &WebDavServer {
        match &self.server {
            Server::Dav(d) => d,
            Server::Rclone(_) => panic!("this test needs the in-process dav-server"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self, route: &str) -> String {
        format!("{}{route}", self.conn.url())
    }

    /// The userId of the server's user, in session format.
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// The same user with another token (or password).
    pub fn user_id_with_token(&self, token: &str) -> String {
        // `port-owncloud-x://user@domain:token`: the name ends at the first ':' after `//`.
        let (scheme, rest) = self.user_id.split_once("://").unwrap();
        let name = rest.split_once(':').map_or(rest, |(n, _)| n);
        format!("{scheme}://{name}:{token}")
    }

    /// `GET /storage/folder` with a JSON body, as RDS's Python callers send it.
    pub async fn list(
        &self,
        user_id: &str,
        filepath: &str,
        recursive: Option<bool>,
    ) -> reqwest::Response {
        let mut body = serde_json::json!({ "userId": user_id, "filepath": filepath });
        if let Some(r) = recursive {
            body["recursive"] = Value::Bool(r);
        }
        self.http
            .get(self.url("/storage/folder"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn list_ok(&self, filepath: &str, recursive: Option<bool>) -> Vec<String> {
        let resp = self.list(&self.user_id(), filepath, recursive).await;
        assert_eq!(resp.status(), 200, "listing {filepath:?}");
        let v: Value = resp.json().await.unwrap();
        let mut files: Vec<String> = v["files"]
            .as_array()
            .expect("files array")
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect();
        files.sort();
        files
    }

    pub async fn get_file(&self, user_id: &str, filepath: &str) -> reqwest::Response {
        self.http
            .get(self.url("/storage/file"))
            .json(&serde_json::json!({ "userId": user_id, "filepath": filepath }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /storage/file {filepath:?}: {e:?}"))
    }

    /// Uploads `content` with POST or PATCH as a multipart form (fields, then `file`).
    pub async fn upload(
        &self,
        method: reqwest::Method,
        filepath: &str,
        content: Vec<u8>,
    ) -> reqwest::Response {
        self.upload_sized(method, filepath, content, None).await
    }

    /// As [`Harness::upload`], declaring `size` in a form field when given.
    pub async fn upload_sized(
        &self,
        method: reqwest::Method,
        filepath: &str,
        content: Vec<u8>,
        size: Option<u64>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new()
            .text("userId", self.user_id())
            .text("filepath", filepath.to_owned());
        if let Some(size) = size {
            form = form.text("size", size.to_string());
        }
        let form = form.part(
            "file",
            reqwest::multipart::Part::bytes(content)
                .file_name("upload.bin")
                .mime_str("application/octet-stream")
                .unwrap(),
        );
        self.http
            .request(method, self.url("/storage/file"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads the file at `src` with POST, streamed from disk (its size is known).
    pub async fn upload_file(&self, filepath: &str, src: &Path) -> reqwest::Response {
        let len = std::fs::metadata(src).unwrap().len();
        let file = tokio::fs::File::open(src).await.unwrap();
        let form = reqwest::multipart::Form::new()
            .text("userId", self.user_id())
            .text("filepath", filepath.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::stream_with_length(file, len)
                    .file_name("upload.bin")
                    .mime_str("application/octet-stream")
                    .unwrap(),
            );
        self.http
            .post(self.url("/storage/file"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// The `oc:fileid` our dav-server reports for `path` (below the user's root).
    pub async fn fileid(&self, path: &str) -> Option<String> {
        let body = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop></d:propfind>"#;
        let text = self
            .http
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!(
                    "{}/{}",
                    self.dav().owncloud_url(),
                    path.trim_start_matches('/')
                ),
            )
            .bearer_auth(TOKEN)
            .header("Depth", "0")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = text.find("fileid>")? + "fileid>".len();
        let end = start + text[start..].find('<')?;
        Some(text[start..end].to_owned())
    }

    pub async fn delete(&self, filepath: &str) -> reqwest::Response {
        self.http
            .delete(self.url("/storage/file"))
            .json(&serde_json::json!({ "userId": self.user_id(), "filepath": filepath }))
            .send()
            .await
            .unwrap()
    }
}

/// Builds the sample tree under `root/Data` and returns its folder.
///
/// Data/
///   plain.txt, empty.bin, big.bin (50 MB, unless `big` is false), <special names>
///   with space/ü n i c ø d e/#%?+&.txt
///   sub/deeper/deepest/x.csv, sub/y.json
///   empty folder/
pub fn build_tree(root: &Path, big: bool) -> PathBuf {
    let data = root.join("Data");
    let write = |rel: &str, content: &[u8]| {
        let p = data.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    write("plain.txt", b"hello RDS\n");
    write("empty.bin", b"");
    for (i, name) in SPECIAL_NAMES.iter().enumerate() {
        write(name, format!("special file {i}: {name}\n").as_bytes());
    }
    write("with space/ü n i c ø d e/#%?+&.txt", b"nested special\n");
    write("sub/deeper/deepest/x.csv", b"a,b\n1,2\n");
    write("sub/y.json", b"{\"k\": 1}\n");
    std::fs::create_dir_all(data.join("empty folder")).unwrap();
    if big {
        write_big(&data.join("big.bin"), BIG_SIZE);
    }
    data
}

/// Writes `size` pseudo-random bytes (so any shift or drop changes the hash).
pub fn write_big(path: &Path, size: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for b in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bytes = x.to_le_bytes();
            b.copy_from_slice(&bytes[..b.len()]);
        }
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

/// Every file below `dir`, as `prefix/rel/path`, sorted.
pub fn files_on_disk(dir: &Path, prefix: &str) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let path = format!("{prefix}/{name}");
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, prefix, &mut out);
    out.sort();
    out
}

/// Immediate children of `dir`, folders with a trailing `/`, sorted.
pub fn children_on_disk(dir: &Path, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mut p = format!("{prefix}/{}", e.file_name().into_string().unwrap());
            if e.file_type().unwrap().is_dir() {
                p.push('/');
            }
            p
        })
        .collect();
    out.sort();
    out
}

pub fn sha256_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

/// Hashes a response body as it streams in (the big file is never held whole).
pub async fn sha256_body(resp: reqwest::Response) -> (String, u64) {
    use futures_util::StreamExt;
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (hex::encode(h.finalize()), n)
}

/// Asserts an RFC 9457 problem answer with `status`.
pub async fn assert_problem(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    assert!(
        ct.starts_with("application/problem+json"),
        "content-type {ct}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], status);
    assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    v
}

/// RDS exporter's `Service.getFile` path join.
pub fn exporter_join(filepath: &str, file: &str) -> String {
    let fp = filepath.strip_suffix('/').unwrap_or(filepath);
    if file.starts_with(fp) {
        file.to_owned()
    } else {
        format!("{fp}/{file}")
    }
}
