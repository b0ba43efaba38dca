//! RDS's metadata flows against the Dataverse emulator: create from an RO-Crate and from
//! null, list (drafts only), get, PATCH merge, files with folders, publish → DOI, delete,
//! and the exporter's sequence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[actix_web::test]
async fn create_from_a_crate_maps_the_citation_block() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    let ds = env.emu.dataset(id.parse().unwrap()).unwrap();
    assert_eq!(field(&ds, "title"), "Soil moisture in Münster, 2023");
    let authors = field(&ds, "author");
    assert_eq!(authors[0]["authorName"]["value"], "Josiah Carberry");
    assert_eq!(authors[0]["authorAffiliation"]["value"], "Brown University");
    assert_eq!(authors[0]["authorIdentifierScheme"]["value"], "ORCID");
    assert_eq!(
        authors[0]["authorIdentifier"]["value"],
        "0000-0002-1825-0097"
    );
    assert_eq!(authors[1]["authorName"]["value"], "Bob Builder");
    assert_eq!(
        field(&ds, "datasetContact")[0]["datasetContactEmail"]["value"],
        "data@uni-muenster.example"
    );
    assert_eq!(field(&ds, "subject"), json!(["Other"]));
    assert_eq!(ds["latestVersion"]["license"]["name"], "CC BY 4.0");
    assert_eq!(ds["latestVersion"]["versionState"], "DRAFT");

    let (status, got) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let r = root(&got);
    assert_eq!(r["name"], "Soil moisture in Münster, 2023");
    assert_eq!(r["keywords"], json!(["soil", "moisture"]));
    env.stop().await;
}

#[actix_web::test]
async fn null_metadata_creates_a_valid_draft_with_the_configured_contact() {
    let env = start().await;
    let (status, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id: u64 = body["projectId"].as_str().unwrap().parse().unwrap();
    let ds = env.emu.dataset(id).unwrap();
    assert!(field(&ds, "title")
        .as_str()
        .unwrap()
        .starts_with("Upload from Sciebo RDS"));
    assert_eq!(field(&ds, "author")[0]["authorName"]["value"], "alice");
    assert_eq!(
        field(&ds, "datasetContact")[0]["datasetContactEmail"]["value"],
        "rdm@uni.example"
    );
    assert_eq!(ds["latestVersion"]["license"]["name"], "CC0 1.0");
    env.stop().await;
}

#[actix_web::test]
async fn without_any_contact_create_is_a_clear_400() {
    let env = start_with(local(), Default::default(), |c| {
        c.dataverse_contact_email = None
    })
    .await;
    let (status, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("DATAVERSE_CONTACT_EMAIL"),
        "{body}"
    );
    assert!(env.emu.datasets().is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn patch_merges_and_keeps_the_rest() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let update = json!({"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
        {"@id": "./", "@type": "Dataset", "name": "Renamed"}
    ]});
    let (status, body) = env
        .call(
            Method::PATCH,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id(), "metadata": update}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(root(&body)["name"], "Renamed");
    let ds = env.emu.dataset(id.parse().unwrap()).unwrap();
    assert_eq!(field(&ds, "title"), "Renamed");
    assert_eq!(
        field(&ds, "author")[1]["authorName"]["value"],
        "Bob Builder"
    );
    assert_eq!(
        field(&ds, "datasetContact")[0]["datasetContactEmail"]["value"],
        "data@uni-muenster.example"
    );
    assert_eq!(
        ds["latestVersion"]["license"]["name"], "CC BY 4.0",
        "the license stays"
    );
    env.stop().await;
}

#[actix_web::test]
async fn the_list_holds_the_users_drafts_only() {
    let env = start().await;
    let a = env.create(sample_crate()).await;
    let b = env.create(Value::Null).await;
    let (status, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["projectId"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&a.as_str()) && ids.contains(&b.as_str()),
        "{list}"
    );
    // Published, it leaves the list.
    env.upload(&a, "/x.txt", b"x".to_vec()).await;
    let (status, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{a}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["projectId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![b.as_str()], "{list}");
    env.stop().await;
}

#[actix_web::test]
async fn files_keep_their_folders_and_are_verified() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let data = bytes(300_000, 7);
    let (status, body) = env
        .upload(&id, "/raw/2023/Müller data.csv", data.clone())
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true, "{body}");
    let (status, _) = env.upload(&id, "/top.txt", b"top".to_vec()).await;
    assert_eq!(status, 200);
    let files = env.emu.files(id.parse().unwrap());
    let f = files.iter().find(|f| f.label == "Müller data.csv").unwrap();
    assert_eq!(f.directory_label.as_deref(), Some("raw/2023"));
    assert_eq!(f.size, data.len() as u64);
    assert_eq!(f.md5, md5_hex(&data));

    // The same path again replaces the file (Dataverse would keep both, renamed).
    let (status, _) = env
        .upload(&id, "/raw/2023/Müller data.csv", b"new".to_vec())
        .await;
    assert_eq!(status, 200);
    let files = env.emu.files(id.parse().unwrap());
    assert_eq!(files.len(), 2, "{files:?}");

    let (status, list) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}/files"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filename"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"raw/2023/Müller data.csv") && names.contains(&"top.txt"),
        "{list}"
    );

    // Delete all.
    let (status, body) = env
        .call(
            Method::DELETE,
            &format!("/metadata/project/{id}/files"),
            json!({"userId": user_id()}),
        )
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    assert!(env.emu.files(id.parse().unwrap()).is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn non_ascii_folders_are_transliterated() {
    let env = start().await;
    let id = env.create(Value::Null).await;
    let (status, body) = env.upload(&id, "/Größe/日本/a.txt", b"a".to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let files = env.emu.files(id.parse().unwrap());
    assert_eq!(files[0].directory_label.as_deref(), Some("Grosse/Ri Ben"));
    env.stop().await;
}

#[actix_web::test]
async fn publish_answers_the_doi_and_delete_answers_204() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.upload(&id, "/data.csv", b"a,b\n".to_vec()).await;
    let (status, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let doi = body["DOI"].as_str().unwrap();
    let ds = env.emu.dataset(id.parse().unwrap()).unwrap();
    assert_eq!(
        doi,
        format!(
            "{}/{}",
            ds["authority"].as_str().unwrap(),
            ds["identifier"].as_str().unwrap()
        )
    );
    assert!(doi.starts_with("10.5072/"), "{doi}");
    assert_eq!(ds["latestVersion"]["versionState"], "RELEASED");

    let other = env.create(Value::Null).await;
    let (status, _) = env
        .call(
            Method::DELETE,
            &format!("/metadata/project/{other}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 204);
    assert!(env.emu.dataset(other.parse().unwrap()).is_none());
    env.stop().await;
}

#[actix_web::test]
async fn a_publish_workflow_is_waited_for() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu.publish_workflow(3);
    let (status, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["DOI"].as_str().unwrap().starts_with("10.5072/"));
    env.stop().await;
}

/// The RDS exporter: create, then each file of the folder with its path, then publish.
#[actix_web::test]
async fn the_exporters_sequence() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let files = [
        ("/project/readme.md", bytes(1_000, 1)),
        ("/project/data/a.csv", bytes(70_000, 2)),
        ("/project/data/raw/b.bin", bytes(2_000_000, 3)),
    ];
    for (name, content) in &files {
        let (status, body) = env.upload(&id, name, content.clone()).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    let stored = env.emu.files(id.parse().unwrap());
    for (name, content) in &files {
        let (dir, label) = name.trim_start_matches('/').rsplit_once('/').unwrap();
        let f = stored.iter().find(|f| f.label == label).unwrap();
        assert_eq!(f.directory_label.as_deref(), Some(dir));
        assert_eq!(f.md5, md5_hex(content), "{name}");
    }
    let (status, body) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    env.stop().await;
}

/// The list reads every page of the Search API; one that goes on past
/// `DATAVERSE_MAX_PAGES` is a 502 naming the key, never a shortened list.
#[actix_web::test]
async fn the_list_pages_and_is_bounded() {
    let env = start().await;
    for _ in 0..101 {
        env.emu.create_sample_dataset("alice").unwrap();
    }
    let (status, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 101);
    assert!(
        root(&list[0]["metadata"])["name"].is_string(),
        "{}",
        list[0]
    );
    env.stop().await;

    let env = start_with(local(), Default::default(), |c| {
        c.dataverse_max_pages = Some(1)
    })
    .await;
    for _ in 0..101 {
        env.emu.create_sample_dataset("alice").unwrap();
    }
    let (status, body) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("DATAVERSE_MAX_PAGES"),
        "{body}"
    );
    env.stop().await;
}
