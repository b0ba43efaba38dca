//! Scenario 4: request rate, p50/p99 latency and CPU per request of small requests at
//! concurrency 1, 16 and 64, with `wrk` as the load generator: directly, through nginx
//! `proxy_pass` (the reference proxy, issue 15) and through the connectors, on each
//! upstream (the in-process WebDAV server, Apache `mod_dav`, the Zenodo emulator).

use anyhow::{bail, Result};

use crate::http::PROPFIND_BODY;
use crate::loadgen::{self, Request};
use crate::refservers::Server;
use crate::report::{LoadPoint, LoadStats, Results, Section, Target};
use crate::stack::{connector_loglevel, Connector, USER, WEBDAV_TOKEN, ZENODO_TOKEN};
use crate::stats::{ratios, Samples};
use crate::Ctx;

const CONCURRENCY: [u32; 3] = [1, 16, 64];
const DAV_SERVER: &str = "dav-server";
const APACHE: &str = "Apache `mod_dav`";
const ZENODO: &str = "Zenodo emulator";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    File,
    Project,
}

/// Whose CPU time a run is charged to.
#[derive(Clone, Copy)]
enum Meter<'a> {
    Nothing,
    Connector(&'a Connector),
    /// nginx's worker, Apache's serving child.
    Workers(&'a Server),
}

impl Meter<'_> {
    fn cpu(&self) -> Result<Option<f64>> {
        Ok(match self {
            Meter::Nothing => None,
            Meter::Connector(c) => Some(c.cpu()?),
            Meter::Workers(s) => Some(s.worker_cpu()?),
        })
    }
}

/// One way to the upstream: direct, through nginx, through the connector.
struct Route<'a> {
    label: &'static str,
    req: Request,
    hop: Meter<'a>,
}

struct Endpoint<'a> {
    kind: Kind,
    name: &'static str,
    upstream: &'static str,
    /// The first is the direct route.
    routes: Vec<Route<'a>>,
    upstream_cpu: Meter<'a>,
    /// Original port's rate at c16 (req/s), if known.
    original_rps: Option<f64>,
}

#[derive(Default)]
struct Stats {
    rps: Samples,
    p50: Samples,
    p99: Samples,
    /// CPU µs per request of the middle hop (connector or nginx worker).
    hop_us: Samples,
    /// CPU µs per request of the upstream, where it is a process of its own (Apache).
    upstream_us: Samples,
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

/// The median figures of one route at one concurrency, for the targets.
struct Measured {
    kind: Kind,
    upstream: &'static str,
    concurrency: u32,
    label: &'static str,
    stats: LoadStats,
    hop_us: f64,
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn propfind(url: String) -> Request {
    Request {
        method: "PROPFIND",
        url,
        headers: vec![
            ("Authorization", bearer(WEBDAV_TOKEN)),
            ("Depth", "1".into()),
            ("Content-Type", "application/xml".into()),
        ],
        body: Some(PROPFIND_BODY.into()),
    }
}

fn dav_get(url: String) -> Request {
    Request::get(url).header("Authorization", bearer(WEBDAV_TOKEN))
}

/// The folder and file endpoints on one WebDAV upstream.
fn storage<'a>(
    upstream: &'static str,
    dav_root: &str,
    nginx: Option<(&str, &'a Server)>,
    connector: &'a Connector,
    upstream_cpu: Meter<'a>,
) -> [Endpoint<'a>; 2] {
    let folder = "/small/";
    let file = "/small/file-00.txt";
    let mut folder_routes = vec![Route {
        label: "direct PROPFIND Depth 1",
        req: propfind(format!("{dav_root}{folder}")),
        hop: Meter::Nothing,
    }];
    let mut file_routes = vec![Route {
        label: "direct WebDAV GET",
        req: dav_get(format!("{dav_root}{file}")),
        hop: Meter::Nothing,
    }];
    if let Some((root, server)) = nginx {
        folder_routes.push(Route {
            label: "nginx → PROPFIND",
            req: propfind(format!("{root}{folder}")),
            hop: Meter::Workers(server),
        });
        file_routes.push(Route {
            label: "nginx → GET",
            req: dav_get(format!("{root}{file}")),
            hop: Meter::Workers(server),
        });
    }
    folder_routes.push(Route {
        label: "connector `GET /storage/folder`",
        req: Request::get(format!(
            "{}/storage/folder?userId={USER}&filepath=/small",
            connector.url
        )),
        hop: Meter::Connector(connector),
    });
    file_routes.push(Route {
        label: "connector `GET /storage/file`",
        req: Request::get(format!(
            "{}/storage/file?userId={USER}&filepath={file}",
            connector.url
        )),
        hop: Meter::Connector(connector),
    });
    [
        Endpoint {
            kind: Kind::Folder,
            name: "small `GET /storage/folder`",
            upstream,
            routes: folder_routes,
            upstream_cpu,
            original_rps: Some(326.0),
        },
        Endpoint {
            kind: Kind::File,
            name: "small `GET /storage/file`",
            upstream,
            routes: file_routes,
            upstream_cpu,
            original_rps: None,
        },
    ]
}

fn endpoints(ctx: &Ctx) -> Vec<Endpoint<'_>> {
    let refs = &ctx.stack.refs;
    let nginx = refs.nginx.as_ref();
    let mut eps = Vec::from(storage(
        DAV_SERVER,
        &ctx.direct.dav_root,
        None,
        &ctx.stack.owncloud,
        Meter::Nothing,
    ));
    if let Some(a) = &refs.apache {
        let via_nginx = refs.nginx_dav();
        eps.extend(storage(
            APACHE,
            &a.dav_root,
            via_nginx,
            &a.connector,
            Meter::Workers(&a.apache.server),
        ));
    }
    let drafts = ctx.direct.drafts_url();
    let mut routes = vec![Route {
        label: "direct GET depositions?status=draft",
        req: Request::get(drafts.clone()).header("Authorization", bearer(ZENODO_TOKEN)),
        hop: Meter::Nothing,
    }];
    if let Some(n) = nginx {
        let path = drafts.trim_start_matches(&ctx.direct.zenodo);
        routes.push(Route {
            label: "nginx → GET depositions",
            req: Request::get(format!("{}{path}", n.zenodo))
                .header("Authorization", bearer(ZENODO_TOKEN)),
            hop: Meter::Workers(&n.nginx.server),
        });
    }
    routes.push(Route {
        label: "connector `GET /metadata/project`",
        req: Request::get(format!("{}/metadata/project?userId={USER}", ctx.via.zenodo)),
        hop: Meter::Connector(&ctx.stack.zenodo),
    });
    eps.push(Endpoint {
        kind: Kind::Project,
        name: "`GET /metadata/project`",
        upstream: ZENODO,
        routes,
        upstream_cpu: Meter::Nothing,
        original_rps: Some(450.0),
    });
    eps
}

/// µs per request between two CPU readings.
fn per_request(before: Option<f64>, after: Option<f64>, requests: u64) -> Option<f64> {
    Some((after? - before?).max(0.0) * 1e6 / requests.max(1) as f64)
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
            "`{version}`, {secs} s per run, {} run(s) per point; the routes of a point run one \
             after the other in each repetition: direct to the upstream, through nginx \
             `proxy_pass` (the reference proxy: one worker, keep-alive HTTP/1.1 upstream pool, \
             64 KiB buffers, access log off) and through the connector ({}). At most 2 \
             load-generator threads, on the same 2 cores as everything else, shared with \
             other work: req/s is noisy, CPU per request (utime + stime of the hop's process \
             from `/proc/<pid>/stat`, 10 ms ticks, per request) much less. \
             Requests: a folder of 10 files, a 1 KiB file, a list of 5 drafts. Median (min–max).",
            ctx.opts.load_reps,
            match connector_loglevel().as_str() {
                "INFO" => "one INFO log line per request".to_owned(),
                other => format!("`LOGLEVEL={other}`"),
            }
        ),
        &[
            "request",
            "upstream",
            "conc.",
            "route",
            "req/s",
            "/ direct",
            "p50 / p99 (ms)",
            "p50 overhead (ms)",
            "hop CPU/request (µs)",
            "hop CPU / nginx's",
            "upstream CPU/request (µs)",
            "errors",
        ],
    );
    let mut measured = Vec::new();
    for ep in endpoints(ctx) {
        for c in CONCURRENCY
            .into_iter()
            .filter(|&c| ctx.opts.wants_load_point(c))
        {
            let mut stats: Vec<Stats> = ep.routes.iter().map(|_| Stats::default()).collect();
            for _ in 0..ctx.opts.load_reps {
                for (route, st) in ep.routes.iter().zip(&mut stats) {
                    let (hop0, up0) = (route.hop.cpu()?, ep.upstream_cpu.cpu()?);
                    let run = loadgen::run(&route.req, c, secs, &scratch).await?;
                    let (hop1, up1) = (route.hop.cpu()?, ep.upstream_cpu.cpu()?);
                    st.hop_us.extend(per_request(hop0, hop1, run.requests));
                    st.upstream_us.extend(per_request(up0, up1, run.requests));
                    st.add(run);
                    // The emulator logs every request: keep its memory flat.
                    ctx.stack.p.zenodo.clear_requests();
                }
            }
            let direct = &stats[0];
            let nginx = ep
                .routes
                .iter()
                .position(|r| r.label.starts_with("nginx"))
                .map(|i| &stats[i]);
            for (route, st) in ep.routes.iter().zip(&stats) {
                let m = st.medians();
                let is_direct = std::ptr::eq(st, direct);
                let vs_nginx = match nginx {
                    Some(n) if route.label.starts_with("connector") => {
                        ratios(&st.hop_us, &n.hop_us).show(2)
                    }
                    _ => String::new(),
                };
                s.row(vec![
                    ep.name.into(),
                    ep.upstream.into(),
                    c.to_string(),
                    route.label.into(),
                    st.rps.show(0),
                    if is_direct {
                        String::new()
                    } else {
                        ratios(&st.rps, &direct.rps).show(2)
                    },
                    format!("{:.2} / {:.2}", m.p50_ms, m.p99_ms),
                    if is_direct {
                        String::new()
                    } else {
                        format!("{:.2}", m.p50_ms - direct.medians().p50_ms)
                    },
                    st.hop_us.show(0),
                    vs_nginx,
                    st.upstream_us.show(0),
                    st.errors.to_string(),
                ]);
                measured.push(Measured {
                    kind: ep.kind,
                    upstream: ep.upstream,
                    concurrency: c,
                    label: route.label,
                    stats: m,
                    hop_us: st.hop_us.median(),
                });
            }
            if let Some(via) = stats.last() {
                let (dm, vm) = (direct.medians(), via.medians());
                targets(r, &ep, c, &dm, &vm);
                r.load.push(LoadPoint {
                    endpoint: format!("{} ({})", ep.name.replace('`', ""), ep.upstream)
                        .replace('`', ""),
                    concurrency: c,
                    direct: dm,
                    connector: vm,
                });
            }
        }
    }
    cpu_targets(r, &measured);
    s.note(
        "The CPU targets (issue 15): `GET /storage/file` ≤ 1.2× nginx's CPU per request for the \
         same GET; `GET /storage/folder` (one PROPFIND, XML → JSON) and `GET /metadata/project` \
         ≤ 2× nginx's CPU per request for a plain GET (the file GET through nginx to Apache, and \
         the drafts list through nginx to the emulator), all at concurrency 16. \"hop CPU / \
         nginx's\" in the table compares with nginx forwarding the same request.",
    );
    s.note(
        "Original Python ports at concurrency 16: small `/storage/folder` 326 req/s, p50 48 ms; \
         `GET /metadata/project` 450 req/s.",
    );
    for n in &ctx.stack.refs.notes {
        s.note(n.clone());
    }
    r.sections.push(s);
    Ok(())
}

/// The figures of one route, measured at concurrency 16.
fn at_c16<'m>(m: &'m [Measured], kind: Kind, upstream: &str, label: &str) -> Option<&'m Measured> {
    m.iter().find(|x| {
        x.kind == kind
            && x.upstream == upstream
            && x.concurrency == 16
            && x.label.starts_with(label)
    })
}

/// Connector CPU per request against nginx's, and the p50 overhead on Apache (issue 15 §2).
fn cpu_targets(r: &mut Results, m: &[Measured]) {
    let plain_get = |upstream| at_c16(m, Kind::File, upstream, "nginx");
    let checks = [
        (Kind::File, APACHE, plain_get(APACHE), 1.2, "same GET"),
        (Kind::Folder, APACHE, plain_get(APACHE), 2.0, "plain GET"),
        (
            Kind::Project,
            ZENODO,
            at_c16(m, Kind::Project, ZENODO, "nginx"),
            2.0,
            "plain GET",
        ),
    ];
    for (kind, upstream, nginx, limit, what) in checks {
        let name = match kind {
            Kind::Folder => "`GET /storage/folder`",
            Kind::File => "`GET /storage/file`",
            Kind::Project => "`GET /metadata/project`",
        };
        let metric = format!("CPU per request, {name} on {upstream}, concurrency 16");
        let target = format!("≤ {limit}× nginx's ({what})");
        let connector = at_c16(m, kind, upstream, "connector");
        let (ours, met) = match (connector, nginx) {
            (Some(c), Some(n)) if c.hop_us.is_finite() && n.hop_us > 0.0 => {
                let ratio = c.hop_us / n.hop_us;
                (
                    format!("{:.0} µs, {ratio:.2}× nginx's {:.0} µs", c.hop_us, n.hop_us),
                    Some(ratio <= limit),
                )
            }
            _ => ("nginx or Apache not installed".into(), None),
        };
        r.targets
            .push(Target::new(&metric, "–", ours, &target, met));
    }
    for kind in [Kind::File, Kind::Folder] {
        let direct = at_c16(m, kind, APACHE, "direct");
        let Some((d, c)) = direct.zip(at_c16(m, kind, APACHE, "connector")) else {
            continue;
        };
        let overhead = c.stats.p50_ms - d.stats.p50_ms;
        let n = at_c16(m, kind, APACHE, "nginx")
            .map(|n| format!(", nginx +{:.2} ms", n.stats.p50_ms - d.stats.p50_ms))
            .unwrap_or_default();
        r.targets.push(Target::new(
            &format!("{}: p50 overhead at concurrency 16 on {APACHE}", c.label),
            "–",
            format!("{overhead:.2} ms{n}"),
            "< 1 ms",
            Some(overhead < 1.0),
        ));
    }
}

/// The rate and p50 targets of issue 7 (against the originals), on the in-process upstreams.
fn targets(r: &mut Results, ep: &Endpoint, c: u32, d: &LoadStats, v: &LoadStats) {
    if ep.upstream == APACHE {
        return;
    }
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
        let original = match (ep.original_rps, ep.kind == Kind::Folder) {
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
