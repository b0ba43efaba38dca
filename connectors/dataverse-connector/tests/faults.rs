//! Faults and bad input: 5xx retried where safe, Dataverse's rate limits (429 and the
//! 400-wrapped kind), locks that last several polls or too long, a corrupt stored copy,
//! size limits, Dataverse's refusals passed on as 4xx, and the token kept out of every
//! answer and log line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use connector_core::CommonConfig;
use dataverse_emulator::Options as EmuOptions;
use reqwest::Method;
use serde_json::{json, Value};
use test_support::logs::{parts_of, Logs};

fn count(env: &Env, method: &str, prefix: &str) -> usize {
    env.emu
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

async fn get(env: &Env, id: &str) -> (u16, Value) {
    env.call(
        Method::GET,
        &format!("/metadata/project/{id}"),
        json!({"userId": user_id()}),
    )
    .await
}

#[actix_web::test]
async fn reads_are_retried_after_5xx_creates_are_not() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu
        .fail_next_on("GET", &format!("/api/datasets/{id}/versions"), 2, 503);
    let (s, body) = get(&env, &id).await;
    assert_eq!(s, 200, "{body}");

    env.emu.clear_requests();
    env.emu.fail_next_on("POST", "/api/dataverses/", 1, 500);
    let (s, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": null}),
        )
        .await;
    assert_eq!(s, 502, "{body}");
    assert_eq!(
        count(&env, "POST", "/api/dataverses/"),
        1,
        "a create is sent once"
    );
    assert_eq!(env.emu.datasets().len(), 1);
    env.stop().await;
}

#[actix_web::test]
async fn rate_limits_are_waited_out_and_passed_on_when_they_last() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    // 429 without headers on the metadata PUT, then it passes.
    env.emu
        .rate_limit_next_on("PUT", &format!("/api/datasets/{id}/versions"), 1);
    let update = json!({"@graph": [{"@id": "./", "@type": "Dataset", "name": "After the limit"}]});
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id(), "metadata": update}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The 400-wrapped rate limit of /add: retried like a 429 (a small file is in memory).
    env.emu
        .rate_limit_next_on("POST", &format!("/api/datasets/{id}/add"), 1);
    let (s, body) = env.upload(&id, "/a/b.txt", b"bytes".to_vec()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(env.emu.files(id.parse().unwrap()).len(), 1);
    // A limit that lasts: 429 with a Retry-After for RDS.
    env.emu
        .rate_limit_next_on("GET", &format!("/api/datasets/{id}/versions"), 10);
    let resp = env
        .http
        .get(env.url(&format!("/metadata/project/{id}")))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    env.stop().await;
}

#[actix_web::test]
async fn a_lock_lasting_several_polls_is_waited_for() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu
        .lock_for_polls(id.parse().unwrap(), "EditInProgress", 4);
    env.emu.clear_requests();
    let update = json!({"@graph": [{"@id": "./", "@type": "Dataset", "name": "Unlocked"}]});
    let (s, body) = env
        .call(
            Method::PATCH,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id(), "metadata": update}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(count(&env, "GET", &format!("/api/datasets/{id}/locks")) >= 5);
    env.stop().await;
}

#[actix_web::test]
async fn a_lock_past_the_deadline_is_a_503_naming_it() {
    let common = CommonConfig {
        response_timeout_secs: 2,
        ..local()
    };
    let env = start_with(common, EmuOptions::default(), |_| {}).await;
    let id = env.create(sample_crate()).await;
    env.emu
        .lock_for_polls(id.parse().unwrap(), "Workflow", 10_000);
    let resp = env
        .http
        .put(env.url(&format!("/metadata/project/{id}")))
        .json(&json!({"userId": user_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().get("retry-after").is_some());
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("Workflow"),
        "{body}"
    );
    env.stop().await;
}

#[actix_web::test]
async fn a_corrupt_copy_is_a_502_and_removed() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu.corrupt_next_uploads(1);
    let (s, body) = env.upload(&id, "/d/x.bin", bytes(50_000, 9)).await;
    assert_eq!(s, 502, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("differs"),
        "{body}"
    );
    assert!(env.emu.files(id.parse().unwrap()).is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn other_checksum_types_are_verified_too() {
    for checksum in [
        dataverse_emulator::ChecksumType::Sha1,
        dataverse_emulator::ChecksumType::Sha256,
        dataverse_emulator::ChecksumType::Sha512,
    ] {
        let env = start_with(
            local(),
            EmuOptions {
                checksum,
                ..Default::default()
            },
            |_| {},
        )
        .await;
        let id = env.create(sample_crate()).await;
        for n in 0..2 {
            let (s, body) = env
                .upload(&id, &format!("/f{n}.bin"), bytes(10_000, n))
                .await;
            assert_eq!(s, 200, "{checksum:?}: {body}");
        }
        env.emu.corrupt_next_uploads(1);
        assert_eq!(env.upload(&id, "/bad.bin", bytes(10_000, 3)).await.0, 502);
        env.stop().await;
    }
}

#[actix_web::test]
async fn size_limits_refuse_before_sending_or_pass_dataverses_message_on() {
    let env = start_with(local(), EmuOptions::default(), |c| {
        c.dataverse_max_file_bytes = Some(10)
    })
    .await;
    let id = env.create(Value::Null).await;
    env.emu.clear_requests();
    let (s, body) = env.upload(&id, "/big.bin", vec![1; 11]).await;
    assert_eq!(s, 413, "{body}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("DATAVERSE_MAX_FILE_BYTES"));
    assert_eq!(count(&env, "POST", "/api/datasets/"), 0, "no byte sent");
    env.stop().await;

    let env = start_with(
        local(),
        EmuOptions {
            max_file_bytes: Some(10),
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let id = env.create(Value::Null).await;
    let (s, body) = env.upload(&id, "/big.bin", vec![1; 11]).await;
    assert_eq!(s, 413, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("exceeds the size limit"),
        "{body}"
    );
    env.stop().await;
}

#[actix_web::test]
async fn bad_input_is_a_clear_4xx() {
    let env = start().await;
    let (s, _) = get(&env, "not-a-number").await;
    assert_eq!(s, 400);
    let (s, _) = get(&env, "999999").await;
    assert_eq!(s, 404);
    let (s, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": {"@graph": {}}}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    // A license the installation lacks: Dataverse's own words, as a 400.
    let crate_ = json!({"@graph": [{"@id": "./", "@type": "Dataset", "name": "x", "license": "No Such Licence"}]});
    let (s, body) = env
        .call(
            Method::POST,
            "/metadata/project",
            json!({"userId": user_id(), "metadata": crate_}),
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("license"),
        "{body}"
    );
    // A wrong token.
    let (s, _) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": "port-dataverse://alice:00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!(s, 401);
    env.stop().await;
}

#[actix_web::test]
async fn the_token_appears_in_no_answer_and_no_log_line() {
    let logs = Logs::capture();
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu
        .fail_next_saying(400, &format!("User with token {TOKEN} not found."));
    let (s, answer) = env.upload(&id, "t.txt", b"t".to_vec()).await;
    assert_eq!(s, 400);
    env.emu
        .fail_next_saying(503, &format!("proxy saw X-Dataverse-key: {TOKEN}"));
    let (_, answer2) = get(&env, &id).await;
    // The header only: never `?key=` (the emulator logs it redacted) or the token in a path.
    let requests = env.emu.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(
            !r.path.contains("key=") && !r.path.contains(TOKEN),
            "{}",
            r.path
        );
    }
    env.stop().await;
    for text in [answer.to_string(), answer2.to_string(), logs.text()] {
        assert!(
            parts_of(TOKEN, &text, 8).is_empty(),
            "{:?}",
            parts_of(TOKEN, &text, 8)
        );
    }
}

/// `/add` creates a file: a 5xx is passed on, never sent again (the file may exist, and
/// a second one would be renamed).
#[actix_web::test]
async fn a_5xx_on_add_is_not_sent_again() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.emu.clear_requests();
    env.emu
        .fail_next_on("POST", &format!("/api/datasets/{id}/add"), 1, 503);
    let (s, body) = env.upload(&id, "/x.txt", b"x".to_vec()).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(count(&env, "POST", &format!("/api/datasets/{id}/add")), 1);
    env.stop().await;
}
