//! Finds the workspace's connectors and their emulators with `cargo metadata`, by the same
//! rule as `cargo xtask build-images`: a connector is a package directly under
//! `connectors/` with a binary; its emulator is the package `connectors/<name>/emulator`,
//! whose binary is named like the package.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connector {
    pub package: String,
    /// The connector's binary.
    pub bin: String,
    /// The emulator's package, also its binary's name.
    pub emulator: String,
}

/// The connectors of the workspace around the current directory, sorted by package.
pub fn connectors() -> Result<Vec<Connector>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cannot run {cargo} metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cannot read cargo metadata: {e}"))?;
    from_metadata(&meta)
}

fn from_metadata(meta: &Value) -> Result<Vec<Connector>, String> {
    let root = Path::new(meta["workspace_root"].as_str().ok_or("no workspace_root")?);
    let connectors_dir = root.join("connectors");
    let packages: Vec<(&Path, &Value)> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((Path::new(p["manifest_path"].as_str()?).parent()?, p)))
        .collect();
    let mut found = Vec::new();
    for (dir, pkg) in &packages {
        if dir.parent() != Some(connectors_dir.as_path()) {
            continue;
        }
        let (Some(package), Some(bin)) = (pkg["name"].as_str(), bins(pkg).next()) else {
            continue;
        };
        let emulator_dir = dir.join("emulator");
        let emulator = packages
            .iter()
            .find(|(d, _)| *d == emulator_dir)
            .and_then(|(_, p)| {
                let name = p["name"].as_str()?;
                bins(p).any(|b| b == name).then_some(name)
            })
            .ok_or_else(|| {
                format!(
                    "connector {package} has no emulator binary: a package in {} with a \
                     binary of its own name (see test_support::emulator)",
                    emulator_dir.display()
                )
            })?;
        found.push(Connector {
            package: package.to_owned(),
            bin: bin.to_owned(),
            emulator: emulator.to_owned(),
        });
    }
    found.sort_by(|a, b| a.package.cmp(&b.package));
    if found.is_empty() {
        return Err(format!("no connector under {}", connectors_dir.display()));
    }
    Ok(found)
}

fn bins(pkg: &Value) -> impl Iterator<Item = &str> {
    pkg["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
}

/// Where the binaries are: `RDS_CONNECTOR_BIN_DIR`, else beside this executable.
pub fn binary_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("RDS_CONNECTOR_BIN_DIR") {
        return Ok(dir.into());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    Ok(exe.parent().map(Path::to_path_buf).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn pkg(manifest: &str, name: &str, kinds: &[(&str, &str)]) -> Value {
        let targets: Vec<Value> = kinds
            .iter()
            .map(|(kind, n)| json!({"kind": [kind], "name": n}))
            .collect();
        json!({"name": name, "manifest_path": manifest, "targets": targets})
    }

    #[test]
    fn connectors_are_binaries_under_connectors_with_an_emulator_binary() {
        let meta = json!({"workspace_root": "/w", "packages": [
            pkg("/w/connectors/b-connector/Cargo.toml", "b-connector", &[("lib", "b_connector"), ("bin", "b-connector")]),
            pkg("/w/connectors/b-connector/emulator/Cargo.toml", "b-emulator", &[("lib", "b_emulator"), ("bin", "b-emulator")]),
            pkg("/w/connectors/a-connector/Cargo.toml", "a-connector", &[("bin", "a-connector")]),
            pkg("/w/connectors/a-connector/emulator/Cargo.toml", "a-emulator", &[("bin", "a-emulator")]),
            pkg("/w/connectors/libonly/Cargo.toml", "libonly", &[("lib", "libonly")]),
            pkg("/w/crates/rds-demo/Cargo.toml", "rds-demo", &[("bin", "rds-demo")]),
        ]});
        let found = from_metadata(&meta).unwrap();
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|c| (c.package.as_str(), c.emulator.as_str()))
            .collect();
        assert_eq!(
            names,
            [("a-connector", "a-emulator"), ("b-connector", "b-emulator")]
        );
    }

    #[test]
    fn a_connector_without_an_emulator_binary_is_an_error() {
        let meta = json!({"workspace_root": "/w", "packages": [
            pkg("/w/connectors/c/Cargo.toml", "c", &[("bin", "c")]),
            pkg("/w/connectors/c/emulator/Cargo.toml", "c-emulator", &[("lib", "c_emulator")]),
        ]});
        let e = from_metadata(&meta).unwrap_err();
        assert!(e.contains("connector c has no emulator binary"), "{e}");
    }
}
