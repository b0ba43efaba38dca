//! `rds-demo [--repository zenodo|inveniordm|dataverse] [--keep-running] [--large-mib N]
//! [--no-progress]`; run it through
//! `cargo xtask demo`, which builds the connector binaries first.

use std::process::ExitCode;

use rds_demo::{Demo, DemoOptions, Repository};

const USAGE: &str =
    "usage: rds-demo [--repository zenodo|inveniordm|dataverse] [--keep-running] [--large-mib N] [--no-progress]";

fn parse() -> Result<(DemoOptions, bool), String> {
    let mut opts = DemoOptions::default();
    let mut keep = false;
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
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok((opts, keep))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (opts, keep) = match parse() {
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
