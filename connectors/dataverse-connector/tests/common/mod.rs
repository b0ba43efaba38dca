//! A connector in process, in front of the Dataverse emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use connector_core::server::RunningConnector;
use connector_core::CommonConfig;
use dataverse_connector::{Config, Dataverse, Options, RetryPolicy};
use dataverse_emulator::{DataverseEmulator, Options as EmuOptions};
use serde_json::{json, Value};

pub const TOKEN: &str = "5c4e8a1f-0d2b-4b9e-9f61-3a7d2c9e8b10";

pub struct Env {
    pub emu: DataverseEmulator,
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

pub fn local() -> CommonConfig {
    CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }
}

/// The emulator with `emu`, the connector with `common` and the keys `config` sets.
pub async fn start_with(
    common: CommonConfig,
    emu: EmuOptions,
    config: impl FnOnce(&mut Config),
) -> Env {
    let emu = DataverseEmulator::start_with(emu).await.unwrap();
    emu.add_token(TOKEN, "alice");
    let mut cfg = Config {
        dataverse_address: Some(emu.url().to_owned()),
        dataverse_contact_email: Some("rdm@uni.example".into()),
        ..Default::default()
    };
    config(&mut cfg);
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Dataverse::build_with(&common, cfg, options).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();
    Env {
        emu,
        conn,
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Env {
    start_with(local(), EmuOptions::default(), |_| {}).await
}

/// The session-format userId RDS sends for a login service: the API token in the
/// password slot.
pub fn user_id() -> String {
    format!("port-dataverse://alice:{TOKEN}")
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

    pub async fn create(&self, metadata: Value) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/metadata/project",
                json!({"userId": user_id(), "metadata": metadata}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["projectId"].as_str().unwrap().to_owned()
    }

    /// An upload the way RDS's exporter sends it: fields userId, filename, username, then
    /// the part `file`; no `size` field, the request has a Content-Length.
    pub async fn upload(&self, project: &str, filename: &str, content: Vec<u8>) -> (u16, Value) {
        let part = reqwest::multipart::Part::bytes(content).file_name(filename.to_owned());
        let form = reqwest::multipart::Form::new()
            .text("userId", user_id())
            .text("filename", filename.to_owned())
            .text("username", "alice")
            .part("file", part);
        let url = self.url(&format!("/metadata/project/{project}/files"));
        let resp = self.http.post(url).multipart(form).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self.conn.stop().await;
        self.emu.stop().await;
    }
}

/// An RO-Crate with two authors (affiliation, ORCID), a contact, keywords and a license.
pub fn sample_crate() -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork",
             "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset",
             "name": "Soil moisture in Münster, 2023",
             "description": "Hourly soil moisture.\nThree sensors.",
             "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#bob"}],
             "contactPoint": {"@id": "#desk"},
             "keywords": ["soil", "moisture"],
             "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}},
            {"@id": "https://orcid.org/0000-0002-1825-0097", "@type": "Person",
             "givenName": "Josiah", "familyName": "Carberry", "affiliation": {"@id": "#brown"}},
            {"@id": "#bob", "@type": "Person", "name": "Bob Builder", "affiliation": {"@id": "#wwu"}},
            {"@id": "#brown", "@type": "Organization", "name": "Brown University"},
            {"@id": "#wwu", "@type": "Organization", "name": "Universität Münster"},
            {"@id": "#desk", "@type": "ContactPoint", "email": "data@uni-muenster.example", "name": "Data desk"}
        ]
    })
}

/// The root entity of an RO-Crate answer.
pub fn root(crate_: &Value) -> Value {
    crate_["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["@id"] == "./")
        .cloned()
        .unwrap()
}

/// A citation field's value in a dataset as the emulator renders it.
pub fn field(dataset: &Value, name: &str) -> Value {
    dataset["latestVersion"]["metadataBlocks"]["citation"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["typeName"] == name)
        .map(|f| f["value"].clone())
        .unwrap_or(Value::Null)
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

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(data))
}
