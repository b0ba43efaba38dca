//! Projects (depositions) through the connector, against the Zenodo emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::Method;
use serde_json::{json, Value};

use common::{sample_crate, start, user_id};

fn today() -> String {
    zenodo_connector::mapping::today()
}

#[tokio::test]
async fn create_from_ro_crate_holds_exactly_the_mapped_metadata() {
    let env = start().await;
    let id = env.create(sample_crate()).await;

    let md = env.zenodo.metadata(id).unwrap();
    let want = json!({
        "title": "Soil moisture in Münster, 2023",
        "description": "Hourly soil moisture.<br>Three sensors.",
        "publication_date": "2023-01-01",
        "creators": [
            {"name": "Carberry, Josiah", "affiliation": "Brown University", "orcid": "0000-0002-1825-0097"},
            {"name": "Builder, Bob", "affiliation": "Universität Münster", "orcid": "0000-0002-1694-233X"}
        ],
        "keywords": ["soil", "moisture"],
        "license": "cc-by-4.0",
        "upload_type": "dataset",
        "access_right": "open"
    });
    assert_eq!(Value::Object(md), want);

    // The list holds it, as an RO-Crate.
    let (status, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["projectId"], id.to_string());
    let root = &list[0]["metadata"]["@graph"][1];
    assert_eq!(root["@id"], "./");
    assert_eq!(root["name"], "Soil moisture in Münster, 2023");
    assert_eq!(root["description"], "Hourly soil moisture.\nThree sensors.");
    env.stop().await;
}

#[tokio::test]
async fn get_and_patch_merge_and_round_trip() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let path = format!("/metadata/project/{id}");

    let (status, got) = env
        .call(Method::GET, &path, json!({"userId": user_id()}))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["@context"], "https://w3id.org/ro/crate/1.1/context");

    // Round trip: what GET answers, PATCHed back, changes nothing on Zenodo.
    let before = env.zenodo.metadata(id).unwrap();
    let (status, _) = env
        .call(
            Method::PATCH,
            &path,
            json!({"userId": user_id(), "metadata": got}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.zenodo.metadata(id).unwrap(), before);

    // A partial RO-Crate changes only what it says.
    let patch = json!({"@graph": [
        {"@id": "ro-crate-metadata.json", "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "name": "Renamed", "keywords": "a, b"}
    ]});
    let (status, answer) = env
        .call(
            Method::PATCH,
            &path,
            json!({"userId": user_id(), "metadata": patch}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["@graph"][1]["name"], "Renamed");
    let md = env.zenodo.metadata(id).unwrap();
    assert_eq!(md["title"], "Renamed");
    assert_eq!(md["keywords"], json!(["a", "b"]));
    assert_eq!(md["license"], "cc-by-4.0", "fields not sent are kept");
    assert_eq!(md["creators"], before["creators"]);

    // Zenodo-native metadata passes through.
    let (status, _) = env
        .call(
            Method::PATCH,
            &path,
            json!({"userId": user_id(), "metadata": {"upload_type": "software", "version": "2.0"}}),
        )
        .await;
    assert_eq!(status, 200);
    let md = env.zenodo.metadata(id).unwrap();
    assert_eq!(md["upload_type"], "software");
    assert_eq!(md["version"], "2.0");
    assert_eq!(md["title"], "Renamed");

    // Zenodo's own refusal comes back as 400 with its message: an upload type outside
    // the resource-type vocabulary fails the record's vocabulary relation, answered
    // without a field.
    let (status, problem) = env
        .call(
            Method::PATCH,
            &path,
            json!({"userId": user_id(), "metadata": {"upload_type": "spaceship"}}),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with(": Not a valid value."),
        "{problem}"
    );
    assert_eq!(env.zenodo.metadata(id).unwrap()["upload_type"], "software");
    env.stop().await;
}

#[tokio::test]
async fn null_metadata_gets_defaults() {
    let env = start().await;
    let id = env.create(Value::Null).await;
    let md = env.zenodo.metadata(id).unwrap();
    assert_eq!(md["creators"], json!([{"name": "alice"}]));
    assert_eq!(md["publication_date"], today());
    assert_eq!(md["upload_type"], "dataset");
    assert_eq!(md["access_right"], "open");
    assert!(md["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(md["description"].as_str().is_some_and(|t| !t.is_empty()));
    env.stop().await;
}

#[tokio::test]
async fn delete_draft_is_204_then_404() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let path = format!("/metadata/project/{id}");
    let (status, _) = env
        .call(Method::DELETE, &path, json!({"userId": user_id()}))
        .await;
    assert_eq!(status, 204);
    assert!(env.zenodo.deposition(id).is_none());
    let (status, problem) = env
        .call(Method::DELETE, &path, json!({"userId": user_id()}))
        .await;
    assert_eq!(status, 404, "{problem}");
    env.stop().await;
}

#[tokio::test]
async fn unknown_and_non_numeric_ids() {
    let env = start().await;
    let (status, problem) = env
        .call(
            Method::GET,
            "/metadata/project/999999",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["status"], 404);
    let (status, problem) = env
        .call(
            Method::GET,
            "/metadata/project/abc",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    let (status, _) = env
        .call(
            Method::PUT,
            "/metadata/project/12x",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 400);
    env.stop().await;
}

#[tokio::test]
async fn wrong_token_is_401_and_never_echoed() {
    let env = start().await;
    let (status, problem) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": "port-zenodo://alice:not-the-token"}),
        )
        .await;
    assert_eq!(status, 401, "{problem}");
    assert!(!problem.to_string().contains("not-the-token"));
    // The token travels in the header only.
    assert!(env
        .zenodo
        .requests()
        .iter()
        .all(|r| r.authorization && !r.query_access_token));
    env.stop().await;
}

#[tokio::test]
async fn token_looked_up_at_the_port_service() {
    let ts = test_support::token_storage::TokenStorage::start().await;
    ts.add_token("alice", "port-zenodo", common::TOKEN);
    let env = common::start_with(connector_core::CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        use_case_service_port_service: Some(url::Url::parse(&ts.url()).unwrap()),
        ..Default::default()
    })
    .await;
    let id = env
        .create(json!({"title": "via lookup", "upload_type": "poster"}))
        .await;
    let (status, list) = env
        .call(Method::GET, "/metadata/project", json!({"userId": "alice"}))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["projectId"], id.to_string());
    assert_eq!(env.zenodo.metadata(id).unwrap()["upload_type"], "poster");
    env.stop().await;
    ts.stop().await;
}

#[tokio::test]
async fn list_reads_every_page() {
    let env = start().await;
    let mut ids = Vec::new();
    for i in 0..103 {
        ids.push(env.create(json!({"title": format!("draft {i}")})).await);
    }
    let (status, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 103);
    let pages = env
        .zenodo
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/deposit/depositions")
        .count();
    assert_eq!(pages, 2);
    env.stop().await;
}
