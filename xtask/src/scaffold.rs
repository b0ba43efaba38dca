//! `cargo xtask new-connector NAME`: a new connector crate under `connectors/NAME` that
//! compiles, registers, answers 501 problem+json on its interface and passes its test.
//! Workspace membership is by glob (`connectors/*`), so nothing else is edited.

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
const EMULATOR_CARGO_TOML: &str = include_str!("../templates/emulator/Cargo.toml.tmpl");
const EMULATOR_LIB_RS: &str = include_str!("../templates/emulator/lib.rs.tmpl");
const EMULATOR_MAIN_RS: &str = include_str!("../templates/emulator/main.rs.tmpl");

pub fn run(args: &NewConnector) -> Result<()> {
    let names = Names::new(&args.name)?;
    let ws = Workspace::load()?;
    let dir = ws.root.join("connectors").join(&names.name);
    if dir.exists() {
        bail!("{} exists already", dir.display());
    }
    if ws.connectors.iter().any(|c| c.package == names.name) {
        bail!("the workspace has a package named {} already", names.name);
    }
    let files = render(&names, &args.implements, args.auth);
    if args.dry_run {
        for (path, text) in &files {
            println!("==> {}", dir.join(path).display());
            println!("{text}");
        }
        return Ok(());
    }
    write_all(&dir, &files)?;
    format(&dir, &files);
    println!("created {} ({}):", dir.display(), names.servicename);
    for (path, _) in &files {
        println!("  {}", path.display());
    }
    println!(
        "next: cargo test -p {0}; cargo run -p {0}; cargo xtask build-images --connector {0}",
        names.name
    );
    Ok(())
}

/// Formats the generated Rust files with rustfmt, so the crate passes `cargo fmt --check`
/// as generated; a missing rustfmt only warns.
fn format(dir: &Path, files: &[(PathBuf, String)]) {
    let rs: Vec<PathBuf> = files
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(p, _)| dir.join(p))
        .collect();
    let status = std::process::Command::new("rustfmt")
        .args(["--edition", "2021"])
        .args(&rs)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("warning: rustfmt did not format the new files; run `cargo fmt`");
    }
}

fn write_all(dir: &Path, files: &[(PathBuf, String)]) -> Result<()> {
    let result = files.iter().try_for_each(|(path, text)| {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    });
    if result.is_err() {
        // Leave nothing half-made behind.
        let _ = fs::remove_dir_all(dir);
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
    let descriptor_imports = if auth == Auth::Oauth2 {
        "FileTransferArchive, FileTransferMode, Icon, Interface, OAuth2Descriptor, ServiceAuth,\n    ServiceDescriptor,"
    } else {
        "FileTransferArchive, FileTransferMode, Icon, Interface, ServiceAuth, ServiceDescriptor,"
    };
    let mut enums = Vec::new();
    let mut requests = String::new();
    if has_fs {
        impls.push_str(IMPL_FILE_STORAGE);
        imports.push("FileStorage");
        enums.push("Interface::FileStorage");
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
        enums.push("Interface::Metadata");
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
        ("implements_enum", enums.join(", ")),
        ("interface_imports", interface_imports),
        ("descriptor_imports", descriptor_imports.to_string()),
        ("with_calls", with_calls),
        ("impls", impls),
        ("test_requests", requests),
        (
            "initial",
            n.display.chars().next().unwrap_or('C').to_string(),
        ),
    ];
    if oauth {
        vars.extend([
            ("oauth2_dep", "oauth2.workspace = true\n".to_string()),
            (
                "auth_imports",
                "use oauth2::{AuthUrl, ClientId, ClientSecret, RedirectUrl, TokenUrl};\n"
                    .to_string(),
            ),
            (
                "config_auth_fields",
                "    /// `{{PREFIX}}_OAUTH_CLIENT_ID`: the OAuth2 client registered at the provider.\n    pub {{prefix}}_oauth_client_id: Option<String>,\n    /// `{{PREFIX}}_OAUTH_CLIENT_SECRET` (also from `{{PREFIX}}_OAUTH_CLIENT_SECRET_FILE`).\n    pub {{prefix}}_oauth_client_secret: Option<String>,\n"
                    .to_string(),
            ),
            (
                "keys_auth",
                "        \"{{PREFIX}}_OAUTH_CLIENT_ID\",\n        \"{{PREFIX}}_OAUTH_CLIENT_SECRET\",\n"
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
        ]);
    } else {
        vars.extend([
            ("oauth2_dep", String::new()),
            ("auth_imports", String::new()),
            ("config_auth_fields", String::new()),
            ("keys_auth", String::new()),
            ("secret_keys", String::new()),
            ("auth_expr", "login_auth(common)".to_string()),
            (
                "auth_fn",
                "\n/// Users type a username and a password (or app token) into the RDS UI.\nfn login_auth(_common: &CommonConfig) -> ServiceAuth {\n    ServiceAuth::Login {\n        user_id: true,\n        password: true,\n    }\n}\n"
                    .to_string(),
            ),
            ("readme_auth_rows", String::new()),
            ("test_config_fields", String::new()),
        ]);
    }
    // Fragments carry placeholders of their own: fill twice.
    let prefix_vars = [("PREFIX", n.env_prefix.clone()), ("prefix", prefix)];
    let render = |t: &str| fill(&fill(&fill(t, &vars), &vars), &prefix_vars);
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
    vec![
        (PathBuf::from("Cargo.toml"), render(CARGO_TOML)),
        (PathBuf::from("README.md"), render(README)),
        (PathBuf::from("assets/icon.svg"), render(ICON)),
        (PathBuf::from("src/main.rs"), render(MAIN_RS)),
        (PathBuf::from("src/lib.rs"), render(LIB_RS)),
        (PathBuf::from("tests/boot.rs"), render(TEST_BOOT)),
        (
            PathBuf::from("emulator/Cargo.toml"),
            render_emulator(EMULATOR_CARGO_TOML),
        ),
        (
            PathBuf::from("emulator/src/lib.rs"),
            render_emulator(EMULATOR_LIB_RS),
        ),
        (
            PathBuf::from("emulator/src/main.rs"),
            render_emulator(EMULATOR_MAIN_RS),
        ),
    ]
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
                    assert!(
                        !text.contains("{{"),
                        "{} keeps a placeholder",
                        path.display()
                    );
                }
            }
        }
        let files = render(
            &n,
            &[Implements::FileStorage, Implements::Metadata],
            Auth::Oauth2,
        );
        let lib = &files[4].1;
        assert!(lib.contains("impl FileStorage for Provider {}"));
        assert!(lib.contains("impl Metadata for Provider {}"));
        assert!(lib.contains(".with_file_storage(provider.clone()).with_metadata(provider)"));
        assert!(lib.contains("\"DEMO_PROVIDER_OAUTH_CLIENT_SECRET\""));
        let file = |p: &str| {
            files
                .iter()
                .find(|(f, _)| f == Path::new(p))
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
