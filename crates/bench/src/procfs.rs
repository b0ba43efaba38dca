//! Memory, CPU time and children of a process from `/proc` (Linux).

use anyhow::{Context, Result};

/// Resident memory now and at its peak, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub hwm: u64,
}

pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let field = |name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("{name} missing in {path}"))?;
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("cannot read {line:?}"))?;
        Ok(kib * 1024)
    };
    Ok(Memory {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
    })
}

/// Resets the peak (VmHWM) to the current RSS, so the next reading is this phase's peak.
pub fn reset_peak(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .with_context(|| format!("resetting the peak RSS of {pid}"))
}

/// CPU seconds used so far by this process: the in-process providers and the client.
pub fn own_cpu_secs() -> Result<f64> {
    cpu_secs(std::process::id())
}

/// CPU time used so far by `pid` (all its threads, also those that ended), in seconds,
/// from `utime` + `stime` of `/proc/<pid>/stat` (USER_HZ = 100: 10 ms resolution).
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let rest = text.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("cannot read {path}"))
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// The processes whose parent is `pid` (a scan of `/proc`: `/proc/<pid>/task/*/children`
/// needs a kernel option that is not always there).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // The field after the state is the parent's pid.
            let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
            rest.split_whitespace().nth(1) == Some(pid.to_string().as_str())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_own_process() {
        let m = memory(std::process::id()).unwrap();
        assert!(m.hwm >= m.rss && m.rss > 0);
        assert!(own_cpu_secs().unwrap() >= 0.0);
    }

    #[test]
    fn finds_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = children(std::process::id()).contains(&child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found);
    }
}
