//! Scenario 3: listing a tree of 2,000 files in 100 nested folders through
//! `GET /storage/folder` vs a sequential Depth-1 PROPFIND walk done directly.

use std::time::Instant;

use anyhow::{bail, Result};

use crate::procfs::own_cpu_secs;
use crate::report::{Results, Section, Target};
use crate::stats::{ratios, Samples};
use crate::{data, Ctx};

const FOLDERS: usize = 100;
const FILES_PER_FOLDER: usize = 20;

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let (folders, files) = data::write_tree(&ctx.cloud.join("tree"), FOLDERS, FILES_PER_FOLDER)?;
    let dav = &ctx.stack.p.webdav;
    // Warm-up (token lookup, connections, the file system's caches): not counted.
    ctx.direct.walk("/tree").await?;
    ctx.via.list_folder("/tree").await?;
    let [mut direct, mut via, mut d_req, mut v_req, mut cpu, mut d_own, mut v_own] =
        std::array::from_fn(|_| Samples::default());
    let oc = &ctx.stack.owncloud;
    for _ in 0..ctx.opts.listing_reps {
        dav.reset_counters();
        let (t, own0) = (Instant::now(), own_cpu_secs()?);
        let (found, requests) = ctx.direct.walk("/tree").await?;
        direct.push(t.elapsed().as_secs_f64() * 1e3);
        d_own.push((own_cpu_secs()? - own0) * 1e3);
        d_req.push(requests as f64);
        if found.len() != files {
            bail!(
                "the direct walk found {} files, expected {files}",
                found.len()
            );
        }

        dav.reset_counters();
        let (t, cpu0, own0) = (Instant::now(), oc.cpu()?, own_cpu_secs()?);
        let listed = ctx.via.list_folder("/tree").await?;
        via.push(t.elapsed().as_secs_f64() * 1e3);
        cpu.push((oc.cpu()? - cpu0) * 1e3);
        v_own.push((own_cpu_secs()? - own0) * 1e3);
        v_req.push(dav.requests("PROPFIND") as f64);
        if listed.len() != files {
            bail!(
                "GET /storage/folder listed {} files, expected {files}",
                listed.len()
            );
        }
    }
    let speedup = ratios(&direct, &via);
    let mut s = Section::new(
        &format!("3. Listing {files} files in {folders} nested folders"),
        &format!(
            "{} repetitions; `GET /storage/folder` (recursive, the default) vs a sequential \
             Depth-1 PROPFIND walk done directly. Upstream requests are the WebDAV server's \
             PROPFIND counter. Median (min–max).",
            ctx.opts.listing_reps
        ),
        &[
            "path",
            "time (ms)",
            "upstream PROPFINDs",
            "speed-up vs direct walk",
            "connector CPU (ms)",
            "provider + client CPU (ms)",
        ],
    );
    s.row(vec![
        "sequential direct walk".into(),
        direct.show(1),
        d_req.show(0),
        "1".into(),
        "".into(),
        d_own.show(1),
    ]);
    s.row(vec![
        "`GET /storage/folder`".into(),
        via.show(1),
        v_req.show(0),
        speedup.show(1),
        cpu.show(1),
        v_own.show(1),
    ]);
    s.note(format!(
        "{} folders below the listed one, so {} is the least number of Depth-1 PROPFINDs. \
         Original Python port: 0.22 s with 202 sequential PROPFINDs.",
        folders,
        folders + 1
    ));
    r.sections.push(s);
    let max_req = v_req.max();
    r.targets.push(Target::new(
        &format!("listing {files} files in {folders} folders"),
        "0.22 s, 202 PROPFINDs",
        format!(
            "{:.1} ms, {:.0} PROPFINDs, {:.1}× the direct walk",
            via.median(),
            max_req,
            speedup.median()
        ),
        &format!(
            "≥ 5× faster than the sequential walk, ≤ {} requests",
            folders + 1
        ),
        Some(speedup.median() >= 5.0 && max_req <= (folders + 1) as f64),
    ));
    Ok(())
}
