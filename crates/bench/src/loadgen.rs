//! The load generator: `wrk` (Debian package `wrk`), an external process, driven by a
//! generated Lua script that sets method, headers and body and prints one summary line.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// One request, replayed by every connection.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl Request {
    pub fn get(url: String) -> Self {
        Self {
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Socket errors, timeouts and non-2xx/3xx answers.
    pub errors: u64,
}

/// `wrk`'s version line, or `None` when it is not installed.
pub fn version() -> Option<String> {
    let out = Command::new("wrk").arg("-v").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .next()
        .map(|l| l.split(" [").next().unwrap_or(l).trim().to_owned())
}

fn lua_string(s: &str) -> String {
    format!("{s:?}")
}

fn script(req: &Request) -> String {
    let mut s = format!("wrk.method = {}\n", lua_string(req.method));
    for (k, v) in &req.headers {
        s.push_str(&format!(
            "wrk.headers[{}] = {}\n",
            lua_string(k),
            lua_string(v)
        ));
    }
    if let Some(b) = &req.body {
        s.push_str(&format!("wrk.body = {}\n", lua_string(b)));
    }
    s.push_str(
        r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RDSBENCH %d %d %d %.1f %.1f\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"#,
    );
    s
}

/// Runs `wrk` for `secs` seconds with `concurrency` connections (at most 2 threads).
pub async fn run(req: &Request, concurrency: u32, secs: u32, scratch: &Path) -> Result<Run> {
    let path = scratch.join("wrk-request.lua");
    std::fs::write(&path, script(req)).with_context(|| format!("writing {}", path.display()))?;
    let threads = concurrency.clamp(1, 2);
    let out = tokio::process::Command::new("wrk")
        .args(["-t", &threads.to_string(), "-c", &concurrency.to_string()])
        .args(["-d", &format!("{secs}s"), "--timeout", "10s", "-s"])
        .arg(&path)
        .arg(&req.url)
        .output()
        .await
        .context("running wrk (install it: apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RDSBENCH ")) else {
        bail!(
            "wrk printed no summary: {} {}",
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    };
    let f: Vec<f64> = line
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let [requests, duration_us, errors, p50_us, p99_us] = f[..] else {
        bail!("cannot read wrk's summary {line:?}");
    };
    Ok(Run {
        rps: requests / (duration_us / 1e6).max(1e-9),
        p50_ms: p50_us / 1e3,
        p99_ms: p99_us / 1e3,
        requests: requests as u64,
        errors: errors as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_sets_method_headers_body() {
        let req = Request {
            method: "PROPFIND",
            url: "http://x/".into(),
            headers: vec![("Depth", "1".into())],
            body: Some("<a \"b\"/>".into()),
        };
        let s = script(&req);
        assert!(s.contains("wrk.method = \"PROPFIND\""));
        assert!(s.contains("wrk.headers[\"Depth\"] = \"1\""));
        assert!(s.contains("wrk.body = \"<a \\\"b\\\"/>\""));
    }
}
