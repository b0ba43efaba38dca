//! `owncloud-emulator`: the WebDAV server as a process for the conformance stack, following
//! `test_support::emulator`'s protocol. It serves `EMULATOR_DIR/cloud` holding a small
//! research folder, with spaces in its names as real folders have; the hooks name its paths.

use std::path::Path;
use std::process::ExitCode;

use owncloud_emulator::WebDavServer;
use test_support::emulator::{serve, Announcement};

const FOLDER: &str = "Research data";
const FILES: &[(&str, &str)] = &[
    ("README.md", "# Soil moisture campaign\n"),
    (
        "measurements 2026/run 01.csv",
        "time,moisture\n2026-05-01T10:00Z,0.31\n",
    ),
];

fn write_sample(root: &Path) -> std::io::Result<()> {
    for (rel, content) in FILES {
        let path = root.join(FOLDER).join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    serve("owncloud-emulator", |inv| async move {
        let root = inv.dir.join("cloud");
        write_sample(&root).map_err(|e| format!("cannot write the sample folder: {e}"))?;
        let dav = WebDavServer::start(&root, &inv.user, &inv.token)
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        // The folder, its files, and "" and "/" (the root), `|`-separated.
        let mut paths = vec![format!("/{FOLDER}")];
        paths.extend(FILES.iter().map(|(rel, _)| format!("/{FOLDER}/{rel}")));
        paths.extend([String::new(), "/".to_owned()]);
        let announcement = Announcement::default()
            .env("OWNCLOUD_INSTALLATION_URL", dav.base_url())
            .env("OWNCLOUD_OAUTH_CLIENT_ID", "conformance-owncloud-client")
            .env(
                "OWNCLOUD_OAUTH_CLIENT_SECRET",
                "conformance-owncloud-client-secret",
            )
            .env("SERVICENAME", "conformance")
            .env("EFSS_SYSTEM", "owncloud")
            .hook("CONFORMANCE_PATHS", paths.join("|"));
        Ok((announcement, dav))
    })
}
