//! A connector in process, in front of the InvenioRDM emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::Duration;

use connector_core::server::RunningConnector;
use connector_core::CommonConfig;
use inveniordm_connector::{Config, Inveniordm, Options, RetryPolicy};
use inveniordm_emulator::{Flavour, InvenioEmulator, Limits};
use serde_json::{json, Value};

pub const TOKEN: &str = "alice-personal-token-Zq9xW3";

pub struct Env {
    pub emu: InvenioEmulator,
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

pub async fn start_as(flavour: Flavour, limits: Limits, config: impl FnOnce(&mut Config)) -> Env {
    start_with(local(), flavour, limits, config).await
}

/// [`start_as`] with the common keys chosen (short timeouts).
pub async fn start_with(
    common: CommonConfig,
    flavour: Flavour,
    limits: Limits,
    config: impl FnOnce(&mut Config),
) -> Env {
    let emu = InvenioEmulator::start_as(flavour, limits).await.unwrap();
    emu.add_token(TOKEN, "alice");
    let mut cfg = Config {
        inveniordm_address: Some(emu.url().to_owned()),
        ..Default::default()
    };
    config(&mut cfg);
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Inveniordm::build_with(&common, cfg, options).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();
    Env {
        emu,
        conn,
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Env {
    start_as(Flavour::Stock, Limits::default(), |_| {}).await
}

/// The session-format userId RDS sends in login mode: the personal token in the password slot.
pub fn user_id() -> String {
    format!("port-inveniordm://alice:{TOKEN}")
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
            {"@id": "#bob", "@type": "Person", "name": "Bob Builder", "affiliation": {"@id": "#wwu"}},
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
