//! Files and publishing through the connector, against the Zenodo emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use reqwest::Method;
use serde_json::{json, Value};

use common::{bytes, sample_crate, sha256, start, user_id};

#[tokio::test]
async fn exporter_uploads_are_byte_identical_then_listed_deleted_and_published() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let small = bytes(1024, 1);
    let large = bytes(50 * 1024 * 1024, 2);

    let (status, body) = env.upload(id, "small.txt", small.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"success": true, "sha256": sha256(&small)}));
    let (status, body) = env
        .upload(id, "data/sub/large file #1.bin", large.clone())
        .await;
    assert_eq!(status, 200, "{body}");

    let stored = env.zenodo.files(id);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].key, "small.txt");
    assert_eq!(stored[0].sha256, sha256(&small));
    assert_eq!(
        stored[1].key, "data_sub_large file #1.bin",
        "folders are flattened"
    );
    assert_eq!(stored[1].size, large.len() as u64);
    assert_eq!(stored[1].sha256, sha256(&large));
    // Both went through the bucket with a Content-Length, never chunked.
    let puts: Vec<_> = env
        .zenodo
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with("/api/files/"))
        .collect();
    assert_eq!(puts.len(), 2);
    assert!(puts
        .iter()
        .all(|r| !r.chunked && r.content_length.is_some() && r.status == 201));
    assert_eq!(puts[1].content_length, Some(large.len() as u64));

    // List, get by index and by Zenodo id.
    let files_path = format!("/metadata/project/{id}/files");
    let (status, list) = env
        .call(Method::GET, &files_path, json!({"userId": user_id()}))
        .await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["filename"], "small.txt");
    let (status, f) = env
        .call(
            Method::GET,
            &format!("{files_path}/1"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f["filename"], "data_sub_large file #1.bin");
    let zid = list[0]["id"].as_str().unwrap();
    let (status, f) = env
        .call(
            Method::GET,
            &format!("{files_path}/{zid}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(f["filename"], "small.txt");
    let (status, _) = env
        .call(
            Method::GET,
            &format!("{files_path}/7"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 404);

    // Delete the large one by index (as the exporter does).
    let (status, _) = env
        .call(
            Method::DELETE,
            &format!("{files_path}/1"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200);
    let left: Vec<String> = env.zenodo.files(id).into_iter().map(|f| f.key).collect();
    assert_eq!(left, vec!["small.txt".to_owned()]);

    // Publish: 200 {"DOI": ...}.
    let (status, answer) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let doi = answer["DOI"].as_str().unwrap();
    let dep = env.zenodo.deposition(id).unwrap();
    assert_eq!(dep["doi"], doi);
    assert_eq!(dep["state"], "done");
    // A published record is no project any more.
    let (_, list) = env
        .call(
            Method::GET,
            "/metadata/project",
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(list, json!([]));
    env.stop().await;
}

#[tokio::test]
async fn known_size_streams_straight_through() {
    let env = start().await;
    let id = env.create(Value::Null).await;
    let content = bytes(300_000, 3);
    let form = reqwest::multipart::Form::new()
        .text("userId", user_id())
        .text("filename", "sized.bin")
        .text("size", content.len().to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(content.clone()).file_name("sized.bin"),
        );
    let resp = env
        .http
        .post(env.url(&format!("/metadata/project/{id}/files")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(env.zenodo.files(id)[0].sha256, sha256(&content));

    // A declared size that is wrong is the caller's mistake (the body ends short of it), and
    // nothing is stored.
    let form = reqwest::multipart::Form::new()
        .text("userId", user_id())
        .text("filename", "liar.bin")
        .text("size", "999999")
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("liar.bin"),
        );
    let resp = env
        .http
        .post(env.url(&format!("/metadata/project/{id}/files")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let problem: Value = resp.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("999999")),
        "{problem}"
    );
    assert_eq!(env.zenodo.files(id).len(), 1);
    env.stop().await;
}

#[tokio::test]
async fn delete_all_files() {
    let env = start().await;
    let id = env.create(Value::Null).await;
    for name in ["a.txt", "b.txt", "c.txt"] {
        let (status, _) = env.upload(id, name, name.as_bytes().to_vec()).await;
        assert_eq!(status, 200);
    }
    assert_eq!(env.zenodo.files(id).len(), 3);
    let (status, body) = env
        .call(
            Method::DELETE,
            &format!("/metadata/project/{id}/files"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(env.zenodo.files(id).is_empty());
    env.stop().await;
}

#[tokio::test]
async fn publish_without_files_is_400_with_zenodos_message() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    let (status, problem) = env
        .call(
            Method::PUT,
            &format!("/metadata/project/{id}"),
            json!({"userId": user_id()}),
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    let errors = problem["errors"].as_array().unwrap();
    let files = errors.iter().find(|e| e["field"] == "files").unwrap();
    assert!(
        files["message"]
            .as_str()
            .unwrap()
            .contains("Missing uploaded files"),
        "{problem}"
    );
    assert_eq!(env.zenodo.deposition(id).unwrap()["submitted"], false);
    env.stop().await;
}

#[tokio::test]
async fn upload_to_unknown_project_is_404_and_to_bad_id_400() {
    let env = start().await;
    let (status, _) = env.upload(424242, "x.txt", b"x".to_vec()).await;
    assert_eq!(status, 404);
    let form = reqwest::multipart::Form::new()
        .text("userId", user_id())
        .text("filename", "x.txt")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
        );
    let resp = env
        .http
        .post(env.url("/metadata/project/abc/files"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    env.stop().await;
}

#[tokio::test]
async fn unknown_sizes_are_spooled_in_the_spool_dir_and_cleaned_up() {
    let spool = tempfile::tempdir().unwrap();
    let env = common::start_with_options(
        common::local(),
        zenodo_connector::Options {
            retry: common::test_policy(),
            spool_dir: Some(spool.path().to_path_buf()),
        },
    )
    .await;
    let id = env.create(Value::Null).await;
    let content = bytes(2 * 1024 * 1024, 5);
    let status = env.upload_chunked(id, "spooled.bin", content.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(env.zenodo.files(id)[0].sha256, sha256(&content));
    assert_eq!(
        std::fs::read_dir(spool.path()).unwrap().count(),
        0,
        "spool file removed"
    );
    env.stop().await;

    // Proof that only the unknown size goes through the spool: without a spool dir a
    // chunked upload fails, while a size declared in the `size` field, or derived from
    // the request's Content-Length (how RDS sends files), streams through and succeeds.
    let gone = spool.path().join("missing");
    let env = common::start_with_options(
        common::local(),
        zenodo_connector::Options {
            retry: common::test_policy(),
            spool_dir: Some(gone),
        },
    )
    .await;
    let id = env.create(Value::Null).await;
    assert_eq!(env.upload_chunked(id, "a.bin", b"abc".to_vec()).await, 500);
    let form = reqwest::multipart::Form::new()
        .text("userId", user_id())
        .text("filename", "b.bin")
        .text("size", "3")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"abc".to_vec()).file_name("b.bin"),
        );
    let resp = env
        .http
        .post(env.url(&format!("/metadata/project/{id}/files")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = env.upload(id, "c.bin", content.clone()).await;
    assert_eq!(status, 200, "{body}");
    let stored = env.zenodo.files(id);
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().any(|f| f.sha256 == sha256(&content)));
    env.stop().await;
}

/// The length derived from Content-Length holds only if the file part ends the body.
/// Any other body is refused with a 400 that says what to do, and nothing is stored.
#[tokio::test]
async fn derived_sizes_hold_the_caller_to_the_closing_boundary() {
    let env = start().await;
    let id = env.create(Value::Null).await;
    let user = user_id();
    let head = format!(
        "--b\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n{user}\r\n\
         --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.bin\"\r\n\r\nabc"
    );
    let refused = [
        // Another part after the file: the file is shorter than derived.
        format!(
            "{head}\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b--\r\n"
        ),
        // No CRLF after the closing boundary: the file is 2 bytes longer than derived.
        format!("{head}\r\n--b--"),
    ];
    for body in refused {
        let (status, problem) = env.upload_raw(id, body.clone()).await;
        assert_eq!(status, 400, "{body:?}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("must be the last part"), "{detail}");
        assert!(env.zenodo.files(id).is_empty(), "{body:?}");
    }
    // The same upload as clients write it (a preamble is allowed) is stored.
    let (status, problem) = env
        .upload_raw(id, format!("preamble\r\n{head}\r\n--b--\r\n"))
        .await;
    assert_eq!(status, 200, "{problem}");
    assert_eq!(env.zenodo.files(id)[0].sha256, sha256(b"abc"));
    env.stop().await;
}

#[tokio::test]
async fn one_deposition_lookup_per_export_not_per_file() {
    let env = start().await;
    let id = env.create(sample_crate()).await;
    env.zenodo.clear_requests();
    for i in 0..5 {
        let (status, body) = env.upload(id, &format!("f{i}.txt"), bytes(100, i)).await;
        assert_eq!(status, 200, "{body}");
    }
    let lookups = env
        .zenodo
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == format!("/api/deposit/depositions/{id}"))
        .count();
    assert_eq!(
        lookups, 1,
        "the bucket link is reused for the same token and deposition"
    );
    assert_eq!(env.zenodo.files(id).len(), 5);
}
