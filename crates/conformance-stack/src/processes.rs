//! The child processes of the stack: emulators (`test_support::emulator`'s protocol) and
//! connectors (configured by environment only, as a deployment is). Every child is killed
//! when dropped, so none outlives the stack.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use test_support::emulator::{Announcement, Invocation};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long an emulator may take to announce itself.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest line an emulator's announcement may be.
const ANNOUNCE_MAX: usize = 64 * 1024;

fn log_file(logs: &Path, bin: &Path) -> Result<std::fs::File, String> {
    let name = bin.file_name().unwrap_or_default().to_string_lossy();
    let path = logs.join(format!("{name}.log"));
    std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))
}

fn command(bin: &Path, logs: &Path) -> Result<Command, String> {
    if !bin.is_file() {
        return Err(format!(
            "{} is missing; build it (ci/conformance.sh builds what \
             `conformance-stack --packages` lists)",
            bin.display()
        ));
    }
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file(logs, bin)?))
        .kill_on_drop(true);
    Ok(cmd)
}

/// SIGTERM, then SIGKILL if the child has not ended within 10 s.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// A running emulator and what it announced.
pub struct Emulator {
    pub announcement: Announcement,
    child: Child,
    /// Held open: the emulator serves until its stdin ends.
    stdin: Option<ChildStdin>,
}

impl Emulator {
    pub async fn start(
        bin: &Path,
        user: &str,
        token: &str,
        dir: &Path,
        logs: &Path,
    ) -> Result<Self, String> {
        let mut cmd = command(bin, logs)?;
        cmd.env(Invocation::USER, user)
            .env(Invocation::TOKEN, token)
            .env(Invocation::DIR, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let mut line = String::new();
        let mut reader = BufReader::new(stdout).take(ANNOUNCE_MAX as u64);
        let read = tokio::time::timeout(ANNOUNCE_TIMEOUT, reader.read_line(&mut line)).await;
        let announcement = match read {
            Ok(Ok(n)) if n > 0 => {
                serde_json::from_str::<Announcement>(line.trim_end()).map_err(|e| {
                    format!(
                        "{}: an announcement that is no protocol JSON: {e}",
                        bin.display()
                    )
                })
            }
            Ok(Ok(_)) => Err(format!("{} ended without announcing itself", bin.display())),
            Ok(Err(e)) => Err(format!(
                "{}: cannot read its announcement: {e}",
                bin.display()
            )),
            Err(_) => Err(format!(
                "{} did not announce itself within {ANNOUNCE_TIMEOUT:?}",
                bin.display()
            )),
        };
        match announcement {
            Ok(announcement) => Ok(Self {
                announcement,
                child,
                stdin,
            }),
            Err(e) => {
                let _ = child.kill().await;
                Err(e)
            }
        }
    }

    /// Closes its stdin (the protocol's end), then terminates it if it is still there.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            terminate(&mut self.child).await;
        }
    }
}

/// A running connector.
pub struct Process {
    pub url: String,
    child: Child,
}

impl Process {
    /// Starts the connector on a free loopback port with `env` and the stack's defaults.
    pub async fn spawn(
        bin: &Path,
        env: impl IntoIterator<Item = (String, String)>,
        logs: &Path,
    ) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut cmd = command(bin, logs)?;
        cmd.env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("LOGLEVEL", "INFO")
            .env("WORKERS", "2")
            .envs(env)
            .stdin(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        })
    }

    /// SIGTERM (the connector drains and exits), SIGKILL if it does not.
    pub async fn stop(mut self) {
        terminate(&mut self.child).await;
    }
}

/// Polls `{url}/ready` until it answers 200.
pub async fn wait_ready(url: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ok = client
            .get(format!("{url}/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{url} is not ready after {timeout:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
