//! The real `owncloud-connector` binary: configuration errors exit 2 naming the key; a
//! well-configured process registers with the Token Storage emulator, serves the real
//! WebDAV server's files, never logs a token or the client secret, and stops on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use owncloud_emulator::WebDavServer;
use test_support::token_storage::TokenStorage;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_owncloud-connector");
const TOKEN: &str = "secret-access-token-7d1e";
const CLIENT_SECRET: &str = "client-secret-9f2c";

fn connector(envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Waits for the exit (bounded: a config error exits at once), returning code and output.
async fn finish(mut child: Child, within: Duration) -> (Option<i32>, String) {
    let status = tokio::time::timeout(within, child.wait())
        .await
        .expect("the process did not exit")
        .unwrap();
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out).await.unwrap();
    }
    if let Some(mut s) = child.stderr.take() {
        s.read_to_string(&mut out).await.unwrap();
    }
    (status.code(), out)
}

#[tokio::test]
async fn config_errors_exit_2_naming_the_key() {
    let url = "https://cloud.example.org";
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "OWNCLOUD_INSTALLATION_URL"),
        (
            &[("OWNCLOUD_INSTALLATION_URL", "not a url")],
            "OWNCLOUD_INSTALLATION_URL",
        ),
        (
            &[
                ("OWNCLOUD_INSTALLATION_URL", url),
                ("EFSS_SYSTEM", "seafile"),
            ],
            "EFSS_SYSTEM",
        ),
        (
            &[
                ("OWNCLOUD_INSTALLATION_URL", url),
                ("OWNCLOUD_AUTH", "digest"),
            ],
            "OWNCLOUD_AUTH",
        ),
        (
            &[
                ("OWNCLOUD_INSTALLATION_URL", url),
                ("CENTRAL_SERVICE_TOKEN_STORAGE", "http://127.0.0.1:9"),
            ],
            "OWNCLOUD_OAUTH_CLIENT_ID",
        ),
        (
            &[
                ("OWNCLOUD_INSTALLATION_URL", url),
                ("CENTRAL_SERVICE_TOKEN_STORAGE", "http://127.0.0.1:9"),
                ("OWNCLOUD_OAUTH_CLIENT_ID", "cid"),
            ],
            "OWNCLOUD_OAUTH_CLIENT_SECRET",
        ),
    ];
    for (envs, key) in cases {
        let mut envs = envs.to_vec();
        envs.push(("LISTEN_ADDR", "127.0.0.1:0"));
        let child = connector(&envs).spawn().unwrap();
        let (code, out) = finish(child, Duration::from_secs(20)).await;
        assert_eq!(code, Some(2), "{envs:?}: {out}");
        assert!(out.contains(key), "{envs:?} must name {key}: {out}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn registers_serves_and_keeps_secrets() {
    let ts = TokenStorage::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Data/sub")).unwrap();
    std::fs::write(dir.path().join("Data/sub/a b#1.txt"), b"payload").unwrap();
    let dav = WebDavServer::start(dir.path(), "alice", TOKEN)
        .await
        .unwrap();
    let secret_file = dir.path().join("client-secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();

    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let install = dav.base_url();
    let child = connector(&[
        ("LISTEN_ADDR", addr.as_str()),
        ("LOGLEVEL", "DEBUG"),
        ("CENTRAL_SERVICE_TOKEN_STORAGE", &ts.url()),
        ("RDS_OAUTH_REDIRECT_URI", "https://rds.example.org/redirect"),
        ("OWNCLOUD_INSTALLATION_URL", &install),
        ("OWNCLOUD_OAUTH_CLIENT_ID", "cid"),
        (
            "OWNCLOUD_OAUTH_CLIENT_SECRET_FILE",
            secret_file.to_str().unwrap(),
        ),
        ("SERVICENAME", "Uni-A"),
        ("EFSS_SYSTEM", "nextcloud"),
    ])
    .spawn()
    .unwrap();

    // Ready once registered.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http.get(format!("{base}/ready")).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let services = ts.services();
    assert_eq!(services.len(), 1, "{services:?}");
    let p = &services[0];
    assert_eq!(p["servicename"], "port-owncloud-uni-a");
    assert_eq!(p["implements"], serde_json::json!(["fileStorage"]));
    assert_eq!(p["fileTransferMode"], 0);
    assert_eq!(p["fileTransferArchive"], 0);
    assert_eq!(
        p["authorize_url"],
        format!(
            "{install}/index.php/apps/oauth2/authorize%3Fredirect_uri=https://rds.example.org/redirect&response_type=code&client_id=cid"
        )
    );
    assert_eq!(
        p["refresh_url"],
        format!("{install}/index.php/apps/oauth2/api/v1/token")
    );
    assert_eq!(p["client_id"], "cid");
    assert_eq!(p["client_secret"], CLIENT_SECRET);
    assert_eq!(p["displayName"], "ownCloud");
    assert!(p["icon"]
        .as_str()
        .is_some_and(|i| i.starts_with("data:image/svg+xml;base64,")));

    // Serves the files (Nextcloud layout, user without its @domain).
    let user_id = format!("port-owncloud-uni-a://alice@uni-a.de:{TOKEN}");
    let resp = http
        .get(format!("{base}/storage/folder"))
        .json(&serde_json::json!({ "userId": user_id, "filepath": "/Data" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["files"], serde_json::json!(["/Data/sub/a b#1.txt"]));
    let resp = http
        .get(format!("{base}/storage/file"))
        .json(&serde_json::json!({ "userId": user_id, "filepath": "/Data/sub/a b#1.txt" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "payload");
    // A refused token is answered and logged without the token.
    let bad = "port-owncloud-uni-a://alice:wrong-token-55aa";
    let resp = http
        .get(format!("{base}/storage/file"))
        .json(&serde_json::json!({ "userId": bad, "filepath": "/Data/sub/a b#1.txt" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(!resp.text().await.unwrap().contains("wrong-token-55aa"));

    // SIGTERM: a clean stop.
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (code, out) = finish(child, Duration::from_secs(40)).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.is_empty(), "the process logs something");
    for secret in [TOKEN, CLIENT_SECRET, "wrong-token-55aa"] {
        assert!(
            !out.contains(secret),
            "{secret} appears in the logs:\n{out}"
        );
    }
}
