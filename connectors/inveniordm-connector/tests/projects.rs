//! The RDS flows of the metadata interface against the InvenioRDM emulator, as the
//! Zenodo connector's tests run them: create from an RO-Crate or null, get, PATCH
//! merging, list, files, publish with the DOI, delete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bytes, sample_crate, start, start_as, user_id};
use inveniordm_emulator::{FileStatus, Flavour, Limits};
use reqwest::Method;
use serde_json::{json, Value};

fn root(crate_: &Value) -> Value {
    crate_["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["@id"] == "./")
        .cloned()
        .unwrap()
}

#[actix_web::test]
async fn the_exporters_sequence_ends_with_a_doi() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let record = env.emu.record(&id).unwrap();
    let md = &record["metadata"];
    assert_eq!(md["title"], "Soil moisture in Münster, 2023");
    assert_eq!(md["resource_type"]["id"], "dataset");
    assert_eq!(md["publication_date"], "2023");
    assert_eq!(md["rights"], json!([{"id": "cc-by-4.0"}]));
    assert_eq!(
        md["creators"][0]["person_or_org"]["identifiers"][0]["identifier"],
        "0000-0002-1825-0097"
    );
    assert_eq!(md["creators"][1]["person_or_org"]["family_name"], "Builder");
    assert_eq!(
        md["creators"][1]["affiliations"],
        json!([{"name": "Universität Münster"}])
    );
    assert_eq!(
        md["subjects"],
        json!([{"subject": "soil"}, {"subject": "moisture"}])
    );

    // The exporter: PATCH the metadata, upload the files, publish.
    let patch = json!({"@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [{"@id": "./", "@type": "Dataset", "name": "Soil moisture, final"}]});
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id(), "metadata": patch}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(root(&body)["name"], "Soil moisture, final");
    assert_eq!(
        root(&body)["keywords"],
        json!(["soil", "moisture"]),
        "unsent fields are kept"
    );

    let a = bytes(300_000, 1);
    let b = bytes(2_500_000, 2);
    let (s, body) = env.upload(&id, "data/a.csv", a.clone()).await;
    assert_eq!((s, &body["success"]), (200, &json!(true)), "{body}");
    assert_eq!(env.upload(&id, "b.bin", b.clone()).await.0, 200);
    let files = env.emu.files(&id);
    assert_eq!(
        files.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(),
        ["data_a.csv", "b.bin"]
    );
    assert!(files.iter().all(|f| f.status == FileStatus::Completed));
    assert_eq!(std::fs::read(&files[1].path).unwrap(), b);

    let (s, list) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}/files"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let listed = list.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["key"], "data_a.csv");
    assert_eq!(listed[0]["size"], 300_000);
    // The contract's `File` (the Zenodo connector's fields) besides Invenio's own.
    assert_eq!(listed[0]["id"], "data_a.csv");
    assert_eq!(listed[0]["filename"], "data_a.csv");
    assert_eq!(listed[0]["filesize"], 300_000);

    // The exporter addresses files by index.
    let (s, _) = env
        .call(
            Method::DELETE,
            &format!("/metadata/project/{id}/files/0"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(env.emu.files(&id).len(), 1);

    let (s, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body, json!({"DOI": format!("10.1234/{id}")}));
    assert_eq!(env.emu.record(&id).unwrap()["is_published"], true);
    env.stop().await;
}

#[actix_web::test]
async fn null_metadata_creates_a_publishable_draft_and_the_list_shows_drafts_only() {
    let env = start().await;
    let (s, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let id = body["projectId"].as_str().unwrap().to_owned();
    let md = &env.emu.record(&id).unwrap()["metadata"];
    assert_eq!(md["creators"][0]["person_or_org"]["family_name"], "alice");
    assert_eq!(md["resource_type"]["id"], "dataset");
    let other = env.create(sample_crate()).await;
    assert_eq!(env.upload(&other, "x.txt", b"x".to_vec()).await.0, 200);
    let (s, _) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{other}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["projectId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()], "published records are not projects");
    let (s, _) = env
        .call(
            Method::DELETE,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 204);
    assert!(env.emu.record(&id).is_none());
    env.stop().await;
}

#[actix_web::test]
async fn publish_refusals_come_back_as_400_with_invenios_fields() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    // No file yet: Invenio refuses to publish a record with files enabled and none.
    let (s, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("files.enabled"), "{body}");
    env.stop().await;
}

#[actix_web::test]
async fn zenodo_answers_in_the_rdm_shape_because_the_connector_asks_for_it() {
    let env = start_as(Flavour::Zenodo, Limits::default(), |_| {}).await;
    let id = env.create(sample_crate()).await;
    assert!(id.parse::<u64>().is_ok(), "{id}");
    let (s, body) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(root(&body)["name"], "Soil moisture in Münster, 2023");
    assert!(env
        .emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/records") && !r.path.contains("/files"))
        .all(|r| r.accept.as_deref() == Some("application/vnd.inveniordm.v1+json")));
    assert_eq!(env.upload(&id, "z.txt", b"zenodo".to_vec()).await.0, 200);
    let (s, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(
        (s, body),
        (200, json!({"DOI": format!("10.5281/zenodo.{id}")}))
    );
    env.stop().await;
}
