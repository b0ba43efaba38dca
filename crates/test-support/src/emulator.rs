//! The protocol between a provider emulator's binary (`connectors/<name>/emulator`, binary
//! named like its package) and the conformance stack (`crates/conformance-stack`), which
//! finds every connector and its emulator by itself.
//!
//! 1. The stack starts the emulator with a clean environment holding
//!    - `EMULATOR_USER`: the user's name at the provider,
//!    - `EMULATOR_TOKEN`: the access token that user holds (the stack stores the same token
//!      in the Token Storage emulator for the connector's servicename),
//!    - `EMULATOR_DIR`: an empty folder the emulator may keep its state in.
//! 2. The emulator binds `127.0.0.1:0`, prepares its sample state (what the schemathesis
//!    hooks name) and prints **one JSON line** on stdout, an [`Announcement`]:
//!    `{"env": {...}, "hooks": {...}}`: `env` is what the connector needs to reach it
//!    (provider URL, OAuth client id and secret, provider-specific settings), `hooks` the
//!    variables of `ci/conformance/hooks.py` (`CONFORMANCE_PATHS`, `CONFORMANCE_PROJECT`).
//! 3. It serves until its stdin reaches its end, SIGTERM or SIGINT, then exits 0. On a
//!    setup failure it prints the reason on stderr and exits 1 without a line.
//!
//! [`serve`] does all of this around an emulator's own setup.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

/// What the stack tells an emulator (its environment, see the module docs).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub user: String,
    pub token: String,
    pub dir: PathBuf,
}

impl Invocation {
    pub const USER: &'static str = "EMULATOR_USER";
    pub const TOKEN: &'static str = "EMULATOR_TOKEN";
    pub const DIR: &'static str = "EMULATOR_DIR";

    /// Reads the invocation from the process environment.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} is not set (see test_support::emulator)"))
        };
        Ok(Self {
            user: var(Self::USER)?,
            token: var(Self::TOKEN)?,
            dir: var(Self::DIR)?.into(),
        })
    }
}

/// The one line an emulator prints once it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The connector's environment to reach the emulator.
    pub env: BTreeMap<String, String>,
    /// The schemathesis hook variables for this provider's sample state.
    #[serde(default)]
    pub hooks: BTreeMap<String, String>,
}

impl Announcement {
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.insert(key.to_owned(), value.into());
        self
    }

    pub fn hook(mut self, key: &str, value: impl Into<String>) -> Self {
        self.hooks.insert(key.to_owned(), value.into());
        self
    }
}

/// An emulator binary's `main`: reads the [`Invocation`], runs `setup` on a tokio runtime,
/// prints its [`Announcement`], keeps what `setup` returned (the running servers) until
/// stdin ends or a signal comes, then drops it.
pub fn serve<S, F, Fut>(name: &str, setup: F) -> ExitCode
where
    F: FnOnce(Invocation) -> Fut,
    Fut: Future<Output = Result<(Announcement, S), String>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let invocation = Invocation::from_env()?;
        let (announcement, servers) = setup(invocation).await?;
        let line = serde_json::to_string(&announcement).map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot announce: {e}"))?;
        drop(out);
        wait_for_end().await;
        drop(servers);
        Ok::<_, String>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Returns when stdin reaches its end, or on SIGTERM or SIGINT.
pub async fn wait_for_end() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // A plain thread: a blocked read must not keep the runtime from shutting down.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = rx => {}
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_announcement_is_one_line_and_reads_back() {
        let a = Announcement::default()
            .env("ZENODO_ADDRESS", "http://127.0.0.1:1")
            .hook("CONFORMANCE_PATHS", "/a b|/a b/c\nd");
        let line = serde_json::to_string(&a).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(serde_json::from_str::<Announcement>(&line).unwrap(), a);
        let no_hooks: Announcement = serde_json::from_str(r#"{"env":{}}"#).unwrap();
        assert!(no_hooks.hooks.is_empty());
    }
}
