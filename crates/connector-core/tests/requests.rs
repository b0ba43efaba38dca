//! Requests through the core: userId formats and token lookup, JSON body on GET vs query,
//! multipart streaming, and problem+json for bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::{built, Received};
use connector_core::server::{self, RunningConnector};
use serde_json::{json, Value};
use test_support::token_storage::TokenStorage;

async fn start(ts: Option<&TokenStorage>) -> (RunningConnector, Arc<Received>) {
    let mut cfg = common::common();
    cfg.use_case_service_port_service = ts.map(|t| t.url().parse().unwrap());
    let received = Arc::new(Received::default());
    let running = server::start(cfg, built("port-echo", received.clone()))
        .await
        .unwrap();
    (running, received)
}

async fn list(base: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}/storage/folder"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn session_and_normal_user_ids() {
    let ts = TokenStorage::start().await;
    ts.add_token("émilie@uni.example", "port-echo", "looked-up-token");
    let (c, _) = start(Some(&ts)).await;
    let base = c.url();

    let (s, v) = list(
        &base,
        json!({"userId": "port-echo://alice:tok:with:colons", "filepath": ""}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["files"],
        // A recursive listing comes sorted.
        json!([
            "/folder=%2F",
            "/recursive=true",
            "/token=tok:with:colons",
            "/user=alice"
        ])
    );

    let (s, v) = list(
        &base,
        json!({"userId": "émilie@uni.example", "filepath": "/a b", "recursive": false}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["files"],
        json!([
            "/a b/user=émilie@uni.example",
            "/a b/token=looked-up-token",
            "/a b/folder=%2Fa b",
            "/a b/recursive=false"
        ])
    );
    // Session format without a token falls back to the lookup; the lookup is cached.
    let (s, _) = list(
        &base,
        json!({"userId": "port-echo://émilie@uni.example:None", "filepath": "/"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        ts.lookups(),
        1,
        "the second lookup of the same user is served from the cache"
    );

    // No token for this user → 401.
    let (s, v) = list(&base, json!({"userId": "bob", "filepath": "/"})).await;
    assert_eq!(s, 401);
    assert!(v["detail"].as_str().unwrap().contains("no token"), "{v}");
    c.stop().await;
}

#[actix_web::test]
async fn lookup_service_down_is_503() {
    let ts = TokenStorage::start().await;
    let url = ts.url();
    ts.stop().await;
    let mut cfg = common::common();
    cfg.use_case_service_port_service = Some(url.parse().unwrap());
    let running = server::start(cfg, built("port-echo", Arc::default()))
        .await
        .unwrap();
    let (s, v) = list(&running.url(), json!({"userId": "carol", "filepath": "/"})).await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["status"], 503);
    running.stop().await;
}

#[actix_web::test]
async fn query_string_form() {
    let (c, _) = start(None).await;
    let r = reqwest::Client::new()
        .get(format!("{}/storage/folder", c.url()))
        .query(&[
            ("userId", "port-echo://ü:t+k"),
            ("filepath", "/x/#y"),
            ("recursive", "false"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["files"],
        json!([
            "/x/#y/user=ü",
            "/x/#y/token=t+k",
            "/x/#y/folder=%2Fx%2F#y",
            "/x/#y/recursive=false"
        ])
    );
    c.stop().await;
}

#[actix_web::test]
async fn bad_input_is_4xx_problem_json() {
    let (c, _) = start(None).await;
    let base = c.url();
    let client = reqwest::Client::new();
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            client
                .get(format!("{base}/storage/folder"))
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!([1, 2])),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"filepath": "/"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "", "filepath": "/"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "port-echo://u:t", "filepath": "/a/../b"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "port-echo://u:t", "filepath": "/a/%2e%2e/b"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "port-echo://u:t", "filepath": "/a\u{0}b"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "port-echo://u:t", "recursive": "maybe"})),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .header("content-type", "text/plain")
                .body("userId=x"),
            415,
        ),
        (
            client.get(format!("{base}/storage/folder?userId=a&userId=b")),
            400,
        ),
        (
            client
                .get(format!("{base}/storage/folder"))
                .json(&json!({"userId": "port-echo://u:t", "pad": "x".repeat(2 * 1024 * 1024)})),
            413,
        ),
        (
            client
                .get(format!("{base}/storage/file"))
                .json(&json!({"userId": "port-echo://u:t", "filepath": ""})),
            400,
        ),
        (
            client
                .post(format!("{base}/storage/file"))
                .json(&json!({"userId": "port-echo://u:t"})),
            415,
        ),
        (client.get(format!("{base}/nowhere")), 404),
        // Not implemented by this provider: 501.
        (
            client
                .delete(format!("{base}/storage/file"))
                .json(&json!({"userId": "port-echo://u:t", "filepath": "/x"})),
            501,
        ),
    ];
    for (i, (req, want)) in cases.into_iter().enumerate() {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "case {i}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "case {i}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], want, "case {i}");
        assert!(
            !v["detail"].as_str().unwrap_or_default().is_empty(),
            "case {i}"
        );
    }
    // The process is still serving.
    assert_eq!(
        reqwest::get(format!("{base}/health"))
            .await
            .unwrap()
            .status(),
        200
    );
    c.stop().await;
}

#[actix_web::test]
async fn multipart_upload_is_streamed_to_the_provider() {
    let (c, received) = start(None).await;
    let client = reqwest::Client::new();
    let payload = vec![7u8; 3 * 1024 * 1024 + 17];
    let form = reqwest::multipart::Form::new()
        .text("userId", "port-echo://u:t")
        .text("filepath", "/folder/data.bin")
        .part(
            "file",
            reqwest::multipart::Part::bytes(payload.clone()).file_name("data.bin"),
        );
    let r = client
        .post(format!("{}/storage/file", c.url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    // RDS reads `success`; the SHA-256 of the bytes received comes with it.
    use sha2::Digest as _;
    let sha256 = hex::encode(sha2::Sha256::digest(&payload));
    assert_eq!(body, json!({"success": true, "sha256": sha256}));
    assert_eq!(received.bytes.load(Ordering::SeqCst), payload.len() as u64);

    // Provider errors come back as they are; no file part is a 400.
    let form = reqwest::multipart::Form::new()
        .text("userId", "port-echo://u:t")
        .text("filepath", "/fail")
        .part("file", reqwest::multipart::Part::bytes(vec![1u8; 10]));
    let r = client
        .post(format!("{}/storage/file", c.url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 423);
    let form = reqwest::multipart::Form::new()
        .text("userId", "port-echo://u:t")
        .text("filepath", "/x");
    let r = client
        .post(format!("{}/storage/file", c.url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("file part"));
    assert_eq!(received.uploads.load(Ordering::SeqCst), 1);
    c.stop().await;
}

#[actix_web::test]
async fn declared_size_must_match_the_content() {
    let (c, received) = start(None).await;
    let client = reqwest::Client::new();
    for (declared, want) in [
        ("1", "longer than its declared size of 1"),
        ("100", "ended after 10 of its declared 100"),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("userId", "port-echo://u:t")
            .text("filepath", "/x.bin")
            .text("size", declared)
            .part("file", reqwest::multipart::Part::bytes(vec![1u8; 10]));
        let r = client
            .post(format!("{}/storage/file", c.url()))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "size {declared}");
        let v: Value = r.json().await.unwrap();
        assert!(v["detail"].as_str().unwrap().contains(want), "{v}");
    }
    assert_eq!(
        received.uploads.load(Ordering::SeqCst),
        0,
        "no upload completed"
    );
    c.stop().await;
}

/// A provider that serves no ranges never sees the caller's `Range`: the whole file
/// comes back as a 200, and no `Accept-Ranges` promises otherwise.
#[actix_web::test]
async fn ranges_reach_only_providers_that_serve_them() {
    let (c, _) = start(None).await;
    let r = reqwest::Client::new()
        .get(format!("{}/storage/file", c.url()))
        .header("Range", "bytes=0-0")
        .json(&json!({"userId": "port-echo://u:t", "filepath": "/1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("accept-ranges"), None);
    assert_eq!(r.headers().get("content-range"), None);
    assert_eq!(r.bytes().await.unwrap().len(), 64 * 1024);
    c.stop().await;
}

#[actix_web::test]
async fn undeclared_methods_are_405_with_allow() {
    let (c, _) = start(None).await;
    let r = reqwest::Client::new()
        .request(reqwest::Method::PUT, format!("{}/storage/file", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let allow = r.headers()["allow"].to_str().unwrap().to_owned();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(allow.contains(m), "{allow}");
    }
    let r = reqwest::Client::new()
        .delete(format!("{}/health", c.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    c.stop().await;
}
