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

/// POST (create) with `md`; the status and body.
async fn try_create(z: &ZenodoEmulator, md: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/api/deposit/depositions", z.url()))
        .bearer_auth("tok")
        .json(&json!({ "metadata": md }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn metadata_refusals_answer_zenodos_shape() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "alice");

    // An unknown key beside `metadata`: 400.
    let r = client()
        .post(format!("{}/api/deposit/depositions", z.url()))
        .bearer_auth("tok")
        .json(&json!({"unknownkey": "data", "metadata": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "unknownkey");
    assert!(z.depositions().is_empty());

    // An unknown license: 400, the legacy loader's message at `metadata.license`.
    let (status, body) = try_create(&z, json!({"title": "T", "license": "my-license"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["status"], 400);
    assert_eq!(body["message"], "A validation error occurred.");
    assert_eq!(body["errors"][0]["field"], "metadata.license");
    assert_eq!(
        body["errors"][0]["messages"][0],
        "Invalid license provided: my-license"
    );
    // Known ids in any case are taken, and read back as the legacy API renders them.
    let (status, body) = try_create(&z, json!({"title": "T", "license": "CC-BY-4.0"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["metadata"]["license"], "cc-by-4.0");
    // No license: the default (CC0 for a dataset).
    let (_, body) = try_create(&z, json!({"upload_type": "dataset"})).await;
    assert_eq!(body["metadata"]["license"], "cc-zero");

    // Embargoed without a date: "Unknown access type." under `_schema`.
    let (status, body) = try_create(&z, json!({"access_right": "embargoed"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["field"], "_schema");
    assert_eq!(body["errors"][0]["messages"][0], "Unknown access type.");
    // Restricted without conditions is taken today.
    let (status, _) = try_create(&z, json!({"access_right": "restricted"})).await;
    assert_eq!(status, 201);

    // An upload type outside the resource-type vocabulary.
    let (status, body) = try_create(&z, json!({"upload_type": "spreadsheet"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["message"], "Not a valid value.");
    let (status, _) = try_create(
        &z,
        json!({"upload_type": "publication", "publication_type": "thesis"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = try_create(
        &z,
        json!({"upload_type": "publication", "publication_type": "dissertation"}),
    )
    .await;
    assert_eq!(status, 201);

    // HTML is cleaned, not refused: what is stored is what a reader sees.
    let (status, body) = try_create(
        &z,
        json!({"description": "<p onclick=\"x()\">Data</p><script>alert(1)</script>"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["metadata"]["description"], "<p>Data</p>alert(1)");
    let id = body["id"].as_u64().unwrap();
    assert_eq!(
        z.metadata(id).unwrap()["description"],
        "<p>Data</p>alert(1)"
    );
    z.stop().await;
}

#[tokio::test]
async fn publish_refuses_a_past_embargo() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "alice");
    let md = json!({"title": "T", "upload_type": "dataset", "publication_date": "2024-01-02",
        "description": "A description", "creators": [{"name": "Doe, Jane"}],
        "access_right": "embargoed", "embargo_date": "2020-01-01"});
    let (status, dep) = try_create(&z, md).await;
    assert_eq!(status, 201, "a draft may hold it");
    let id = dep["id"].as_u64().unwrap();
    let bucket = dep["links"]["bucket"].as_str().unwrap().to_owned();
    let r = client()
        .put(format!("{bucket}/a.txt"))
        .bearer_auth("tok")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = client()
        .post(format!(
            "{}/api/deposit/depositions/{id}/actions/publish",
            z.url()
        ))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let errors = body["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["field"] == "access.embargo.until"
            && e["messages"][0] == "Embargo end date must be set to a future date."),
        "{body}"
    );
    z.stop().await;
}

#[tokio::test]
async fn the_record_quota_counts_all_files() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "alice");
    // 12 bytes for the record, 8 per file.
    z.set_bucket_limits(12, 8);
    let dep = create(&z, "tok", json!({})).await;
    let bucket = dep["links"]["bucket"].as_str().unwrap().to_owned();
    let put = |key: &'static str, body: &'static str| {
        let url = format!("{bucket}/{key}");
        async move {
            let r = client()
                .put(url)
                .bearer_auth("tok")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = put("big", "123456789").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Maximum file size exceeded."))
    );
    assert_eq!(put("a", "12345678").await.0, 201);
    let (status, body) = put("b", "12345").await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Bucket quota exceeded."))
    );
    assert_eq!(put("b", "1234").await.0, 201, "exactly the quota");
    // Replacing a file frees its size first.
    assert_eq!(put("a", "87654321").await.0, 201);
    z.stop().await;
}

#[tokio::test]
async fn a_record_holds_at_most_100_files() {
    let z = ZenodoEmulator::start().await.unwrap();
    z.add_token("tok", "alice");
    let dep = create(&z, "tok", json!({})).await;
    let bucket = dep["links"]["bucket"].as_str().unwrap().to_owned();
    for i in 0..100 {
        let r = client()
            .put(format!("{bucket}/f{i}"))
            .bearer_auth("tok")
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let r = client()
        .put(format!("{bucket}/one-more"))
        .bearer_auth("tok")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Uploading selected files will result in exceeding the max amount per record."
    );
    // Replacing one of the hundred is still allowed.
    let r = client()
        .put(format!("{bucket}/f7"))
        .bearer_auth("tok")
        .body("y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    z.stop().await;
}
