//! ARCHITECTURE.md's promises about provider crates, checked on the workspace as it is:
//! every package under `connectors/` (found, not listed) builds on the core alone, and
//! its binary runs on the core's allocator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Dependencies a provider must get through connector-core, never directly: the web
/// framework (providers never touch actix) and the OAuth2 crate (the core re-exports the
/// descriptor's types).
const CORE_ONLY: &[&str] = &["actix-web", "actix-multipart", "actix-rt", "oauth2"];

fn metadata() -> Value {
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
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The packages directly under `connectors/` (their emulators are one level deeper).
fn connector_packages(meta: &Value) -> Vec<&Value> {
    let connectors = Path::new(meta["workspace_root"].as_str().unwrap()).join("connectors");
    let found: Vec<&Value> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pkg| {
            let manifest = Path::new(pkg["manifest_path"].as_str().unwrap());
            manifest.parent().and_then(Path::parent) == Some(connectors.as_path())
        })
        .collect();
    assert!(
        found.len() >= 2,
        "found {} connector crates under connectors/",
        found.len()
    );
    found
}

#[test]
fn provider_crates_depend_on_neither_actix_nor_oauth2() {
    let meta = metadata();
    for pkg in connector_packages(&meta) {
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
}

/// The benchmarks' small-request costs assume it (malloc was 11–26 % of a request with
/// glibc's, issue 15); a connector added without it would silently be the slow one.
#[test]
fn every_connector_binary_installs_the_cores_allocator() {
    let meta = metadata();
    for pkg in connector_packages(&meta) {
        let bins: Vec<&Value> = pkg["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
            .collect();
        assert!(!bins.is_empty(), "{} has no binary", pkg["name"]);
        for bin in bins {
            let src = std::fs::read_to_string(bin["src_path"].as_str().unwrap()).unwrap();
            let code: String = src.split_whitespace().collect();
            assert!(
                code.contains(
                    "#[global_allocator]staticALLOCATOR:connector_core::Allocator=connector_core::Allocator;"
                ),
                "{} ({}) does not install connector_core::Allocator",
                bin["name"],
                bin["src_path"]
            );
        }
    }
}
