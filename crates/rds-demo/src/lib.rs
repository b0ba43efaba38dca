//! The main job in one command: RDS's export flow, end to end, on loopback.
//!
//! Starts a Token Storage emulator, a real WebDAV server holding a sample research folder,
//! an emulator of the research repository (Zenodo by default, InvenioRDM or Dataverse:
//! [`Repository`]) and both connector binaries (configured by environment only, as in a
//! deployment), then plays RDS's layer 2: list the folder, create a deposit from an
//! RO-Crate, stream every file across, publish, verify every byte.

mod flow;
pub mod repository;
pub mod sample;
pub mod stack;

use std::path::PathBuf;
use std::time::Duration;

pub use repository::Repository;
pub use stack::Stack;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("setting up the demo failed: {0}")]
    Setup(String),
    #[error("step \"{step}\" failed: {detail}")]
    Step { step: String, detail: String },
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Size of the large sample file.
    pub large_mib: u64,
    /// Show progress bars.
    pub progress: bool,
    /// Where the research is published.
    pub repository: Repository,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            large_mib: 50,
            progress: true,
            repository: Repository::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub elapsed: Duration,
    pub bytes: u64,
}

/// What the rates above were measured on; every service of the demo shares this machine's
/// cores on loopback, and `cargo xtask bench` measures release builds.
fn build() -> String {
    let opt = env!("RDS_DEMO_OPT_LEVEL");
    let note = match opt {
        "0" => "a dev build: transfers run several times slower than deployed; `cargo xtask demo` builds the faster `demo` profile",
        _ if cfg!(debug_assertions) => "the `demo` profile: no LTO, dependencies at opt-level 2; `cargo xtask bench` measures release builds",
        _ => "a release build",
    };
    format!("opt-level {opt}, {note}")
}

#[derive(Debug, Clone)]
pub struct Report {
    /// The repository's name.
    pub repository: &'static str,
    pub steps: Vec<Step>,
    pub doi: String,
    pub project_link: String,
    pub files_total: usize,
    pub files_verified: usize,
    pub mismatches: Vec<String>,
}

impl Report {
    pub fn all_verified(&self) -> bool {
        self.files_verified == self.files_total && self.mismatches.is_empty()
    }

    /// The per-step table, the DOI, the link and the verification line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<40} {:>10} {:>12} {:>12}\n",
            "step", "time", "bytes", "MiB/s"
        ));
        for s in &self.steps {
            let secs = s.elapsed.as_secs_f64();
            let rate = if s.bytes > 0 && secs > 0.0 {
                format!("{:.1}", s.bytes as f64 / secs / 1_048_576.0)
            } else {
                "-".into()
            };
            out.push_str(&format!(
                "{:<40} {:>8.0}ms {:>12} {:>12}\n",
                s.name,
                secs * 1e3,
                s.bytes,
                rate
            ));
        }
        out.push_str(&format!("\nbuild:        {}\n", build()));
        out.push_str(&format!("DOI:          {}\n", self.doi));
        out.push_str(&format!("project link: {}\n", self.project_link));
        if self.all_verified() {
            out.push_str(&format!(
                "all {} files verified (sha256 equal on {} and ownCloud)\n",
                self.files_total, self.repository
            ));
        } else {
            out.push_str(&format!(
                "VERIFICATION FAILED: {} of {} files verified; differing: {:?}\n",
                self.files_verified, self.files_total, self.mismatches
            ));
        }
        out
    }
}

/// A running demo: the services, the sample and the work folder (removed on drop).
pub struct Demo {
    pub stack: Stack,
    pub files: Vec<sample::SampleFile>,
    pub work: tempfile::TempDir,
}

impl Demo {
    /// Writes the sample and starts every service.
    pub async fn start(opts: &DemoOptions) -> Result<Self, DemoError> {
        let work = tempfile::Builder::new()
            .prefix("rds-demo-")
            .tempdir()
            .map_err(|e| DemoError::Setup(format!("no temporary folder: {e}")))?;
        let root = work.path().join("cloud");
        let logs = work.path().join("logs");
        for dir in [&root, &logs] {
            std::fs::create_dir_all(dir).map_err(|e| DemoError::Setup(e.to_string()))?;
        }
        let files = sample::write(&root, opts.large_mib)
            .map_err(|e| DemoError::Setup(format!("cannot write the sample folder: {e}")))?;
        let stack = Stack::start(&root, &logs, opts.repository).await?;
        Ok(Self { stack, files, work })
    }

    /// Plays RDS's export flow once.
    pub async fn run_flow(&self, progress: bool) -> Result<Report, DemoError> {
        flow::run(&self.stack, &self.files, progress).await
    }

    /// The connectors' log files (kept until the demo ends).
    pub fn logs(&self) -> Vec<PathBuf> {
        vec![
            self.stack.owncloud.log.clone(),
            self.stack.metadata.log.clone(),
        ]
    }

    pub async fn stop(self) {
        self.stack.stop().await;
    }
}
