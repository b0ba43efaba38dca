//! Direct upload to the installation's S3 store where it offers it: a single PUT or parts
//! retried on their own, each checked by its ETag, then registered; the fallback to
//! `/add` where the store offers none.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use dataverse_emulator::Options as EmuOptions;

const PART: u64 = 1024 * 1024;

async fn direct() -> Env {
    start_with(
        local(),
        EmuOptions {
            direct_upload: Some(PART),
            ..Default::default()
        },
        |_| {},
    )
    .await
}

fn count(env: &Env, method: &str, prefix: &str) -> usize {
    env.emu
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .count()
}

#[actix_web::test]
async fn a_small_file_goes_as_one_put_and_is_registered() {
    let env = direct().await;
    let id = env.create(sample_crate()).await;
    let data = bytes(300_000, 4);
    let (s, body) = env.upload(&id, "/raw/small.bin", data.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(count(&env, "PUT", "/s3/"), 1);
    let files = env.emu.files(id.parse().unwrap());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].label, "small.bin");
    assert_eq!(files[0].directory_label.as_deref(), Some("raw"));
    assert_eq!(files[0].size, data.len() as u64);
    assert_eq!(files[0].md5, md5_hex(&data));
    assert_eq!(std::fs::read(&files[0].path).unwrap(), data);
    env.stop().await;
}

#[actix_web::test]
async fn a_large_file_goes_in_parts_one_retried_alone() {
    let env = direct().await;
    let id = env.create(sample_crate()).await;
    let data = bytes((2 * PART + PART / 2) as usize, 5);
    env.emu.fail_next_on("PUT", "/s3/", 1, 503);
    let (s, body) = env.upload(&id, "/big/parts.bin", data.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(count(&env, "PUT", "/s3/"), 4, "3 parts, one of them twice");
    assert_eq!(count(&env, "PUT", "/api/datasets/mpupload"), 1);
    let files = env.emu.files(id.parse().unwrap());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].md5, md5_hex(&data));
    assert_eq!(std::fs::read(&files[0].path).unwrap(), data);
    env.stop().await;
}

#[actix_web::test]
async fn a_corrupt_store_copy_is_a_502_and_not_registered() {
    let env = direct().await;
    let id = env.create(sample_crate()).await;
    env.emu.corrupt_next_uploads(1);
    let (s, body) = env.upload(&id, "/x.bin", bytes(100_000, 6)).await;
    assert_eq!(s, 502, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("differs"),
        "{body}"
    );
    assert!(env.emu.files(id.parse().unwrap()).is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn without_direct_upload_the_store_is_asked_once() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    for n in 0..3 {
        let (s, body) = env.upload(&id, &format!("/f{n}"), bytes(1000, n)).await;
        assert_eq!(s, 200, "{body}");
    }
    assert_eq!(
        count(&env, "GET", &format!("/api/datasets/{id}/uploadurls")),
        1
    );
    assert_eq!(env.emu.files(id.parse().unwrap()).len(), 3);
    env.stop().await;
}

/// A token that shares a word with Dataverse's 404 ("up*load*") makes that message
/// withheld from callers; the fallback reads the answer itself, so uploads still work.
#[actix_web::test]
async fn the_fallback_does_not_depend_on_a_message_shown_to_callers() {
    let env = start().await;
    env.emu.add_token("load-token", "alice");
    let user = "port-dataverse://alice:load-token";
    let (s, created) = env
        .call(
            reqwest::Method::POST,
            "/metadata/project",
            serde_json::json!({"userId": user, "metadata": null}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let id = created["projectId"].as_str().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("userId", user)
        .text("filename", "/a/b.txt")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"abc".to_vec()).file_name("b.txt"),
        );
    let resp = env
        .http
        .post(env.url(&format!("/metadata/project/{id}/files")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_eq!(status, 200, "{}", resp.text().await.unwrap_or_default());
    assert_eq!(env.emu.files(id.parse().unwrap()).len(), 1);
    env.stop().await;
}
