//! `rds-demo [--repository zenodo|inveniordm|dataverse] [--keep-running] [--large-mib N]
//! [--no-progress] [--prometheus-targets FILE]`; run it through
//! `cargo xtask demo`, which builds the connector binaries first.
//!
//! `--prometheus-targets FILE` writes a Prometheus `file_sd` target list of both connectors
//! (with the labels a ServiceMonitor adds) once the stack is up, so a local Prometheus can
//! scrape the flow; docs/dashboard/render.py uses it to render the dashboard from real data.

use std::path::PathBuf;
use std::process::ExitCode;

use rds_demo::stack::Connector;
use rds_demo::{Demo, DemoOptions, Repository};

const USAGE: &str =
    "usage: rds-demo [--repository zenodo|inveniordm|dataverse] [--keep-running] [--large-mib N] [--no-progress] [--prometheus-targets FILE]";

struct Cli {
    opts: DemoOptions,
    keep: bool,
    targets: Option<PathBuf>,
}

fn parse() -> Result<Cli, String> {
    let mut opts = DemoOptions::default();
    let mut keep = false;
    let mut targets = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keep-running" => keep = true,
            "--no-progress" => opts.progress = false,
            "--repository" => {
                opts.repository = args
                    .next()
                    .as_deref()
                    .and_then(Repository::parse)
                    .ok_or(format!("--repository takes one of {}", Repository::NAMES))?;
            }
            "--large-mib" => {
                opts.large_mib = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--large-mib takes a number of MiB")?;
            }
            "--prometheus-targets" => {
                targets = Some(
                    args.next()
                        .map(PathBuf::from)
                        .ok_or("--prometheus-targets takes a file name")?,
                );
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Cli {
        opts,
        keep,
        targets,
    })
}

/// A Prometheus `file_sd` list of the connectors, labelled as the chart's ServiceMonitor
/// labels them (namespace, service = job, pod), so dashboard queries match unchanged.
fn prometheus_targets(connectors: &[&Connector]) -> String {
    let groups: Vec<serde_json::Value> = connectors
        .iter()
        .map(|c| {
            serde_json::json!({
                "targets": [c.url.trim_start_matches("http://")],
                "labels": {
                    "namespace": "demo",
                    "service": c.name,
                    "job": c.name,
                    "pod": format!("{}-0", c.name),
                },
            })
        })
        .collect();
    serde_json::Value::Array(groups).to_string()
}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {
        opts,
        keep,
        targets,
    } = match parse() {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    println!("Starting the Token Storage emulator, a WebDAV server with a sample research folder,");
    println!(
        "the {} emulator, owncloud-connector and {} ...",
        opts.repository.title(),
        opts.repository.connector()
    );
    let demo = match Demo::start(&opts).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &targets {
        let s = &demo.stack;
        if let Err(e) = std::fs::write(path, prometheus_targets(&[&s.owncloud, &s.metadata])) {
            eprintln!("cannot write {}: {e}", path.display());
            demo.stop().await;
            return ExitCode::FAILURE;
        }
    }
    let result = demo.run_flow(opts.progress).await;
    let ok = match &result {
        Ok(report) => {
            println!("\n{}", report.render());
            report.all_verified()
        }
        Err(e) => {
            eprintln!("\n{e}");
            for log in demo.logs() {
                eprintln!("  connector log: {}", log.display());
                if let Ok(text) = std::fs::read_to_string(&log) {
                    for line in text
                        .lines()
                        .rev()
                        .take(5)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                    {
                        eprintln!("    {line}");
                    }
                }
            }
            false
        }
    };
    if keep {
        let s = &demo.stack;
        println!("The stack keeps running; Ctrl-C stops it. Try:");
        println!("  curl -s {}/ready", s.owncloud.url);
        println!(
            "  curl -s -X GET {}/storage/folder -H 'content-type: application/json' -d '{{\"userId\": \"{}\", \"filepath\": \"/{}\"}}'",
            s.owncloud.url,
            rds_demo::stack::USER,
            rds_demo::sample::FOLDER
        );
        println!(
            "  curl -s -X GET {}/metadata/project -H 'content-type: application/json' -d '{{\"userId\": \"{}\"}}'",
            s.metadata.url,
            rds_demo::stack::USER
        );
        println!("  curl -s {}/metrics | grep connector_", s.metadata.url);
        let _ = tokio::signal::ctrl_c().await;
        println!("stopping ...");
    }
    demo.stop().await;
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
