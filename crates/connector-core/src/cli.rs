//! The command line: a connector is configured by its environment and config file only,
//! so the binary takes `--help` and `--version` and refuses everything else (exit 2,
//! rather than starting to serve with an argument silently ignored).

use std::ffi::OsString;
use std::process::ExitCode;

use serde::Serialize;

use crate::config::{COMMON_KEYS, DEFAULT_CONFIG_FILE};
use crate::{ConnectorSpec, EXIT_CONFIG};

/// What the arguments ask for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Serve,
    Help,
    Version,
    Refuse(String),
}

pub(crate) fn action(args: impl IntoIterator<Item = OsString>) -> Action {
    let mut action = Action::Serve;
    for arg in args {
        match arg.to_str() {
            Some("--help" | "-h") => action = Action::Help,
            Some("--version" | "-V") if action != Action::Help => action = Action::Version,
            Some("--version" | "-V") => {}
            _ => return Action::Refuse(format!("unknown argument {arg:?}")),
        }
    }
    action
}

/// Handles the process's arguments: `Some(code)` when the process should exit now.
pub(crate) fn handle<S: ConnectorSpec>() -> Option<ExitCode> {
    match action(std::env::args_os().skip(1)) {
        Action::Serve => None,
        Action::Help => {
            print!("{}", help::<S>());
            Some(ExitCode::SUCCESS)
        }
        Action::Version => {
            println!("{} {}", S::NAME, env!("CARGO_PKG_VERSION"));
            Some(ExitCode::SUCCESS)
        }
        Action::Refuse(problem) => {
            eprintln!(
                "{}: {problem}; it takes only --help or --version and is configured by \
                 environment variables (see --help)",
                S::NAME
            );
            Some(ExitCode::from(EXIT_CONFIG))
        }
    }
}

/// The usage text: how configuration works, and every key with its default.
pub(crate) fn help<S: ConnectorSpec>() -> String {
    let mut out = format!(
        "{name} {version}: a Sciebo RDS connector (rds-connectors)\n\n\
         Usage: {name} [--help | --version]\n\n\
         Configured by environment variables, which override the TOML file\n\
         {DEFAULT_CONFIG_FILE} (or the file in CONNECTOR_CONFIG; keys in lower case).\n\
         A secret key may instead be read from the file named by <KEY>_FILE. A bad value stops the process with\n\
         exit code 2. See the README for what each key means.\n\n\
         Common keys (default):\n",
        name = S::NAME,
        version = env!("CARGO_PKG_VERSION"),
    );
    list_keys(&mut out, COMMON_KEYS, &crate::CommonConfig::default(), &[]);
    out.push_str(&format!("\n{} keys (default):\n", S::NAME));
    list_keys(&mut out, S::KEYS, &S::Config::default(), S::SECRET_KEYS);
    out
}

fn list_keys(out: &mut String, keys: &[&str], defaults: &impl Serialize, secret: &[&str]) {
    let defaults = serde_json::to_value(defaults).unwrap_or_default();
    for key in keys {
        let default = match defaults.get(key.to_lowercase()) {
            None | Some(serde_json::Value::Null) => "unset".to_owned(),
            Some(serde_json::Value::String(s)) => format!("{s:?}"),
            Some(v) => v.to_string(),
        };
        let note = if secret.contains(key) {
            " (secret; also from <KEY>_FILE)"
        } else {
            ""
        };
        out.push_str(&format!("  {key:<36} {default}{note}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(args: &[&str]) -> Action {
        action(args.iter().map(OsString::from))
    }

    #[test]
    fn arguments() {
        assert_eq!(of(&[]), Action::Serve);
        assert_eq!(of(&["--help"]), Action::Help);
        assert_eq!(of(&["-h"]), Action::Help);
        assert_eq!(of(&["--version"]), Action::Version);
        assert_eq!(of(&["-V"]), Action::Version);
        assert_eq!(of(&["--version", "--help"]), Action::Help);
        assert!(matches!(of(&["--verbose"]), Action::Refuse(p) if p.contains("--verbose")));
        assert!(matches!(of(&["--help", "serve"]), Action::Refuse(_)));
    }
}
