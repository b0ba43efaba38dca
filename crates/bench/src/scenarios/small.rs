//! Scenario 4: request rate and p50/p99 latency of small requests at concurrency 1, 16
//! and 64, through the connectors and directly, with `wrk` as the load generator.

use anyhow::{bail, Result};

use crate::http::PROPFIND_BODY;
use crate::loadgen::{self, Request};
use crate::report::{LoadPoint, LoadStats, Results, Section, Target};
use crate::stack::{Connector, USER, WEBDAV_TOKEN, ZENODO_TOKEN};
use crate::stats::{ratios, Samples};
use crate::Ctx;

const CONCURRENCY: [u32; 3] = [1, 16, 64];

struct Endpoint<'a> {
    connector: &'a Connector,
    name: &'static str,
    direct_name: &'static str,
    direct: Request,
    via: Request,
    /// Original port's rate at c16 (req/s), if known.
    original_rps: Option<f64>,
}

#[derive(Default)]
struct Stats {
    rps: Samples,
    p50: Samples,
    p99: Samples,
    /// Connector CPU µs per request (through-connector runs only).
    cpu_us: Samples,
    errors: u64,
}

impl Stats {
    fn add(&mut self, run: loadgen::Run) {
        self.rps.push(run.rps);
        self.p50.push(run.p50_ms);
        self.p99.push(run.p99_ms);
        self.errors += run.errors;
    }

    fn medians(&self) -> LoadStats {
        LoadStats {
            rps: self.rps.median(),
            p50_ms: self.p50.median(),
            p99_ms: self.p99.median(),
        }
    }
}

fn endpoints(ctx: &Ctx) -> Vec<Endpoint<'_>> {
    let dav = &ctx.direct.dav_root;
    let bearer = |t: &str| format!("Bearer {t}");
    vec![
        Endpoint {
            connector: &ctx.stack.owncloud,
            name: "small `GET /storage/folder`",
            direct_name: "PROPFIND Depth 1",
            direct: Request {
                method: "PROPFIND",
                url: format!("{dav}/small/"),
                headers: vec![
                    ("Authorization", bearer(WEBDAV_TOKEN)),
                    ("Depth", "1".into()),
                    ("Content-Type", "application/xml".into()),
                ],
                body: Some(PROPFIND_BODY.into()),
            },
            via: Request::get(format!(
                "{}/storage/folder?userId={USER}&filepath=/small",
                ctx.via.owncloud
            )),
            original_rps: Some(326.0),
        },
        Endpoint {
            connector: &ctx.stack.owncloud,
            name: "small `GET /storage/file`",
            direct_name: "WebDAV GET",
            direct: Request::get(format!("{dav}/small/file-00.txt"))
                .header("Authorization", bearer(WEBDAV_TOKEN)),
            via: Request::get(format!(
                "{}/storage/file?userId={USER}&filepath=/small/file-00.txt",
                ctx.via.owncloud
            )),
            original_rps: None,
        },
        Endpoint {
            connector: &ctx.stack.zenodo,
            name: "`GET /metadata/project`",
            direct_name: "GET depositions?status=draft",
            direct: Request::get(ctx.direct.drafts_url())
                .header("Authorization", bearer(ZENODO_TOKEN)),
            via: Request::get(format!("{}/metadata/project?userId={USER}", ctx.via.zenodo)),
            original_rps: Some(450.0),
        },
    ]
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let Some(version) = loadgen::version() else {
        bail!("wrk is not installed (Debian: apt-get install wrk); small requests not measured");
    };
    let small = ctx.cloud.join("small");
    std::fs::create_dir_all(&small)?;
    for i in 0..10 {
        std::fs::write(small.join(format!("file-{i:02}.txt")), vec![b'x'; 1024])?;
    }
    for i in 0..5 {
        ctx.direct.create_deposition(&format!("draft {i}")).await?;
    }
    let scratch = ctx.local.clone();
    let secs = ctx.opts.load_secs;
    let mut s = Section::new(
        "4. Small requests under load",
        &format!(
            "`{version}`, {secs} s per run, {} run(s) per point, direct and through the connector \
             alternately; at most 2 load-generator threads on the same cores as the connector and \
             the provider. Requests: a folder of 10 files, a 1 KiB file, a list of 5 drafts. \
             Median (min–max).",
            ctx.opts.load_reps
        ),
        &[
            "request",
            "conc.",
            "direct req/s",
            "connector req/s",
            "connector / direct",
            "direct p50 / p99 (ms)",
            "connector p50 / p99 (ms)",
            "p50 overhead (ms)",
            "connector CPU/request (µs)",
            "errors",
        ],
    );
    for ep in endpoints(ctx) {
        for c in CONCURRENCY {
            let (mut d, mut v) = (Stats::default(), Stats::default());
            for _ in 0..ctx.opts.load_reps {
                d.add(loadgen::run(&ep.direct, c, secs, &scratch).await?);
                let cpu0 = ep.connector.cpu()?;
                let run = loadgen::run(&ep.via, c, secs, &scratch).await?;
                v.cpu_us
                    .push((ep.connector.cpu()? - cpu0) * 1e6 / run.requests.max(1) as f64);
                v.add(run);
                // The emulator logs every request: keep its memory flat.
                ctx.stack.p.zenodo.clear_requests();
            }
            let (dm, vm) = (d.medians(), v.medians());
            s.row(vec![
                format!("{} (direct: {})", ep.name, ep.direct_name),
                c.to_string(),
                d.rps.show(0),
                v.rps.show(0),
                ratios(&v.rps, &d.rps).show(2),
                format!("{:.2} / {:.2}", dm.p50_ms, dm.p99_ms),
                format!("{:.2} / {:.2}", vm.p50_ms, vm.p99_ms),
                format!("{:.2}", vm.p50_ms - dm.p50_ms),
                v.cpu_us.show(0),
                format!("{} / {}", d.errors, v.errors),
            ]);
            targets(r, &ep, c, &dm, &vm);
            r.load.push(LoadPoint {
                endpoint: ep.name.replace('`', ""),
                concurrency: c,
                direct: dm,
                connector: vm,
            });
        }
    }
    s.note(
        "Original Python ports at concurrency 16: small `/storage/folder` 326 req/s, p50 48 ms; \
         `GET /metadata/project` 450 req/s.",
    );
    r.sections.push(s);
    Ok(())
}

fn targets(r: &mut Results, ep: &Endpoint, c: u32, d: &LoadStats, v: &LoadStats) {
    if c == 1 {
        let overhead = v.p50_ms - d.p50_ms;
        r.targets.push(Target::new(
            &format!("{}: p50 overhead at concurrency 1", ep.name),
            "–",
            format!("{overhead:.2} ms"),
            "< 1 ms",
            Some(overhead < 1.0),
        ));
    }
    if c == 16 {
        let overhead = v.p50_ms - d.p50_ms;
        let original = match (ep.original_rps, ep.name.contains("folder")) {
            (Some(o), true) => format!("{o:.0} req/s, p50 48 ms"),
            (Some(o), false) => format!("{o:.0} req/s"),
            (None, _) => "–".into(),
        };
        let (target, met) = match ep.original_rps {
            Some(o) => (
                format!("≥ {:.0} req/s (30×), p50 overhead < 1 ms", 30.0 * o),
                Some(v.rps >= 30.0 * o && overhead < 1.0),
            ),
            None => ("p50 overhead < 1 ms".into(), Some(overhead < 1.0)),
        };
        r.targets.push(Target::new(
            &format!("{} at concurrency 16", ep.name),
            &original,
            format!(
                "{:.0} req/s, p50 {:.2} ms (+{overhead:.2} ms)",
                v.rps, v.p50_ms
            ),
            &target,
            met,
        ));
    }
}
