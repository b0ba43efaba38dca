//! The binary against what the real RDS services do (the Token Storage emulator follows
//! them, see `test_support::token_storage`): a user who has not connected the service, a
//! Token Storage that restarts and forgets us, and a stored registration that our
//! changed configuration cannot update.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use test_support::metrics::Scrape;
use test_support::token_storage::TokenStorage;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");
const OTHER_CLIENT_SECRET: &str = "zenodo-client-secret-in-the-dump";
const ALICE_ZENODO_TOKEN: &str = "alice-zenodo-token-in-the-dump";

/// The real pair's answer for `bob` when the store holds alice's token (see the test).
const REAL_DUMP_ANSWER: &str = r#"{"description":"{'description': '404 Not Found: {\"type\": \"User\", \"data\": {\"username\": \"bob\"}} not exist in {\"alice\": {\"data\": {\"type\": \"User\", \"data\": {\"username\": \"alice\"}}, \"tokens\": [{\"type\": \"Token\", \"data\": {\"service\": {\"type\": \"OAuth2Service\", \"data\": {\"servicename\": \"port-owncloud-b\", \"implements\": [\"fileStorage\"], \"fileTransferMode\": 0, \"fileTransferArchive\": 1, \"description\": {\"en\": \"Cloud\"}, \"icon\": null, \"infoUrl\": \"https%3A%2F%2Fzenodo.org\", \"helpUrl\": \"https%3A%2F%2Fzenodo.org\", \"displayName\": \"Zenodo\", \"metadataProfile\": null, \"projectLinkTemplate\": \"https://zenodo.org/record/${projectId}\", \"authorize_url\": \"https://zenodo.example/oauth/authorize%3Fredirect_uri=x&response_type=code&client_id=cid\", \"refresh_url\": \"https://zenodo.example/oauth/token\", \"client_id\": \"cid\", \"client_secret\": \"SECRET-B\"}}, \"access_token\": \"TOKEN-A\", \"user\": {\"type\": \"User\", \"data\": {\"username\": \"alice\"}}}}]}}', 'error': 'NotFound', 'http_code': 404}","error":"Exception","http_code":500}
"#;

/// The real Token Storage's `GET /service/port-owncloud-b` for that service.
const REAL_SERVICE_ANSWER: &str = r#"{"data":{"authorize_url":"https://zenodo.example/oauth/authorize%3Fredirect_uri=x&response_type=code&client_id=cid","client_id":"cid","client_secret":"SECRET-B","description":{"en":"Cloud"},"displayName":"Zenodo","fileTransferArchive":1,"fileTransferMode":0,"helpUrl":"https%3A%2F%2Fzenodo.org","icon":null,"implements":["fileStorage"],"infoUrl":"https%3A%2F%2Fzenodo.org","metadataProfile":null,"projectLinkTemplate":"https://zenodo.org/record/${projectId}","refresh_url":"https://zenodo.example/oauth/token","servicename":"port-owncloud-b"},"type":"OAuth2Service"}
"#;

struct Proc {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Proc {
    /// The connector at TRACE (secrets stay out at every level), its stderr into `log`,
    /// against the emulator `ts`.
    async fn spawn(ts: &TokenStorage, log: &Path, env: &[(&str, &str)]) -> Self {
        let listen = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("LISTEN_ADDR", &listen)
            .env("CENTRAL_SERVICE_TOKEN_STORAGE", ts.url())
            .env("USE_CASE_SERVICE_PORT_SERVICE", ts.url())
            .env("OWNCLOUD_INSTALLATION_URL", "http://127.0.0.1:9")
            .env("OWNCLOUD_OAUTH_CLIENT_ID", "cid")
            .env("OWNCLOUD_OAUTH_CLIENT_SECRET", "csecret")
            .env("LOGLEVEL", "TRACE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(out))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let p = Self {
            child,
            base: format!("http://{listen}"),
            log: log.to_owned(),
        };
        p.wait_ready().await;
        p
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = reqwest::get(format!("{}/ready", self.base)).await;
            if r.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        self.log()
    }
}

/// Waits up to 20 s (a bound, not a timing claim) for `cond`.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The emulator answers byte for byte as the real port service + Token Storage did
/// (Sciebo-RDS c4887367, research-data-services-common 0.54, connexion-plus 0.48), for
/// a user unknown to an empty store, one whose name Python's repr must escape, and one
/// with a non-ASCII name.
#[actix_web::test]
async fn the_emulator_answers_a_missing_token_as_the_real_pair() {
    let ts = TokenStorage::start().await;
    let real = [
        (
            "bob",
            r#"{"description":"{'description': '404 Not Found: {\"type\": \"User\", \"data\": {\"username\": \"bob\"}} not exist in {}', 'error': 'NotFound', 'http_code': 404}","error":"Exception","http_code":500}"#,
        ),
        (
            "o'brien",
            r#"{"description":"{'description': '404 Not Found: {\"type\": \"User\", \"data\": {\"username\": \"o\\'brien\"}} not exist in {}', 'error': 'NotFound', 'http_code': 404}","error":"Exception","http_code":500}"#,
        ),
        (
            "j%C3%BCrgen",
            r#"{"description":"{'description': '404 Not Found: {\"type\": \"User\", \"data\": {\"username\": \"j\\\\u00fcrgen\"}} not exist in {}', 'error': 'NotFound', 'http_code': 404}","error":"Exception","http_code":500}"#,
        ),
    ];
    for (user, body) in real {
        let r = reqwest::get(format!("{}/user/{user}/service/Zenodo", ts.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), 500, "{user}");
        assert_eq!(r.text().await.unwrap(), format!("{body}\n"), "{user}");
    }
    // With a token stored: the whole store, client secret and access token included.
    ts.add_service(json!({
        "servicename": "port-owncloud-b",
        "implements": ["fileStorage"],
        "fileTransferMode": 0,
        "fileTransferArchive": 1,
        "description": {"en": "Cloud"},
        "icon": null,
        "infoUrl": "https%3A%2F%2Fzenodo.org",
        "helpUrl": "https%3A%2F%2Fzenodo.org",
        "displayName": "Zenodo",
        "metadataProfile": null,
        "projectLinkTemplate": "https://zenodo.org/record/${projectId}",
        "authorize_url": "https://zenodo.example/oauth/authorize%3Fredirect_uri=x&response_type=code&client_id=cid",
        "refresh_url": "https://zenodo.example/oauth/token",
        "client_id": "cid",
        "client_secret": "SECRET-B",
    }));
    ts.add_token("alice", "port-owncloud-b", "TOKEN-A");
    let r = reqwest::get(format!("{}/user/bob/service/port-zenodo", ts.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.text().await.unwrap(), REAL_DUMP_ANSWER);
    let r = reqwest::get(format!("{}/service/PORT-owncloud-b", ts.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), REAL_SERVICE_ANSWER);
    let r = reqwest::get(format!("{}/service/port-nothere", ts.url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.text().await.unwrap(),
        "{\"description\":\"implements is empty or over 2 elements. Value: 0, Only valid: \
         ['fileStorage', 'metadata']\",\"error\":\"ValueError\",\"http_code\":500}\n"
    );
    ts.stop().await;
}

/// A user who has not connected ownCloud (unknown, or connected only to another service):
/// 401 saying so, not 503; the port service's answer dumps every stored token and client
/// secret, and none of it reaches the answer or the log.
#[actix_web::test]
async fn a_user_without_a_token_is_401_and_the_dump_goes_nowhere() {
    let ts = TokenStorage::start().await;
    ts.add_service(json!({
        "servicename": "port-zenodo",
        "implements": ["metadata"],
        "authorize_url": "https://zenodo.example/oauth/authorize",
        "refresh_url": "https://zenodo.example/oauth/token",
        "client_id": "zid",
        "client_secret": OTHER_CLIENT_SECRET,
    }));
    ts.add_token("alice", "port-zenodo", ALICE_ZENODO_TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::spawn(&ts, &dir.path().join("c.log"), &[]).await;
    for user in ["alice", "bob"] {
        let r = reqwest::Client::new()
            .get(format!("{}/storage/folder", p.base))
            .json(&json!({"userId": user, "filepath": "/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{user}");
        let text = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let detail = v["detail"].as_str().unwrap();
        assert!(
            detail.contains("has no token for service \"port-owncloud\""),
            "{user}: {detail}"
        );
        for leak in [OTHER_CLIENT_SECRET, ALICE_ZENODO_TOKEN, "not exist"] {
            assert!(!text.contains(leak), "{user}: the answer holds {leak:?}");
        }
    }
    assert_eq!(ts.lookups(), 2);
    let log = p.stop().await;
    for leak in [OTHER_CLIENT_SECRET, ALICE_ZENODO_TOKEN, "not exist"] {
        assert!(!log.contains(leak), "the log holds {leak:?}");
    }
    ts.stop().await;
}

/// The Token Storage restarts (in-memory storage: every registration gone): within the
/// check interval (1 s here) the connector registers again, logs and counts it.
#[actix_web::test]
async fn a_token_storage_restart_is_followed_by_a_new_registration() {
    let ts = TokenStorage::start().await;
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::spawn(
        &ts,
        &dir.path().join("c.log"),
        &[("REGISTRATION_CHECK_SECS", "1")],
    )
    .await;
    assert_eq!(ts.services().len(), 1);
    ts.restart();
    assert!(ts.services().is_empty());
    eventually("registered again", || ts.services().len() == 1).await;
    assert_eq!(ts.services()[0]["servicename"], "port-owncloud");
    let metrics = reqwest::get(format!("{}/metrics", p.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("connector_reregistrations_total 1"),
        "{metrics}"
    );
    eventually("the re-registration is logged", || {
        p.log().contains("registered again")
    })
    .await;
    // Two more checks find the registration present and leave it alone.
    let (reads, posts) = (ts.service_reads(), ts.registration_attempts());
    eventually("two more registration checks", || {
        ts.service_reads() >= reads + 2
    })
    .await;
    assert_eq!(
        ts.registration_attempts(),
        posts,
        "a present registration was posted again"
    );
    assert_eq!(ts.services().len(), 1);
    p.stop().await;
    ts.stop().await;
}

/// A restart with a new display name and client secret: the Token Storage keeps the old
/// entry (POST never updates), and the connector warns naming both fields, never a value.
#[actix_web::test]
async fn a_changed_configuration_is_named_in_a_warning_without_values() {
    let ts = TokenStorage::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = Proc::spawn(
        &ts,
        &dir.path().join("first.log"),
        &[
            ("OWNCLOUD_DISPLAYNAME", "First Cloud"),
            ("OWNCLOUD_OAUTH_CLIENT_SECRET", "first-client-secret"),
        ],
    )
    .await;
    let first_log = first.stop().await;
    assert!(!first_log.contains("differs from"), "{first_log}");
    let second = Proc::spawn(
        &ts,
        &dir.path().join("second.log"),
        &[
            ("OWNCLOUD_DISPLAYNAME", "Second Cloud"),
            ("OWNCLOUD_OAUTH_CLIENT_SECRET", "second-client-secret"),
        ],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !second.log().contains("differs from") {
        assert!(
            Instant::now() < deadline,
            "no warning in 20 s:\n{}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = second.stop().await;
    assert_eq!(ts.services().len(), 1);
    assert_eq!(
        ts.services()[0]["displayName"],
        "First Cloud",
        "not updated"
    );
    let warning = log
        .lines()
        .find(|l| l.contains("differs from"))
        .unwrap_or_default();
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("displayName"), "{warning}");
    assert!(warning.contains("client_secret"), "{warning}");
    assert!(warning.contains("restart this connector"), "{warning}");
    for value in ["First Cloud", "Second Cloud"] {
        assert!(!warning.contains(value), "the warning holds {value:?}");
    }
    for secret in ["first-client-secret", "second-client-secret"] {
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }
    ts.stop().await;
}

/// A registration lost and not restored (the Token Storage restarted and refuses it):
/// `connector_registered` drops to 0 until the registration is back, so an alert on it
/// fires; the connector keeps serving meanwhile.
#[actix_web::test]
async fn a_lost_registration_shows_as_unregistered_until_it_is_back() {
    let ts = TokenStorage::start().await;
    let dir = tempfile::tempdir().unwrap();
    let p = Proc::spawn(
        &ts,
        &dir.path().join("c.log"),
        &[("REGISTRATION_CHECK_SECS", "1")],
    )
    .await;
    let registered = || async { Scrape::of(&p.base).await.get("connector_registered", &[]) };
    assert_eq!(registered().await, Some(1.0));
    ts.reject_registrations(true);
    ts.restart();
    shows_registered(&p.base, 0.0, "still shown as registered").await;
    ts.reject_registrations(false);
    eventually("registered again", || ts.services().len() == 1).await;
    shows_registered(&p.base, 1.0, "never shown as registered again").await;
    p.stop().await;
    ts.stop().await;
}

/// Waits (at most 20 s, else fails with `what`) until `/metrics` at `base` shows
/// `connector_registered` at `want`.
async fn shows_registered(base: &str, want: f64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Scrape::of(base).await.get("connector_registered", &[]) != Some(want) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
