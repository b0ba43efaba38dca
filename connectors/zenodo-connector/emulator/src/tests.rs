#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::ZenodoEmulator;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn create(z: &ZenodoEmulator, token: &str, md: Value) -> Value {
    let r = client()
        .post(format!("{}/api/deposit/depositions", z.url()))
        .bearer_auth(token)
        .json(&json!({ "metadata": md }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test]
async fn deposit_lifecycle_follows_zenodo() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "alice");
    let c = client();
    let base = format!("{}/api/deposit/depositions", z.url());

    // Anonymous: 403 (live), bad token: 401.
    assert_eq!(c.get(&base).send().await.unwrap().status(), 403);
    assert_eq!(
        c.get(&base)
            .bearer_auth("nope")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let dep = create(&z, "tok", json!({"title": "T"})).await;
    let id = dep["id"].as_u64().unwrap();
    assert_eq!(dep["record_id"], id);
    assert_eq!(dep["state"], "unsubmitted");
    assert_eq!(dep["submitted"], false);
    assert_eq!(dep["metadata"]["prereserve_doi"]["recid"], id);
    let bucket = dep["links"]["bucket"].as_str().unwrap().to_owned();

    // Publish without files and fields: 400 with live-shaped errors.
    let r = c
        .post(format!("{base}/{id}/actions/publish"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"files"), "{body}");
    assert!(fields.contains(&"metadata.creators"), "{body}");
    assert!(body["errors"][0]["messages"].is_array());

    // Chunked bucket PUT → 400; with a length → 201 and md5.
    let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
        bytes::Bytes::from_static(b"hello"),
    )]);
    let r = c
        .put(format!("{bucket}/a.txt"))
        .bearer_auth("tok")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .put(format!("{bucket}/a.txt?access_token=tok"))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let obj: Value = r.json().await.unwrap();
    assert_eq!(obj["checksum"], "md5:5d41402abc4b2a76b9719d911017c592");
    assert_eq!(obj["size"], 5);
    assert_eq!(
        z.files(id)[0].sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    let r = c
        .get(format!("{bucket}/a.txt"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hello");
    let files: Value = c
        .get(format!("{base}/{id}/files"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(files[0]["links"]["download"], format!("{bucket}/a.txt"));

    // Full metadata, then publish: 202 with a DOI.
    let md = json!({"title": "T", "upload_type": "dataset", "publication_date": "2024-01-02",
        "description": "A description", "creators": [{"name": "Doe, Jane"}], "access_right": "open"});
    let r = c
        .put(format!("{base}/{id}"))
        .bearer_auth("tok")
        .json(&json!({"metadata": md}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(z.metadata(id).unwrap().get("title"), Some(&json!("T")));
    let r = c
        .post(format!("{base}/{id}/actions/publish"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["state"], "done");
    assert_eq!(done["submitted"], true);
    assert!(done["doi"].as_str().unwrap().starts_with("10.5072/zenodo."));
    assert!(done["doi_url"]
        .as_str()
        .unwrap()
        .starts_with("https://doi.org/"));

    // Published: delete answers 404 (live); drafts 204.
    let r = c
        .delete(format!("{base}/{id}"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let other = create(&z, "tok", json!({})).await;
    let r = c
        .delete(format!("{base}/{}", other["id"]))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // The list filters by status.
    let r: Vec<Value> = c
        .get(format!("{base}?status=draft"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.is_empty());
    let r: Vec<Value> = c
        .get(format!("{base}?status=published&size=100"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r.len(), 1);
    z.stop().await;
}

#[tokio::test]
async fn legacy_upload_and_faults() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "bob");
    z.set_legacy_upload_limit(10);
    let dep = create(&z, "tok", json!({})).await;
    let id = dep["id"].as_u64().unwrap();
    let url = format!("{}/api/deposit/depositions/{id}/files", z.url());
    let form = reqwest::multipart::Form::new()
        .text("name", "small.bin")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"12345".to_vec()).file_name("x"),
        );
    let r = client()
        .post(&url)
        .bearer_auth("tok")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["filename"], "small.bin");
    assert_eq!(f["filesize"], 5);
    let form = reqwest::multipart::Form::new()
        .text("name", "big.bin")
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![0u8; 100]).file_name("x"),
        );
    let r = client()
        .post(&url)
        .bearer_auth("tok")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    z.rate_limit_next(1, 7);
    let r = client().get(&url).bearer_auth("tok").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    z.fail_next(1, 502);
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth("tok")
            .send()
            .await
            .unwrap()
            .status(),
        502
    );
    z.fail_next_on("PUT", "/api/files/", 1, 500);
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth("tok")
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "other calls pass"
    );
    z.clear_faults();
    z.set_down(true);
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth("tok")
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    z.set_down(false);
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth("tok")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let log = z.requests();
    assert!(log.iter().all(|r| r.status != 0));
    assert_eq!(log.last().map(|r| r.status), Some(200));
    z.stop().await;
}
