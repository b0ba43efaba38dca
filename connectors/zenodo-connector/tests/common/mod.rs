//! A connector in process, in front of the Zenodo emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use connector_core::server::RunningConnector;
use connector_core::CommonConfig;
use serde_json::{json, Value};
use zenodo_connector::{Options, RetryPolicy, Zenodo, ZenodoConfig};
use zenodo_emulator::ZenodoEmulator;

pub const TOKEN: &str = "alice-zenodo-token";

pub struct Env {
    pub zenodo: ZenodoEmulator,
    pub conn: RunningConnector,
    pub http: reqwest::Client,
}

/// Short waits so the retry tests stay quick; the logic is the production one.
pub fn test_policy() -> RetryPolicy {
    RetryPolicy {
        max_tries: 3,
        base_delay: Duration::from_millis(50),
        max_wait: Duration::from_secs(5),
    }
}

pub async fn start_with(common: CommonConfig) -> Env {
    start_with_options(
        common,
        Options {
            retry: test_policy(),
            spool_dir: None,
        },
    )
    .await
}

pub async fn start_with_options(common: CommonConfig, options: Options) -> Env {
    let zenodo = ZenodoEmulator::start().await.unwrap();
    zenodo.add_token(TOKEN, "alice");
    let cfg = ZenodoConfig {
        zenodo_address: Some(zenodo.url().to_owned()),
        ..Default::default()
    };
    let built = Zenodo::build_with(&common, cfg, options).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();
    Env {
        zenodo,
        conn,
        http: reqwest::Client::new(),
    }
}

pub fn local() -> CommonConfig {
    CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }
}

pub async fn start() -> Env {
    start_with(local()).await
}

/// The session-format userId RDS sends: `port-zenodo://<user>:<token>`.
pub fn user_id() -> String {
    format!("port-zenodo://alice:{TOKEN}")
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.conn.url())
    }

    /// A JSON-bodied call, as RDS's layer 2 makes them (GET included).
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn create(&self, metadata: Value) -> u64 {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/metadata/project",
                json!({"userId": user_id(), "metadata": metadata}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["projectId"].as_str().unwrap().parse().unwrap()
    }

    /// An upload the way RDS's exporter sends it: fields userId, filename, username, then
    /// the part `file`; no `size` field, the request has a Content-Length.
    pub async fn upload(&self, project: u64, filename: &str, content: Vec<u8>) -> (u16, Value) {
        let part = reqwest::multipart::Part::bytes(content);
        self.upload_part(project, filename, part).await
    }

    /// A caller that stalls: the head and the first `sent` of `len` bytes of an upload of
    /// `filename`, then nothing more on the connection (read its answer from it).
    pub async fn stall_upload(
        &self,
        project: u64,
        filename: &str,
        len: u64,
        sent: u64,
    ) -> tokio::net::TcpStream {
        let uid = user_id();
        test_support::paced::PacedForm::new(
            &[("userId", &uid), ("filename", filename)],
            filename,
            len,
        )
        .send_stalling(
            self.conn.addr(),
            "POST",
            &format!("/metadata/project/{project}/files"),
            sent,
        )
        .await
        .unwrap()
    }

    /// An upload whose length nobody knows beforehand: a streamed part, sent chunked.
    pub async fn upload_chunked(&self, project: u64, filename: &str, content: Vec<u8>) -> u16 {
        let chunks = content
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let part = reqwest::multipart::Part::stream(body);
        self.upload_part(project, filename, part).await.0
    }

    async fn upload_part(
        &self,
        project: u64,
        filename: &str,
        part: reqwest::multipart::Part,
    ) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .text("userId", user_id())
            .text("filename", filename.to_owned())
            .text("username", "alice")
            .part("file", part.file_name(filename.to_owned()));
        self.post_files(project, |r| r.multipart(form)).await
    }

    /// A multipart body written by hand, with boundary `b`.
    pub async fn upload_raw(&self, project: u64, body: String) -> (u16, Value) {
        self.post_files(project, |r| {
            r.header("content-type", "multipart/form-data; boundary=b")
                .body(body)
        })
        .await
    }

    /// `POST /metadata/project/{project}/files`: the status and the JSON answer.
    async fn post_files(
        &self,
        project: u64,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let url = self.url(&format!("/metadata/project/{project}/files"));
        let resp = build(self.http.post(url)).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self.conn.stop().await;
        self.zenodo.stop().await;
    }
}

/// An RO-Crate with two authors (affiliation, ORCID), keywords and a license.
pub fn sample_crate() -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork",
             "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset",
             "name": "Soil moisture in Münster, 2023",
             "description": "Hourly soil moisture.\nThree sensors.",
             "datePublished": "2023",
             "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#bob"}],
             "keywords": ["soil", "moisture"],
             "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}},
            {"@id": "https://orcid.org/0000-0002-1825-0097", "@type": "Person",
             "givenName": "Josiah", "familyName": "Carberry", "affiliation": {"@id": "#brown"}},
            {"@id": "#bob", "@type": "Person", "givenName": "Bob", "familyName": "Builder",
             "identifier": "https://orcid.org/0000-0002-1694-233X", "affiliation": {"@id": "#wwu"}},
            {"@id": "#brown", "@type": "Organization", "name": "Brown University"},
            {"@id": "#wwu", "@type": "Organization", "name": "Universität Münster"}
        ]
    })
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}
