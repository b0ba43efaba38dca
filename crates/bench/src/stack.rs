//! The services: Token Storage, WebDAV server and Zenodo emulator in this process; the
//! connector binaries as child processes configured by environment only, as deployed;
//! the reference servers (Apache, nginx) as child processes when installed.

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
use crate::refservers::{Apache, Nginx, Server};

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

pub fn free_port() -> Result<u16> {
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

/// The connectors' `LOGLEVEL`: INFO, one access line per request as deployed, unless the
/// bench's own environment says otherwise (`LOGLEVEL=WARNING` shows what the line costs;
/// nginx's access log is off).
pub fn connector_loglevel() -> String {
    std::env::var("LOGLEVEL").unwrap_or_else(|_| "INFO".into())
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
            ("LOGLEVEL", connector_loglevel()),
        ]
        .into_iter()
        // The worker count, to compare with nginx's one worker (default: one per core).
        .chain(std::env::var("WORKERS").ok().map(|n| ("WORKERS", n)))
        .collect()
    }

    /// The environment of the ownCloud connector.
    pub fn owncloud_env(&self) -> Vec<(&'static str, String)> {
        self.owncloud_env_for(self.webdav.base_url())
    }

    /// The environment of an ownCloud connector in front of the server at `installation`.
    pub fn owncloud_env_for(&self, installation: String) -> Vec<(&'static str, String)> {
        let mut env = self.rds_env();
        env.extend([
            ("OWNCLOUD_INSTALLATION_URL", installation),
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

/// Providers plus both connectors, and the reference servers when installed.
pub struct Stack {
    pub p: Providers,
    pub owncloud: Connector,
    pub zenodo: Connector,
    pub refs: RefServers,
    pub log_dir: PathBuf,
}

/// Apache serving the same `cloud` folder as the WebDAV server, with its own ownCloud
/// connector; nginx in front of Apache and of the Zenodo emulator.
pub struct RefServers {
    pub apache: Option<ApacheStack>,
    pub nginx: Option<NginxStack>,
    /// Why a server is missing: printed under every table that lacks its rows.
    pub notes: Vec<String>,
}

pub struct ApacheStack {
    pub apache: Apache,
    /// `http://127.0.0.1:<port>/remote.php/webdav`.
    pub dav_root: String,
    /// An `owncloud-connector` with `OWNCLOUD_INSTALLATION_URL` = Apache.
    pub connector: Connector,
}

pub struct NginxStack {
    pub nginx: Nginx,
    /// nginx → Apache's `/remote.php/webdav`, when Apache runs.
    pub dav_root: Option<String>,
    /// nginx → the Zenodo emulator (`http://127.0.0.1:<port>`).
    pub zenodo: String,
}

impl RefServers {
    /// nginx's URL of Apache's WebDAV root and nginx's process (for its CPU), when both run.
    pub fn nginx_dav(&self) -> Option<(&str, &Server)> {
        let n = self.nginx.as_ref()?;
        Some((n.dav_root.as_deref()?, &n.nginx.server))
    }

    async fn start(p: &Providers, root: &Path, log_dir: &Path) -> Result<Self> {
        let mut notes = Vec::new();
        let apache = match Apache::start(root, &log_dir.join("apache")).await {
            Ok(apache) => {
                let env = p.owncloud_env_for(apache.base_url.clone());
                let connector = Connector::start(OWNCLOUD, &env, log_dir).await?;
                Some(ApacheStack {
                    dav_root: format!("{}{}", apache.base_url, owncloud_emulator::OWNCLOUD_ROOT),
                    apache,
                    connector,
                })
            }
            Err(e) => {
                notes.push(format!("Apache `mod_dav` rows skipped: {e:#}."));
                None
            }
        };
        let mut upstreams = vec![p.zenodo.url().to_owned()];
        upstreams.extend(apache.as_ref().map(|a| a.apache.base_url.clone()));
        let up: Vec<&str> = upstreams.iter().map(String::as_str).collect();
        let nginx = match Nginx::start(&up, &log_dir.join("nginx")).await {
            Ok(nginx) => Some(NginxStack {
                zenodo: nginx.urls[0].clone(),
                dav_root: nginx
                    .urls
                    .get(1)
                    .map(|u| format!("{u}{}", owncloud_emulator::OWNCLOUD_ROOT)),
                nginx,
            }),
            Err(e) => {
                notes.push(format!("nginx rows skipped: {e:#}."));
                None
            }
        };
        Ok(Self {
            apache,
            nginx,
            notes,
        })
    }

    async fn stop(self) {
        if let Some(n) = self.nginx {
            n.nginx.server.stop().await;
        }
        if let Some(a) = self.apache {
            a.connector.stop().await;
            a.apache.server.stop().await;
        }
    }
}

impl Stack {
    pub async fn start(root: &Path, log_dir: &Path) -> Result<Self> {
        let p = Providers::start(root).await?;
        let owncloud = Connector::start(OWNCLOUD, &p.owncloud_env(), log_dir).await?;
        let zenodo = Connector::start(ZENODO, &p.zenodo_env(), log_dir).await?;
        let refs = RefServers::start(&p, root, log_dir).await?;
        for n in &refs.notes {
            println!("{n}");
        }
        Ok(Self {
            p,
            owncloud,
            zenodo,
            refs,
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
        self.refs.stop().await;
        self.owncloud.stop().await;
        self.zenodo.stop().await;
        self.p.stop().await;
    }
}
