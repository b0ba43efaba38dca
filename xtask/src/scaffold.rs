//! `cargo xtask new-connector NAME`: a new connector crate under `connectors/NAME` that
//! compiles, registers, answers 501 problem+json on its interface and passes its test, its
//! emulator `connectors/NAME/emulator` and its Helm chart `charts/NAME` on the library
//! chart. Everything else finds connectors by itself: the workspace (`connectors/*`,
//! `connectors/*/emulator`), `build-images`, `registration-payloads` and the conformance
//! stack (cargo metadata), the chart checks (every chart under charts/), so nothing else is
//! edited (`ci/deploy-checks.sh scaffold` proves it).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::workspace::Workspace;

#[derive(Args, Debug)]
pub struct NewConnector {
    /// The crate and binary name, e.g. `dataverse-connector` or `demo-provider`
    /// (lower case, digits and dashes).
    name: String,
    /// The RDS interfaces it implements; repeatable or comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    implements: Vec<Implements>,
    /// How users authenticate at the service.
    #[arg(long, value_enum, default_value = "oauth2")]
    auth: Auth,
    /// Print the files instead of writing them.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Implements {
    #[value(name = "fileStorage", alias = "filestorage", alias = "file-storage")]
    FileStorage,
    #[value(name = "metadata")]
    Metadata,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Auth {
    /// An OAuth2 client of the provider (`OAuth2Service`).
    Oauth2,
    /// Username and password (or app token) typed into the RDS UI (`LoginService`).
    Login,
}

const CARGO_TOML: &str = include_str!("../templates/Cargo.toml.tmpl");
const MAIN_RS: &str = include_str!("../templates/main.rs.tmpl");
const LIB_RS: &str = include_str!("../templates/lib.rs.tmpl");
const AUTH_OAUTH2: &str = include_str!("../templates/auth_oauth2.rs.tmpl");
const IMPL_FILE_STORAGE: &str = include_str!("../templates/impl_file_storage.rs.tmpl");
const IMPL_METADATA: &str = include_str!("../templates/impl_metadata.rs.tmpl");
const TEST_BOOT: &str = include_str!("../templates/test_boot.rs.tmpl");
const README: &str = include_str!("../templates/README.md.tmpl");
const ICON: &str = include_str!("../templates/icon.svg.tmpl");
const REGISTRATION_ENV: &str = include_str!("../templates/registration.env.tmpl");
const CHART_YAML: &str = include_str!("../templates/chart/Chart.yaml.tmpl");
const CHART_VALUES: &str = include_str!("../templates/chart/values.yaml.tmpl");
const CHART_SCHEMA: &str = include_str!("../templates/chart/values.schema.json.tmpl");
const CHART_SCHEMA_OAUTH: &str = include_str!("../templates/chart/schema-oauth.json.tmpl");
const CHART_HELMIGNORE: &str = include_str!("../templates/chart/helmignore.tmpl");
const CHART_CONNECTOR: &str = include_str!("../templates/chart/connector.yaml.tmpl");
const CHART_NOTES: &str = include_str!("../templates/chart/NOTES.txt.tmpl");
const CHART_MONITORING: &str = include_str!("../templates/chart/monitoring.yaml.tmpl");
const CHART_CI_MONITORING: &str = include_str!("../templates/chart/ci-monitoring-values.yaml.tmpl");
const CHART_CI_UMBRELLA: &str = include_str!("../templates/chart/ci-umbrella-values.yaml.tmpl");
const CHART_CI_FULL: &str = include_str!("../templates/chart/ci-full-values.yaml.tmpl");
const CHART_CI_NO_SECRET: &str =
    include_str!("../templates/chart/ci-invalid-missing-secret.yaml.tmpl");
const CHART_VALUES_OAUTH: &str =
    "# The OAuth2 client registered at {{display}}. By default from the umbrella's Secret
# `{{provider}}-client` (keys {{provider}}-client-id / {{provider}}-client-secret); with
# fromExistingSecret: false the chart makes a Secret from clientId and clientSecret.
oauthClient:
  fromExistingSecret: true
  existingSecret: {{provider}}-client
  clientIdKey: {{provider}}-client-id
  clientSecretKey: {{provider}}-client-secret
  # clientId: \"\"
  # clientSecret: \"\"

";
const CHART_CI_PULL_POLICY: &str =
    include_str!("../templates/chart/ci-invalid-pull-policy.yaml.tmpl");

/// The common keys a chart's `config` lists (the rest come from the umbrella or defaults).
const CHART_COMMON_KEYS: &[&str] = &[
    "CENTRAL_SERVICE_TOKEN_STORAGE",
    "USE_CASE_SERVICE_PORT_SERVICE",
    "RDS_OAUTH_REDIRECT_URI",
    "VERIFY_SSL",
    "LOGLEVEL",
    "LOG_FORMAT",
];
const EMULATOR_CARGO_TOML: &str = include_str!("../templates/emulator/Cargo.toml.tmpl");
const EMULATOR_LIB_RS: &str = include_str!("../templates/emulator/lib.rs.tmpl");
const EMULATOR_MAIN_RS: &str = include_str!("../templates/emulator/main.rs.tmpl");

pub fn run(args: &NewConnector) -> Result<()> {
    let names = Names::new(&args.name)?;
    let ws = Workspace::load()?;
    let dirs = [
        ws.root.join("connectors").join(&names.name),
        ws.root.join("charts").join(&names.name),
    ];
    if let Some(dir) = dirs.iter().find(|d| d.exists()) {
        bail!("{} exists already", dir.display());
    }
    if ws.connectors.iter().any(|c| c.package == names.name) {
        bail!("the workspace has a package named {} already", names.name);
    }
    let files = render(&names, &args.implements, args.auth);
    if args.dry_run {
        for (path, text) in &files {
            println!("==> {}", ws.root.join(path).display());
            println!("{text}");
        }
        return Ok(());
    }
    write_all(&ws.root, &dirs, &files)?;
    format(&ws.root, &files);
    println!("created ({}):", names.servicename);
    for (path, _) in &files {
        println!("  {}", path.display());
    }
    println!(
        "next: cargo test -p {0}; cargo run -p {0}; cargo xtask build-images --connector {0}; \
         bash ci/deploy-checks.sh charts",
        names.name
    );
    Ok(())
}

/// Formats the generated Rust files with rustfmt, so the crate passes `cargo fmt --check`
/// as generated; a missing rustfmt only warns.
fn format(root: &Path, files: &[(PathBuf, String)]) {
    let rs: Vec<PathBuf> = files
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(p, _)| root.join(p))
        .collect();
    let status = std::process::Command::new("rustfmt")
        .args(["--edition", "2021"])
        .args(&rs)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: rustfmt did not format the new files; run `cargo fmt`");
    }
}

/// Writes `files` (paths relative to `root`); on failure removes the new `dirs` again.
fn write_all(root: &Path, dirs: &[PathBuf], files: &[(PathBuf, String)]) -> Result<()> {
    let result = files.iter().try_for_each(|(path, text)| {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    });
    if result.is_err() {
        // Leave nothing half-made behind.
        for dir in dirs {
            let _ = fs::remove_dir_all(dir);
        }
    }
    result
}

/// The names derived from the crate name.
struct Names {
    /// `demo-provider`: crate, binary and image name.
    name: String,
    /// `demo_provider`: the library's Rust name.
    krate: String,
    /// `DemoProvider`: the `ConnectorSpec` type.
    ty: String,
    /// `demo-provider` (a `-connector` suffix dropped): the provider.
    provider: String,
    /// `port-demo-provider`.
    servicename: String,
    /// `DEMO_PROVIDER`: the prefix of its environment names.
    env_prefix: String,
    /// `Demo Provider`.
    display: String,
}

impl Names {
    fn new(name: &str) -> Result<Self> {
        let valid = name.len() <= 48
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.ends_with('-')
            && !name.contains("--");
        if !valid {
            bail!(
                "`{name}` is not a valid connector name: use lower case letters, digits and single \
                 dashes, starting with a letter (e.g. `dataverse-connector`)"
            );
        }
        let provider = name.strip_suffix("-connector").unwrap_or(name).to_string();
        if provider.is_empty() || ["connector-core", "test-support", "xtask"].contains(&name) {
            bail!("`{name}` is reserved");
        }
        let words: Vec<&str> = provider.split('-').collect();
        let capitalised: Vec<String> = words
            .iter()
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        Ok(Self {
            name: name.to_string(),
            krate: name.replace('-', "_"),
            ty: capitalised.concat(),
            servicename: format!("port-{provider}"),
            env_prefix: provider.replace('-', "_").to_ascii_uppercase(),
            display: capitalised.join(" "),
            provider,
        })
    }
}

fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

fn render(n: &Names, implements: &[Implements], auth: Auth) -> Vec<(PathBuf, String)> {
    let mut implements = implements.to_vec();
    implements.sort();
    implements.dedup();
    let has_fs = implements.contains(&Implements::FileStorage);
    let has_md = implements.contains(&Implements::Metadata);
    let interface_names: Vec<&str> = implements
        .iter()
        .map(|i| match i {
            Implements::FileStorage => "fileStorage",
            Implements::Metadata => "metadata",
        })
        .collect();
    let prefix = n.env_prefix.to_ascii_lowercase();
    let oauth = auth == Auth::Oauth2;

    let mut impls = String::new();
    let mut with_calls = String::new();
    let mut imports = Vec::new();
    let mut requests = String::new();
    if has_fs {
        impls.push_str(IMPL_FILE_STORAGE);
        imports.push("FileStorage");
        with_calls.push_str(if has_md {
            ".with_file_storage(provider.clone())"
        } else {
            ".with_file_storage(provider)"
        });
        requests.push_str(
            "    // fileStorage: GET /storage/folder\n    let r = client\n        .get(format!(\"{}/storage/folder\", running.url()))\n        .query(&[(\"userId\", user_id.as_str()), (\"filepath\", \"/\")])\n        .send()\n        .await\n        .unwrap();\n    assert_not_implemented(r).await;\n",
        );
    }
    if has_md {
        impls.push_str(IMPL_METADATA);
        imports.push("Metadata");
        with_calls.push_str(".with_metadata(provider)");
        requests.push_str(
            "    // metadata: GET /metadata/project\n    let r = client\n        .get(format!(\"{}/metadata/project\", running.url()))\n        .query(&[(\"userId\", user_id.as_str())])\n        .send()\n        .await\n        .unwrap();\n    assert_not_implemented(r).await;\n",
        );
    }
    let interface_imports = if imports.len() == 1 {
        imports[0].to_string()
    } else {
        format!("{{{}}}", imports.join(", "))
    };

    let mut vars: Vec<(&str, String)> = vec![
        ("name", n.name.clone()),
        ("crate", n.krate.clone()),
        ("Type", n.ty.clone()),
        ("provider", n.provider.clone()),
        ("servicename", n.servicename.clone()),
        ("display", n.display.clone()),
        ("implements", interface_names.join(", ")),
        (
            "implements_json",
            interface_names
                .iter()
                .map(|i| format!("\"{i}\""))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("interface_imports", interface_imports),
        ("with_calls", with_calls),
        ("impls", impls),
        ("test_requests", requests),
        (
            "initial",
            n.display.chars().next().unwrap_or('C').to_string(),
        ),
        (
            "interface_path",
            if has_fs {
                "/storage/folder"
            } else {
                "/metadata/project"
            }
            .to_string(),
        ),
        ("schema_config_properties", schema_config_properties(n)),
    ];
    if oauth {
        vars.extend([
            (
                "config_auth_fields",
                "    /// `{{PREFIX}}_OAUTH_CLIENT_ID`: the OAuth2 client registered at the provider.\n    pub {{prefix}}_oauth_client_id: Option<String>,\n    /// `{{PREFIX}}_OAUTH_CLIENT_SECRET` (also from `{{PREFIX}}_OAUTH_CLIENT_SECRET_FILE`).\n    pub {{prefix}}_oauth_client_secret: Option<String>,\n"
                    .to_string(),
            ),
            ("secret_keys", "\"{{PREFIX}}_OAUTH_CLIENT_SECRET\"".to_string()),
            (
                "auth_expr",
                "ServiceAuth::OAuth2(oauth2(common, config, address)?)".to_string(),
            ),
            ("auth_fn", AUTH_OAUTH2.to_string()),
            (
                "readme_auth_rows",
                "| `{{PREFIX}}_OAUTH_CLIENT_ID` | the OAuth2 client id (required when registering) |\n| `{{PREFIX}}_OAUTH_CLIENT_SECRET` | its secret (or `{{PREFIX}}_OAUTH_CLIENT_SECRET_FILE`) |\n"
                    .to_string(),
            ),
            (
                "test_config_fields",
                "        {{prefix}}_oauth_client_id: Some(\"client-id\".into()),\n        {{prefix}}_oauth_client_secret: Some(\"client-secret\".into()),\n"
                    .to_string(),
            ),
            (
                "registration_env_auth",
                "{{PREFIX}}_OAUTH_CLIENT_ID=sample-client-id\n{{PREFIX}}_OAUTH_CLIENT_SECRET=sample-client-secret"
                    .to_string(),
            ),
            (
                "chart_instance_auth",
                "  \"oauthClient\" .Values.oauthClient\n  \"secretEnv\" (dict \"id\" \"{{PREFIX}}_OAUTH_CLIENT_ID\" \"secret\" \"{{PREFIX}}_OAUTH_CLIENT_SECRET\")\n"
                    .to_string(),
            ),
            (
                "chart_notes_auth",
                "  Client     {{ if .Values.oauthClient.fromExistingSecret }}Secret {{ .Values.oauthClient.existingSecret }} (keys {{ .Values.oauthClient.clientIdKey }}, {{ .Values.oauthClient.clientSecretKey }}){{ else }}from values (Secret layer1-{{ .Values.servicename }}-oauth-client){{ end }}\n"
                    .to_string(),
            ),
            ("chart_values_auth", CHART_VALUES_OAUTH.to_string()),
            (
                "chart_full_auth",
                "oauthClient:\n  fromExistingSecret: false\n  clientId: client-id-from-values\n  clientSecret: client-secret-from-values\n"
                    .to_string(),
            ),
            ("schema_oauth", CHART_SCHEMA_OAUTH.to_string()),
            ("schema_oauth_required", "\n    \"oauthClient\",".to_string()),
        ]);
    } else {
        vars.extend([
            ("config_auth_fields", String::new()),
            ("secret_keys", String::new()),
            ("auth_expr", "login_auth(common)".to_string()),
            (
                "auth_fn",
                "\n/// Users type a username and a password (or app token) into the RDS UI.\nfn login_auth(_common: &CommonConfig) -> ServiceAuth {\n    ServiceAuth::Login {\n        user_id: true,\n        password: true,\n    }\n}\n"
                    .to_string(),
            ),
            ("readme_auth_rows", String::new()),
            ("test_config_fields", String::new()),
            ("registration_env_auth", String::new()),
            ("chart_instance_auth", String::new()),
            (
                "chart_notes_auth",
                "  Login      users type their credentials into the RDS UI (LoginService)\n"
                    .to_string(),
            ),
            ("chart_values_auth", String::new()),
            ("chart_full_auth", String::new()),
            ("schema_oauth", String::new()),
            ("schema_oauth_required", String::new()),
        ]);
    }
    // Fragments carry placeholders of their own: fill twice.
    let prefix_vars = [("PREFIX", n.env_prefix.clone()), ("prefix", prefix)];
    let render = |t: &str| fill(&fill(&fill(t, &vars), &vars), &prefix_vars);
    let krate = Path::new("connectors").join(&n.name);
    let chart = Path::new("charts").join(&n.name);
    // The emulator beside the connector (the conformance stack finds it there).
    let emulator = format!("{}-emulator", n.provider);
    let emulator_auth_env = if oauth {
        "\n            .env(\"{{PREFIX}}_OAUTH_CLIENT_ID\", \"conformance-client\")\n            .env(\"{{PREFIX}}_OAUTH_CLIENT_SECRET\", \"conformance-client-secret\")"
    } else {
        ""
    };
    let emulator_vars = [
        ("emulator_crate", emulator.replace('-', "_")),
        ("emulator_auth_env", emulator_auth_env.to_string()),
        ("emulator", emulator),
    ];
    let render_emulator = |t: &str| render(&fill(t, &emulator_vars));
    let mut files = vec![
        (krate.join("Cargo.toml"), render(CARGO_TOML)),
        (krate.join("README.md"), render(README)),
        (krate.join("assets/icon.svg"), render(ICON)),
        (krate.join("src/main.rs"), render(MAIN_RS)),
        (krate.join("src/lib.rs"), render(LIB_RS)),
        (krate.join("tests/boot.rs"), render(TEST_BOOT)),
        (krate.join("ci/registration.env"), render(REGISTRATION_ENV)),
        (
            krate.join("emulator/Cargo.toml"),
            render_emulator(EMULATOR_CARGO_TOML),
        ),
        (
            krate.join("emulator/src/lib.rs"),
            render_emulator(EMULATOR_LIB_RS),
        ),
        (
            krate.join("emulator/src/main.rs"),
            render_emulator(EMULATOR_MAIN_RS),
        ),
        (chart.join("Chart.yaml"), render(CHART_YAML)),
        (chart.join(".helmignore"), render(CHART_HELMIGNORE)),
        (chart.join("values.yaml"), render(CHART_VALUES)),
        (chart.join("values.schema.json"), render(CHART_SCHEMA)),
        (
            chart.join("templates/connector.yaml"),
            render(CHART_CONNECTOR),
        ),
        (chart.join("templates/NOTES.txt"), render(CHART_NOTES)),
        (
            chart.join("templates/monitoring.yaml"),
            render(CHART_MONITORING),
        ),
        (
            chart.join("ci/umbrella-values.yaml"),
            render(CHART_CI_UMBRELLA),
        ),
        (chart.join("ci/full-values.yaml"), render(CHART_CI_FULL)),
        (
            chart.join("ci/monitoring-values.yaml"),
            render(CHART_CI_MONITORING),
        ),
        (
            chart.join("ci/invalid-pull-policy.yaml"),
            render(CHART_CI_PULL_POLICY),
        ),
    ];
    if oauth {
        files.push((
            chart.join("ci/invalid-missing-secret.yaml"),
            render(CHART_CI_NO_SECRET),
        ));
    }
    files
}

/// The `config` keys of the chart's schema: the scaffold's own keys, then the common ones.
fn schema_config_properties(n: &Names) -> String {
    let value = r#"{ "type": ["string", "number", "boolean", "null"] }"#;
    let keys: Vec<String> = ["ADDRESS", "DISPLAYNAME", "ICON"]
        .iter()
        .map(|k| format!("{}_{k}", n.env_prefix))
        .chain(CHART_COMMON_KEYS.iter().map(|k| k.to_string()))
        .map(|k| format!("        \"{k}\": {value}"))
        .collect();
    format!("{{\n{}\n      }}", keys.join(",\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() -> Result<()> {
        let n = Names::new("dataverse-connector")?;
        assert_eq!(n.krate, "dataverse_connector");
        assert_eq!(n.ty, "Dataverse");
        assert_eq!(n.servicename, "port-dataverse");
        assert_eq!(n.env_prefix, "DATAVERSE");
        let n = Names::new("demo-provider")?;
        assert_eq!(n.ty, "DemoProvider");
        assert_eq!(n.servicename, "port-demo-provider");
        assert_eq!(n.env_prefix, "DEMO_PROVIDER");
        assert_eq!(n.display, "Demo Provider");
        for bad in [
            "Demo",
            "1demo",
            "demo_x",
            "demo-",
            "a--b",
            "xtask",
            "-connector",
            "",
        ] {
            assert!(Names::new(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn no_placeholder_is_left() -> Result<()> {
        let n = Names::new("demo-provider")?;
        for implements in [
            vec![Implements::FileStorage],
            vec![Implements::Metadata],
            vec![Implements::Metadata, Implements::FileStorage],
        ] {
            for auth in [Auth::Oauth2, Auth::Login] {
                for (path, text) in render(&n, &implements, auth) {
                    // Ours are `{{word}}`; Helm's `{{ ... }}`, `{{- ...` stay.
                    let ours = text
                        .match_indices("{{")
                        .any(|(i, _)| text[i + 2..].starts_with(|c: char| c.is_ascii_alphabetic()));
                    assert!(!ours, "{} keeps a placeholder", path.display());
                    if path.extension().is_some_and(|e| e == "json") {
                        let schema: serde_json::Value = serde_json::from_str(&text)
                            .with_context(|| format!("{}: {text}", path.display()))?;
                        let config = &schema["properties"]["config"]["properties"];
                        assert!(config["DEMO_PROVIDER_ADDRESS"].is_object(), "{schema}");
                        let required = schema["required"].as_array().context("required")?;
                        let oauth = required.iter().any(|r| r == "oauthClient");
                        assert_eq!(oauth, auth == Auth::Oauth2, "{}", path.display());
                        assert_eq!(
                            schema["properties"]["oauthClient"].is_object(),
                            auth == Auth::Oauth2
                        );
                    }
                }
            }
        }
        let files = render(
            &n,
            &[Implements::FileStorage, Implements::Metadata],
            Auth::Oauth2,
        );
        let lib = &files
            .iter()
            .find(|(p, _)| p == Path::new("connectors/demo-provider/src/lib.rs"))
            .context("no lib.rs")?
            .1;
        for chart_file in [
            "Chart.yaml",
            "templates/monitoring.yaml",
            "ci/monitoring-values.yaml",
        ] {
            assert!(
                files
                    .iter()
                    .any(|(p, _)| *p == Path::new("charts/demo-provider").join(chart_file)),
                "{chart_file}"
            );
        }
        assert!(lib.contains("impl FileStorage for Provider {}"));
        assert!(lib.contains("impl Metadata for Provider {}"));
        assert!(lib.contains(".with_file_storage(provider.clone()).with_metadata(provider)"));
        assert!(lib.contains("\"DEMO_PROVIDER_OAUTH_CLIENT_SECRET\""));
        let file = |p: &str| {
            files
                .iter()
                .find(|(f, _)| *f == Path::new("connectors/demo-provider").join(p))
                .map(|(_, t)| t)
        };
        let emulator = file("emulator/Cargo.toml").context("no emulator crate")?;
        assert!(emulator.contains("name = \"demo-provider-emulator\""));
        let main = file("emulator/src/main.rs").context("no emulator binary")?;
        assert!(main.contains(".env(\"DEMO_PROVIDER_ADDRESS\", emulator.url())"));
        assert!(main.contains(".hook(\"CONFORMANCE_ALLOW_501\", \"1\")"));
        Ok(())
    }
}
