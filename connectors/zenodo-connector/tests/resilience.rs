//! Rate limits, outages and retries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::Method;
use serde_json::json;

use common::{start, user_id};

#[tokio::test]
async fn rate_limit_is_waited_out() {
    let env = start().await;
    let id = env.create(json!({"title": "t"})).await;
    env.zenodo.clear_requests();
    env.zenodo.rate_limit_next(1, 1);
    let (status, md) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{md}");
    assert_eq!(md["@graph"][1]["name"], "t");
    let statuses: Vec<u16> = env.zenodo.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    env.stop().await;
}

#[tokio::test]
async fn rate_limit_on_create_is_retried_too() {
    let env = start().await;
    env.zenodo.rate_limit_next(1, 1);
    let id = env.create(json!({"title": "after the wait"})).await;
    assert_eq!(env.zenodo.metadata(id).unwrap()["title"], "after the wait");
    assert_eq!(env.zenodo.depositions().len(), 1, "created once");
    env.stop().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_fails_at_once_with_429() {
    let env = start().await;
    env.zenodo.rate_limit_next(1, 3600);
    let (status, problem) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 429, "{problem}");
    assert_eq!(env.zenodo.requests().len(), 1);
    env.stop().await;
}

#[tokio::test]
async fn transient_5xx_is_retried_for_reads_only() {
    let env = start().await;
    env.zenodo.fail_next(1, 502);
    let (status, _) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    env.zenodo.clear_requests();
    env.zenodo.fail_next(1, 502);
    let (status, _) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(status, 502, "a create is not repeated");
    assert_eq!(env.zenodo.requests().len(), 1);
    assert!(env.zenodo.depositions().is_empty());
    env.stop().await;
}

#[tokio::test]
async fn zenodo_down_is_a_bounded_gateway_error() {
    let env = start().await;
    env.zenodo.set_down(true);
    let (status, problem) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 502, "{problem}");
    assert_eq!(problem["status"], 502);
    assert_eq!(env.zenodo.requests().len(), 3, "three tries, then give up");
    env.zenodo.set_down(false);

    // Unreachable altogether: 503.
    let common::Env { zenodo, conn, http } = env;
    zenodo.stop().await;
    let resp = http
        .get(format!("{}/metadata/project", conn.url()))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    conn.stop().await;
}

#[tokio::test]
async fn a_spooled_upload_is_retried_after_a_rate_limit() {
    let env = start().await;
    let id = env.create(json!({"title": "t"})).await;
    env.zenodo.clear_requests();
    env.zenodo.rate_limit_next_on("PUT", "/api/files/", 1, 1);
    let content = common::bytes(200_000, 9);
    let (status, body) = env.upload(id, "r.bin", content.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(env.zenodo.files(id)[0].sha256, common::sha256(&content));
    let puts: Vec<u16> = env
        .zenodo
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.status)
        .collect();
    assert_eq!(puts, vec![429, 201]);
    env.stop().await;
}

#[tokio::test]
async fn a_streamed_upload_is_not_repeated() {
    let env = start().await;
    let id = env.create(json!({"title": "t"})).await;
    env.zenodo.fail_next_on("PUT", "/api/files/", 1, 503);
    let form = reqwest::multipart::Form::new()
        .text("userId", user_id())
        .text("filename", "s.bin")
        .text("size", "4")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"abcd".to_vec()).file_name("s.bin"),
        );
    let resp = env
        .http
        .post(env.url(&format!("/metadata/project/{id}/files")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(env.zenodo.files(id).is_empty());
    let puts = env
        .zenodo
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1);
    env.stop().await;
}
