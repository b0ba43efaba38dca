//! Rate limits, outages and retries; error messages that echo the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::Method;
use serde_json::json;
use test_support::logs::{parts_of, Logs};

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
    // Zenodo's wait is passed on to the caller (capped at 10 minutes), not a fixed 5 s.
    env.zenodo.rate_limit_next(1, 120);
    let resp = env
        .http
        .get(env.url("/metadata/project"))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(retry_after.as_deref(), Some("120"));
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
    // Zenodo's 503 (its maintenance page) stays a 503: RDS may try again later.
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["status"], 503);
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

/// A Zenodo (or a proxy before it) whose error message echoes the token, upper-cased, in
/// part or as base64: the caller gets the status and our own wording, and neither the
/// answer nor any log line (at trace level) holds any of it.
#[tokio::test]
async fn echoed_tokens_reach_neither_the_caller_nor_the_logs() {
    use base64::Engine as _;
    let logs = Logs::capture();
    let env = start().await;
    const SECRET: &str = "Zq9xW3mR7tK2pV8nB4cY";
    env.zenodo.add_token(SECRET, "alice");
    let caller = json!({"userId": format!("port-zenodo://alice:{SECRET}")});
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    // (Zenodo's status, ours, its message)
    let echoes = [
        (400, 400, format!("Invalid token {}", SECRET.to_uppercase())),
        (403, 403, format!("token {}... lacks a scope", &SECRET[..8])),
        (400, 400, format!("Bad header: Bearer {}", &b64[2..])),
        (
            500,
            502,
            format!("upstream said: {}", SECRET.to_lowercase()),
        ),
    ];
    for (status, ours, echo) in &echoes {
        env.zenodo.fail_next_saying(*status, echo);
        let (got, problem) = env
            .call(Method::GET, "/metadata/project", caller.clone())
            .await;
        assert_eq!(got, *ours, "{problem}");
        for secret in [SECRET, b64.as_str()] {
            let leaked = parts_of(secret, &problem.to_string(), 6);
            assert!(leaked.is_empty(), "{echo:?} leaked {leaked:?}: {problem}");
        }
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("HTTP {status}")), "{detail}");
    }
    // A message that holds nothing of it is still passed on.
    env.zenodo.fail_next_saying(400, "Deposit is locked.");
    let (got, problem) = env.call(Method::GET, "/metadata/project", caller).await;
    assert_eq!(got, 400);
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("Deposit is locked."));
    let logs = logs.text();
    assert!(
        logs.contains("served"),
        "the capture sees the connector's logs"
    );
    for secret in [SECRET, b64.as_str()] {
        let leaked = parts_of(secret, &logs, 6);
        assert!(leaked.is_empty(), "the logs hold {leaked:?}");
    }
    env.stop().await;
}

#[tokio::test]
async fn small_and_spooled_uploads_are_retried_after_a_rate_limit() {
    let env = start().await;
    let id = env.create(json!({"title": "t"})).await;
    let content = common::bytes(200_000, 9);
    // As RDS sends it (length derived, small: in memory), and chunked (spooled).
    for chunked in [false, true] {
        env.zenodo.clear_requests();
        env.zenodo.rate_limit_next_on("PUT", "/api/files/", 1, 1);
        let status = if chunked {
            env.upload_chunked(id, "r.bin", content.clone()).await
        } else {
            env.upload(id, "r.bin", content.clone()).await.0
        };
        assert_eq!(status, 200, "chunked: {chunked}");
        assert_eq!(env.zenodo.files(id)[0].sha256, common::sha256(&content));
        let puts: Vec<u16> = env
            .zenodo
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .map(|r| r.status)
            .collect();
        assert_eq!(puts, vec![429, 201], "chunked: {chunked}");
    }
    env.stop().await;
}

#[tokio::test]
/// A file larger than what is kept in memory streams through once: its bytes are gone
/// after a failed PUT, so the failure goes back to the caller.
async fn a_streamed_upload_is_not_repeated() {
    let env = start().await;
    let id = env.create(json!({"title": "t"})).await;
    env.zenodo.fail_next_on("PUT", "/api/files/", 1, 503);
    let (status, _) = env.upload(id, "s.bin", common::bytes(2 << 20, 3)).await;
    assert_eq!(status, 503);
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
