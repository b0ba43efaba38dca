//! The services of the demo: emulators and a real WebDAV server in this process, the two
//! connector binaries (owncloud-connector and the repository's) as child processes configured exactly as a deployment would be
//! (environment variables only).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::repository::{Repository, RepositoryEmulator};
use crate::DemoError;
use owncloud_emulator::WebDavServer;
use test_support::process::spawn_listening;
use test_support::token_storage::TokenStorage;
use tokio::process::{Child, Command};

/// The RDS user of the demo and the secrets the services share.
pub const USER: &str = "researcher";
pub const OWNCLOUD_SERVICE: &str = "port-owncloud-demo";
const WEBDAV_TOKEN: &str = "demo-owncloud-access-token";
/// The user's token at the repository.
pub const REPOSITORY_TOKEN: &str = "demo-repository-access-token";

/// A connector child process; killed when dropped, so no process outlives the demo.
pub struct Connector {
    pub name: &'static str,
    pub url: String,
    child: Child,
    pub log: PathBuf,
}

impl Connector {
    pub async fn stop(mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.child.id() {
            // SIGTERM first: the connector drains and exits 0.
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.kill().await;
    }
}

pub struct Stack {
    pub token_storage: TokenStorage,
    pub webdav: WebDavServer,
    pub repository: RepositoryEmulator,
    pub owncloud: Connector,
    /// The repository's metadata connector.
    pub metadata: Connector,
}

/// Where the connector binaries are: `RDS_CONNECTOR_BIN_DIR`, else beside this executable
/// (target/<profile>/), or one level up for test executables (target/<profile>/deps/).
pub fn binary_dir() -> Result<PathBuf, DemoError> {
    if let Some(dir) = std::env::var_os("RDS_CONNECTOR_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()
        .map_err(|e| DemoError::Setup(format!("cannot find myself: {e}")))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The path of a connector binary, built once per process with `cargo` (the tests pass
/// `env!("CARGO")`): a no-op under `cargo test --workspace`, which built it already.
pub fn connector_binary(cargo: &str, name: &str) -> Result<PathBuf, DemoError> {
    static BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "owncloud-connector",
                "-p",
                "zenodo-connector",
                "-p",
                "inveniordm-connector",
                "-p",
                "dataverse-connector",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .is_ok_and(|s| s.success())
    });
    if !built {
        return Err(DemoError::Setup(
            "building the connector binaries failed".into(),
        ));
    }
    Ok(binary_dir()?.join(name))
}

async fn spawn(
    name: &'static str,
    bin_dir: &Path,
    log_dir: &Path,
    env: &[(&str, String)],
) -> Result<Connector, DemoError> {
    let bin = bin_dir.join(name);
    if !bin.is_file() {
        return Err(DemoError::Setup(format!(
            "{} is missing; build it with `cargo build -p {name}` (cargo xtask demo does)",
            bin.display()
        )));
    }
    let log = log_dir.join(format!("{name}.log"));
    let mut cmd = Command::new(&bin);
    cmd.env_clear()
        .env("LOGLEVEL", "INFO")
        .env("WORKERS", "2")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    let (child, addr) = spawn_listening(&mut cmd, &log, Duration::from_secs(30))
        .await
        .map_err(DemoError::Setup)?;
    Ok(Connector {
        name,
        url: format!("http://{addr}"),
        child,
        log,
    })
}

impl Stack {
    /// Starts everything; `sample_root` is served by the WebDAV server.
    pub async fn start(
        sample_root: &Path,
        log_dir: &Path,
        repo: Repository,
    ) -> Result<Self, DemoError> {
        let token_storage = TokenStorage::start().await;
        let webdav = WebDavServer::start(sample_root, USER, WEBDAV_TOKEN)
            .await
            .map_err(|e| DemoError::Setup(format!("WebDAV server: {e}")))?;
        let repository = RepositoryEmulator::start(repo, USER, REPOSITORY_TOKEN).await?;
        // What RDS holds after the user connected both services in its UI.
        token_storage.add_token(USER, OWNCLOUD_SERVICE, WEBDAV_TOKEN);
        token_storage.add_token(USER, repo.service(), REPOSITORY_TOKEN);

        let bin_dir = binary_dir()?;
        let rds = [
            ("CENTRAL_SERVICE_TOKEN_STORAGE", token_storage.url()),
            ("USE_CASE_SERVICE_PORT_SERVICE", token_storage.url()),
            (
                "RDS_OAUTH_REDIRECT_URI",
                "http://127.0.0.1/rds/redirect".to_owned(),
            ),
        ];
        let mut env: Vec<(&str, String)> = rds.to_vec();
        env.extend([
            ("OWNCLOUD_INSTALLATION_URL", webdav.base_url()),
            (
                "OWNCLOUD_OAUTH_CLIENT_ID",
                "demo-owncloud-client".to_owned(),
            ),
            (
                "OWNCLOUD_OAUTH_CLIENT_SECRET",
                "demo-owncloud-client-secret".to_owned(),
            ),
            ("SERVICENAME", "demo".to_owned()),
            ("EFSS_SYSTEM", "owncloud".to_owned()),
        ]);
        let owncloud = spawn("owncloud-connector", &bin_dir, log_dir, &env).await?;
        let mut env: Vec<(&str, String)> = rds.to_vec();
        env.extend(repository.connector_env());
        let metadata = spawn(repo.connector(), &bin_dir, log_dir, &env).await?;
        Ok(Self {
            token_storage,
            webdav,
            repository,
            owncloud,
            metadata,
        })
    }

    pub async fn stop(self) {
        self.owncloud.stop().await;
        self.metadata.stop().await;
        self.repository.stop().await;
        self.webdav.stop().await;
        self.token_storage.stop().await;
    }
}
