//! The workspace as `cargo metadata` describes it: its root, target directory and connectors.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::cmd;

/// A binary crate under `connectors/`.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The package name, e.g. `owncloud-connector`; also the image name.
    pub package: String,
    /// Its crate directory, `connectors/<package>`.
    pub dir: PathBuf,
    /// The binary target to put in the image.
    pub bin: String,
    pub version: String,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub description: Option<String>,
}

pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub connectors: Vec<Connector>,
}

/// The `cargo` that runs us (cargo sets `CARGO` for `cargo run`), else `cargo` on PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

impl Workspace {
    pub fn load() -> Result<Self> {
        let json = cmd::capture(Command::new(cargo()).args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]))
        .context("reading the workspace with `cargo metadata`")?;
        let meta: Value =
            serde_json::from_str(&json).context("parsing the output of `cargo metadata`")?;
        Self::from_metadata(&meta)
    }

    fn from_metadata(meta: &Value) -> Result<Self> {
        let root = PathBuf::from(
            meta["workspace_root"]
                .as_str()
                .context("cargo metadata: no workspace_root")?,
        );
        let target_dir = PathBuf::from(
            meta["target_directory"]
                .as_str()
                .context("cargo metadata: no target_directory")?,
        );
        let connectors_dir = root.join("connectors");
        let mut connectors = Vec::new();
        for pkg in meta["packages"].as_array().into_iter().flatten() {
            let Some(manifest) = pkg["manifest_path"].as_str() else {
                continue;
            };
            // Only crates right under connectors/: a connector's own helper crates beside
            // it (`connectors/<name>/emulator`, `connectors/<name>/fuzz`) are not connectors.
            let Some(crate_dir) = Path::new(manifest).parent() else {
                continue;
            };
            if crate_dir.parent() != Some(connectors_dir.as_path()) {
                continue;
            }
            let Some(package) = pkg["name"].as_str() else {
                continue;
            };
            let bins: Vec<&str> = pkg["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "bin"))
                })
                .filter_map(|t| t["name"].as_str())
                .collect();
            // The binary named like the package, else the only one; a library-only crate
            // under connectors/ gets no image.
            let bin = if bins.contains(&package) {
                package
            } else if let [only] = bins.as_slice() {
                only
            } else {
                continue;
            };
            let text = |k: &str| pkg[k].as_str().map(str::to_string);
            connectors.push(Connector {
                package: package.to_string(),
                dir: crate_dir.to_path_buf(),
                bin: bin.to_string(),
                version: text("version").unwrap_or_else(|| "0.0.0".to_string()),
                license: text("license"),
                repository: text("repository"),
                description: text("description"),
            });
        }
        connectors.sort_by(|a, b| a.package.cmp(&b.package));
        Ok(Self {
            root,
            target_dir,
            connectors,
        })
    }

    /// The connectors named on the command line (`owncloud` or `owncloud-connector`), or all.
    pub fn select(&self, names: &[String]) -> Result<Vec<Connector>> {
        if self.connectors.is_empty() {
            bail!(
                "no connector crates found under {}",
                self.root.join("connectors").display()
            );
        }
        if names.is_empty() {
            return Ok(self.connectors.clone());
        }
        let mut out = Vec::new();
        for name in names {
            let found = self.connectors.iter().find(|c| {
                c.package == *name || c.package == format!("{name}-connector") || c.bin == *name
            });
            match found {
                Some(c) if !out.iter().any(|o: &Connector| o.package == c.package) => {
                    out.push(c.clone())
                }
                Some(_) => {}
                None => bail!(
                    "unknown connector `{name}`; the workspace has: {}",
                    self.connectors
                        .iter()
                        .map(|c| c.package.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Value {
        serde_json::json!({
            "workspace_root": "/w",
            "target_directory": "/w/target",
            "packages": [
                {"name": "connector-core", "version": "0.1.0", "manifest_path": "/w/crates/connector-core/Cargo.toml",
                 "targets": [{"name": "connector_core", "kind": ["lib"]}]},
                {"name": "zenodo-connector", "version": "0.1.0", "license": "MIT", "manifest_path": "/w/connectors/zenodo-connector/Cargo.toml",
                 "targets": [{"name": "zenodo-connector", "kind": ["bin"]}]},
                {"name": "owncloud-connector", "version": "0.2.0", "manifest_path": "/w/connectors/owncloud-connector/Cargo.toml",
                 "targets": [{"name": "owncloud_connector", "kind": ["lib"]}, {"name": "owncloud-connector", "kind": ["bin"]}]},
                {"name": "helpers", "version": "0.1.0", "manifest_path": "/w/connectors/helpers/Cargo.toml",
                 "targets": [{"name": "helpers", "kind": ["lib"]}]},
                {"name": "zenodo-emulator", "version": "0.1.0", "manifest_path": "/w/connectors/zenodo-connector/emulator/Cargo.toml",
                 "targets": [{"name": "zenodo_emulator", "kind": ["lib"]}, {"name": "zenodo-emulator", "kind": ["bin"]}]},
                {"name": "xtask", "version": "0.1.0", "manifest_path": "/w/xtask/Cargo.toml",
                 "targets": [{"name": "xtask", "kind": ["bin"]}]}
            ]
        })
    }

    #[test]
    fn discovers_binary_crates_under_connectors() -> Result<()> {
        let ws = Workspace::from_metadata(&meta())?;
        let names: Vec<_> = ws.connectors.iter().map(|c| c.package.as_str()).collect();
        assert_eq!(names, ["owncloud-connector", "zenodo-connector"]);
        assert_eq!(ws.connectors[0].version, "0.2.0");
        assert_eq!(ws.connectors[1].license.as_deref(), Some("MIT"));
        assert_eq!(
            ws.connectors[1].dir,
            Path::new("/w/connectors/zenodo-connector")
        );
        Ok(())
    }

    #[test]
    fn selects_by_short_or_full_name() -> Result<()> {
        let ws = Workspace::from_metadata(&meta())?;
        let sel = ws.select(&["zenodo".into(), "zenodo-connector".into()])?;
        assert_eq!(sel.len(), 1);
        assert!(ws.select(&["dropbox".into()]).is_err());
        assert_eq!(ws.select(&[])?.len(), 2);
        Ok(())
    }
}
