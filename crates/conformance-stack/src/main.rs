//! `conformance-stack [--logs DIR]`: the demo's services (Token Storage emulator, a real
//! WebDAV server with the sample folder, the Zenodo emulator, both connector binaries
//! from beside this executable or `RDS_CONNECTOR_BIN_DIR`), for API conformance runs.
//!
//! Once both connectors are ready it prints one JSON line on stdout: each connector's
//! URL and a userId that authenticates. It runs until stdin closes, SIGTERM or Ctrl-C.
//! Connector logs go to `--logs DIR` (kept) or a temporary folder.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rds_demo::{sample, stack::USER, Stack};
use serde_json::json;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::oneshot;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-stack: {e}");
            ExitCode::FAILURE
        }
    }
}

fn log_dir_arg() -> Result<Option<PathBuf>, String> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(None),
        (Some("--logs"), Some(dir)) => Ok(Some(dir.into())),
        _ => Err("usage: conformance-stack [--logs DIR]".into()),
    }
}

async fn run() -> Result<(), String> {
    let keep_logs = log_dir_arg()?;
    let work = tempfile::Builder::new()
        .prefix("conformance-stack-")
        .tempdir()
        .map_err(|e| format!("no temporary folder: {e}"))?;
    let root = work.path().join("cloud");
    let logs = keep_logs.unwrap_or_else(|| work.path().join("logs"));
    for dir in [&root, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    sample::write(&root, 1).map_err(|e| format!("cannot write the sample folder: {e}"))?;
    let stack = Stack::start(&root, &logs)
        .await
        .map_err(|e| e.to_string())?;
    let urls = [&stack.owncloud.url, &stack.zenodo_connector.url];
    if let Err(e) = wait_ready(&urls).await {
        stack.stop().await;
        return Err(format!("{e} (connector logs in {})", logs.display()));
    }
    let info = json!({
        "owncloud": { "url": stack.owncloud.url, "userId": USER, "folder": sample::FOLDER },
        "zenodo": { "url": stack.zenodo_connector.url, "userId": USER },
        "logs": logs,
    });
    println!("{info}");
    wait_for_end().await;
    stack.stop().await;
    Ok(())
}

/// Polls each `/ready` until it answers 200.
async fn wait_ready(urls: &[&String]) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    for url in urls {
        loop {
            let ok = client
                .get(format!("{url}/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("{url} is not ready after {READY_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// Returns when stdin reaches its end, or on SIGTERM or SIGINT.
async fn wait_for_end() {
    let (tx, rx) = oneshot::channel::<()>();
    // A plain thread: a blocked read must not keep the runtime from shutting down.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = rx => {}
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
