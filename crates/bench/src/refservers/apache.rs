//! Apache httpd with `mod_dav` serving the bench's `cloud` folder at
//! `/remote.php/webdav`, where the ownCloud connector looks for it. Debian's `apache2-bin`
//! has the binary and every module; no `/etc/apache2`, no init system is used.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{as_root, find_binary, traversable, writable_by_servers, Server};
use crate::stack::free_port;

/// Debian's layout (`ServerRoot`, the `modules/` folder below it).
const SERVER_ROOT: &str = "/usr/lib/apache2";

pub struct Apache {
    pub server: Server,
    /// `http://127.0.0.1:<port>`: the connector's `OWNCLOUD_INSTALLATION_URL`.
    pub base_url: String,
}

impl Apache {
    /// `cloud` is served (the same folder as the in-process WebDAV server); `work` holds the
    /// configuration, logs and lock database.
    pub async fn start(cloud: &Path, work: &Path) -> Result<Self> {
        let Some(bin) = find_binary(&["apache2", "httpd"]) else {
            bail!("Apache is not installed (Debian: apt-get install apache2-bin)");
        };
        if !Path::new(SERVER_ROOT)
            .join("modules/mod_dav_fs.so")
            .is_file()
        {
            bail!("{SERVER_ROOT}/modules/mod_dav_fs.so is missing (Debian's apache2-bin has it)");
        }
        let (empty, logs) = (work.join("empty"), work.join("logs"));
        for d in [&empty, &logs] {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        // As root the serving child is `nobody`: it must reach `cloud` and write the lock
        // database; uploads need their folder writable too (the upload scenario does that).
        for d in [work, &empty] {
            traversable(d)?;
        }
        if let Some(parent) = cloud.parent() {
            traversable(parent)?;
        }
        writable_by_servers(&logs)?;
        writable_by_servers(cloud)?;
        let port = free_port()?;
        let conf = work.join("httpd.conf");
        std::fs::write(&conf, config(port, cloud, &empty, &logs))
            .with_context(|| format!("writing {}", conf.display()))?;
        let conf = conf.to_string_lossy().into_owned();
        let server = Server::spawn(
            "Apache",
            &bin,
            &["-f", &conf, "-DFOREGROUND"],
            &[port],
            &logs.join("error.log"),
        )
        .await?;
        Ok(Self {
            server,
            base_url: format!("http://127.0.0.1:{port}"),
        })
    }
}

fn config(port: u16, cloud: &Path, empty: &Path, logs: &Path) -> String {
    let (cloud, empty, logs) = (cloud.display(), empty.display(), logs.display());
    let user = if as_root() {
        "User nobody\nGroup nogroup\n"
    } else {
        ""
    };
    // Without mod_mime every answer lacks a Content-Type; it needs the types file.
    let mime = if Path::new("/etc/mime.types").is_file() {
        "LoadModule mime_module modules/mod_mime.so\nTypesConfig /etc/mime.types\n"
    } else {
        ""
    };
    format!(
        r#"ServerRoot "{SERVER_ROOT}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}PidFile "{logs}/httpd.pid"
ErrorLog "{logs}/error.log"
LogLevel warn
# Else /var/run/apache2, which needs Debian's apache2ctl environment.
DefaultRuntimeDir "{logs}"
Mutex file:{logs} default

LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule alias_module modules/mod_alias.so
LoadModule dav_module modules/mod_dav.so
LoadModule dav_fs_module modules/mod_dav_fs.so
{mime}
# One serving child, so its CPU time is Apache's; threads to spare for 64 connections
# (with exactly 64, c = 64 runs saw errors).
StartServers 1
ServerLimit 1
ThreadsPerChild 128
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
# Off by default in 2.4; the "direct Apache (sendfile)" rows measure it on.
EnableSendfile On
DavLockDB "{logs}/DavLock"

# Not DAV: the connector's chunked-upload probe (MKCOL /remote.php/dav/uploads/...) gets
# 405 and it sends one plain PUT, as to any WebDAV server without chunked uploads.
DocumentRoot "{empty}"
<Directory "{empty}">
    Require all granted
</Directory>
Alias /remote.php/webdav "{cloud}"
<Directory "{cloud}">
    Dav On
    Require all granted
</Directory>
"#
    )
}
