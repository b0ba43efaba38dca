//! The real binary against a Token Storage that is slow, or away for a while and then
//! failing: the process keeps retrying (never exits, never crash-loops), stays alive and
//! not ready meanwhile (interface 503), and becomes ready once the Token Storage accepts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use test_support::token_storage::TokenStorage;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn spawn(listen: &str, token_storage: &str, response_timeout: &str) -> Child {
    Command::new(BIN)
        .env_clear()
        .env("LISTEN_ADDR", listen)
        .env("CENTRAL_SERVICE_TOKEN_STORAGE", token_storage)
        .env("RESPONSE_TIMEOUT_SECS", response_timeout)
        .env("OWNCLOUD_INSTALLATION_URL", "http://127.0.0.1:9")
        .env("OWNCLOUD_OAUTH_CLIENT_ID", "cid")
        .env("OWNCLOUD_OAUTH_CLIENT_SECRET", "csecret")
        .env("LOGLEVEL", "WARNING")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn status(http: &reqwest::Client, base: &str, route: &str) -> Option<u16> {
    let req = if route == "/storage/folder" {
        http.get(format!("{base}{route}"))
            .json(&serde_json::json!({"userId": "port-owncloud://u:t", "filepath": "/"}))
    } else {
        http.get(format!("{base}{route}"))
    };
    req.send().await.ok().map(|r| r.status().as_u16())
}

/// Alive (health 200), not ready (503), interface refused (503), process running.
async fn assert_waiting(child: &mut Child, http: &reqwest::Client, base: &str) {
    assert!(child.try_wait().unwrap().is_none(), "the process exited");
    assert_eq!(status(http, base, "/health").await, Some(200));
    assert_eq!(status(http, base, "/ready").await, Some(503));
    assert_eq!(status(http, base, "/storage/folder").await, Some(503));
}

/// Polls until `cond` holds, checking on the way that the process waits as it should.
async fn wait_while_waiting(
    child: &mut Child,
    http: &reqwest::Client,
    base: &str,
    what: &str,
    cond: impl Fn() -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within 60 s");
        assert_waiting(child, http, base).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_ready(child: &mut Child, http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while status(http, base, "/ready").await != Some(200) {
        assert!(child.try_wait().unwrap().is_none(), "the process exited");
        assert!(Instant::now() < deadline, "never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the gate now: the answer (the fake provider is unreachable) is no longer the
    // gate's "not registered".
    let body = http
        .get(format!("{base}/storage/folder"))
        .json(&serde_json::json!({"userId": "port-owncloud://u:t", "filepath": "/"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("not registered"), "{body}");
}

async fn wait_listening(base: &str, http: &reqwest::Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(http, base, "/health").await.is_none() {
        assert!(Instant::now() < deadline, "never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Answers slower than `RESPONSE_TIMEOUT_SECS` (1 s): each attempt times out and is
/// retried; once the Token Storage is quick again, the connector registers.
#[tokio::test]
async fn slow_token_storage_is_retried_until_ready() {
    let ts = TokenStorage::start().await;
    ts.set_delay(Some(Duration::from_secs(3)));
    let listen = free_addr();
    let base = format!("http://{listen}");
    let mut child = spawn(&listen, &ts.url(), "1");
    let http = reqwest::Client::new();
    wait_listening(&base, &http).await;
    wait_while_waiting(&mut child, &http, &base, "three timed-out attempts", || {
        ts.registration_attempts() >= 3
    })
    .await;
    ts.set_delay(None);
    wait_ready(&mut child, &http, &base).await;
    assert_eq!(ts.services().len(), 1);
    let _ = child.kill().await;
}

/// Nobody listening at first, then 503s: many failed attempts, then registered.
#[tokio::test]
async fn token_storage_away_for_a_while_then_ready() {
    let ts_addr = free_addr();
    let listen = free_addr();
    let base = format!("http://{listen}");
    let mut child = spawn(&listen, &format!("http://{ts_addr}"), "5");
    let http = reqwest::Client::new();
    wait_listening(&base, &http).await;
    // Connection refused for a while.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_waiting(&mut child, &http, &base).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ts = TokenStorage::start_on(ts_addr.parse().unwrap());
    ts.fail_next(3, 503);
    wait_while_waiting(&mut child, &http, &base, "three 503s", || {
        ts.registration_attempts() >= 3
    })
    .await;
    wait_ready(&mut child, &http, &base).await;
    assert_eq!(ts.registration_attempts(), 4);
    assert_eq!(ts.services().len(), 1);
    let _ = child.kill().await;
}
