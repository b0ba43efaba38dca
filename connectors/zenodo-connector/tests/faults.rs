//! Faults the emulator cannot produce, from a raw-TCP upstream (`test_support::faulty`):
//! a Zenodo that never answers, answers cut short or reset, garbage bodies; and a caller
//! that breaks off an upload midway (nothing stored, no spool file left).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use connector_core::server::RunningConnector;
use reqwest::Method;
use serde_json::{json, Value};
use test_support::faulty::{FaultyUpstream, Mode};
use tokio::io::AsyncWriteExt;
use zenodo_connector::{Options, Zenodo, ZenodoConfig};

use common::{test_policy, user_id};

async fn connector(base: &str, response_secs: u64) -> RunningConnector {
    let common = connector_core::CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        connect_timeout_secs: 2,
        response_timeout_secs: response_secs,
        idle_timeout_secs: 5,
        ..Default::default()
    };
    let cfg = ZenodoConfig {
        zenodo_address: Some(base.to_owned()),
        ..Default::default()
    };
    let options = Options {
        retry: test_policy(),
        spool_dir: None,
    };
    let built = Zenodo::build_with(&common, cfg, options).unwrap();
    connector_core::server::start(common, built).await.unwrap()
}

/// Calls a JSON route with a bound far above the configured timeouts.
async fn call(conn: &RunningConnector, method: Method, path: &str) -> (u16, String, Value) {
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .request(method, format!("{}{path}", conn.url()))
        .json(&json!({"userId": user_id(), "metadata": null}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: no answer within 30 s: {e}"));
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, ct, body)
}

fn assert_gateway_problem(path: &str, (status, ct, body): &(u16, String, Value), want: &[u16]) {
    assert!(want.contains(status), "{path}: {status} {body}");
    assert_eq!(ct, "application/problem+json", "{path}");
    assert!(
        !body["detail"].as_str().unwrap_or_default().is_empty(),
        "{path}: {body}"
    );
}

async fn assert_health(conn: &RunningConnector) {
    let r = reqwest::get(format!("{}/health", conn.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Accepts, never answers: 504 after `RESPONSE_TIMEOUT_SECS` (2 s), retries included.
#[tokio::test]
async fn zenodo_that_never_answers_is_a_gateway_timeout() {
    let up = FaultyUpstream::start(Mode::Blackhole).await.unwrap();
    let conn = connector(&up.url(), 2).await;
    for (method, path) in [
        (Method::GET, "/metadata/project"),
        (Method::GET, "/metadata/project/17"),
        (Method::POST, "/metadata/project"),
        (Method::GET, "/metadata/project/17/files"),
    ] {
        let got = call(&conn, method, path).await;
        assert_gateway_problem(path, &got, &[504]);
    }
    assert_health(&conn).await;
    conn.stop().await;
}

/// Answers cut short (FIN or RST before the declared length) or not JSON at all: 502.
#[tokio::test]
async fn broken_answers_are_bad_gateway() {
    let up = FaultyUpstream::start(Mode::Truncate {
        declared: 10_000,
        sent: 100,
    })
    .await
    .unwrap();
    let conn = connector(&up.url(), 5).await;
    let modes = [
        Mode::Truncate {
            declared: 10_000,
            sent: 100,
        },
        Mode::Reset {
            declared: 10_000,
            sent: 100,
        },
        Mode::Respond {
            status: 200,
            content_type: "application/json".into(),
            body: b"{\"id\": 17, \"metadata\": {".to_vec(),
        },
        Mode::Respond {
            status: 200,
            content_type: "text/html".into(),
            body: b"<html>maintenance</html>".to_vec(),
        },
    ];
    for mode in modes {
        up.set_mode(mode.clone());
        for path in ["/metadata/project", "/metadata/project/17"] {
            let got = call(&conn, Method::GET, path).await;
            assert_gateway_problem(&format!("{mode:?} {path}"), &got, &[502]);
        }
    }
    assert_health(&conn).await;
    conn.stop().await;
}

/// A multipart upload the caller breaks off midway, with the size unknown (spooled) and
/// known (streamed straight to the bucket): no file in the deposition, no spool file.
#[tokio::test]
async fn interrupted_upload_leaves_nothing() {
    let spool = tempfile::tempdir().unwrap();
    let env = common::start_with_options(
        common::local(),
        Options {
            retry: test_policy(),
            spool_dir: Some(spool.path().to_path_buf()),
        },
    )
    .await;
    let id = env.create(Value::Null).await;
    let promised: usize = 64 << 20;
    for size_field in [None, Some(promised)] {
        let boundary = "rdsBoundaryZ3n0d0cut";
        let mut head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"filename\"\r\n\r\ncut.bin\r\n",
            user_id()
        );
        if let Some(size) = size_field {
            head.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"size\"\r\n\r\n{size}\r\n"
            ));
        }
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        ));
        let mut stream = tokio::net::TcpStream::connect(env.conn.addr())
            .await
            .unwrap();
        let request = format!(
            "POST /metadata/project/{id}/files HTTP/1.1\r\nHost: {}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            env.conn.addr(),
            head.len() + promised
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'z'; 256 * 1024];
        for _ in 0..8 {
            stream.write_all(&chunk).await.unwrap();
        }
        stream.flush().await.unwrap();
        // Wait until the bytes are on their way: a spool file, or a PUT to the bucket.
        let mut started = false;
        for _ in 0..300 {
            let spooled = std::fs::read_dir(spool.path()).unwrap().count() > 0;
            let putting = env.zenodo.requests().iter().any(|r| r.method == "PUT");
            if spooled || putting {
                started = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(started, "size {size_field:?}: the upload never started");
        drop(stream);

        let mut clean = false;
        for _ in 0..300 {
            let spooled = std::fs::read_dir(spool.path()).unwrap().count();
            if spooled == 0 && env.zenodo.files(id).is_empty() {
                clean = true;
                // Give a late bucket PUT the chance to (wrongly) complete.
                tokio::time::sleep(Duration::from_millis(200)).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(clean, "size {size_field:?}: a spool file is left behind");
        assert!(
            env.zenodo.files(id).is_empty(),
            "size {size_field:?}: a file was stored: {:?}",
            env.zenodo.files(id)
        );
        assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
        env.zenodo.clear_requests();
    }
    // The connector is fine afterwards: a whole upload works.
    let (status, body) = env.upload(id, "whole.bin", vec![1u8; 1000]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(env.zenodo.files(id).len(), 1);
    env.stop().await;
}
