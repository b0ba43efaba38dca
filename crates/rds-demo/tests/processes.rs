//! The connector binaries as processes, configured only through the environment and
//! files: configuration errors, registration outcomes, secrets from files, signals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use test_support::token_storage::TokenStorage;

fn binary(name: &str) -> PathBuf {
    rds_demo::stack::connector_binary(env!("CARGO"), name).unwrap()
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// Runs a binary that is expected to stop by itself (bounded by a kill after 30 s).
fn run(name: &str, env: &[(&str, &str)]) -> Output {
    run_with_args(name, &[], env)
}

fn run_with_args(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(binary(name))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

fn assert_config_error(out: &Output, key: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("configuration error"))
        .unwrap_or_else(|| panic!("no configuration error line in: {stderr}"));
    assert!(line.contains(key), "the line names {key}: {line}");
}

#[test]
fn version_and_help_print_and_exit_0_other_arguments_exit_2() {
    for (name, own_key) in [
        ("owncloud-connector", "OWNCLOUD_INSTALLATION_URL"),
        ("zenodo-connector", "ZENODO_ADDRESS"),
    ] {
        // Were an argument ignored, the process would serve here (and be killed).
        let listen = free_addr();
        let env = [("LISTEN_ADDR", listen.as_str())];
        for arg in ["--version", "-V"] {
            let out = run_with_args(name, &[arg], &env);
            assert_eq!(out.status.code(), Some(0), "{name} {arg}: {out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("{name} {}\n", env!("CARGO_PKG_VERSION"))
            );
        }
        for arg in ["--help", "-h"] {
            let out = run_with_args(name, &[arg], &env);
            assert_eq!(out.status.code(), Some(0), "{name} {arg}: {out:?}");
            let help = String::from_utf8_lossy(&out.stdout);
            for want in [
                "Usage:",
                "LISTEN_ADDR",
                "CENTRAL_SERVICE_TOKEN_STORAGE",
                "REQUEST_BODY_TIMEOUT_SECS",
                "_FILE",
                own_key,
            ] {
                assert!(help.contains(want), "{name} {arg} lacks {want}: {help}");
            }
        }
        for args in [&["--verbose"][..], &["serve"], &["--help", "extra"]] {
            let out = run_with_args(name, args, &env);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
            assert!(
                stderr.contains("unknown argument") && stderr.contains("--help"),
                "{name} {args:?}: {stderr}"
            );
        }
    }
}

/// `--print-registration` prints the body the connector would POST, contacting nothing
/// (the Token Storage address is a closed port), with the client secret's value masked.
#[test]
fn print_registration_shows_the_payload_but_not_the_secret() {
    let secret = "cs-4f9e2b7d1a";
    let closed = free_addr();
    let token_storage = format!("http://{closed}");
    let out = run_with_args(
        "zenodo-connector",
        &["--print-registration"],
        &[
            ("CENTRAL_SERVICE_TOKEN_STORAGE", token_storage.as_str()),
            ("RDS_OAUTH_REDIRECT_URI", "https://rds.example.org/redirect"),
            ("ZENODO_OAUTH_CLIENT_ID", "cid"),
            ("ZENODO_OAUTH_CLIENT_SECRET", secret),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let payload: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(payload["servicename"], "port-zenodo");
    assert_eq!(payload["client_id"], "cid");
    assert_eq!(payload["client_secret"], "[REDACTED]");
    assert!(!text.contains(secret) && !String::from_utf8_lossy(&out.stderr).contains(secret));
}

#[test]
fn bad_values_stop_the_process_with_exit_2_naming_the_key() {
    let listen = free_addr();
    let out = run(
        "owncloud-connector",
        &[
            ("LISTEN_ADDR", &listen),
            ("OWNCLOUD_INSTALLATION_URL", "not a url"),
        ],
    );
    assert_config_error(&out, "OWNCLOUD_INSTALLATION_URL");

    let out = run("zenodo-connector", &[("LISTEN_ADDR", "nonsense")]);
    assert_config_error(&out, "LISTEN_ADDR");

    // Registration on, but no client id.
    let out = run(
        "zenodo-connector",
        &[
            ("LISTEN_ADDR", &listen),
            ("CENTRAL_SERVICE_TOKEN_STORAGE", "http://127.0.0.1:9"),
        ],
    );
    assert_config_error(&out, "ZENODO_OAUTH_CLIENT_ID");

    let out = run(
        "zenodo-connector",
        &[
            ("LISTEN_ADDR", &listen),
            ("CENTRAL_SERVICE_TOKEN_STORAGE", "::not a url::"),
        ],
    );
    assert_config_error(&out, "CENTRAL_SERVICE_TOKEN_STORAGE");
}

#[test]
fn rejected_registration_exits_2_without_retrying() {
    let ts = TokenStorage::start_on("127.0.0.1:0".parse().unwrap());
    ts.reject_registrations(true);
    let listen = free_addr();
    let url = ts.url();
    let out = run(
        "zenodo-connector",
        &[
            ("LISTEN_ADDR", &listen),
            ("CENTRAL_SERVICE_TOKEN_STORAGE", &url),
            ("ZENODO_OAUTH_CLIENT_ID", "id"),
            ("ZENODO_OAUTH_CLIENT_SECRET", "very-secret-client-secret"),
        ],
    );
    assert_config_error(&out, "CENTRAL_SERVICE_TOKEN_STORAGE");
    assert_eq!(ts.registration_attempts(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("very-secret-client-secret"));
}

#[tokio::test]
async fn secret_files_config_file_and_sigterm() {
    let ts = TokenStorage::start_on("127.0.0.1:0".parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, "from-a-mounted-secret\n").unwrap();
    let config = dir.path().join("connector.toml");
    let listen = free_addr();
    std::fs::write(
        &config,
        format!("listen_addr = \"{listen}\"\nowncloud_installation_url = \"https://cloud.example.org\"\nservicename = \"Uni-A\"\n"),
    )
    .unwrap();
    let mut child = Command::new(binary("owncloud-connector"))
        .env_clear()
        .env("CONNECTOR_CONFIG", &config)
        .env("CENTRAL_SERVICE_TOKEN_STORAGE", ts.url())
        .env("OWNCLOUD_OAUTH_CLIENT_ID", "oc-client")
        .env("OWNCLOUD_OAUTH_CLIENT_SECRET_FILE", &secret)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("http://{listen}/ready")).await {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the connector became ready");
    let services = ts.services();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["servicename"], "port-owncloud-uni-a");
    assert_eq!(services[0]["client_secret"], "from-a-mounted-secret");
    assert!(services[0]["authorize_url"]
        .as_str()
        .unwrap()
        .starts_with("https://cloud.example.org/index.php/apps/oauth2/authorize%3Fredirect_uri="));

    // SIGTERM: drains and exits 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut code = None;
    for _ in 0..300 {
        if let Some(s) = child.try_wait().unwrap() {
            code = s.code();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("from-a-mounted-secret"));
}
