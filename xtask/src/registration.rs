//! `cargo xtask registration-payloads --out DIR`: the registration bodies the connectors
//! really send, one JSON file each, for CI's checks against RDS's own library and our JSON
//! Schema (`ci/registration-checks.sh`).
//!
//! Every connector found under `connectors/` is built and run with `--print-registration`
//! (the core builds it from its configuration as at start and prints the exact
//! `POST /service` body, contacting nothing) in a clean environment: [`BASE_ENV`] plus,
//! for each sample file `connectors/<name>/ci/registration*.env`, that file's keys. A
//! connector without sample files runs once on [`BASE_ENV`] alone, so its defaults must
//! be enough to register. Output: `DIR/<name>.json`, `DIR/<name>-<variant>.json` for
//! `registration-<variant>.env`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::cmd::{self, Runner};
use crate::workspace::{cargo, Connector, Workspace};

#[derive(Args, Debug)]
pub struct RegistrationPayloads {
    /// Where to write the payloads (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A connector (`zenodo` or `zenodo-connector`); repeatable. Default: all.
    #[arg(long = "connector", value_name = "NAME")]
    connectors: Vec<String>,
}

/// What every run gets: registration on (so keys required to register are required),
/// RDS's redirect URI (part of an OAuth2 authorize URL). Nothing is contacted.
pub const BASE_ENV: &[(&str, &str)] = &[
    (
        "CENTRAL_SERVICE_TOKEN_STORAGE",
        "http://token-storage.invalid",
    ),
    ("RDS_OAUTH_REDIRECT_URI", "https://rds.example.org/redirect"),
    ("LISTEN_ADDR", "127.0.0.1:0"),
];

/// One run: its output file's stem and the sample file it reads, if any.
#[derive(Debug, PartialEq, Eq)]
struct Sample {
    stem: String,
    env_file: Option<PathBuf>,
}

pub fn run(args: &RegistrationPayloads) -> Result<()> {
    let ws = Workspace::load()?;
    let connectors = ws.select(&args.connectors)?;
    let mut build = Command::new(cargo());
    build.args(["build", "--bins"]);
    for c in &connectors {
        build.args(["-p", &c.package]);
    }
    Runner { dry_run: false }.run(&mut build)?;
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut written = 0;
    for c in &connectors {
        let binary = ws.target_dir.join("debug").join(&c.bin);
        for sample in samples(c)? {
            let env = match &sample.env_file {
                Some(path) => parse_env(
                    &fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                )
                .with_context(|| format!("in {}", path.display()))?,
                None => Vec::new(),
            };
            let payload = print_registration(&binary, &c.dir, &env).with_context(|| {
                format!(
                    "{} with {}",
                    c.package,
                    sample
                        .env_file
                        .as_deref()
                        .map_or("no sample env file".into(), |p| p.display().to_string())
                )
            })?;
            let out = args.out.join(format!("{}.json", sample.stem));
            fs::write(&out, &payload).with_context(|| format!("writing {}", out.display()))?;
            println!("{}: {}", c.package, out.display());
            written += 1;
        }
    }
    println!(
        "registration-payloads: {written} payloads in {}",
        args.out.display()
    );
    Ok(())
}

/// The sample environments of a connector, sorted; one empty sample when it has none.
fn samples(c: &Connector) -> Result<Vec<Sample>> {
    let dir = c.dir.join("ci");
    let mut out = Vec::new();
    if dir.is_dir() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(variant) = name
                .strip_prefix("registration")
                .and_then(|n| n.strip_suffix(".env"))
            else {
                continue;
            };
            let stem = match variant.strip_prefix('-') {
                None if variant.is_empty() => c.package.clone(),
                Some(v) if !v.is_empty() => format!("{}-{v}", c.package),
                _ => bail!(
                    "{}: name sample files registration.env or registration-<variant>.env",
                    path.display()
                ),
            };
            out.push(Sample {
                stem,
                env_file: Some(path),
            });
        }
    }
    out.sort_by(|a, b| a.stem.cmp(&b.stem));
    if out.is_empty() {
        out.push(Sample {
            stem: c.package.clone(),
            env_file: None,
        });
    }
    Ok(out)
}

/// `KEY=VALUE` lines; blank lines and `#` comments skipped; no quoting (a value is the
/// rest of the line, as written).
fn parse_env(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: expected KEY=VALUE, found {line:?}", n + 1);
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("line {}: {key:?} is not an environment name", n + 1);
        }
        out.push((key.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// Runs `binary --print-registration` in `dir` (relative paths in the sample resolve
/// against the crate) with only [`BASE_ENV`] and `env`; its stdout, checked to be a
/// JSON object.
fn print_registration(binary: &Path, dir: &Path, env: &[(String, String)]) -> Result<String> {
    let mut command = Command::new(binary);
    command
        .arg("--print-registration")
        .current_dir(dir)
        .env_clear()
        .envs(BASE_ENV.iter().copied())
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null());
    // The sample's values (client secrets of the sample) may be shown: they are made up.
    let line = cmd::display(&command);
    let out = command
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        bail!(
            "`{line}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8(out.stdout).context("the payload is not UTF-8")?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(text),
        Ok(_) => bail!("`{line}` printed JSON that is no object: {text}"),
        Err(e) => bail!("`{line}` printed no JSON ({e}): {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(dir: &Path) -> Connector {
        Connector {
            package: "demo-connector".into(),
            dir: dir.to_path_buf(),
            bin: "demo-connector".into(),
            version: "0.1.0".into(),
            license: None,
            repository: None,
            description: None,
        }
    }

    #[test]
    fn env_files() -> Result<()> {
        let env = parse_env("# sample\n\nA_B=https://x.example/?a=b\nC= spaced value \n")?;
        assert_eq!(
            env,
            [
                ("A_B".to_string(), "https://x.example/?a=b".to_string()),
                ("C".to_string(), "spaced value".to_string())
            ]
        );
        assert!(parse_env("NOVALUE\n").is_err());
        assert!(parse_env("lower=1\n").is_err());
        Ok(())
    }

    #[test]
    fn samples_by_file_name() -> Result<()> {
        let tmp = std::env::temp_dir().join(format!("xtask-samples-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp)?;
        let c = connector(&tmp);
        assert_eq!(
            samples(&c)?,
            [Sample {
                stem: "demo-connector".into(),
                env_file: None
            }]
        );
        fs::create_dir_all(tmp.join("ci"))?;
        for f in ["registration.env", "registration-login.env", "other.yaml"] {
            fs::write(tmp.join("ci").join(f), "")?;
        }
        let stems: Vec<String> = samples(&c)?.into_iter().map(|s| s.stem).collect();
        assert_eq!(stems, ["demo-connector", "demo-connector-login"]);
        fs::write(tmp.join("ci/registration-.env"), "")?;
        assert!(samples(&c).is_err());
        fs::remove_dir_all(&tmp)?;
        Ok(())
    }
}
