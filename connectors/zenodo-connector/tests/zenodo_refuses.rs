//! What the connector answers when Zenodo refuses metadata (the emulator refuses what
//! zenodo.org refuses): a 400 problem+json carrying Zenodo's own message and field, never
//! a 500, and nothing half-made on Zenodo.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::Method;
use serde_json::{json, Value};

use common::{sample_crate, start, user_id};

/// A user whose token shares no four characters with Zenodo's messages here: the
/// connector withholds a message that repeats any four of the token's (the common
/// test token, `alice-…`, shares `lice` with "license").
const CAROL: &str = "port-zenodo://carol:Zq9xT3vK7mWp2R";

fn with_carol(env: &common::Env) {
    env.zenodo.add_token("Zq9xT3vK7mWp2R", "carol");
}

/// The sample crate with its root entity's `key` set to `value`.
fn crate_with(key: &str, value: Value) -> Value {
    let mut c = sample_crate();
    c["@graph"][1][key] = value;
    c
}

/// `POST /metadata/project` with `metadata`: the status, content type and body.
async fn create(env: &common::Env, metadata: Value) -> (u16, String, Value) {
    let resp = env
        .http
        .post(env.url("/metadata/project"))
        .json(&json!({"userId": CAROL, "metadata": metadata}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_unknown_license_is_a_400_with_zenodos_message() {
    let env = start().await;
    with_carol(&env);
    let (status, ct, problem) = create(&env, crate_with("license", json!("my-own-license"))).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(problem["status"], 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("A validation error occurred."),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "metadata.license");
    assert_eq!(
        problem["errors"][0]["message"],
        "Invalid license provided: my-own-license"
    );
    assert!(env.zenodo.depositions().is_empty(), "no deposition is left");

    // The same license in the form Zenodo knows (any case) is taken.
    let (status, _, answer) = create(&env, crate_with("license", json!("CC-BY-SA-4.0"))).await;
    assert_eq!(status, 200, "{answer}");
    let id: u64 = answer["projectId"].as_str().unwrap().parse().unwrap();
    assert_eq!(env.zenodo.metadata(id).unwrap()["license"], "cc-by-sa-4.0");
    env.stop().await;
}

#[tokio::test]
async fn an_embargo_without_its_date_is_a_400_not_a_500() {
    let env = start().await;
    with_carol(&env);
    // RO-Crate has no property for an embargo's end: Zenodo refuses the access right.
    let (status, ct, problem) =
        create(&env, crate_with("conditionsOfAccess", json!("embargoed"))).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(problem["errors"][0]["message"], "Unknown access type.");
    assert!(env.zenodo.depositions().is_empty());
    env.stop().await;
}

#[tokio::test]
async fn a_description_is_what_zenodo_keeps_of_it() {
    let env = start().await;
    let id = env
        .create(crate_with(
            "description",
            json!("Soil data.\n<script>alert(1)</script>"),
        ))
        .await;
    // Zenodo cleans it (the script tag goes, its text stays) rather than refusing it.
    assert_eq!(
        env.zenodo.metadata(id).unwrap()["description"],
        "Soil data.<br>alert(1)"
    );
    // Read back through the connector: the researcher's text, nothing executable.
    let (status, got) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["@graph"][1]["description"], "Soil data.\nalert(1)");
    env.stop().await;
}

#[tokio::test]
async fn cc0_reads_back_as_its_url() {
    let env = start().await;
    let cc0 = "https://creativecommons.org/publicdomain/zero/1.0/";
    let id = env.create(crate_with("license", json!({"@id": cc0}))).await;
    // zenodo.org renders CC0 with its legacy id.
    assert_eq!(env.zenodo.metadata(id).unwrap()["license"], "cc-zero");
    let (status, got) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["@graph"][1]["license"]["@id"], cc0, "{got}");
    env.stop().await;
}
