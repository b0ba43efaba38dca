//! Faults of the provider and bad input: retried where safe, passed on quickly
//! otherwise, never a hang, never a secret in an answer or a log line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bytes, sample_crate, start, start_as, user_id, TOKEN};
use inveniordm_emulator::{Flavour, Limits};
use reqwest::Method;
use serde_json::json;
use test_support::logs::{parts_of, Logs};

#[actix_web::test]
async fn a_corrupted_copy_is_a_502_and_is_removed() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu.corrupt_next_uploads(1);
    let (s, body) = env.upload(&id, "c.bin", bytes(10_000, 3)).await;
    assert_eq!(s, 502, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("md5"), "{body}");
    assert!(
        env.emu.files(&id).is_empty(),
        "no pending or corrupt file is left"
    );
    // The next try goes through.
    assert_eq!(env.upload(&id, "c.bin", bytes(10_000, 3)).await.0, 200);
    env.stop().await;
}

#[actix_web::test]
async fn server_errors_are_retried_where_safe() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    // A small file's content is in memory: its PUT is sent again; the commit is repeatable.
    env.emu
        .fail_next_on("PUT", &format!("/api/records/{id}/draft/files/"), 1, 503);
    env.emu.fail_next_on(
        "POST",
        &format!("/api/records/{id}/draft/files/s.txt/commit"),
        1,
        502,
    );
    assert_eq!(env.upload(&id, "s.txt", b"small".to_vec()).await.0, 200);
    // A large streamed body cannot be sent twice: the 503 comes back, the entry goes.
    env.emu
        .fail_next_on("PUT", &format!("/api/records/{id}/draft/files/"), 1, 503);
    let (s, _) = env.upload(&id, "big.bin", bytes(3_000_000, 4)).await;
    assert_eq!(s, 503);
    let keys: Vec<String> = env.emu.files(&id).into_iter().map(|f| f.key).collect();
    assert_eq!(keys, ["s.txt"]);
    // A create (POST) is not repeated after a 5xx: it may have happened.
    env.emu.fail_next_on("POST", "/api/records", 1, 500);
    let (s, _) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(s, 502);
    env.stop().await;
}

#[actix_web::test]
async fn rate_limits_are_waited_for_or_passed_on() {
    let env = start().await;
    env.emu.rate_limit_next(1, 1);
    let started = std::time::Instant::now();
    env.create(sample_crate()).await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "waited for Retry-After"
    );
    // Longer than the policy's longest wait: answered at once, with Invenio's wait.
    env.emu.rate_limit_next(1, 60);
    let resp = env
        .http
        .get(env.url("/metadata/project"))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "60");
    env.stop().await;
}

#[actix_web::test]
async fn limits_refuse_before_any_byte_is_sent() {
    let limits = Limits {
        max_files: 2,
        ..Limits::default()
    };
    let env = start_as(Flavour::Stock, limits, |c| c.inveniordm_max_files = Some(2)).await;
    let id = env.create(sample_crate()).await;
    assert_eq!(env.upload(&id, "1", b"1".to_vec()).await.0, 200);
    assert_eq!(env.upload(&id, "2", b"2".to_vec()).await.0, 200);
    // The same name replaces; a third name is refused by us, not by Invenio.
    assert_eq!(env.upload(&id, "2", b"two".to_vec()).await.0, 200);
    env.emu.clear_requests();
    let (s, body) = env.upload(&id, "3", b"3".to_vec()).await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("INVENIORDM_MAX_FILES"),
        "{body}"
    );
    assert!(
        env.emu.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        env.emu.requests()
    );
    env.stop().await;
}

#[actix_web::test]
async fn bad_input_is_a_clear_4xx() {
    let env = start().await;
    for (method, path, body, want) in [
        (
            Method::GET,
            "/metadata/project/..%2Fx",
            json!({"userId": user_id()}),
            400,
        ),
        (
            Method::GET,
            "/metadata/project/nope-nope",
            json!({"userId": user_id()}),
            404,
        ),
        (
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": {"@graph": 3}}),
            400,
        ),
        (
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": [1]}),
            400,
        ),
        (
            Method::GET,
            "/metadata/project",
            json!({"userId": "port-inveniordm://alice:wrong"}),
            401,
        ),
    ] {
        let (s, answer) = env.call(method.clone(), path, body).await;
        assert_eq!(s, want, "{method} {path}: {answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    // A license the instance does not know is kept as free text instead of Invenio
    // refusing the whole draft.
    let mut crate_ = sample_crate();
    crate_["@graph"][1]["license"] = json!("no-such-license-1.0");
    let (s, answer) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": crate_}),
        )
        .await;
    assert_eq!(s, 200, "{answer}");
    let id = answer["projectId"].as_str().unwrap();
    assert_eq!(
        env.emu.record(id).unwrap()["metadata"]["rights"],
        json!([{"title": {"en": "no-such-license-1.0"},
                "link": "https://spdx.org/licenses/no-such-license-1.0"}])
    );
    env.stop().await;
}

#[actix_web::test]
async fn the_token_appears_in_no_answer_and_no_log_line() {
    let logs = Logs::capture();
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu
        .fail_next_saying(400, &format!("token {TOKEN} is not valid here"));
    let (s, answer) = env.upload(&id, "t.txt", b"t".to_vec()).await;
    assert_eq!(s, 400);
    env.emu
        .fail_next_saying(503, &format!("upstream saw Bearer {TOKEN}"));
    let (_, answer2) = env
        .call(
            Method::GET,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    env.stop().await;
    for text in [answer.to_string(), answer2.to_string(), logs.text()] {
        assert!(
            parts_of(TOKEN, &text, 8).is_empty(),
            "{:?}",
            parts_of(TOKEN, &text, 8)
        );
    }
}

#[actix_web::test]
async fn the_record_quota_is_checked_before_upload() {
    let env = start_as(Flavour::Stock, Limits::default(), |c| {
        c.inveniordm_max_record_bytes = Some(10)
    })
    .await;
    let id = env.create(sample_crate()).await;
    assert_eq!(env.upload(&id, "a", b"123456".to_vec()).await.0, 200);
    env.emu.clear_requests();
    let (s, body) = env.upload(&id, "b", b"12345".to_vec()).await;
    assert_eq!(s, 413, "{body}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("INVENIORDM_MAX_RECORD_BYTES"));
    assert!(env.emu.requests().iter().all(|r| r.method == "GET"));
    env.stop().await;
}
