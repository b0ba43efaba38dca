//! Uploads and downloads at size, against the WebDAV test server's chunked-upload
//! endpoint (ownCloud's and Nextcloud's rules) and its faults: chunks retried after a 503
//! or a reset, a 423 on the assembling MOVE retried, identity kept on overwrite, and a
//! byte flipped at the server caught on the way in and out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use owncloud_emulator::{Chunking, Fault, FaultKind, Reported};
use reqwest::Method;

const MIB: u64 = 1024 * 1024;

/// Everything above 1 MiB goes in 5 MiB chunks (Nextcloud's smallest).
fn chunked(efss: Efss, chunking: Chunking) -> Setup {
    Setup {
        efss,
        chunking,
        chunk_threshold: Some(MIB),
        chunk_size: Some(5 * MIB),
        ..Default::default()
    }
}

/// Uploads a file of `size` pattern bytes to `/Data/{name}` and checks the answer is 200
/// and the stored bytes are the ones sent.
async fn upload_ok(h: &Harness, name: &str, size: usize) {
    let src = h.root().join(format!("src-{name}"));
    write_big(&src, size);
    let resp = h.upload_file(&format!("/Data/{name}"), &src).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    assert_eq!(
        sha256_file(&h.root().join("Data").join(name)),
        sha256_file(&src),
        "the stored file differs from the one sent"
    );
    std::fs::remove_file(&src).unwrap();
}

/// 200 MiB in 40 chunks arrives byte-identical, comes back identical through GET (checked
/// against the server's OC-Checksum on the way), and leaves no upload folder.
#[actix_web::test]
async fn a_200_mib_file_in_chunks_is_byte_identical() {
    let h = Harness::start_with(chunked(Efss::Nextcloud, Chunking::NextcloudV2)).await;
    build_tree(h.root(), false);
    upload_ok(&h, "big.bin", 200 * MIB as usize).await;
    assert_eq!(h.dav().requests("PUT"), 40, "5 MiB chunks");
    assert_eq!(h.dav().requests("MOVE"), 1);
    assert!(h.dav().upload_folders().is_empty());
    let resp = h.get_file(&h.user_id(), "/Data/big.bin").await;
    assert_eq!(resp.status(), 200);
    let (sha, len) = sha256_body(resp).await;
    assert_eq!(len, 200 * MIB);
    assert_eq!(sha, sha256_file(&h.root().join("Data/big.bin")));
}

/// A chunk answered 503 once and another whose connection is reset once are sent again;
/// the file is byte-identical (ownCloud's rules, both roots' user).
#[actix_web::test]
async fn a_chunk_answered_503_or_reset_is_retried() {
    for (efss, chunking) in [
        (Efss::Owncloud, Chunking::OwncloudNg),
        (Efss::Nextcloud, Chunking::NextcloudV2),
    ] {
        let h = Harness::start_with(chunked(efss, chunking)).await;
        build_tree(h.root(), false);
        h.dav()
            .inject(Fault::new("PUT", 503).on_path("/remote.php/dav/uploads/"));
        h.dav().inject(Fault::reset("PUT").on_path("/2"));
        upload_ok(&h, "retried.bin", 12 * MIB as usize + 17).await;
        assert_eq!(
            h.dav().requests("PUT"),
            3 + 2,
            "three chunks, two of them twice"
        );
        assert!(h.dav().upload_folders().is_empty());
    }
}

/// The assembling MOVE answered 423 Locked once is retried (as rclone does).
#[actix_web::test]
async fn a_locked_assembly_is_retried() {
    let h = Harness::start_with(chunked(Efss::Nextcloud, Chunking::NextcloudV2)).await;
    build_tree(h.root(), false);
    h.dav().inject(Fault::new("MOVE", 423).on_path("/.file"));
    upload_ok(&h, "locked.bin", 6 * MIB as usize).await;
    assert_eq!(h.dav().requests("MOVE"), 2);
    assert!(h.dav().upload_folders().is_empty());
}

/// An overwrite keeps the file's `oc:fileid`, by plain PUT and by chunked upload.
#[actix_web::test]
async fn an_overwrite_keeps_the_file_id() {
    let h = Harness::start_with(chunked(Efss::Owncloud, Chunking::OwncloudNg)).await;
    build_tree(h.root(), false);
    let id = h.fileid("Data/plain.txt").await;
    assert!(id.is_some());
    // Plain (below the threshold).
    let resp = h
        .upload(Method::POST, "/Data/plain.txt", b"new content".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        std::fs::read(h.root().join("Data/plain.txt")).unwrap(),
        b"new content"
    );
    assert_eq!(h.fileid("Data/plain.txt").await, id, "plain PUT");
    // Chunked.
    upload_ok(&h, "plain.txt", 7 * MIB as usize).await;
    assert_eq!(h.fileid("Data/plain.txt").await, id, "chunked upload");
    assert_eq!(h.dav().requests("MOVE"), 1, "only the assembling MOVE");
    // A new file gets an id of its own.
    upload_ok(&h, "other.bin", 2 * MIB as usize).await;
    assert_ne!(h.fileid("Data/other.bin").await, id);
}

/// A server without chunked uploads (MKCOL of the upload folder 404) gets a plain PUT.
#[actix_web::test]
async fn without_chunking_a_large_upload_is_one_put() {
    let h = Harness::start_with(chunked(Efss::Owncloud, Chunking::Unsupported)).await;
    build_tree(h.root(), false);
    upload_ok(&h, "plain-large.bin", 11 * MIB as usize).await;
    assert_eq!(h.dav().requests("PUT"), 1);
    assert_eq!(
        h.dav().requests("MKCOL"),
        1,
        "the probe for chunked uploads"
    );
}

/// A byte flipped at the server: the upload fails with 502 naming the file (a new file
/// is removed; an overwritten one is reported), and a download's body breaks instead of
/// ending as a 200 with wrong bytes.
#[actix_web::test]
async fn a_byte_flipped_at_the_server_fails_the_transfer() {
    let h = Harness::start_with(chunked(Efss::Nextcloud, Chunking::NextcloudV2)).await;
    build_tree(h.root(), false);
    let src = h.root().join("src.bin");
    write_big(&src, 6 * MIB as usize);

    // Chunked, new file: 502, and the corrupted file is gone.
    h.dav()
        .inject(Fault::of("MOVE", FaultKind::FlipStored).on_path("/.file"));
    let v = assert_problem(h.upload_file("/Data/flipped.bin", &src).await, 502).await;
    assert!(v["detail"].as_str().unwrap().contains("flipped.bin"), "{v}");
    assert!(!h.root().join("Data/flipped.bin").exists());
    assert!(h.dav().upload_folders().is_empty());

    // Plain, overwrite: 502 naming the file; the file stays (deleting it would lose it).
    h.dav().inject(Fault::of("PUT", FaultKind::FlipStored));
    let resp = h
        .upload(Method::PATCH, "/Data/plain.txt", b"0123456789".to_vec())
        .await;
    let v = assert_problem(resp, 502).await;
    assert!(v["detail"].as_str().unwrap().contains("plain.txt"), "{v}");
    assert!(h.root().join("Data/plain.txt").exists());

    // Download: the body fails before it is complete.
    std::fs::copy(&src, h.root().join("Data/good.bin")).unwrap();
    h.dav().inject(Fault::of("GET", FaultKind::FlipBody));
    let resp = h.get_file(&h.user_id(), "/Data/good.bin").await;
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await;
    assert!(
        body.is_err(),
        "a corrupted download ended cleanly with {} bytes",
        body.map(|b| b.len()).unwrap_or_default()
    );
    // Without the fault the same file downloads whole.
    let resp = h.get_file(&h.user_id(), "/Data/good.bin").await;
    let (sha, _) = sha256_body(resp).await;
    assert_eq!(sha, sha256_file(&src));
}

/// Nextcloud reports only the checksum a client sent: the chunked upload's `OC-Checksum`
/// (our SHA1) comes back and matches, a plain PUT has none to compare, and downloads are
/// checked against the stored one.
#[actix_web::test]
async fn nextcloud_reports_the_checksum_we_sent() {
    let h = Harness::start_with(Setup {
        reported: Reported::ClientSent,
        ..chunked(Efss::Nextcloud, Chunking::NextcloudV2)
    })
    .await;
    build_tree(h.root(), false);
    upload_ok(&h, "sent.bin", 6 * MIB as usize).await;
    let resp = h
        .upload(Method::POST, "/Data/small.txt", b"small".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    h.dav().inject(Fault::of("GET", FaultKind::FlipBody));
    let resp = h.get_file(&h.user_id(), "/Data/sent.bin").await;
    assert!(
        resp.bytes().await.is_err(),
        "the stored SHA1 catches the flip"
    );
}

/// Answers lost after the server did the work: a chunk sent again is stored again, and
/// a MOVE whose retry finds the upload folder gone is confirmed by the target (then the
/// checksums) instead of failing a complete upload.
#[actix_web::test]
async fn answers_lost_after_the_work_are_handled() {
    let h = Harness::start_with(chunked(Efss::Owncloud, Chunking::OwncloudNg)).await;
    build_tree(h.root(), false);
    h.dav()
        .inject(Fault::of("PUT", FaultKind::ResetAfter).on_path("/1"));
    h.dav()
        .inject(Fault::of("MOVE", FaultKind::ResetAfter).on_path("/.file"));
    upload_ok(&h, "lost answers.bin", 8 * MIB as usize).await;
    assert_eq!(h.dav().requests("PUT"), 2 + 1);
    assert_eq!(h.dav().requests("MOVE"), 2);
    assert!(h.dav().upload_folders().is_empty());
}
