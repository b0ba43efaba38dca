//! `conformance-stack [--logs DIR] [--payloads DIR] | --packages`: every connector of the
//! workspace behind its emulator, for API conformance runs (ci/conformance.sh).
//!
//! Connectors are found with `cargo metadata` ([`discover`]): every package directly under
//! `connectors/` with a binary, and its emulator `connectors/<name>/emulator` whose binary
//! follows `test_support::emulator`'s protocol. Binaries are taken from
//! `RDS_CONNECTOR_BIN_DIR`, else from beside this executable. `--packages` prints the
//! packages to build (connectors and emulators), one a line, and exits.
//!
//! The stack starts the Token Storage emulator, then per connector its emulator and the
//! connector (with the emulator's environment and the RDS one), waits for `/ready` (the
//! connector has registered by then), stores the user's token under the registered
//! servicename, and with `--payloads DIR` writes the registration payload the Token Storage
//! received to `DIR/<package>.json`. Then it prints one JSON line on stdout:
//! `{"connectors": [{"name", "url", "userId", "specs": [...], "hooks": {...}}], "logs"}`,
//! `specs` being the OpenAPI files (relative to the workspace) of the payload's
//! `implements`. It runs until stdin closes, SIGTERM or Ctrl-C. Logs (each connector's and
//! emulator's stderr) go to `--logs DIR` (kept) or a temporary folder.

mod discover;
mod processes;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use test_support::emulator::wait_for_end;
use test_support::token_storage::TokenStorage;

use discover::Connector;
use processes::{Emulator, Process};

/// The RDS user of the run, and the access token it holds at every provider.
const USER: &str = "conformance-user";
const TOKEN: &str = "conformance-access-token";
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

#[derive(Default)]
struct Args {
    logs: Option<PathBuf>,
    payloads: Option<PathBuf>,
    packages: bool,
}

const USAGE: &str = "usage: conformance-stack [--logs DIR] [--payloads DIR] | --packages";

fn args() -> Result<Args, String> {
    let mut out = Args::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--logs" => out.logs = Some(args.next().ok_or(USAGE)?.into()),
            "--payloads" => out.payloads = Some(args.next().ok_or(USAGE)?.into()),
            "--packages" => out.packages = true,
            _ => return Err(USAGE.into()),
        }
    }
    Ok(out)
}

/// One connector's running pair, and what the schemathesis runs need to know.
struct Running {
    entry: Value,
    /// The registration payload the Token Storage received.
    payload: Value,
    connector: Process,
    emulator: Emulator,
}

async fn run() -> Result<(), String> {
    let args = args()?;
    let connectors = discover::connectors()?;
    if args.packages {
        for c in &connectors {
            println!("{}\n{}", c.package, c.emulator);
        }
        return Ok(());
    }
    let work = tempfile::Builder::new()
        .prefix("conformance-stack-")
        .tempdir()
        .map_err(|e| format!("no temporary folder: {e}"))?;
    let logs = args.logs.unwrap_or_else(|| work.path().join("logs"));
    for dir in [Some(&logs), args.payloads.as_ref()].into_iter().flatten() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let bin_dir = discover::binary_dir()?;
    let token_storage = TokenStorage::start().await;
    let mut running = Vec::new();
    let mut result = Ok(());
    for c in &connectors {
        match start(c, &bin_dir, work.path(), &logs, &token_storage).await {
            Ok(r) => running.push(r),
            Err(e) => {
                result = Err(format!("{}: {e} (logs in {})", c.package, logs.display()));
                break;
            }
        }
    }
    if let (Ok(()), Some(dir)) = (&result, &args.payloads) {
        result = write_payloads(&running, dir);
    }
    if result.is_ok() {
        let entries: Vec<&Value> = running.iter().map(|r| &r.entry).collect();
        println!("{}", json!({ "connectors": entries, "logs": logs }));
        wait_for_end().await;
    }
    for r in running {
        r.connector.stop().await;
        r.emulator.stop().await;
    }
    token_storage.stop().await;
    result
}

/// Starts `c`'s emulator and the connector, waits until the connector registered and is
/// ready, and gives the user a token for the registered service.
async fn start(
    c: &Connector,
    bin_dir: &Path,
    work: &Path,
    logs: &Path,
    token_storage: &TokenStorage,
) -> Result<Running, String> {
    let state = work.join(&c.emulator);
    std::fs::create_dir_all(&state).map_err(|e| format!("{}: {e}", state.display()))?;
    let emulator = Emulator::start(&bin_dir.join(&c.emulator), USER, TOKEN, &state, logs).await?;
    let registered_before = token_storage.services().len();
    let env = [
        ("CENTRAL_SERVICE_TOKEN_STORAGE", token_storage.url()),
        ("USE_CASE_SERVICE_PORT_SERVICE", token_storage.url()),
        (
            "RDS_OAUTH_REDIRECT_URI",
            "http://127.0.0.1/rds/redirect".to_owned(),
        ),
    ];
    let env = env
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(emulator.announcement.env.clone());
    let connector = Process::spawn(&bin_dir.join(&c.bin), env, logs).await?;
    if let Err(e) = processes::wait_ready(&connector.url, READY_TIMEOUT).await {
        connector.stop().await;
        emulator.stop().await;
        return Err(e);
    }
    let services = token_storage.services();
    let [payload] = &services[registered_before..] else {
        connector.stop().await;
        emulator.stop().await;
        return Err(format!(
            "ready after {} registrations instead of one",
            services.len() - registered_before
        ));
    };
    let servicename = payload["servicename"].as_str().unwrap_or_default();
    token_storage.add_token(USER, servicename, TOKEN);
    let specs: Vec<&str> = payload["implements"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| spec_of(i.as_str()?))
        .collect();
    let entry = json!({
        "name": c.package,
        "url": connector.url,
        "userId": USER,
        "servicename": servicename,
        "specs": specs,
        "hooks": emulator.announcement.hooks,
    });
    let payload = payload.clone();
    Ok(Running {
        entry,
        payload,
        connector,
        emulator,
    })
}

/// The OpenAPI file of an RDS interface, as named in a registration's `implements`.
fn spec_of(interface: &str) -> Option<&'static str> {
    match interface {
        "fileStorage" => Some("specs/file-storage.openapi.yaml"),
        "metadata" => Some("specs/metadata.openapi.yaml"),
        _ => None,
    }
}

/// Writes each connector's registration payload, as the Token Storage received it, to
/// `dir/<package>.json`.
fn write_payloads(running: &[Running], dir: &Path) -> Result<(), String> {
    for r in running {
        let name = r.entry["name"].as_str().unwrap_or_default();
        let path = dir.join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(&r.payload).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
