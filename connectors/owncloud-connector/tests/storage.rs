//! The connector against a real WebDAV server (dav-server on a temp folder), through its
//! HTTP interface, as RDS calls it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use owncloud_emulator::{Fault, ServerAuth};
use reqwest::Method;
use test_support::logs::{parts_of, Logs};

/// Listing (both modes) equals the tree on disk; every file comes back byte-identical.
async fn check_tree(h: &Harness) {
    let data = build_tree(h.root(), true);

    let want = files_on_disk(&data, "/Data");
    assert!(want.len() >= 14, "{want:?}");
    assert_eq!(h.list_ok("/Data", None).await, want, "recursive (default)");
    assert_eq!(
        h.list_ok("/Data", Some(true)).await,
        want,
        "recursive: true"
    );
    assert_eq!(
        h.list_ok("/Data", Some(false)).await,
        children_on_disk(&data, "/Data"),
        "recursive: false"
    );
    // The root: `""` (what the exporter sends for `/`) and `/`.
    let all = files_on_disk(h.root(), "");
    assert_eq!(h.list_ok("", None).await, all);
    assert_eq!(h.list_ok("/", None).await, all);
    assert_eq!(h.list_ok("/", Some(false)).await, vec!["/Data/".to_owned()]);
    // Nested special folder, and an empty one.
    assert_eq!(
        h.list_ok("/Data/with space/ü n i c ø d e", None).await,
        vec!["/Data/with space/ü n i c ø d e/#%?+&.txt".to_owned()]
    );
    assert!(h.list_ok("/Data/empty folder", None).await.is_empty());
    // Listing a file: empty (as the interface document says); fetching a folder: 400.
    assert!(h.list_ok("/Data/plain.txt", None).await.is_empty());
    assert_problem(h.get_file(&h.user_id(), "/Data/sub").await, 400).await;
    assert!(h
        .list_ok("/Data/empty folder", Some(false))
        .await
        .is_empty());

    for path in &want {
        let resp = h.get_file(&h.user_id(), path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let disk = data.join(path.strip_prefix("/Data/").unwrap());
        let len = std::fs::metadata(&disk).unwrap().len();
        assert_eq!(resp.content_length(), Some(len), "{path}: Content-Length");
        assert!(resp.headers().get("etag").is_some(), "{path}: ETag");
        assert!(
            resp.headers().get("last-modified").is_some(),
            "{path}: Last-Modified"
        );
        let (sha, n) = sha256_body(resp).await;
        assert_eq!(n, len, "{path}");
        // Hashed off the runtime thread: the client's pooled connection must keep
        // seeing the server while the 50 MB file is hashed (actix closes idle ones).
        let want = tokio::task::spawn_blocking(move || sha256_file(&disk))
            .await
            .unwrap();
        assert_eq!(sha, want, "{path}: content differs");
    }
}

async fn tree_roundtrip(efss: Efss) {
    let h = Harness::start(efss).await;
    check_tree(&h).await;
    // Everything went to the layout's own root.
    let (own, other) = match efss {
        Efss::Owncloud => (
            h.dav().owncloud_root_requests(),
            h.dav().nextcloud_root_requests(),
        ),
        Efss::Nextcloud => (
            h.dav().nextcloud_root_requests(),
            h.dav().owncloud_root_requests(),
        ),
    };
    assert!(own > 0);
    assert_eq!(other, 0, "requests to the other layout's root");
}

#[actix_web::test]
async fn owncloud_tree_roundtrip() {
    tree_roundtrip(Efss::Owncloud).await;
}

#[actix_web::test]
async fn nextcloud_tree_roundtrip() {
    tree_roundtrip(Efss::Nextcloud).await;
}

/// RDS exporter: list the folder (JSON body on GET), then fetch each entry joined the
/// way `Service.getFile` joins, for the folder forms the exporter produces.
#[actix_web::test]
async fn rds_exporter_sequence() {
    check_exporter(&Harness::start(Efss::Nextcloud).await).await;
}

async fn check_exporter(h: &Harness) {
    let data = build_tree(h.root(), false);
    // The exporter strips one trailing `/`: "/Data/" arrives as "/Data", "/" as "".
    for filepath in ["/Data", ""] {
        let files = h.list_ok(filepath, None).await;
        assert!(!files.is_empty());
        for file in files {
            let path = exporter_join(filepath, &file);
            let resp = h.get_file(&h.user_id(), &path).await;
            assert_eq!(
                resp.status(),
                200,
                "exporter fetch of {path} (listed {file})"
            );
            let body = resp.bytes().await.unwrap();
            let disk = h.root().join(file.trim_start_matches('/'));
            assert_eq!(
                body.as_ref(),
                std::fs::read(&disk).unwrap().as_slice(),
                "{file}"
            );
        }
    }
    assert!(data.is_dir());
}

/// Query-string form of the GET requests.
#[actix_web::test]
async fn query_string_requests() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);
    let user = h.user_id();
    let resp = h
        .http
        .get(h.url("/storage/folder"))
        .query(&[
            ("userId", user.as_str()),
            ("filepath", "/Data/with space"),
            ("recursive", "false"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        v["files"],
        serde_json::json!(["/Data/with space/ü n i c ø d e/"])
    );

    let path = "/Data/with space/ü n i c ø d e/#%?+&.txt";
    let resp = h
        .http
        .get(h.url("/storage/file"))
        .query(&[("userId", user.as_str()), ("filepath", path)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "nested special\n");
}

/// Already-encoded paths are retried decoded; a literal `%20` name is found as is.
#[actix_web::test]
async fn encoded_paths() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);
    let resp = h.get_file(&h.user_id(), "/Data/with%20space.txt").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        format!("special file 0: {}\n", SPECIAL_NAMES[0])
    );
    let resp = h.get_file(&h.user_id(), "/Data/%20literally.txt").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        "special file 7: %20literally.txt\n"
    );
    let listed = h
        .list_ok(
            "/Data/with%20space/%C3%BC%20n%20i%20c%20%C3%B8%20d%20e",
            None,
        )
        .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].ends_with("/#%?+&.txt"), "{listed:?}");
}

/// `Range` is passed through: 206 with `Content-Range`.
#[actix_web::test]
async fn range_requests() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);
    let resp = h
        .http
        .get(h.url("/storage/file"))
        .header("Range", "bytes=6-8")
        .json(&serde_json::json!({ "userId": h.user_id(), "filepath": "/Data/plain.txt" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok()),
        Some("bytes 6-8/10")
    );
    // ownCloud serves ranges, so the core says so.
    assert_eq!(
        resp.headers()
            .get("accept-ranges")
            .and_then(|v| v.to_str().ok()),
        Some("bytes")
    );
    assert_eq!(resp.text().await.unwrap(), "RDS");
}

/// POST creates (with parents) or overwrites; PATCH replaces existing files only;
/// DELETE removes files and folders. Checked on the server's disk.
#[actix_web::test]
async fn upload_replace_delete() {
    check_upload_replace_delete(&Harness::start(Efss::Nextcloud).await).await;
}

async fn check_upload_replace_delete(h: &Harness) {
    let data = build_tree(h.root(), false);

    // New file in new nested folders with hard names.
    let target = "/Data/new ü/a#b?c/100% + & more.bin";
    let resp = h
        .upload(Method::POST, target, b"first version".to_vec())
        .await;
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let disk = data.join("new ü/a#b?c/100% + & more.bin");
    assert_eq!(std::fs::read(&disk).unwrap(), b"first version");

    // POST overwrites.
    let resp = h.upload(Method::POST, target, b"second".to_vec()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(std::fs::read(&disk).unwrap(), b"second");

    // PATCH replaces an existing file.
    let resp = h
        .upload(Method::PATCH, "/Data/plain.txt", b"patched".to_vec())
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(std::fs::read(data.join("plain.txt")).unwrap(), b"patched");

    // PATCH of a missing file: 404, nothing created.
    let resp = h
        .upload(Method::PATCH, "/Data/nope/missing.txt", b"x".to_vec())
        .await;
    assert_problem(resp, 404).await;
    assert!(!data.join("nope").exists());

    // A larger upload streams through unchanged.
    let src = h.root().join("src.bin");
    write_big(&src, 6 * 1024 * 1024 + 123);
    let resp = h
        .upload(
            Method::POST,
            "/Data/uploads/big upload.bin",
            std::fs::read(&src).unwrap(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        sha256_file(&data.join("uploads/big upload.bin")),
        sha256_file(&src)
    );
    std::fs::remove_file(&src).unwrap();

    // A declared size is sent on as Content-Length; a wrong one is the caller's mistake.
    let resp = h
        .upload_sized(Method::POST, "/Data/sized.txt", b"12345".to_vec(), Some(5))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(std::fs::read(data.join("sized.txt")).unwrap(), b"12345");
    for wrong in [4, 6] {
        let resp = h
            .upload_sized(
                Method::POST,
                "/Data/wrong size.txt",
                b"12345".to_vec(),
                Some(wrong),
            )
            .await;
        assert_problem(resp, 400).await;
        assert!(!data.join("wrong size.txt").exists());
    }

    // The listing sees exactly the new state.
    let listed = h.list_ok("/Data", None).await;
    assert_eq!(listed, files_on_disk(&data, "/Data"));
    assert!(listed.contains(&"/Data/new ü/a#b?c/100% + & more.bin".to_owned()));

    // DELETE a file, then a folder with content.
    let resp = h.delete(target).await;
    assert_eq!(resp.status(), 200);
    assert!(!disk.exists());
    assert!(data.join("new ü/a#b?c").is_dir(), "only the file is gone");
    let resp = h.delete("/Data/sub").await;
    assert_eq!(resp.status(), 200);
    assert!(!data.join("sub").exists());
    assert_problem(h.delete("/Data/sub").await, 404).await;
}

/// A failed upload leaves the target as it was, and no temporary file.
#[actix_web::test]
async fn failed_uploads_leave_no_trace() {
    let h = Harness::start(Efss::Owncloud).await;
    let data = build_tree(h.root(), false);
    let before = files_on_disk(h.root(), "");

    h.dav().inject(Fault::new("PUT", 500));
    let resp = h
        .upload(Method::POST, "/Data/plain.txt", b"never".to_vec())
        .await;
    assert_problem(resp, 502).await;

    h.dav().inject(Fault::new("PUT", 507));
    let resp = h
        .upload(Method::POST, "/Data/full.txt", b"no room".to_vec())
        .await;
    assert_problem(resp, 507).await;
    assert!(!data.join("full.txt").exists());

    // A plain PUT's body cannot be sent twice: a 423 is passed on.
    h.dav().inject(Fault::new("PUT", 423));
    let resp = h
        .upload(Method::PATCH, "/Data/plain.txt", b"locked".to_vec())
        .await;
    assert_problem(resp, 423).await;

    assert_eq!(
        std::fs::read(data.join("plain.txt")).unwrap(),
        b"hello RDS\n"
    );
    assert_eq!(files_on_disk(h.root(), ""), before);
    // A temporary file an earlier version left behind is hidden from listings.
    std::fs::write(data.join(".x.txt.rds-upload-0123"), b"partial").unwrap();
    assert!(!h
        .list_ok("/Data", None)
        .await
        .iter()
        .any(|f| f.contains("rds-upload")));
}

/// Wrong credentials, missing paths and `..`: problem+json with 401/404/400, and
/// neither the wrong token nor the right one in the answer.
async fn check_client_errors(h: &Harness) {
    let wrong = h.user_id_with_token("wrong-token");
    let v = assert_problem(h.list(&wrong, "/Data", None).await, 401).await;
    assert!(!v.to_string().contains("wrong-token"), "token echoed: {v}");
    assert_problem(h.get_file(&wrong, "/Data/plain.txt").await, 401).await;

    assert_problem(h.get_file(&h.user_id(), "/Data/missing.txt").await, 404).await;
    assert_problem(h.list(&h.user_id(), "/Nope", None).await, 404).await;
    assert_problem(h.get_file(&h.user_id(), "/Data/../etc/passwd").await, 400).await;
    assert_problem(h.list(&h.user_id(), "../", None).await, 400).await;
}

/// Errors: problem+json with the contract's statuses; the process stays up.
#[actix_web::test]
async fn errors_are_problems() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);

    check_client_errors(&h).await;

    h.dav().inject(Fault::new("PROPFIND", 423));
    assert_problem(h.list(&h.user_id(), "/Data", None).await, 423).await;
    h.dav().inject(Fault::new("GET", 500));
    assert_problem(h.get_file(&h.user_id(), "/Data/plain.txt").await, 502).await;
    h.dav().inject(Fault::new("GET", 403));
    assert_problem(h.get_file(&h.user_id(), "/Data/plain.txt").await, 403).await;

    // A sub-folder failing mid-walk fails the listing (no silent partial answer).
    h.dav()
        .inject(Fault::new("PROPFIND", 500).on_path("/deeper"));
    assert_problem(h.list(&h.user_id(), "/Data", None).await, 502).await;

    // Server down: 502/503, quickly, and the connector still serves.
    let Harness {
        server,
        conn,
        http,
        dir,
        ..
    } = h;
    match server {
        Server::Dav(dav) => dav.stop().await,
        Server::Rclone(_) => unreachable!(),
    }
    let user_id = format!("port-owncloud-x://{USER}:{TOKEN}");
    let started = std::time::Instant::now();
    let resp = http
        .get(format!("{}/storage/file", conn.url()))
        .json(&serde_json::json!({ "userId": user_id, "filepath": "/Data/plain.txt" }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(status == 502 || status == 503, "server down gave {status}");
    assert_problem(resp, status).await;
    let resp = http
        .get(format!("{}/storage/folder", conn.url()))
        .json(&serde_json::json!({ "userId": user_id, "filepath": "/Data" }))
        .send()
        .await
        .unwrap();
    assert!(matches!(resp.status().as_u16(), 502 | 503));
    // Not a timing assertion on speed, only that it did not hang until a test timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let health = http
        .get(format!("{}/health", conn.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    conn.stop().await;
    drop(dir);
}

/// A server (or a plugin, or a proxy) that echoes the credentials in its Sabre message,
/// upper-cased, in part, percent-encoded or as the Basic header's base64: the caller gets
/// the status and our own wording, and no answer or log line (at trace level) any of it.
#[actix_web::test]
async fn echoed_credentials_reach_neither_the_caller_nor_the_logs() {
    use base64::Engine as _;
    let logs = Logs::capture();
    let h = Harness::start_with(Setup {
        server_auth: ServerAuth::Basic,
        connector_auth: "basic",
        ..Default::default()
    })
    .await;
    build_tree(h.root(), false);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TOKEN}"));
    let echoes = [
        format!("Token {} is not valid", TOKEN.to_uppercase()),
        format!("token {}... refused", &TOKEN[..9]),
        format!("token ...{} refused", &TOKEN[TOKEN.len() - 8..]),
        format!("bad credentials {}", &basic[4..]),
        format!(
            "token {} refused",
            TOKEN.replace(':', "%3A").replace('/', "%2F")
        ),
    ];
    for echo in &echoes {
        h.dav().inject(Fault::new("GET", 403).message(echo));
        let v = assert_problem(h.get_file(&h.user_id(), "/Data/plain.txt").await, 403).await;
        for secret in [TOKEN, basic.as_str()] {
            let leaked = parts_of(secret, &v.to_string(), 6);
            assert!(leaked.is_empty(), "{echo:?} leaked {leaked:?}: {v}");
        }
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("HTTP 403") && detail.contains("withheld"),
            "{detail}"
        );
    }
    // A message that holds nothing of them is still passed on.
    h.dav()
        .inject(Fault::new("GET", 403).message("Access to this file is restricted"));
    let v = assert_problem(h.get_file(&h.user_id(), "/Data/plain.txt").await, 403).await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("Access to this file is restricted"),
        "{v}"
    );
    let logs = logs.text();
    assert!(
        logs.contains("served"),
        "the capture sees the connector's logs"
    );
    for secret in [TOKEN, basic.as_str()] {
        let leaked = parts_of(secret, &logs, 6);
        assert!(leaked.is_empty(), "the logs hold {leaked:?}");
    }
}

/// A server that does not answer in time: 504, as problem+json.
#[actix_web::test]
async fn slow_server_is_a_gateway_timeout() {
    let h = Harness::start_with(Setup {
        response_timeout_secs: 1,
        ..Default::default()
    })
    .await;
    build_tree(h.root(), false);
    h.dav().set_delay(Some(std::time::Duration::from_secs(3)));
    assert_problem(h.list(&h.user_id(), "/Data", None).await, 504).await;
}

/// Basic auth with an app password (`OWNCLOUD_AUTH=basic`), against a server that only
/// accepts Basic.
#[actix_web::test]
async fn basic_auth_mode() {
    let h = Harness::start_with(Setup {
        efss: Efss::Nextcloud,
        server_auth: ServerAuth::Basic,
        connector_auth: "basic",
        ..Default::default()
    })
    .await;
    let data = build_tree(h.root(), false);
    assert_eq!(
        h.list_ok("/Data", None).await,
        files_on_disk(&data, "/Data")
    );
    let resp = h.get_file(&h.user_id(), "/Data/plain.txt").await;
    assert_eq!(resp.text().await.unwrap(), "hello RDS\n");
    let wrong = format!("port-owncloud-x://{USER}:nope");
    assert_problem(h.list(&wrong, "/Data", None).await, 401).await;
}

/// Normal-format userId: the token comes from the port service (Token Storage emulator).
#[actix_web::test]
async fn normal_format_user_id() {
    let ts = test_support::token_storage::TokenStorage::start().await;
    ts.add_token(USER, "port-owncloud-x", TOKEN);
    let h = Harness::start_with(Setup {
        efss: Efss::Nextcloud,
        port_service: Some(ts.url()),
        ..Default::default()
    })
    .await;
    let data = build_tree(h.root(), false);
    let resp = h.list(USER, "/Data", None).await;
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    let mut files: Vec<String> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().into())
        .collect();
    files.sort();
    assert_eq!(files, files_on_disk(&data, "/Data"));
    let resp = h.get_file(USER, "/Data/sub/y.json").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "{\"k\": 1}\n");
    assert!(ts.lookups() >= 1);
    // A user without a token: 401.
    assert_problem(h.list("bob", "/Data", None).await, 401).await;
}

/// Recursive listings walk with Depth 1 only, one PROPFIND per folder.
#[actix_web::test]
async fn one_propfind_per_folder() {
    let h = Harness::start(Efss::Owncloud).await;
    let data = build_tree(h.root(), false);
    h.dav().reset_counters();
    h.list_ok("/Data", None).await;
    let folders = 1 + walk_dirs(&data);
    assert_eq!(h.dav().requests("PROPFIND"), folders as u64);
}

/// The walk runs PROPFINDs in parallel, never more than the bound (8 by default).
#[actix_web::test]
async fn listing_concurrency_is_bounded() {
    let h = Harness::start(Efss::Owncloud).await;
    let data = h.root().join("Wide");
    for i in 0..30 {
        let d = data.join(format!("d{i:02}")).join("inner");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("f.txt"), format!("{i}")).unwrap();
    }
    // A slow server makes the requests overlap.
    h.dav()
        .set_delay(Some(std::time::Duration::from_millis(30)));
    h.dav().reset_counters();
    let listed = h.list_ok("/Wide", None).await;
    assert_eq!(listed, files_on_disk(&data, "/Wide"));
    assert_eq!(listed.len(), 30);
    assert_eq!(h.dav().requests("PROPFIND"), 61);
    let max = h.dav().max_in_flight();
    assert!(max <= 8, "{max} PROPFINDs at once");
    assert!(max >= 2, "the walk never ran two PROPFINDs at once");
}

fn walk_dirs(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| 1 + walk_dirs(&e.path()))
        .sum()
}

/// A caller that breaks off mid-upload (`declared` bytes promised, `sent` MiB sent, by
/// when the server has seen `puts` PUTs): while the bytes flow, nothing is under the real
/// name (the server's part file, or the chunked upload's folder, holds them); after the
/// break, the target is absent and no upload folder or part file is left.
async fn broken_off_upload(h: &Harness, target: &str, declared: usize, sent: usize, puts: u64) {
    use tokio::io::AsyncWriteExt;

    let data = h.root().join("Data");
    let boundary = "rdsBoundary7MA4YWxkTrZu0gW";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"filepath\"\r\n\r\n/Data/{target}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{target}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        h.user_id()
    );
    let mut stream = tokio::net::TcpStream::connect(h.conn.addr()).await.unwrap();
    let request = format!(
        "POST /storage/file HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        h.conn.addr(),
        head.len() + declared
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 256 * 1024];
    for _ in 0..4 * sent {
        stream.write_all(&chunk).await.unwrap();
    }
    stream.flush().await.unwrap();
    let in_flight = || h.dav().part_files() + h.dav().upload_folders().len();
    let mut seen = false;
    for _ in 0..500 {
        if in_flight() > 0 && h.dav().requests("PUT") >= puts {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "the upload is in flight at the server");
    assert!(
        !data.join(target).exists(),
        "no half file under the real name"
    );
    drop(stream);

    for _ in 0..300 {
        if in_flight() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(in_flight(), 0, "{:?}", h.dav().upload_folders());
    assert!(!data.join(target).exists());
    // The connector is fine afterwards.
    assert_eq!(
        h.list_ok("/Data", None).await,
        files_on_disk(&data, "/Data")
    );
}

/// Below the chunk threshold: a plain PUT into the server's part file.
#[actix_web::test]
async fn interrupted_upload_leaves_nothing() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);
    broken_off_upload(&h, "cut off.bin", 16 << 20, 2, 1).await;
}

/// Above it: a chunked upload (here one 5 MiB chunk has gone), whose folder is deleted
/// when the caller goes away.
#[actix_web::test]
async fn interrupted_chunked_upload_leaves_no_upload_folder() {
    let h = Harness::start_with(Setup {
        efss: Efss::Nextcloud,
        chunk_threshold: Some(1 << 20),
        chunk_size: Some(5 << 20),
        ..Default::default()
    })
    .await;
    build_tree(h.root(), false);
    broken_off_upload(&h, "cut off.bin", 64 << 20, 7, 1).await;
    assert_eq!(h.dav().requests("MOVE"), 0);
}

/// The same suites against a second, independent WebDAV server: `rclone serve webdav`
/// (ownCloud layout, Basic auth with an app password). `.ci/run` installs rclone and runs
/// it: `cargo test -p owncloud-connector --test storage -- --ignored`.
#[actix_web::test]
#[ignore = "needs rclone (Debian: apt-get install rclone); run with --ignored"]
async fn rclone_server() {
    let h = Harness::start_rclone().await;
    check_tree(&h).await;
    check_exporter(&h).await;
    check_upload_replace_delete(&h).await;
    check_client_errors(&h).await;
}
