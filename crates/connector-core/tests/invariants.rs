//! ARCHITECTURE.md's promises about provider crates, checked on the workspace as it is:
//! every package under `connectors/` (found, not listed) builds on the core alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Dependencies a provider must get through connector-core, never directly: the web
/// framework (providers never touch actix) and the OAuth2 crate (the core re-exports the
/// descriptor's types).
const CORE_ONLY: &[&str] = &["actix-web", "actix-multipart", "actix-rt", "oauth2"];

#[test]
fn provider_crates_depend_on_neither_actix_nor_oauth2() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let connectors = Path::new(meta["workspace_root"].as_str().unwrap()).join("connectors");
    let mut checked = 0;
    for pkg in meta["packages"].as_array().unwrap() {
        let dir = Path::new(pkg["manifest_path"].as_str().unwrap())
            .parent()
            .unwrap();
        if dir.parent() != Some(connectors.as_path()) {
            continue;
        }
        checked += 1;
        for dep in pkg["dependencies"].as_array().unwrap() {
            // `kind` null = a normal dependency; dev-dependencies (test macros) are fine.
            let name = dep["name"].as_str().unwrap();
            assert!(
                !(dep["kind"].is_null() && CORE_ONLY.contains(&name)),
                "{} depends on {name}: use connector-core's API instead",
                pkg["name"]
            );
        }
    }
    assert!(
        checked >= 2,
        "found {checked} connector crates under connectors/"
    );
}
