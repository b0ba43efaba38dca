//! `cargo xtask build-images`: one image per connector crate.
//!
//! Two methods:
//! - `dockerfile`: `docker/Dockerfile` built by Docker or Podman (multi-stage, the binary is
//!   compiled inside the build; needs the base images from a registry).
//! - `static`: the release binary is compiled on the host, statically linked
//!   (`+crt-static`, rustls with bundled roots), and packaged `FROM scratch` from a generated
//!   Containerfile. Needs no base image, so it works offline; the default with Buildah.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::cmd::{self, Runner};
use crate::elf;
use crate::workspace::{self, Connector, Workspace};

/// The user the images run as (distroless' `nonroot`).
const USER_ID: u32 = 65532;
/// Where the binary lives in every image.
const ENTRYPOINT: &str = "/usr/local/bin/rds-connector";
/// A static glibc binary. getrandom's default Linux backend finds `getrandom` with `dlsym`,
/// which a static binary lacks, and falls back to reading /dev/urandom; the
/// `linux_getrandom` backend calls it directly, so the binary needs no /dev at all.
pub const STATIC_RUSTFLAGS: &str =
    "-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"";
/// The host's CA bundle, copied into static images when present.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Args, Debug)]
pub struct BuildImages {
    /// A connector to build (`owncloud` or `owncloud-connector`); repeatable. Default: all.
    #[arg(long = "connector", value_name = "NAME")]
    connectors: Vec<String>,
    /// Image tag. Default: the crate's version.
    #[arg(long)]
    tag: Option<String>,
    /// Registry and path prefix of the image names, e.g. `ghcr.io/rds-connectors`.
    #[arg(long, value_name = "PREFIX", default_value = "localhost/rds")]
    registry: String,
    /// Push the images to the registry after building them.
    #[arg(long)]
    push: bool,
    /// Container engine. Default: Docker with a reachable daemon, else Podman, else Buildah.
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// How to build. Default: `dockerfile` with Docker/Podman, `static` with Buildah.
    #[arg(long, value_enum)]
    method: Option<Method>,
    /// Also write each image as an OCI archive `DIR/<connector>.tar`.
    #[arg(long, value_name = "DIR")]
    oci_archive: Option<PathBuf>,
    /// Print the commands (and the generated Containerfile) without running them.
    #[arg(long)]
    dry_run: bool,
    /// Buildah's storage driver (`vfs` works without fuse-overlayfs or privileges).
    #[arg(long, default_value = "vfs")]
    storage_driver: String,
    /// Target triple of the static host build.
    #[arg(long, default_value = "x86_64-unknown-linux-gnu")]
    target: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    Docker,
    Podman,
    Buildah,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    Dockerfile,
    Static,
}

impl Engine {
    fn program(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
            Engine::Buildah => "buildah",
        }
    }
}

/// What is known about the engines on this machine.
struct Probe {
    docker_client: bool,
    docker_daemon: bool,
    podman: bool,
    buildah: bool,
}

impl Probe {
    fn run() -> Self {
        let docker_client = cmd::probe("docker", ["--version"]).is_some();
        let docker_daemon = docker_client
            && cmd::probe("docker", ["info", "--format", "{{.ServerVersion}}"]).is_some();
        Self {
            docker_client,
            docker_daemon,
            podman: cmd::probe("podman", ["--version"]).is_some(),
            buildah: cmd::probe("buildah", ["--version"]).is_some(),
        }
    }

    fn has(&self, engine: Engine) -> bool {
        match engine {
            Engine::Docker => self.docker_daemon,
            Engine::Podman => self.podman,
            Engine::Buildah => self.buildah,
        }
    }
}

const INSTALL_HINT: &str =
    "install one of: Docker (with a running daemon: https://docs.docker.com/engine/install/), \
Podman (`apt-get install podman`), or Buildah (`apt-get install buildah`, daemonless; \
add `skopeo` to inspect the OCI archives)";

fn choose_engine(requested: Option<Engine>, probe: &Probe, dry_run: bool) -> Result<Engine> {
    if let Some(engine) = requested {
        // A dry run only prints the commands: it may name an engine this machine lacks.
        if probe.has(engine) || dry_run {
            return Ok(engine);
        }
        if engine == Engine::Docker && probe.docker_client {
            bail!("--engine docker: the docker client is installed but no Docker daemon is reachable (`docker info` fails); start the daemon, or use --engine buildah / podman");
        }
        bail!(
            "--engine {0}: `{0}` was not found on PATH; {INSTALL_HINT}",
            engine.program()
        );
    }
    for engine in [Engine::Docker, Engine::Podman, Engine::Buildah] {
        if probe.has(engine) {
            return Ok(engine);
        }
    }
    let docker_note = if probe.docker_client {
        " (a docker client is installed, but no Docker daemon is reachable)"
    } else {
        ""
    };
    bail!("no container engine found{docker_note}; {INSTALL_HINT}")
}

/// One finished image, for the final table.
struct Built {
    image: String,
    tag: String,
    size: String,
    digest: String,
}

pub fn run(args: &BuildImages) -> Result<()> {
    let ws = Workspace::load()?;
    let selected = ws.select(&args.connectors)?;
    let probe = Probe::run();
    let engine = choose_engine(args.engine, &probe, args.dry_run)?;
    let method = args.method.unwrap_or(match engine {
        Engine::Buildah => Method::Static,
        Engine::Docker | Engine::Podman => Method::Dockerfile,
    });
    let runner = Runner {
        dry_run: args.dry_run,
    };
    let revision = cmd::probe(
        "git",
        ["-C", &ws.root.to_string_lossy(), "rev-parse", "HEAD"],
    )
    .unwrap_or_else(|| "unknown".to_string());
    println!(
        "==> {} image(s) with {} ({} method): {}",
        selected.len(),
        engine.program(),
        match method {
            Method::Dockerfile => "dockerfile",
            Method::Static => "static",
        },
        selected
            .iter()
            .map(|c| c.package.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    if let Some(dir) = &args.oci_archive {
        if !args.dry_run {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }

    if method == Method::Static {
        build_static_binaries(&ws, &selected, args, &runner)?;
    }

    let mut built = Vec::new();
    for (i, c) in selected.iter().enumerate() {
        let tag = args.tag.clone().unwrap_or_else(|| c.version.clone());
        let image = format!("{}/{}", args.registry.trim_end_matches('/'), c.package);
        let reference = format!("{image}:{tag}");
        println!(
            "==> [{}/{}] {}: building {reference}",
            i + 1,
            selected.len(),
            c.package
        );
        let labels = labels(c, &tag, &revision);
        match method {
            Method::Dockerfile => {
                build_dockerfile(&ws, c, engine, args, &runner, &reference, &labels)?
            }
            Method::Static => {
                build_static_image(&ws, c, engine, args, &runner, &reference, &labels)?
            }
        }
        let archive = match &args.oci_archive {
            Some(dir) => Some(write_archive(dir, c, engine, args, &runner, &reference)?),
            None => None,
        };
        if args.push {
            println!(
                "==> [{}/{}] {}: pushing {reference}",
                i + 1,
                selected.len(),
                c.package
            );
            runner.run(engine_cmd(engine, args).args(push_args(engine, &reference)))?;
        }
        let (size, digest) = if args.dry_run {
            ("-".to_string(), "-".to_string())
        } else {
            describe(engine, args, &reference, archive.as_ref())?
        };
        if let (Some((path, _)), false) = (&archive, args.dry_run) {
            println!("    wrote {}", path.display());
        }
        built.push(Built {
            image,
            tag,
            size,
            digest,
        });
    }

    print_table(&built);
    Ok(())
}

fn labels(c: &Connector, tag: &str, revision: &str) -> Vec<(String, String)> {
    let mut l = vec![
        ("org.opencontainers.image.title", c.package.clone()),
        ("org.opencontainers.image.version", tag.to_string()),
        ("org.opencontainers.image.revision", revision.to_string()),
    ];
    if let Some(src) = &c.repository {
        l.push(("org.opencontainers.image.source", src.clone()));
    }
    if let Some(lic) = &c.license {
        l.push(("org.opencontainers.image.licenses", lic.clone()));
    }
    l.push((
        "org.opencontainers.image.description",
        c.description
            .clone()
            .unwrap_or_else(|| format!("Sciebo RDS layer-1 connector {}", c.package)),
    ));
    l.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The engine's command with its global options (Buildah's storage driver).
fn engine_cmd(engine: Engine, args: &BuildImages) -> Command {
    let mut c = Command::new(engine.program());
    if engine == Engine::Buildah {
        c.args(["--storage-driver", &args.storage_driver]);
    }
    c
}

/// `build` / `bud` with the options each engine needs to run unprivileged here.
fn build_cmd(engine: Engine, args: &BuildImages) -> Command {
    let mut c = engine_cmd(engine, args);
    match engine {
        Engine::Buildah => c.args(["bud", "--isolation", "chroot"]),
        Engine::Docker | Engine::Podman => c.arg("build"),
    };
    c
}

fn build_dockerfile(
    ws: &Workspace,
    c: &Connector,
    engine: Engine,
    args: &BuildImages,
    runner: &Runner,
    reference: &str,
    labels: &[(String, String)],
) -> Result<()> {
    let mut b = build_cmd(engine, args);
    b.arg("-f")
        .arg(ws.root.join("docker/Dockerfile"))
        .args(["--build-arg", &format!("CONNECTOR={}", c.package)]);
    if c.bin != c.package {
        b.args(["--build-arg", &format!("BIN={}", c.bin)]);
    }
    for (k, v) in labels {
        let arg = match k.as_str() {
            "org.opencontainers.image.version" => "VERSION",
            "org.opencontainers.image.revision" => "REVISION",
            "org.opencontainers.image.source" => "SOURCE",
            _ => continue,
        };
        b.args(["--build-arg", &format!("{arg}={v}")]);
    }
    for (k, v) in labels {
        b.args(["--label", &format!("{k}={v}")]);
    }
    b.args(["-t", reference]).arg(&ws.root);
    if engine == Engine::Docker {
        b.env("DOCKER_BUILDKIT", "1");
    }
    runner.run(&mut b)
}

/// Compiles the selected connectors once, statically, for the target triple.
fn build_static_binaries(
    ws: &Workspace,
    selected: &[Connector],
    args: &BuildImages,
    runner: &Runner,
) -> Result<()> {
    println!("==> building static release binaries ({})", args.target);
    let mut cargo = Command::new(workspace::cargo());
    cargo
        .current_dir(&ws.root)
        .env("RUSTFLAGS", STATIC_RUSTFLAGS)
        .args(["build", "--release", "--target", &args.target]);
    for c in selected {
        cargo.args(["-p", &c.package, "--bin", &c.bin]);
    }
    runner.run(&mut cargo)?;
    if !runner.dry_run {
        for c in selected {
            let bin = static_binary(ws, c, args);
            if elf::has_interpreter(&bin)? {
                bail!(
                    "{} is dynamically linked; a FROM scratch image needs a static binary \
                     (is RUSTFLAGS overridden by a .cargo/config.toml?)",
                    bin.display()
                );
            }
        }
    }
    Ok(())
}

fn static_binary(ws: &Workspace, c: &Connector, args: &BuildImages) -> PathBuf {
    ws.target_dir
        .join(&args.target)
        .join("release")
        .join(&c.bin)
}

/// The Containerfile of a static image; `with_ca` adds the host's CA bundle.
pub fn containerfile(labels: &[(String, String)], with_ca: bool) -> String {
    let mut f = String::new();
    let _ = writeln!(
        f,
        "# Generated by `cargo xtask build-images` (static method)."
    );
    let _ = writeln!(f, "FROM scratch");
    let _ = writeln!(f, "COPY rds-connector {ENTRYPOINT}");
    let _ = writeln!(f, "COPY etc/passwd etc/group /etc/");
    let _ = writeln!(f, "COPY --chown={USER_ID}:{USER_ID} tmp/ /tmp/");
    if with_ca {
        let _ = writeln!(f, "COPY ca-certificates.crt {HOST_CA_BUNDLE}");
        let _ = writeln!(f, "ENV SSL_CERT_FILE={HOST_CA_BUNDLE}");
    }
    let _ = writeln!(f, "ENV LISTEN_ADDR=0.0.0.0:8080");
    for (k, v) in labels {
        let _ = writeln!(
            f,
            "LABEL {k}=\"{}\"",
            v.replace('\\', "\\\\").replace('"', "\\\"")
        );
    }
    let _ = writeln!(f, "USER {USER_ID}:{USER_ID}");
    let _ = writeln!(f, "EXPOSE 8080");
    let _ = writeln!(f, "ENTRYPOINT [\"{ENTRYPOINT}\"]");
    f
}

fn build_static_image(
    ws: &Workspace,
    c: &Connector,
    engine: Engine,
    args: &BuildImages,
    runner: &Runner,
    reference: &str,
    labels: &[(String, String)],
) -> Result<()> {
    let with_ca = Path::new(HOST_CA_BUNDLE).is_file();
    let context = ws.target_dir.join("xtask-images").join(&c.package);
    let file = containerfile(labels, with_ca);
    if runner.dry_run {
        println!(
            "# context {}: the binary, /etc/passwd, /etc/group, /tmp{}; Containerfile:",
            context.display(),
            if with_ca {
                ", the host's CA bundle"
            } else {
                ""
            }
        );
        for line in file.lines() {
            println!("#   {line}");
        }
    } else {
        write_context(&context, &static_binary(ws, c, args), &file, with_ca)?;
    }
    let mut b = build_cmd(engine, args);
    b.arg("-f")
        .arg(context.join("Containerfile"))
        .args(["-t", reference])
        .arg(&context);
    let result = runner.run(&mut b);
    if !runner.dry_run {
        let _ = fs::remove_dir_all(&context);
    }
    result
}

fn write_context(context: &Path, binary: &Path, containerfile: &str, with_ca: bool) -> Result<()> {
    if context.exists() {
        fs::remove_dir_all(context).with_context(|| format!("clearing {}", context.display()))?;
    }
    fs::create_dir_all(context.join("etc"))
        .and_then(|()| fs::create_dir_all(context.join("tmp")))
        .with_context(|| format!("creating {}", context.display()))?;
    fs::copy(binary, context.join("rds-connector")).with_context(|| {
        format!(
            "copying {} (was it built for this target?)",
            binary.display()
        )
    })?;
    fs::write(
        context.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{USER_ID}:{USER_ID}:nonroot:/tmp:/sbin/nologin\n"),
    )
    .and_then(|()| {
        fs::write(
            context.join("etc/group"),
            format!("root:x:0:\nnonroot:x:{USER_ID}:\n"),
        )
    })
    .and_then(|()| fs::write(context.join("Containerfile"), containerfile))
    .with_context(|| format!("writing {}", context.display()))?;
    if with_ca {
        fs::copy(HOST_CA_BUNDLE, context.join("ca-certificates.crt"))
            .with_context(|| format!("copying {HOST_CA_BUNDLE}"))?;
    }
    Ok(())
}

/// Writes `DIR/<connector>.tar`; returns its path and, where the engine tells, the digest.
fn write_archive(
    dir: &Path,
    c: &Connector,
    engine: Engine,
    args: &BuildImages,
    runner: &Runner,
    reference: &str,
) -> Result<(PathBuf, Option<String>)> {
    let path = dir.join(format!("{}.tar", c.package));
    if !runner.dry_run && path.exists() {
        fs::remove_file(&path).with_context(|| format!("removing the old {}", path.display()))?;
    }
    let mut digest = None;
    let digest_file = dir.join(format!(".{}.digest", c.package));
    let mut c = engine_cmd(engine, args);
    match engine {
        Engine::Buildah => {
            c.args(["push", "--quiet", "--format", "oci", "--digestfile"])
                .arg(&digest_file)
                .arg(reference)
                .arg(format!("oci-archive:{}:{reference}", path.display()));
            runner.run(&mut c)?;
            if !runner.dry_run {
                digest = fs::read_to_string(&digest_file)
                    .ok()
                    .map(|d| d.trim().to_string());
                let _ = fs::remove_file(&digest_file);
            }
        }
        Engine::Podman => {
            c.args(["save", "--format", "oci-archive", "-o"])
                .arg(&path)
                .arg(reference);
            runner.run(&mut c)?;
        }
        Engine::Docker => {
            // Docker 25 and later write an OCI image layout into `docker save` archives.
            c.args(["save", "-o"]).arg(&path).arg(reference);
            runner.run(&mut c)?;
        }
    }
    Ok((path, digest))
}

fn push_args(engine: Engine, reference: &str) -> Vec<String> {
    match engine {
        Engine::Buildah => vec![
            "push".into(),
            reference.into(),
            format!("docker://{reference}"),
        ],
        Engine::Docker | Engine::Podman => vec!["push".into(), reference.into()],
    }
}

/// Size and digest for the table: the archive's size and digest when one was written,
/// else what the engine reports.
fn describe(
    engine: Engine,
    args: &BuildImages,
    reference: &str,
    archive: Option<&(PathBuf, Option<String>)>,
) -> Result<(String, String)> {
    let (engine_size, engine_digest) = match engine {
        Engine::Buildah => {
            let json =
                cmd::capture(engine_cmd(engine, args).args(["images", "--json", reference]))?;
            let v: serde_json::Value =
                serde_json::from_str(&json).context("parsing `buildah images --json`")?;
            let first = &v[0];
            (
                first["size"].as_str().unwrap_or("?").to_string(),
                first["digest"].as_str().unwrap_or("?").to_string(),
            )
        }
        Engine::Docker | Engine::Podman => {
            let out = cmd::capture(engine_cmd(engine, args).args([
                "image",
                "inspect",
                "--format",
                "{{.Size}} {{.Id}}",
                reference,
            ]))?;
            let mut it = out.split_whitespace();
            let size = it
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .map_or_else(|| "?".to_string(), human);
            (size, it.next().unwrap_or("?").to_string())
        }
    };
    match archive {
        Some((path, digest)) => {
            let len = fs::metadata(path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            Ok((human(len), digest.clone().unwrap_or(engine_digest)))
        }
        None => Ok((engine_size, engine_digest)),
    }
}

fn human(bytes: u64) -> String {
    // Precision loss is irrelevant for a display value.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= 1_000_000.0 {
        format!("{:.1} MB", b / 1_000_000.0)
    } else {
        format!("{:.1} kB", b / 1_000.0)
    }
}

fn print_table(rows: &[Built]) {
    let headers = ["IMAGE", "TAG", "SIZE", "DIGEST"];
    let cells: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.image.as_str(),
                r.tag.as_str(),
                r.size.as_str(),
                r.digest.as_str(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    println!();
    let line = |row: [&str; 4]| {
        let mut s = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i == 3 {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ");
            }
        }
        println!("{s}");
    };
    line(headers);
    for row in cells {
        line(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(docker_client: bool, docker_daemon: bool, podman: bool, buildah: bool) -> Probe {
        Probe {
            docker_client,
            docker_daemon,
            podman,
            buildah,
        }
    }

    #[test]
    fn engine_preference() -> Result<()> {
        assert_eq!(
            choose_engine(None, &probe(true, true, true, true), false)?,
            Engine::Docker
        );
        assert_eq!(
            choose_engine(None, &probe(true, false, true, true), false)?,
            Engine::Podman
        );
        assert_eq!(
            choose_engine(None, &probe(true, false, false, true), false)?,
            Engine::Buildah
        );
        assert_eq!(
            choose_engine(Some(Engine::Buildah), &probe(true, true, true, true), false)?,
            Engine::Buildah
        );
        Ok(())
    }

    #[test]
    fn no_engine_names_what_to_install() {
        let err = choose_engine(None, &probe(true, false, false, false), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no Docker daemon"), "{err}");
        assert!(err.contains("apt-get install buildah"), "{err}");
        let err = choose_engine(
            Some(Engine::Docker),
            &probe(true, false, false, true),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no Docker daemon is reachable"), "{err}");
        // A dry run prints the commands of any engine.
        assert!(choose_engine(
            Some(Engine::Docker),
            &probe(false, false, false, false),
            true
        )
        .is_ok());
    }

    #[test]
    fn containerfile_is_scratch_nonroot_with_labels() {
        let labels = vec![(
            "org.opencontainers.image.title".to_string(),
            "x\"y".to_string(),
        )];
        let f = containerfile(&labels, true);
        assert!(f.contains("FROM scratch\n"));
        assert!(f.contains("USER 65532:65532\n"));
        assert!(f.contains("EXPOSE 8080\n"));
        assert!(f.contains("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n"));
        assert!(f.contains("LABEL org.opencontainers.image.title=\"x\\\"y\"\n"));
        assert!(f.contains("ENTRYPOINT [\"/usr/local/bin/rds-connector\"]\n"));
        assert!(!containerfile(&labels, false).contains("ca-certificates"));
    }

    #[test]
    fn sizes() {
        assert_eq!(human(12_345_678), "12.3 MB");
        assert_eq!(human(999), "1.0 kB");
    }
}
