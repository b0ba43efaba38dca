//! Running external commands, printing them first (and only printing them in dry-run mode).

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Runs commands, or only prints them when `dry_run` is set.
pub struct Runner {
    pub dry_run: bool,
}

impl Runner {
    /// Prints `cmd` as a shell line and runs it with inherited stdio; fails on a non-zero exit.
    pub fn run(&self, cmd: &mut Command) -> Result<()> {
        let line = display(cmd);
        println!("+ {line}");
        if self.dry_run {
            return Ok(());
        }
        let status = cmd
            .status()
            .with_context(|| format!("could not start `{line}`"))?;
        if !status.success() {
            bail!("`{line}` failed ({status})");
        }
        Ok(())
    }
}

/// Runs a read-only query and returns its trimmed stdout, or `None` when it can't be run
/// or exits non-zero. Used for probing (engine detection, git revision) even in dry-run.
pub fn probe<I, S>(program: &str, args: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Like [`probe`] but an error (with the command's stderr) when it fails.
pub fn capture(cmd: &mut Command) -> Result<String> {
    let line = display(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    if !out.status.success() {
        bail!(
            "`{line}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The command as a copy-pasteable shell line, with its explicitly set environment first.
pub fn display(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            parts.push(format!(
                "{}={}",
                k.to_string_lossy(),
                quote(&v.to_string_lossy())
            ));
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        parts.insert(0, format!("cd {} &&", quote(&dir.to_string_lossy())));
    }
    parts.push(quote(&cmd.get_program().to_string_lossy()));
    parts.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    parts.join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("abc-1.0"), "abc-1.0");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn display_includes_env() {
        let mut c = Command::new("cargo");
        c.env("RUSTFLAGS", "-C target-feature=+crt-static")
            .args(["build", "--release"]);
        assert_eq!(
            display(&c),
            "RUSTFLAGS='-C target-feature=+crt-static' cargo build --release"
        );
    }
}
