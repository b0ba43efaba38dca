//! SVG plots (plotters, SVG backend only): throughput, request rate and latency.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::report::{LoadPoint, LoadStats, Results};

const DIRECT: RGBColor = RGBColor(0x4c, 0x72, 0xb0);
const CONNECTOR: RGBColor = RGBColor(0xdd, 0x84, 0x52);
/// Width of one endpoint's panel in the rate and latency plots.
const PANEL_WIDTH: u32 = 400;

pub fn write(dir: &Path, r: &Results) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    throughput(&dir.join("throughput.svg"), r)?;
    rate(&dir.join("rate.svg"), &r.load)?;
    latency(&dir.join("latency.svg"), &r.load)?;
    Ok(())
}

fn label_of(labels: &[String], v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Grouped bars (direct, connector) on one drawing area.
fn bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    labels: &[String],
    values: &[(f64, f64)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    // A segmented `0..k` has k + 1 segments.
    let last = values.len().max(1) as i32 - 1;
    let top = values.iter().map(|(a, b)| a.max(*b)).fold(1.0, f64::max) * 1.35;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0..last).into_segmented(), 0.0..top)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(values.len() + 1)
        .x_label_formatter(&|v| label_of(labels, v))
        .y_desc(y_desc)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = |i: usize, left: bool, v: f64, color: RGBColor| {
        let i = i as i32;
        let (x0, x1) = if left {
            (SegmentValue::Exact(i), SegmentValue::CenterOf(i))
        } else {
            (SegmentValue::CenterOf(i), SegmentValue::Exact(i + 1))
        };
        let mut r = Rectangle::new([(x0, 0.0), (x1, v)], color.filled());
        r.set_margin(0, 0, if left { 8 } else { 1 }, if left { 1 } else { 8 });
        r
    };
    chart
        .draw_series(
            values
                .iter()
                .enumerate()
                .map(|(i, (d, _))| bar(i, true, *d, DIRECT)),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label("direct")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], DIRECT.filled()));
    chart
        .draw_series(
            values
                .iter()
                .enumerate()
                .map(|(i, (_, c))| bar(i, false, *c, CONNECTOR)),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label("through the connector")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], CONNECTOR.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

fn throughput(path: &Path, r: &Results) -> Result<()> {
    let area = SVGBackend::new(path, (960, 480)).into_drawing_area();
    area.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let labels: Vec<String> = r.throughput.iter().map(|t| t.label.clone()).collect();
    let values: Vec<(f64, f64)> = r
        .throughput
        .iter()
        .map(|t| (t.direct.median(), t.connector.median()))
        .collect();
    bars(
        &area,
        "Transfer throughput (median)",
        "MiB/s",
        &labels,
        &values,
    )?;
    area.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// The load points grouped by endpoint, in the order measured.
fn by_endpoint(load: &[LoadPoint]) -> Vec<(String, Vec<&LoadPoint>)> {
    let mut groups: Vec<(String, Vec<&LoadPoint>)> = Vec::new();
    for p in load {
        match groups.iter_mut().find(|(e, _)| *e == p.endpoint) {
            Some((_, v)) => v.push(p),
            None => groups.push((p.endpoint.clone(), vec![p])),
        }
    }
    groups
}

fn rate(path: &Path, load: &[LoadPoint]) -> Result<()> {
    let groups = by_endpoint(load);
    let n = groups.len().max(1);
    let area = SVGBackend::new(path, (PANEL_WIDTH * n as u32, 420)).into_drawing_area();
    area.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let panels = area.split_evenly((1, n));
    for ((endpoint, points), panel) in groups.into_iter().zip(panels.iter()) {
        let labels: Vec<String> = points
            .iter()
            .map(|p| format!("c{}", p.concurrency))
            .collect();
        let values: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (p.direct.rps, p.connector.rps))
            .collect();
        bars(panel, &endpoint, "requests/s", &labels, &values)?;
    }
    area.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

fn latency(path: &Path, load: &[LoadPoint]) -> Result<()> {
    let groups = by_endpoint(load);
    let n = groups.len().max(1);
    let area = SVGBackend::new(path, (PANEL_WIDTH * n as u32, 420)).into_drawing_area();
    area.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let panels = area.split_evenly((1, n));
    for ((endpoint, points), panel) in groups.into_iter().zip(panels.iter()) {
        let labels: Vec<String> = points
            .iter()
            .map(|p| format!("c{}", p.concurrency))
            .collect();
        let all = points.iter().flat_map(|p| [p.direct, p.connector]);
        let hi = all.clone().map(|s| s.p99_ms).fold(1.0, f64::max) * 8.0;
        let lo = all
            .map(|s| s.p50_ms)
            .fold(f64::INFINITY, f64::min)
            .clamp(0.001, 1.0)
            / 2.0;
        let last = points.len().max(1) as i32 - 1;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{endpoint}: latency"), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..last).into_segmented(), (lo..hi).log_scale())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(points.len() + 1)
            .x_label_formatter(&|v| label_of(&labels, v))
            .y_desc("ms (log)")
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        type Pick = fn(&LoadPoint) -> LoadStats;
        let series: [(&str, Pick, bool, RGBColor); 4] = [
            ("direct p50", |p| p.direct, false, DIRECT),
            ("direct p99", |p| p.direct, true, DIRECT),
            ("connector p50", |p| p.connector, false, CONNECTOR),
            ("connector p99", |p| p.connector, true, CONNECTOR),
        ];
        for (name, pick, p99, color) in series {
            let line: Vec<(SegmentValue<i32>, f64)> = points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let s = pick(p);
                    (
                        SegmentValue::CenterOf(i as i32),
                        if p99 { s.p99_ms } else { s.p50_ms },
                    )
                })
                .collect();
            let style = if p99 {
                color.stroke_width(1)
            } else {
                color.stroke_width(3)
            };
            chart
                .draw_series(LineSeries::new(line, style))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    area.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
