//! Provider faults no real WebDAV server produces on demand, from a raw-TCP upstream
//! (`test_support::faulty`): bodies cut short or reset after a full `Content-Length`,
//! stalls, a server that never answers, 5xx once and always. Each ends in an error the
//! caller can detect (a problem answer, or a body that fails before its declared length),
//! never a hang or a 500, and the connector keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::assert_problem;
use connector_core::server::RunningConnector;
use connector_core::{CommonConfig, ConnectorSpec};
use owncloud_connector::config::OwncloudConfig;
use owncloud_connector::Owncloud;
use test_support::faulty::{FaultyUpstream, Mode};

const USER_ID: &str = "port-owncloud-x://alice:tok";
/// The test's own bound on any one answer: far above every configured timeout.
const CLIENT_BOUND: Duration = Duration::from_secs(30);

async fn connector(base: &str, response_secs: u64, idle_secs: u64) -> RunningConnector {
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 2,
        response_timeout_secs: response_secs,
        idle_timeout_secs: idle_secs,
        ..Default::default()
    };
    let cfg = OwncloudConfig {
        owncloud_installation_url: Some(base.to_owned()),
        servicename: Some("x".into()),
        ..Default::default()
    };
    let built = Owncloud::build(&common, cfg).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CLIENT_BOUND)
        .build()
        .unwrap()
}

async fn get_file(conn: &RunningConnector) -> reqwest::Response {
    client()
        .get(format!("{}/storage/file", conn.url()))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/Data/f.bin"}))
        .send()
        .await
        .expect("an answer within the test's bound")
}

/// A download whose upstream body breaks: a problem answer, or a 200 whose body fails
/// before its declared length. Never a complete-looking short file.
async fn assert_broken_download_detected(conn: &RunningConnector, declared: u64) {
    let resp = get_file(conn).await;
    let status = resp.status().as_u16();
    if status == 200 {
        assert_eq!(resp.content_length(), Some(declared), "the declared length");
        let body = resp.bytes().await;
        assert!(
            body.is_err(),
            "a short body ended cleanly with {} of {declared} bytes",
            body.map(|b| b.len()).unwrap_or_default()
        );
    } else {
        assert!(matches!(status, 502 | 504), "status {status}");
        assert_problem(resp, status).await;
    }
}

async fn assert_still_serving(conn: &RunningConnector, up: &FaultyUpstream) {
    let health = client()
        .get(format!("{}/health", conn.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A healthy upstream again: the next download is whole.
    up.set_mode(Mode::Trickle {
        total: 300_000,
        chunk: 100_000,
        interval: Duration::from_millis(1),
    });
    let resp = get_file(conn).await;
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    let mut want = vec![0u8; 300_000];
    test_support::faulty::pattern(0, &mut want);
    assert!(
        body.as_ref() == want.as_slice(),
        "the recovered download differs"
    );
}

/// A download whose upstream body breaks in `mode` (4 MiB declared) is detected by the
/// caller, and the connector serves on. `idle_secs`: the connector's idle timeout.
async fn broken_body_is_detected(mode: fn(u64) -> Mode, idle_secs: u64) {
    let declared = 4 << 20;
    let up = FaultyUpstream::start(mode(declared)).await.unwrap();
    let conn = connector(&up.url(), 5, idle_secs).await;
    assert_broken_download_detected(&conn, declared).await;
    assert_still_serving(&conn, &up).await;
    conn.stop().await;
}

#[actix_web::test]
async fn body_closed_halfway_is_detected() {
    broken_body_is_detected(
        |declared| Mode::Truncate {
            declared,
            sent: 1 << 20,
        },
        10,
    )
    .await;
}

#[actix_web::test]
async fn connection_reset_mid_body_is_detected() {
    broken_body_is_detected(
        |declared| Mode::Reset {
            declared,
            sent: 1 << 20,
        },
        10,
    )
    .await;
}

/// A body that stops flowing is cut after `IDLE_TIMEOUT_SECS`.
#[actix_web::test]
async fn stalled_body_is_cut_by_the_idle_timeout() {
    broken_body_is_detected(
        |declared| Mode::StallBody {
            declared,
            sent: 512 << 10,
        },
        2,
    )
    .await;
}

/// A server that accepts and never answers: 504 once `RESPONSE_TIMEOUT_SECS` (2 s) has
/// passed; `IDLE_TIMEOUT_SECS` is far longer (60 s) and must not be what ends the wait.
async fn check_blackhole(route: &str) {
    let up = FaultyUpstream::start(Mode::Blackhole).await.unwrap();
    let conn = connector(&up.url(), 2, 60).await;
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{}{route}", conn.url()))
        .json(&serde_json::json!({"userId": USER_ID, "filepath": "/Data/f.bin"}))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("{route}: no answer within 20 s with RESPONSE_TIMEOUT_SECS=2: {e}")
        });
    assert_problem(resp, 504).await;
    assert_still_serving(&conn, &up).await;
    conn.stop().await;
}

#[actix_web::test]
async fn blackhole_listing_is_a_gateway_timeout() {
    check_blackhole("/storage/folder").await;
}

#[actix_web::test]
async fn blackhole_download_is_a_gateway_timeout() {
    check_blackhole("/storage/file").await;
}

/// An upload into a server that takes the body and never answers: bounded by the idle
/// timeout, a gateway error, no hang.
#[actix_web::test]
async fn blackhole_upload_is_bounded() {
    let up = FaultyUpstream::start(Mode::Blackhole).await.unwrap();
    let conn = connector(&up.url(), 2, 3).await;
    let form = reqwest::multipart::Form::new()
        .text("userId", USER_ID)
        .text("filepath", "/Data/up.bin")
        .part("file", reqwest::multipart::Part::bytes(vec![5u8; 100_000]));
    let resp = client()
        .post(format!("{}/storage/file", conn.url()))
        .multipart(form)
        .send()
        .await
        .expect("an answer within the test's bound");
    let status = resp.status().as_u16();
    assert!(matches!(status, 502 | 504), "status {status}");
    assert_problem(resp, status).await;
    assert_still_serving(&conn, &up).await;
    conn.stop().await;
}

/// 5xx always: every call is a 502 problem; 5xx once: the next call succeeds.
#[actix_web::test]
async fn server_errors_always_then_once() {
    let sabre = |status: u16| Mode::Respond {
        status,
        content_type: "application/xml; charset=utf-8".into(),
        body:
            b"<?xml version=\"1.0\"?><d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">\
<s:exception>Sabre\\DAV\\Exception</s:exception><s:message>boom</s:message></d:error>"
                .to_vec(),
    };
    let up = FaultyUpstream::start(sabre(500)).await.unwrap();
    let conn = connector(&up.url(), 5, 10).await;
    for status in [500, 502, 503, 504] {
        up.set_mode(sabre(status));
        for _ in 0..3 {
            let resp = get_file(&conn).await;
            let got = resp.status().as_u16();
            assert!(matches!(got, 502..=504), "upstream {status} became {got}");
            assert_problem(resp, got).await;
        }
    }
    // Once: a single failing answer, then a healthy server.
    up.set_mode(sabre(503));
    let resp = get_file(&conn).await;
    assert!(matches!(resp.status().as_u16(), 502..=504));
    assert_still_serving(&conn, &up).await;
    conn.stop().await;
}

/// A listener whose accept queue is full drops new SYNs, so a connect hangs: the
/// connect timeout (1 s; the response timeout is 30 s) ends it with a gateway error.
#[actix_web::test]
async fn connect_timeout_bounds_an_unanswered_connect() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted); later SYNs go unanswered.
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    let common = CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 1,
        response_timeout_secs: 30,
        idle_timeout_secs: 60,
        ..Default::default()
    };
    let cfg = OwncloudConfig {
        owncloud_installation_url: Some(format!("http://{addr}")),
        servicename: Some("x".into()),
        ..Default::default()
    };
    let built = Owncloud::build(&common, cfg).unwrap();
    let conn = connector_core::server::start(common, built).await.unwrap();
    for route in ["/storage/folder", "/storage/file"] {
        let asked = std::time::Instant::now();
        let resp = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap()
            .get(format!("{}{route}", conn.url()))
            .json(&serde_json::json!({"userId": USER_ID, "filepath": "/Data/f.bin"}))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("{route}: no answer within 15 s, CONNECT_TIMEOUT_SECS=1: {e}")
            });
        let status = resp.status().as_u16();
        println!(
            "{route}: {status} after {:?} ({} queued)",
            asked.elapsed(),
            fillers.len()
        );
        assert!(matches!(status, 503 | 504), "{route}: {status}");
        assert_problem(resp, status).await;
    }
    drop((fillers, listener));
    conn.stop().await;
}
