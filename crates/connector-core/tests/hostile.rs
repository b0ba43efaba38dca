//! Hostile input the core must bound: a form of 100,000 keys, extension methods as
//! metric labels, bodies that never finish, and user names that would turn the token
//! lookup into a call to another route of the port service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::built;
use connector_core::server::{self, RunningConnector};
use connector_core::CommonConfig;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start(cfg: CommonConfig) -> RunningConnector {
    server::start(cfg, built("port-echo", Arc::default()))
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_form_of_many_keys_costs_no_worker_for_long() {
    let cfg = CommonConfig {
        workers: 1,
        ..common::common()
    };
    let c = start(cfg).await;
    let base = c.url();
    let mut form = String::from("userId=port-echo%3A%2F%2Fu%3At&filepath=%2F");
    for i in 0..100_000 {
        form.push_str(&format!("&k{i}=v"));
    }
    assert!(form.len() < 1024 * 1024, "under MAX_JSON_BODY_BYTES");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let big = client
        .get(format!("{base}/storage/folder"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send();
    // The one worker also answers /health meanwhile.
    let health = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = client.get(format!("{base}/health")).send().await.unwrap();
        (r.status().as_u16(), started.elapsed())
    };
    let (big, (health_status, health_after)) = tokio::join!(big, health);
    let big = big.unwrap();
    let took = started.elapsed();
    assert_eq!(big.status(), 200, "{:?}", big.text().await);
    assert_eq!(health_status, 200);
    // Generous bounds that catch the pairwise check (tens of seconds in a debug build).
    assert!(took < Duration::from_secs(5), "the form took {took:?}");
    assert!(
        health_after < Duration::from_secs(5),
        "/health waited {health_after:?}"
    );
    // A repeated key is still refused, even as the last of many.
    let mut form: String = (0..50_000).map(|i| format!("k{i}=v&")).collect();
    form.push_str("k7=again");
    let r = client
        .get(format!("{base}/storage/folder"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("k7 is given more than once"),
        "{v}"
    );
    c.stop().await;
}

#[actix_web::test]
async fn extension_methods_and_paths_make_no_metric_series() {
    let c = start(common::common()).await;
    let base = c.url();
    let client = reqwest::Client::new();
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("XMETHOD{i}").as_bytes()).unwrap();
        // A known route answers 405, an unknown one 404.
        let paths = [
            ("/storage/file".to_owned(), 405),
            ("/health".to_owned(), 405),
            (format!("/xpath{i}/z"), 404),
            (format!("/storage/xpath{i}"), 404),
        ];
        for (path, want) in &paths {
            let r = client
                .request(method.clone(), format!("{base}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), *want, "{method} {path}");
        }
    }
    for path in ["/xpath-get/1", "/storage/xpath-get", "/metadata/xpath-get"] {
        client.get(format!("{base}{path}")).send().await.unwrap();
    }
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("XMETHOD"), "{metrics}");
    assert!(!metrics.contains("xpath"), "{metrics}");
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
    assert!(metrics.contains("route=\"unmatched\""), "{metrics}");
    c.stop().await;
}

/// Sends `head` and `body` on a raw connection, then waits (the body stays short) and
/// returns what the server answered and when.
async fn send_and_stall(addr: &str, head: &str, body: &[u8]) -> (String, Duration) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the head and problem body are in (or the server closes); a bound, not a
    // timing claim: a server without a body deadline never answers.
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if String::from_utf8_lossy(&answer).contains("REQUEST_BODY_TIMEOUT_SECS") {
                break;
            }
        }
    })
    .await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[actix_web::test]
async fn bodies_that_never_finish_get_408() {
    let cfg = CommonConfig {
        request_body_timeout_secs: 1,
        ..common::common()
    };
    let c = start(cfg).await;
    let addr = c.url().trim_start_matches("http://").to_owned();
    let json = br#"{"userId": "port-echo://u:t", "#;
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nport-echo://u:t\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"filepath\"\r\n\r\n/a"
    );
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "JSON shorter than its Content-Length",
            "GET /storage/folder HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: 200\r\n\r\n"
                .into(),
            json.to_vec(),
        ),
        (
            "a chunked form that never ends",
            "GET /storage/folder HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
                .into(),
            b"5\r\nuser=\r\n".to_vec(),
        ),
        (
            "multipart text fields that stop before the file part",
            format!(
                "POST /storage/file HTTP/1.1\r\nHost: x\r\n\
                 Content-Type: multipart/form-data; boundary={boundary}\r\n\
                 Content-Length: 100000\r\n\r\n"
            ),
            multipart.into_bytes(),
        ),
    ];
    for (what, head, body) in cases {
        let (answer, after) = send_and_stall(&addr, &head, &body).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{what}: {answer:?}");
        assert!(
            answer.contains("application/problem+json") && answer.contains("within 1 s"),
            "{what}: {answer:?}"
        );
        assert!(
            after < Duration::from_secs(10),
            "{what}: answered after {after:?}"
        );
    }
    // A body that arrives whole is served as before.
    let r = reqwest::Client::new()
        .get(format!("{}/storage/folder", c.url()))
        .json(&json!({"userId": "port-echo://u:t", "filepath": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    c.stop().await;
}

/// A stand-in port service that counts every request it gets, on any route.
async fn counting_port_service() -> (String, Arc<AtomicUsize>, actix_web::dev::ServerHandle) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let server = actix_web::HttpServer::new(move || {
        let counted = counted.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { actix_web::HttpResponse::NotFound().finish() }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (url, hits, handle)
}

#[actix_web::test]
async fn dot_user_names_never_reach_the_port_service() {
    let (port_service, hits, handle) = counting_port_service().await;
    let cfg = CommonConfig {
        use_case_service_port_service: Some(port_service.parse().unwrap()),
        ..common::common()
    };
    let c = start(cfg).await;
    let client = reqwest::Client::new();
    for user_id in [
        "..",
        ".",
        "%2e%2e",
        "../service/port-echo",
        "a%2Fb",
        "..@uni.example",
        "port-echo://..:None",
        "port-echo://%2e",
    ] {
        let r = client
            .get(format!("{}/storage/folder", c.url()))
            .json(&json!({"userId": user_id, "filepath": "/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{user_id}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["detail"].as_str().unwrap().contains("user name"),
            "{user_id}: {v}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the port service was called"
    );
    // An ordinary name is looked up (and the stand-in answers 404: no token → 401).
    let r = client
        .get(format!("{}/storage/folder", c.url()))
        .json(&json!({"userId": "alice", "filepath": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    c.stop().await;
    handle.stop(false).await;
}
