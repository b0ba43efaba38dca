//! Connector child processes on a port the kernel chose. Picking a free port first and
//! passing it on races: between the probe and the child's bind, another child or an
//! in-process server may take it (CI saw two connectors handed the same port). The child
//! binds `127.0.0.1:0` instead and its address is read from its `listening` log line.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// Spawns `cmd` with `LISTEN_ADDR=127.0.0.1:0` and its stderr into `log` (the log level
/// must let INFO through), and returns the child with the address it bound. Fails when
/// the child exits or logs no address within `timeout`, quoting the log's end.
pub async fn spawn_listening(
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
) -> Result<(Child, SocketAddr), String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = cmd
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .stderr(Stdio::from(file))
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.as_std().get_program()))?;
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(addr) = text.lines().find_map(bound_addr) {
            return Ok((child, addr));
        }
        let why = match child.try_wait() {
            Ok(Some(status)) => Some(format!("exited ({status})")),
            _ if Instant::now() >= deadline => Some(format!("logged no address in {timeout:?}")),
            _ => None,
        };
        if let Some(why) = why {
            let tail: Vec<&str> = text.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "{:?} {why}; its log ends:\n{}",
                cmd.as_std().get_program(),
                tail.join("\n")
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The address in a `listening` line, in the pretty (`addr=…`) or JSON (`"addr":"…"`) format.
fn bound_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("listening") {
        return None;
    }
    let (_, rest) = line
        .split_once("addr=")
        .or_else(|| line.split_once("\"addr\":\""))?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::bound_addr;

    #[test]
    fn reads_both_log_formats() {
        let pretty =
            "2026-12-01T18:46:06Z  INFO connector_core::server: listening addr=127.0.0.1:37747";
        let json =
            r#"{"timestamp":"x","level":"INFO","message":"listening","addr":"127.0.0.1:4100"}"#;
        assert_eq!(bound_addr(pretty), "127.0.0.1:37747".parse().ok());
        assert_eq!(bound_addr(json), "127.0.0.1:4100".parse().ok());
        assert_eq!(bound_addr("INFO served status=200 addr=127.0.0.1:1"), None);
    }
}
