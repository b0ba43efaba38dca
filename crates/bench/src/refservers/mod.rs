//! Reference servers of issue 15, the yardsticks for "as cheap as a hop can be": Apache
//! `mod_dav` (a production WebDAV server, sendfile on) as a second upstream, and nginx
//! `proxy_pass` in front of the same upstreams. Both are Debian binaries the bench only
//! detects (`.ci/run` installs them); when one is missing or does not start, its rows are
//! skipped with a note, never a failure.

mod apache;
mod nginx;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

pub use apache::Apache;
pub use nginx::Nginx;

use crate::procfs;

/// The first of `names` found on `PATH` or in the sbin folders (not on a user's `PATH`).
fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .collect::<Vec<_>>();
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Whether the bench runs as root (CI does): then the servers drop to `nobody`, as they
/// refuse to (nginx) or should not serve as root.
fn as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// Lets the servers' `nobody` workers write into `dir` (uploads, lock database); a no-op
/// when not root, as the workers then run as the bench's own user.
pub fn writable_by_servers(dir: &Path) -> Result<()> {
    set_mode(dir, 0o777)
}

/// Lets `nobody` pass through `dir` (the bench's private temporary folder) without listing it.
fn traversable(dir: &Path) -> Result<()> {
    set_mode(dir, 0o711)
}

fn set_mode(dir: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if !as_root() {
        return Ok(());
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("making {} accessible to nobody", dir.display()))
}

/// A server process in the foreground; its workers are its children. Stopped when dropped.
pub struct Server {
    name: &'static str,
    pid: u32,
    child: Child,
}

impl Server {
    /// Spawns `bin args`, waits until every port in `ports` accepts connections.
    async fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[&str],
        ports: &[u16],
        error_log: &Path,
    ) -> Result<Self> {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server has no pid")?;
        let log = || std::fs::read_to_string(error_log).unwrap_or_default();
        for _ in 0..500 {
            if let Some(status) = child.try_wait()? {
                bail!("{name} exited with {status}: {}", log().trim());
            }
            let mut up = true;
            for p in ports {
                up &= tokio::net::TcpStream::connect(("127.0.0.1", *p))
                    .await
                    .is_ok();
            }
            if up && !procfs::children(pid).is_empty() {
                return Ok(Self { name, pid, child });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill().await;
        bail!("{name} did not listen within 10 s: {}", log().trim())
    }

    /// CPU seconds used so far by the workers (the children of the master or parent, which
    /// serve every request; the master itself does nothing per request).
    pub fn worker_cpu(&self) -> Result<f64> {
        let mut sum = 0.0;
        for pid in procfs::children(self.pid) {
            sum += procfs::cpu_secs(pid)?;
        }
        Ok(sum)
    }

    /// SIGTERM (both stop their workers on it), then a kill after 10 s.
    pub async fn stop(mut self) {
        self.terminate();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            eprintln!("{} did not stop on SIGTERM; killing it", self.name);
            let _ = self.child.kill().await;
        }
    }

    fn terminate(&self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
    }
}

impl Drop for Server {
    /// Not a kill: a killed nginx master leaves its worker running.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The configurations work: a GET and a PUT through nginx reach Apache's folder, and
    /// each server has a worker to measure. (CI installs both; run with `--ignored`.)
    #[tokio::test]
    #[ignore = "needs the Debian packages nginx and apache2-bin"]
    async fn nginx_forwards_to_apache() {
        let work = tempfile::tempdir().unwrap();
        let cloud = work.path().join("cloud");
        std::fs::create_dir_all(&cloud).unwrap();
        std::fs::write(cloud.join("a.txt"), "hello").unwrap();
        let apache = Apache::start(&cloud, &work.path().join("apache"))
            .await
            .unwrap();
        let nginx = Nginx::start(&[&apache.base_url], &work.path().join("nginx"))
            .await
            .unwrap();
        let root = format!("{}/remote.php/webdav", nginx.urls[0]);
        let http = reqwest::Client::new();
        let got = http.get(format!("{root}/a.txt")).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.text().await.unwrap(), "hello");
        let put = http
            .put(format!("{root}/b.txt"))
            .body("uploaded")
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "{}", put.status());
        assert_eq!(
            std::fs::read_to_string(cloud.join("b.txt")).unwrap(),
            "uploaded"
        );
        assert!(apache.server.worker_cpu().unwrap() >= 0.0);
        assert!(nginx.server.worker_cpu().unwrap() >= 0.0);
        nginx.server.stop().await;
        apache.server.stop().await;
    }
}
