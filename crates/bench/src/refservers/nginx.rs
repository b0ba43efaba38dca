//! nginx `proxy_pass`, the reference reverse proxy: one worker (its CPU time is nginx's
//! cost), a keep-alive HTTP/1.1 pool to each upstream, 64 KiB buffers. One listening
//! port per upstream, all in one nginx.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{as_root, find_binary, Server};
use crate::stack::free_port;

pub struct Nginx {
    pub server: Server,
    /// `http://127.0.0.1:<port>` in front of each upstream, in the order given.
    pub urls: Vec<String>,
}

impl Nginx {
    /// Proxies to each of `upstreams` (`http://host:port`); `work` is nginx's prefix.
    pub async fn start(upstreams: &[&str], work: &Path) -> Result<Self> {
        let Some(bin) = find_binary(&["nginx"]) else {
            bail!("nginx is not installed (Debian: apt-get install nginx)");
        };
        let logs = work.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let mut ports = Vec::new();
        for _ in upstreams {
            ports.push(free_port()?);
        }
        let conf = work.join("nginx.conf");
        std::fs::write(&conf, config(upstreams, &ports)?)
            .with_context(|| format!("writing {}", conf.display()))?;
        let (prefix, conf) = (work.to_string_lossy(), conf.to_string_lossy());
        // `-e`: the compiled-in error log (/var/log/nginx) is root's and may not exist.
        let server = Server::spawn(
            "nginx",
            &bin,
            &["-p", &prefix, "-c", &conf, "-e", "logs/error.log"],
            &ports,
            &logs.join("error.log"),
        )
        .await?;
        Ok(Self {
            server,
            urls: ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}"))
                .collect(),
        })
    }
}

fn config(upstreams: &[&str], ports: &[u16]) -> Result<String> {
    let user = if as_root() {
        "user nobody nogroup;\n"
    } else {
        ""
    };
    let mut http = String::new();
    for (i, (up, port)) in upstreams.iter().zip(ports).enumerate() {
        let Some(addr) = up.strip_prefix("http://") else {
            bail!("nginx proxies to http:// upstreams, not {up}");
        };
        http.push_str(&format!(
            "    upstream u{i} {{ server {addr}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://u{i}; }}
    }}
"
        ));
    }
    Ok(format!(
        r#"{user}daemon off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    # Off: the fastest nginx. The connectors write one line per request (LOGLEVEL=INFO),
    # so this favours nginx a little; the report says so.
    access_log off;
    client_body_temp_path logs/client_body;
    proxy_temp_path logs/proxy;
    fastcgi_temp_path logs/fastcgi;
    uwsgi_temp_path logs/uwsgi;
    scgi_temp_path logs/scgi;
    # Keep-alive to the upstream needs HTTP/1.1 and no "Connection: close".
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    # Responses buffered in memory (8 × 64 KiB), never spooled to disk: a 1 GiB GET would
    # otherwise measure the disk.
    proxy_buffering on;
    proxy_buffers 8 64k;
    proxy_buffer_size 64k;
    proxy_max_temp_file_size 0;
    # Request bodies streamed as they come, as the connectors do (else nginx writes
    # every upload to client_body_temp_path first).
    proxy_request_buffering off;
    client_max_body_size 0;
{http}}}
"#
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_server_per_upstream() {
        let c = config(&["http://127.0.0.1:1", "http://127.0.0.1:2"], &[10, 20]).unwrap();
        assert!(c.contains("upstream u1 { server 127.0.0.1:2; keepalive 32; }"));
        assert!(c.contains("listen 127.0.0.1:10;"));
        assert!(config(&["https://x"], &[1]).is_err());
    }
}
