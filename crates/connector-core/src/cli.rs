//! The command line: a connector is configured by its environment and config file only,
//! so the binary takes `--help` and `--version` and refuses everything else (exit 2,
//! rather than starting to serve with an argument silently ignored).
//!
//! One hidden flag serves CI: `--print-registration` loads the configuration, builds the
//! connector and prints the exact JSON body it would POST to the Token Storage's
//! `/service`, then exits 0 (`cargo xtask registration-payloads` runs it for every
//! connector, and `ci/check_rds_library.py` feeds the output to RDS's own library). It
//! needs `CENTRAL_SERVICE_TOKEN_STORAGE` set, so the keys required to register are
//! required here too; it contacts nothing. Only the client secret's value is masked
//! (`[REDACTED]`, a string as the real one): a secret never leaves the process but in
//! the POST itself, and no check needs its value.

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
    PrintRegistration,
    Refuse(String),
}

pub(crate) fn action(args: impl IntoIterator<Item = OsString>) -> Action {
    let mut action = Action::Serve;
    for arg in args {
        action = match (arg.to_str(), &action) {
            (Some("--help" | "-h"), Action::Serve | Action::Help | Action::Version) => Action::Help,
            (Some("--version" | "-V"), Action::Serve | Action::Version) => Action::Version,
            (Some("--version" | "-V"), Action::Help) => Action::Help,
            (Some("--print-registration"), Action::Serve) => Action::PrintRegistration,
            (Some(flag @ ("--help" | "-h" | "--version" | "-V" | "--print-registration")), _) => {
                return Action::Refuse(format!(
                    "{flag} cannot be combined with --print-registration"
                ))
            }
            _ => return Action::Refuse(format!("unknown argument {arg:?}")),
        };
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
        Action::PrintRegistration => Some(print_registration::<S>()),
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

/// Prints what `S` would register with the Token Storage (see the module docs).
fn print_registration<S: ConnectorSpec>() -> ExitCode {
    let failed = |e: &dyn std::fmt::Display| {
        eprintln!("{}: configuration error: {e}", S::NAME);
        ExitCode::from(EXIT_CONFIG)
    };
    let cfg = match crate::load_config::<S>() {
        Ok(cfg) => cfg,
        Err(e) => return failed(&e),
    };
    if cfg.common.central_service_token_storage.is_none() {
        return failed(
            &"CENTRAL_SERVICE_TOKEN_STORAGE: --print-registration prints what the \
             connector would send there; set it (nothing is contacted)",
        );
    }
    let built = match S::build(&cfg.common, cfg.provider) {
        Ok(built) => built,
        Err(e) => return failed(&e),
    };
    let mut payload = built.registration_payload();
    if let Some(secret) = payload.get_mut("client_secret") {
        *secret = serde_json::Value::String("[REDACTED]".into());
    }
    match serde_json::to_string_pretty(&payload) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
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
    match crate::provider_keys::<S>() {
        Ok(keys) => list_keys(&mut out, &keys, &S::Config::default(), S::SECRET_KEYS),
        Err(e) => out.push_str(&format!("  (cannot list them: {e})\n")),
    }
    out
}

fn list_keys(
    out: &mut String,
    keys: &[impl AsRef<str>],
    defaults: &impl Serialize,
    secret: &[&str],
) {
    let defaults = serde_json::to_value(defaults).unwrap_or_default();
    for key in keys {
        let key = key.as_ref();
        let default = match defaults.get(key.to_lowercase()) {
            None | Some(serde_json::Value::Null) => "unset".to_owned(),
            Some(serde_json::Value::String(s)) => format!("{s:?}"),
            Some(v) => v.to_string(),
        };
        let note = if secret.contains(&key) {
            " (secret; also from <KEY>_FILE)"
        } else {
            ""
        };
        out.push_str(&format!("  {key:<36} {default}{note}\n"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Built, CommonConfig, ConfigError};

    #[derive(Default, serde::Serialize, serde::Deserialize)]
    #[serde(default)]
    struct DemoConfig {
        demo_address: Option<String>,
        demo_client_secret: Option<String>,
        demo_max_pages: usize,
    }

    struct Demo;
    impl ConnectorSpec for Demo {
        type Config = DemoConfig;
        const NAME: &'static str = "demo-connector";
        const SECRET_KEYS: &'static [&'static str] = &["DEMO_CLIENT_SECRET"];
        fn build(_: &CommonConfig, _: DemoConfig) -> Result<Built, ConfigError> {
            Err(ConfigError::new("DEMO_ADDRESS", "not built in this test"))
        }
    }

    /// A secret key that is no field: a typo that would leave `<KEY>_FILE` unread.
    struct Typo;
    impl ConnectorSpec for Typo {
        type Config = DemoConfig;
        const NAME: &'static str = "typo-connector";
        const SECRET_KEYS: &'static [&'static str] = &["DEMO_CLIENT_SECRETS"];
        fn build(_: &CommonConfig, _: DemoConfig) -> Result<Built, ConfigError> {
            Err(ConfigError::new("DEMO_ADDRESS", "not built in this test"))
        }
    }

    #[test]
    fn keys_are_the_config_fields_and_help_lists_each() {
        let keys = crate::provider_keys::<Demo>().unwrap();
        assert_eq!(
            keys,
            ["DEMO_ADDRESS", "DEMO_CLIENT_SECRET", "DEMO_MAX_PAGES"]
        );
        let help = help::<Demo>();
        for key in COMMON_KEYS
            .iter()
            .copied()
            .chain(keys.iter().map(String::as_str))
        {
            assert!(
                help.contains(&format!("  {key} ")),
                "help lacks {key}: {help}"
            );
        }
        assert!(
            help.contains("DEMO_MAX_PAGES                       0\n"),
            "{help}"
        );
        assert!(help.contains("(secret; also from <KEY>_FILE)"), "{help}");
    }

    #[test]
    fn a_secret_key_that_is_no_key_is_refused() {
        let err = crate::provider_keys::<Typo>().unwrap_err();
        assert_eq!(err.key, "typo-connector");
        assert!(err.problem.contains("DEMO_CLIENT_SECRETS"), "{err}");
        assert!(crate::load_config::<Typo>().is_err());
        assert!(help::<Typo>().contains("cannot list them"));
    }

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
        assert_eq!(of(&["--print-registration"]), Action::PrintRegistration);
        // Only on its own: with --help or --version it is refused, not half-honoured.
        assert!(matches!(
            of(&["--help", "--print-registration"]),
            Action::Refuse(_)
        ));
        assert!(matches!(
            of(&["--print-registration", "--version"]),
            Action::Refuse(_)
        ));
    }
}
