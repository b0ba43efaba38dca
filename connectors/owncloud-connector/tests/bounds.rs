//! Work a WebDAV server can make unbounded, against hostile servers
//! (`owncloud_emulator::hostile_dav`): listings that never end or loop, names that are not
//! plain names, a gigantic href, a caller who leaves mid-walk; and uploads that would
//! create hundreds of folders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use connector_core::server::RunningConnector;
use connector_core::{CommonConfig, ConnectorSpec};
use owncloud_connector::config::OwncloudConfig;
use owncloud_connector::Owncloud;
use owncloud_emulator::hostile_dav::{HostileDav, Tree};
use serde_json::{json, Value};

const USER_ID: &str = "port-owncloud-x://alice:tok";

async fn connector(base: String, common: CommonConfig) -> RunningConnector {
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 2,
        response_timeout_secs: 20,
        ..common
    };
    let cfg = OwncloudConfig {
        owncloud_installation_url: Some(base),
        servicename: Some("x".into()),
        ..Default::default()
    };
    let built = Owncloud::build(&common, cfg).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

/// `GET /storage/folder`, with a bound far above any limit's cost.
async fn list(conn: &RunningConnector, filepath: &str, recursive: bool) -> (u16, Value) {
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
        .get(format!("{}/storage/folder", conn.url()))
        .json(&json!({"userId": USER_ID, "filepath": filepath, "recursive": recursive}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("listing {filepath:?}: no answer within 60 s: {e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().unwrap_or_default()
}

/// A tree with a folder `a` in every folder: the walk stops at `MAX_LISTING_DEPTH` with a
/// 502 naming it, after about that many PROPFINDs.
#[tokio::test]
async fn a_tree_that_never_ends_stops_at_the_depth_limit() {
    let dav = HostileDav::start(Tree::Endless, Duration::ZERO)
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let (status, body) = list(&conn, "/", true).await;
    assert_eq!(status, 502, "{body}");
    assert!(detail(&body).contains("MAX_LISTING_DEPTH"), "{body}");
    assert!(dav.requests() <= 70, "{} PROPFINDs", dav.requests());
    conn.stop().await;
}

/// A tree of 8 sub-folders per folder: the walk stops at `MAX_LISTING_ENTRIES` with a 502
/// naming it.
#[tokio::test]
async fn a_tree_that_fans_out_stops_at_the_entry_limit() {
    let dav = HostileDav::start(Tree::FanOut(8), Duration::ZERO)
        .await
        .unwrap();
    let common = CommonConfig {
        max_listing_entries: 2_000,
        ..Default::default()
    };
    let conn = connector(dav.base_url(), common).await;
    let (status, body) = list(&conn, "/", true).await;
    assert_eq!(status, 502, "{body}");
    assert!(detail(&body).contains("MAX_LISTING_ENTRIES"), "{body}");
    // 2,000 entries at 9 per folder: ~220 folders listed, with some in flight.
    assert!(dav.requests() <= 300, "{} PROPFINDs", dav.requests());
    conn.stop().await;
}

/// Folders that list themselves (and the root) as their own children, as a symlink loop
/// on external storage does: those entries are dropped, the walk ends, the files remain.
#[tokio::test]
async fn a_folder_listing_itself_is_not_walked_again() {
    let dav = HostileDav::start(Tree::SelfChild, Duration::ZERO)
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let (status, body) = list(&conn, "/", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"], json!(["/f.txt"]));
    assert_eq!(dav.requests(), 1, "only the root is listed");
    let (status, body) = list(&conn, "/", false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"], json!(["/f.txt"]));
    conn.stop().await;
}

/// Hrefs holding `..`, NUL, backslashes, or a name that decodes to `/../`: dropped (the
/// listing succeeds with the plain entries), never passed on, never blamed on the caller.
#[tokio::test]
async fn names_that_are_not_plain_are_dropped() {
    let dav = HostileDav::start(Tree::BadNames, Duration::ZERO)
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let (status, body) = list(&conn, "/", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"], json!(["/ok.txt", "/sub/inner.txt"]));
    let (status, body) = list(&conn, "/", false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"], json!(["/ok.txt", "/sub/"]));
    conn.stop().await;
}

/// One file with a 100 MB href (the probe's 300 MB one drove RSS to 900 MB): the listing
/// fails with a 502 naming `MAX_UPSTREAM_ANSWER_BYTES` long before the href has arrived.
#[tokio::test]
async fn a_gigantic_href_is_refused_without_reading_it() {
    let total = 100 * 1024 * 1024;
    let dav = HostileDav::start(Tree::HugeHref(total), Duration::ZERO)
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let (status, body) = list(&conn, "/", false).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        detail(&body).contains("MAX_UPSTREAM_ANSWER_BYTES"),
        "{body}"
    );
    // The default cap is 8 MiB; socket buffers hold a few MiB more.
    let sent = dav.body_bytes_sent();
    assert!(sent < 40 * 1024 * 1024, "{sent} bytes were sent");
    conn.stop().await;
}

/// A folder of 100,000 files (about 25 MB of XML here, 80 MB from ownCloud) lists under
/// the default limits; one file more than a configured `MAX_LISTING_ENTRIES` is a 502
/// naming it.
#[tokio::test]
async fn a_wide_folder_lists_up_to_the_entry_limit() {
    let dav = HostileDav::start(Tree::Wide(100_000), Duration::ZERO)
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let (status, body) = list(&conn, "/", true).await;
    assert_eq!(status, 200, "{}", detail(&body));
    assert_eq!(body["files"].as_array().map(Vec::len), Some(100_000));
    conn.stop().await;
    let common = CommonConfig {
        max_listing_entries: 99_999,
        ..Default::default()
    };
    let conn = connector(dav.base_url(), common).await;
    let (status, body) = list(&conn, "/", false).await;
    assert_eq!(status, 502, "{body}");
    assert!(detail(&body).contains("MAX_LISTING_ENTRIES"), "{body}");
    conn.stop().await;
}

/// A caller who gives up on a listing of a tree without end (1 s): the walk stops, the
/// server's PROPFIND count stops growing.
#[tokio::test]
async fn a_caller_who_leaves_stops_the_walk() {
    let dav = HostileDav::start(Tree::FanOut(8), Duration::from_millis(50))
        .await
        .unwrap();
    let conn = connector(dav.base_url(), CommonConfig::default()).await;
    let gone = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap()
        .get(format!("{}/storage/folder", conn.url()))
        .json(&json!({"userId": USER_ID, "filepath": "/", "recursive": true}))
        .send()
        .await;
    assert!(gone.is_err(), "the walk was expected to outlast 1 s");
    let started = dav.requests();
    assert!(started > 0);
    // The connector notices the caller has gone and ends the request (a 400 nobody
    // reads; no other test here lists with a 400)...
    let ended =
        r#"connector_http_requests_total{method="GET",route="/storage/folder",status="400"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = reqwest::get(format!("{}/metrics", conn.url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains(ended) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the connector never noticed the caller left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...then at most the PROPFINDs in flight land. A walk still running would send one
    // every 50 ms: dozens in the 3 s watched.
    let settled = dav.requests();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = dav.requests();
    assert!(
        later <= settled + 2,
        "PROPFINDs went on after the caller left: {started} → {settled} → {later}"
    );
    conn.stop().await;
}

/// An upload to a new path deeper than `MAX_PATH_DEPTH`: 400 naming the limit, and not one
/// request reaches the server (it would have cost one MKCOL per folder).
#[tokio::test]
async fn an_upload_deeper_than_the_limit_is_refused_before_any_mkcol() {
    let h = common::Harness::start(common::Efss::Owncloud).await;
    let upload = |folders: usize| {
        let form = reqwest::multipart::Form::new()
            .text("userId", h.user_id())
            .text("filepath", format!("{}/f.txt", "/d".repeat(folders)))
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("f.txt"),
            );
        h.http.post(h.url("/storage/file")).multipart(form).send()
    };
    let resp = upload(300).await.unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 400, "{body}");
    assert!(detail(&body).contains("MAX_PATH_DEPTH"), "{body}");
    assert_eq!(h.dav().total_requests(), 0, "no request reaches the server");
    // At the limit (64 folders, the default) the upload goes through.
    let resp = upload(64).await.unwrap();
    assert_eq!(resp.status(), 200);
    h.conn.stop().await;
}
