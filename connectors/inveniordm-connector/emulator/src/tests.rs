//! The emulator refuses what InvenioRDM refuses (each rule's source is at its handler).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::*;

const TOKEN: &str = "tok-alice";
const VND: &str = "application/vnd.inveniordm.v1+json";

struct T {
    emu: InvenioEmulator,
    http: reqwest::Client,
}

impl T {
    async fn new(flavour: Flavour, limits: Limits) -> Self {
        let emu = InvenioEmulator::start_as(flavour, limits).await.unwrap();
        emu.add_token(TOKEN, "alice");
        emu.add_token("tok-bob", "bob");
        Self {
            emu,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api{path}", self.emu.url())
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(TOKEN)
            .header("accept", VND);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn put_bytes(&self, path: &str, bytes: &'static [u8]) -> (u16, Value) {
        let resp = self
            .http
            .put(self.url(path))
            .bearer_auth(TOKEN)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn draft(&self) -> String {
        let (s, v) = self
            .call(
                reqwest::Method::POST,
                "/records",
                Some(json!({"metadata": minimal()})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }
}

fn minimal() -> Value {
    json!({
        "resource_type": {"id": "dataset"},
        "title": "A Romans story",
        "publication_date": "2020-06-01",
        "creators": [{"person_or_org": {"type": "personal", "family_name": "Brown", "given_name": "Troy"}}],
    })
}

use reqwest::Method;

#[actix_web::test]
async fn the_three_steps_and_publish() {
    let t = T::new(Flavour::Stock, Limits::default()).await;
    let id = t.draft().await;
    assert!(id.len() == 11 && id.as_bytes()[5] == b'-', "{id}");
    let files = format!("/records/{id}/draft/files");
    // Content before init: 404.
    let (s, _) = t
        .put_bytes(&format!("{files}/a.txt/content"), b"hello")
        .await;
    assert_eq!(s, 404);
    let (s, v) = t
        .call(Method::POST, &files, Some(json!([{"key": "a.txt"}])))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["entries"][0]["status"], "pending");
    assert!(v["entries"][0]["links"]["commit"]
        .as_str()
        .unwrap()
        .ends_with("/a.txt/commit"));
    // Commit before content: refused; publish with a pending file: refused.
    let (s, _) = t
        .call(Method::POST, &format!("{files}/a.txt/commit"), None)
        .await;
    assert_eq!(s, 400);
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/records/{id}/draft/actions/publish"),
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["field"], "files", "{v}");
    let (s, v) = t
        .put_bytes(&format!("{files}/a.txt/content"), b"hello")
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("pending")));
    let (s, v) = t
        .call(Method::POST, &format!("{files}/a.txt/commit"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["checksum"], "md5:5d41402abc4b2a76b9719d911017c592");
    assert_eq!(v["size"], 5);
    // Committed: content again is refused.
    let (s, _) = t
        .put_bytes(&format!("{files}/a.txt/content"), b"other")
        .await;
    assert_eq!(s, 400);
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/records/{id}/draft/actions/publish"),
            None,
        )
        .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["pids"]["doi"]["identifier"], format!("10.1234/{id}"));
    let (s, _) = t
        .call(Method::GET, &format!("/records/{id}/draft"), None)
        .await;
    assert_eq!(s, 404, "a published record has no draft");
}

#[actix_web::test]
async fn validation_errors_in_invenios_shape() {
    let t = T::new(Flavour::Stock, Limits::default()).await;
    let mut md = minimal();
    md["publication_date"] = json!("");
    md["creators"] = json!([{"person_or_org": {"type": "organizational"}}]);
    let (s, v) = t
        .call(Method::POST, "/records", Some(json!({"metadata": md})))
        .await;
    assert_eq!(s, 201, "a draft saves with errors: {v}");
    assert!(
        v["metadata"].get("creators").is_none(),
        "invalid fields are not kept: {v}"
    );
    let id = v["id"].as_str().unwrap();
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/records/{id}/draft/actions/publish"),
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["message"], "A validation error occurred.");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["metadata.creators", "metadata.publication_date"],
        "{v}"
    );
    assert_eq!(
        v["errors"][1]["messages"][0],
        "Missing data for required field."
    );
    // A vocabulary id the instance does not have: the whole request is refused.
    let mut md = minimal();
    md["resource_type"] = json!({"id": "datasets"});
    let (s, v) = t
        .call(Method::POST, "/records", Some(json!({"metadata": md})))
        .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Not a valid value."))
    );
    let mut md = minimal();
    md["rights"] = json!([{"id": "CC-BY-4.0"}]);
    let (s, _) = t
        .call(Method::POST, "/records", Some(json!({"metadata": md})))
        .await;
    assert_eq!(s, 400, "license ids are lower case");
    md["rights"] = json!([{"id": "cc-by-4.0"}]);
    let (s, _) = t
        .call(Method::POST, "/records", Some(json!({"metadata": md})))
        .await;
    assert_eq!(s, 201);
    // Publishing with files enabled and no file.
    let id = t.draft().await;
    let (s, v) = t
        .call(
            Method::POST,
            &format!("/records/{id}/draft/actions/publish"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (400, Some("files.enabled"))
    );
}

#[actix_web::test]
async fn limits_owners_and_shapes() {
    let limits = Limits {
        max_files: 3,
        ..Limits::default()
    };
    let t = T::new(Flavour::Zenodo, limits).await;
    let id = t.draft().await;
    assert!(id.parse::<u64>().is_ok(), "Zenodo's ids are numeric: {id}");
    let files = format!("/records/{id}/draft/files");
    let keys = json!([{"key": "1"}, {"key": "2"}, {"key": "3"}, {"key": "4"}]);
    let (s, v) = t.call(Method::POST, &files, Some(keys)).await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = t
        .call(Method::POST, &files, Some(json!([{"key": "1"}])))
        .await;
    assert_eq!(s, 201);
    let (s, _) = t
        .call(Method::POST, &files, Some(json!([{"key": "1"}])))
        .await;
    assert_eq!(s, 400, "a key twice");
    let (s, _) = t.call(Method::POST, &files, Some(json!([]))).await;
    assert_eq!(s, 400, "no files");
    // Empty files are refused on Zenodo at commit.
    let (s, v) = t.put_bytes(&format!("{files}/1/content"), b"").await;
    assert_eq!(s, 200, "{v} {:?}", t.emu.requests().last());
    let (s, v) = t
        .call(Method::POST, &format!("{files}/1/commit"), None)
        .await;
    assert_eq!(
        (s, v["message"].as_str()),
        (400, Some("Empty files are not accepted."))
    );
    // Zenodo's application/json is the legacy shape; the vnd type the RDM one.
    let legacy: Value = t
        .http
        .get(t.url(&format!("/records/{id}/draft")))
        .bearer_auth(TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        legacy.get("pids").is_none() && legacy["state"] == "unsubmitted",
        "{legacy}"
    );
    let (_, rdm) = t
        .call(Method::GET, &format!("/records/{id}/draft"), None)
        .await;
    assert_eq!(rdm["metadata"]["resource_type"]["id"], "dataset");
    assert_eq!(
        rdm["metadata"]["creators"][0]["person_or_org"]["name"],
        "Brown, Troy"
    );
    // Someone else's draft: 403; no token: 403; a wrong token: 401.
    let other = t
        .http
        .get(t.url(&format!("/records/{id}/draft")))
        .bearer_auth("tok-bob")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 403);
    let anon = t
        .http
        .get(t.url(&format!("/records/{id}/draft")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status().as_u16(), 403);
    let wrong = t
        .http
        .get(t.url(&format!("/records/{id}/draft")))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    // The user's drafts.
    let (s, v) = t
        .call(
            Method::GET,
            "/user/records?q=is_published:false&size=10",
            None,
        )
        .await;
    assert_eq!((s, v["hits"]["total"].as_u64()), (200, Some(1)));
    let (s, _) = t.call(Method::GET, "/user/records?size=10001", None).await;
    assert_eq!(s, 400);
}

#[actix_web::test]
async fn content_needs_its_length_and_octet_stream() {
    let t = T::new(
        Flavour::Stock,
        Limits {
            max_file_bytes: 4,
            ..Limits::default()
        },
    )
    .await;
    let id = t.draft().await;
    let files = format!("/records/{id}/draft/files");
    t.call(Method::POST, &files, Some(json!([{"key": "x"}])))
        .await;
    let (s, _) = t.put_bytes(&format!("{files}/x/content"), b"12345").await;
    assert_eq!(s, 400, "over the file size limit");
    let resp = t
        .http
        .put(t.url(&format!("{files}/x/content")))
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body("12")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let chunked =
        reqwest::Body::wrap_stream(futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes_of("12"),
        )]));
    let resp = t
        .http
        .put(t.url(&format!("{files}/x/content")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/octet-stream")
        .body(chunked)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "no Content-Length");
}

fn bytes_of(s: &'static str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

#[actix_web::test]
async fn faults_carry_rate_limit_headers() {
    let t = T::new(Flavour::Stock, Limits::default()).await;
    t.emu.rate_limit_next(1, 7);
    let resp = t
        .http
        .post(t.url("/records"))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert!(t.emu.requests().iter().all(|r| r.query.is_empty()));
}

#[actix_web::test]
async fn multipart_where_offered() {
    let t = T::new(Flavour::Stock, Limits::default()).await;
    let id = t.draft().await;
    let files = format!("/records/{id}/draft/files");
    let entry = json!([{"key": "m.bin", "size": 10, "transfer": {"type": "M", "parts": 3, "part_size": 4}}]);
    let (s, _) = t.call(Method::POST, &files, Some(entry.clone())).await;
    assert_eq!(s, 403, "not offered: a permission");
    t.emu.offer_multipart(true);
    let (s, _) = t
        .call(
            Method::POST,
            &files,
            Some(json!([{"key": "n", "transfer": {"type": "M", "parts": 2, "part_size": 4}}])),
        )
        .await;
    assert_eq!(s, 400, "size required");
    let (s, v) = t.call(Method::POST, &files, Some(entry)).await;
    assert_eq!(s, 201, "{v}");
    let e = &v["entries"][0];
    assert_eq!(e["links"]["parts"].as_array().unwrap().len(), 3);
    assert!(e["links"]["content"].is_null());
    let part = |n: u32| format!("{files}/m.bin/content/{n}");
    assert_eq!(
        t.put_bytes(&part(1), b"abc").await.0,
        400,
        "a part but the last has part_size"
    );
    assert_eq!(t.put_bytes(&part(4), b"ab").await.0, 400, "no part 4");
    assert_eq!(t.put_bytes(&part(3), b"ij").await.0, 200);
    assert_eq!(t.put_bytes(&part(1), b"abcd").await.0, 200);
    let (s, _) = t
        .call(Method::POST, &format!("{files}/m.bin/commit"), None)
        .await;
    assert_eq!(s, 400, "part 2 missing");
    assert_eq!(t.put_bytes(&part(2), b"efgh").await.0, 200);
    let (s, v) = t
        .call(Method::POST, &format!("{files}/m.bin/commit"), None)
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    assert!(v.get("checksum").is_none(), "computed later by a task: {v}");
    let (_, v) = t.call(Method::GET, &format!("{files}/m.bin"), None).await;
    // md5("abcdefghij")
    assert_eq!(v["checksum"], "md5:a925576942e94b2ef57a066101b48876");
    assert_eq!(v["transfer"]["type"], "L");
}
