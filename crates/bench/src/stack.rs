//! The services: Token Storage, WebDAV server and Zenodo emulator in this process; the
//! connector binaries as child processes configured by environment only, as deployed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use owncloud_emulator::WebDavServer;
use test_support::token_storage::TokenStorage;
use tokio::process::{Child, Command};
use zenodo_emulator::ZenodoEmulator;

use crate::procfs::{self, Memory};

pub const USER: &str = "bench";
pub const OWNCLOUD_SERVICE: &str = "port-owncloud-bench";
pub const ZENODO_SERVICE: &str = "port-zenodo";
pub const WEBDAV_TOKEN: &str = "bench-owncloud-token";
pub const ZENODO_TOKEN: &str = "bench-zenodo-token";
pub const OWNCLOUD: &str = "owncloud-connector";
pub const ZENODO: &str = "zenodo-connector";

/// Where the connector binaries are: `RDS_CONNECTOR_BIN_DIR`, else beside this executable.
pub fn binary_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("RDS_CONNECTOR_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().context("cannot find my own executable")?;
    Ok(exe.parent().map(Path::to_path_buf).unwrap_or_default())
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("no free port")?;
    Ok(l.local_addr()?.port())
}

/// A connector child process; killed when dropped.
pub struct Connector {
    pub url: String,
    pub pid: u32,
    /// Spawn → first `/ready` 200.
    pub start_to_ready: Duration,
    child: Child,
}

impl Connector {
    /// Spawns `name` with `env` (and nothing else), waits until `/ready` answers 200.
    pub async fn start(name: &str, env: &[(&str, String)], log_dir: &Path) -> Result<Self> {
        let bin = binary_dir()?.join(name);
        if !bin.is_file() {
            bail!(
                "{} is missing; build it with `cargo build --release -p {name}`",
                bin.display()
            );
        }
        let port = free_port()?;
        let log = log_dir.join(format!("{name}-{port}.log"));
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let ready_url = format!("{url}/ready");
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .env_clear()
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the child has no pid")?;
        // Poll every 2 ms for at most 30 s.
        for _ in 0..15_000 {
            if let Ok(r) = client.get(&ready_url).send().await {
                if r.status().is_success() {
                    return Ok(Self {
                        url,
                        pid,
                        start_to_ready: started.elapsed(),
                        child,
                    });
                }
            }
            if let Some(status) = child.try_wait()? {
                bail!("{name} exited with {status}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!("{name} was not ready within 30 s; see {}", log.display())
    }

    pub fn memory(&self) -> Result<Memory> {
        procfs::memory(self.pid)
    }

    /// CPU seconds used by the connector so far.
    pub fn cpu(&self) -> Result<f64> {
        procfs::cpu_secs(self.pid)
    }

    pub fn reset_peak(&self) -> Result<()> {
        procfs::reset_peak(self.pid)
    }

    /// SIGTERM, then a kill after 10 s.
    pub async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Emulators and servers, without connectors.
pub struct Providers {
    pub token_storage: TokenStorage,
    pub webdav: WebDavServer,
    pub zenodo: ZenodoEmulator,
}

impl Providers {
    /// `root` is served by the WebDAV server.
    pub async fn start(root: &Path) -> Result<Self> {
        let token_storage = TokenStorage::start().await;
        let webdav = WebDavServer::start(root, USER, WEBDAV_TOKEN)
            .await
            .context("starting the WebDAV server")?;
        let zenodo = ZenodoEmulator::start()
            .await
            .context("starting the Zenodo emulator")?;
        zenodo.add_token(ZENODO_TOKEN, USER);
        token_storage.add_token(USER, OWNCLOUD_SERVICE, WEBDAV_TOKEN);
        token_storage.add_token(USER, ZENODO_SERVICE, ZENODO_TOKEN);
        Ok(Self {
            token_storage,
            webdav,
            zenodo,
        })
    }

    fn rds_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CENTRAL_SERVICE_TOKEN_STORAGE", self.token_storage.url()),
            ("USE_CASE_SERVICE_PORT_SERVICE", self.token_storage.url()),
            (
                "RDS_OAUTH_REDIRECT_URI",
                "http://127.0.0.1/rds/redirect".to_owned(),
            ),
            ("LOGLEVEL", "INFO".to_owned()),
        ]
    }

    /// The environment of the ownCloud connector.
    pub fn owncloud_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.rds_env();
        env.extend([
            ("OWNCLOUD_INSTALLATION_URL", self.webdav.base_url()),
            (
                "OWNCLOUD_OAUTH_CLIENT_ID",
                "bench-owncloud-client".to_owned(),
            ),
            (
                "OWNCLOUD_OAUTH_CLIENT_SECRET",
                "bench-owncloud-secret".to_owned(),
            ),
            ("SERVICENAME", "bench".to_owned()),
            ("EFSS_SYSTEM", "owncloud".to_owned()),
        ]);
        env
    }

    /// The environment of the Zenodo connector.
    pub fn zenodo_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.rds_env();
        env.extend([
            ("ZENODO_ADDRESS", self.zenodo.url().to_owned()),
            ("ZENODO_OAUTH_CLIENT_ID", "bench-zenodo-client".to_owned()),
            (
                "ZENODO_OAUTH_CLIENT_SECRET",
                "bench-zenodo-secret".to_owned(),
            ),
        ]);
        env
    }

    pub async fn stop(self) {
        self.zenodo.stop().await;
        self.webdav.stop().await;
        self.token_storage.stop().await;
    }
}

/// Providers plus both connectors.
pub struct Stack {
    pub p: Providers,
    pub owncloud: Connector,
    pub zenodo: Connector,
    pub log_dir: PathBuf,
}

impl Stack {
    pub async fn start(root: &Path, log_dir: &Path) -> Result<Self> {
        let p = Providers::start(root).await?;
        let owncloud = Connector::start(OWNCLOUD, &p.owncloud_env(), log_dir).await?;
        let zenodo = Connector::start(ZENODO, &p.zenodo_env(), log_dir).await?;
        Ok(Self {
            p,
            owncloud,
            zenodo,
            log_dir: log_dir.to_path_buf(),
        })
    }

    /// The connector by binary name.
    pub fn connector(&self, name: &str) -> &Connector {
        if name == ZENODO {
            &self.zenodo
        } else {
            &self.owncloud
        }
    }

    pub async fn stop(self) {
        self.owncloud.stop().await;
        self.zenodo.stop().await;
        self.p.stop().await;
    }
}
