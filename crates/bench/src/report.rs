//! What the scenarios produce: tables, target checks and plot data.

use crate::stats::Samples;

/// One table of `docs/benchmarks.md`.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub intro: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str, intro: &str, headers: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            intro: intro.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            ..Self::default()
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("## {}\n\n", self.title);
        if !self.intro.is_empty() {
            out.push_str(&format!("{}\n\n", self.intro));
        }
        out.push_str(&table(&self.headers, &self.rows));
        for n in &self.notes {
            out.push_str(&format!("\n{n}\n"));
        }
        out.push('\n');
        out
    }
}

/// A Markdown table.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", headers.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(headers.len())));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// One line of the targets table.
#[derive(Debug, Clone)]
pub struct Target {
    pub metric: String,
    pub original: String,
    pub ours: String,
    pub target: String,
    /// `None`: not measured.
    pub met: Option<bool>,
}

impl Target {
    pub fn new(
        metric: &str,
        original: &str,
        ours: String,
        target: &str,
        met: Option<bool>,
    ) -> Self {
        Self {
            metric: metric.to_owned(),
            original: original.to_owned(),
            ours,
            target: target.to_owned(),
            met,
        }
    }

    pub fn verdict(&self) -> &'static str {
        if self.target == "–" {
            return "–";
        }
        match self.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        }
    }
}

/// Transfer rates for the throughput plot (MiB/s).
#[derive(Debug, Clone)]
pub struct Throughput {
    pub label: String,
    pub direct: Samples,
    pub connector: Samples,
}

/// Median figures of one load-generator run set.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadStats {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One endpoint at one concurrency, direct and through the connector.
#[derive(Debug, Clone)]
pub struct LoadPoint {
    pub endpoint: String,
    pub concurrency: u32,
    pub direct: LoadStats,
    pub connector: LoadStats,
}

#[derive(Debug, Default)]
pub struct Results {
    pub sections: Vec<Section>,
    pub targets: Vec<Target>,
    pub throughput: Vec<Throughput>,
    pub load: Vec<LoadPoint>,
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / crate::stats::MIB)
}
