//! Secrets at the loudest logging: both connector binaries run their full flows with
//! `LOGLEVEL=DEBUG` and `RUST_LOG=trace` (dependencies included), and neither the captured
//! logs nor any answer holds an access token, an app password (ownCloud Basic mode, also
//! base64-encoded as in the header), a refresh token or a client secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use owncloud_emulator::{ServerAuth, WebDavOptions, WebDavServer};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use test_support::faulty::{FaultyUpstream, Mode};
use test_support::token_storage::TokenStorage;
use zenodo_emulator::ZenodoEmulator;

const USER: &str = "alice";
const WEBDAV_TOKEN: &str = "oc-access-tok-5b1c9e";
const APP_PASSWORD: &str = "oc-app-pass-8d2f71";
const ZENODO_TOKEN: &str = "zen-access-tok-3a7e44";
const OC_REFRESH: &str = "oc-refresh-tok-61fa0d";
const ZEN_REFRESH: &str = "zen-refresh-tok-92cb13";
const OC_CLIENT_SECRET: &str = "oc-client-secret-e4d2a8";
const ZEN_CLIENT_SECRET: &str = "zen-client-secret-07bb5f";

fn binary(name: &str) -> PathBuf {
    rds_demo::stack::connector_binary(env!("CARGO"), name).unwrap()
}

/// A connector process at trace level, stderr and stdout into `log`; killed on drop.
struct Proc {
    child: tokio::process::Child,
    base: String,
    log: PathBuf,
}

async fn spawn(name: &str, log_dir: &Path, tag: &str, env: &[(&str, String)]) -> Proc {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = log_dir.join(format!("{tag}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let child = tokio::process::Command::new(binary(name))
        .env_clear()
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("LOGLEVEL", "DEBUG")
        .env("RUST_LOG", "trace")
        .env("WORKERS", "1")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/ready")).await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "{tag} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Proc { child, base, log }
}

impl Proc {
    /// SIGTERM, exit 0, then the whole log.
    async fn stop(mut self) -> String {
        let pid = self.child.id().unwrap().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = tokio::time::timeout(Duration::from_secs(40), self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .unwrap();
        assert_eq!(status.code(), Some(0));
        std::fs::read_to_string(&self.log).unwrap()
    }
}

/// The port service's token answer (as RDS's Token Storage returns it), refresh token
/// included; served for any user.
async fn port_service(access: &str, refresh: &str, service: &str) -> FaultyUpstream {
    let body = json!({"type": "OAuth2Token", "data": {
        "service": {"type": "OAuth2Service", "data": {"servicename": service}},
        "access_token": access, "refresh_token": refresh, "expiration_date": 4102444800u64,
        "user": {"type": "User", "data": {"username": USER}},
    }});
    FaultyUpstream::start(Mode::Respond {
        status: 200,
        content_type: "application/json".into(),
        body: body.to_string().into_bytes(),
    })
    .await
    .unwrap()
}

/// Records every answer body of the flows.
#[derive(Default)]
struct Answers(Vec<String>);

impl Answers {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String) {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = String::from_utf8_lossy(&resp.bytes().await.unwrap()).into_owned();
        self.0.push(text.clone());
        (status, text)
    }
}

/// The fileStorage flow: list, fetch, upload, replace, delete, plus refused calls.
async fn owncloud_flow(p: &Proc, user_id: &str, answers: &mut Answers) {
    let http = reqwest::Client::new();
    let url = |r: &str| format!("{}{r}", p.base);
    for uid in [user_id, USER] {
        let (s, t) = answers
            .send(
                http.get(url("/storage/folder"))
                    .json(&json!({"userId": uid, "filepath": "/Data"})),
            )
            .await;
        assert_eq!(s, 200, "{t}");
        let (s, t) = answers
            .send(
                http.get(url("/storage/file"))
                    .json(&json!({"userId": uid, "filepath": "/Data/a.txt"})),
            )
            .await;
        assert_eq!((s, t.as_str()), (200, "alpha"));
    }
    for method in [Method::POST, Method::PATCH] {
        let form = Form::new()
            .text("userId", user_id.to_owned())
            .text("filepath", "/Data/up.bin")
            .part("file", Part::bytes(vec![7u8; 300_000]).file_name("up.bin"));
        let (s, t) = answers
            .send(http.request(method, url("/storage/file")).multipart(form))
            .await;
        assert_eq!(s, 200, "{t}");
    }
    let (s, _) = answers
        .send(
            http.delete(url("/storage/file"))
                .json(&json!({"userId": user_id, "filepath": "/Data/up.bin"})),
        )
        .await;
    assert_eq!(s, 200);
    // Refused and failing calls log at debug/warn: still no secret.
    let (s, _) = answers
        .send(
            http.get(url("/storage/file"))
                .json(&json!({"userId": user_id, "filepath": "/Data/missing.txt"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = answers
        .send(
            http.get(url("/storage/folder"))
                .query(&[("userId", user_id), ("filepath", "/Nope")]),
        )
        .await;
    assert_eq!(s, 404);
}

async fn zenodo_flow(p: &Proc, answers: &mut Answers) {
    let http = reqwest::Client::new();
    let url = |r: &str| format!("{}{r}", p.base);
    let session = format!("port-zenodo://{USER}:{ZENODO_TOKEN}");
    let crate_ = json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset", "name": "Secrets", "description": "Secrets kept.",
             "datePublished": "2026-01-01", "author": {"@id": "#a"},
             "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}},
            {"@id": "#a", "@type": "Person", "name": "Alice Example"}
        ]
    });
    let (s, t) = answers
        .send(
            http.post(url("/metadata/project"))
                .json(&json!({"userId": USER, "metadata": crate_})),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let id = serde_json::from_str::<Value>(&t).unwrap()["projectId"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = Form::new()
        .text("userId", session.clone())
        .text("filename", "data.csv")
        .part(
            "file",
            Part::bytes(b"a,b\n1,2\n".to_vec()).file_name("data.csv"),
        );
    let (s, t) = answers
        .send(
            http.post(url(&format!("/metadata/project/{id}/files")))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    for (method, route, body) in [
        (
            Method::GET,
            "/metadata/project".to_owned(),
            json!({"userId": USER}),
        ),
        (
            Method::GET,
            format!("/metadata/project/{id}"),
            json!({"userId": session}),
        ),
        (
            Method::PATCH,
            format!("/metadata/project/{id}"),
            json!({"userId": USER, "metadata": {"title": "Secrets, again"}}),
        ),
        (
            Method::GET,
            format!("/metadata/project/{id}/files"),
            json!({"userId": USER}),
        ),
        (
            Method::PUT,
            format!("/metadata/project/{id}"),
            json!({"userId": USER}),
        ),
    ] {
        let (s, t) = answers
            .send(http.request(method.clone(), url(&route)).json(&body))
            .await;
        assert_eq!(s, 200, "{method} {route}: {t}");
    }
    // Refused calls.
    let (s, _) = answers
        .send(
            http.get(url("/metadata/project/999999"))
                .json(&json!({"userId": USER})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = answers
        .send(
            http.delete(url(&format!("/metadata/project/{id}")))
                .json(&json!({"userId": session})),
        )
        .await;
    assert!((400..500).contains(&s), "deleting a published record: {s}");
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_trace_logs_or_answers() {
    let started = Instant::now();
    let logs = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(files.path().join("Data")).unwrap();
    std::fs::write(files.path().join("Data/a.txt"), "alpha").unwrap();

    let ts = TokenStorage::start().await;
    let bearer_dav = WebDavServer::start(files.path(), USER, WEBDAV_TOKEN)
        .await
        .unwrap();
    let basic_dav = WebDavServer::start_with(
        WebDavOptions::new(files.path(), USER, APP_PASSWORD).auth(ServerAuth::Basic),
    )
    .await
    .unwrap();
    let zenodo = ZenodoEmulator::start().await.unwrap();
    zenodo.add_token(ZENODO_TOKEN, USER);
    let oc_port = port_service(WEBDAV_TOKEN, OC_REFRESH, "port-owncloud-bearer").await;
    let basic_port = port_service(APP_PASSWORD, OC_REFRESH, "port-owncloud-basic").await;
    let zen_port = port_service(ZENODO_TOKEN, ZEN_REFRESH, "port-zenodo").await;

    let owncloud_env = |dav: &WebDavServer, port: &FaultyUpstream, name: &str, auth: &str| {
        vec![
            ("CENTRAL_SERVICE_TOKEN_STORAGE", ts.url()),
            ("USE_CASE_SERVICE_PORT_SERVICE", port.url()),
            ("OWNCLOUD_INSTALLATION_URL", dav.base_url()),
            ("OWNCLOUD_OAUTH_CLIENT_ID", "oc-client".to_owned()),
            ("OWNCLOUD_OAUTH_CLIENT_SECRET", OC_CLIENT_SECRET.to_owned()),
            ("SERVICENAME", name.to_owned()),
            ("OWNCLOUD_AUTH", auth.to_owned()),
        ]
    };
    let bearer = spawn(
        "owncloud-connector",
        logs.path(),
        "owncloud-bearer",
        &owncloud_env(&bearer_dav, &oc_port, "bearer", "bearer"),
    )
    .await;
    let basic = spawn(
        "owncloud-connector",
        logs.path(),
        "owncloud-basic",
        &owncloud_env(&basic_dav, &basic_port, "basic", "basic"),
    )
    .await;
    let zen = spawn(
        "zenodo-connector",
        logs.path(),
        "zenodo",
        &[
            ("CENTRAL_SERVICE_TOKEN_STORAGE", ts.url()),
            ("USE_CASE_SERVICE_PORT_SERVICE", zen_port.url()),
            ("ZENODO_ADDRESS", zenodo.url().to_owned()),
            ("ZENODO_OAUTH_CLIENT_ID", "zen-client".to_owned()),
            ("ZENODO_OAUTH_CLIENT_SECRET", ZEN_CLIENT_SECRET.to_owned()),
        ],
    )
    .await;

    println!("processes ready after {:?}", started.elapsed());
    let mut answers = Answers::default();
    owncloud_flow(
        &bearer,
        &format!("port-owncloud-bearer://{USER}:{WEBDAV_TOKEN}"),
        &mut answers,
    )
    .await;
    owncloud_flow(
        &basic,
        &format!("port-owncloud-basic://{USER}:{APP_PASSWORD}"),
        &mut answers,
    )
    .await;
    zenodo_flow(&zen, &mut answers).await;
    // The secrets did reach the servers (so the flows used them).
    assert!(basic_dav.total_requests() > 0 && bearer_dav.total_requests() > 0);
    assert!(oc_port.requests() > 0 && basic_port.requests() > 0 && zen_port.requests() > 0);
    assert_eq!(ts.services().len(), 3);

    let secrets = [
        WEBDAV_TOKEN.to_owned(),
        APP_PASSWORD.to_owned(),
        base64(format!("{USER}:{APP_PASSWORD}").as_bytes()),
        ZENODO_TOKEN.to_owned(),
        OC_REFRESH.to_owned(),
        ZEN_REFRESH.to_owned(),
        OC_CLIENT_SECRET.to_owned(),
        ZEN_CLIENT_SECRET.to_owned(),
    ];
    let mut leaks = Vec::new();
    for p in [bearer, basic, zen] {
        let name = p.log.file_name().unwrap().to_string_lossy().into_owned();
        let log = p.stop().await;
        println!("{name} stopped after {:?}", started.elapsed());
        assert!(
            log.contains("TRACE") && log.contains("DEBUG"),
            "{name}: not at trace level:\n{}",
            &log[..log.len().min(2000)]
        );
        println!("{name}: {} log lines checked", log.lines().count());
        for s in &secrets {
            for line in log.lines().filter(|l| l.contains(s.as_str())) {
                leaks.push(format!("{name}: {s} in: {line}"));
            }
        }
    }
    for (i, a) in answers.0.iter().enumerate() {
        for s in &secrets {
            if a.contains(s.as_str()) {
                leaks.push(format!("answer {i}: {s} in: {a}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
