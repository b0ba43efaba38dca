//! The HTTP server and the process life: serve at once (health answers, the interface
//! says 503), register in the background, become ready, drain on SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use tokio::sync::oneshot;

use crate::config::CommonConfig;
use crate::credentials::TokenResolver;
use crate::inflight::InFlight;
use crate::ops::{Phase, Readiness};
use crate::registration::{self, RegistrationError};
use crate::routes::{self, observe::observe, AppState};
use crate::{Built, ConfigError, EXIT_CONFIG};

/// A connector serving in this process (tests, the demo) or as the whole process.
pub struct RunningConnector {
    addr: SocketAddr,
    handle: ServerHandle,
    readiness: Readiness,
    in_flight: InFlight,
    grace: Duration,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    registration: Option<tokio::task::JoinHandle<()>>,
    failed: Option<oneshot::Receiver<RegistrationError>>,
}

impl RunningConnector {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, with 127.0.0.1 for an unspecified listen address.
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip([127, 0, 0, 1].into());
        }
        format!("http://{addr}")
    }

    pub fn is_ready(&self) -> bool {
        self.readiness.phase() == Phase::Ready
    }

    /// Graceful stop: keep listening but answer 503 to new interface requests (and
    /// `/ready`), let in-flight requests finish within the grace period, then stop.
    pub async fn stop(self) {
        self.readiness.set(Phase::Draining);
        if let Some(r) = &self.registration {
            r.abort();
        }
        if !self.in_flight.drained(self.grace).await {
            tracing::warn!(
                in_flight = self.in_flight.count(),
                "grace period over: cutting the remaining requests"
            );
        }
        self.handle.stop(false).await;
        let _ = self.server.await;
    }
}

/// Starts serving `built`: binds, spawns the server and (when configured) registration.
pub async fn start(common: CommonConfig, built: Built) -> std::io::Result<RunningConnector> {
    let agent = built.descriptor.servicename.clone();
    let invalid =
        |e: ConfigError| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string());
    // Registration retries on its own; a breaker would only delay it.
    let http = common
        .upstream("token_storage", &agent)
        .map_err(invalid)?
        .unguarded();
    let port_service = common.upstream("port_service", &agent).map_err(invalid)?;
    let readiness = Readiness::default();
    let state = web::Data::new(AppState {
        resolver: TokenResolver::new(
            built.descriptor.servicename.to_lowercase(),
            common.use_case_service_port_service.clone(),
            port_service,
            Duration::from_secs(common.token_cache_ttl_secs),
        ),
        file_storage: built.file_storage.clone(),
        metadata: built.metadata.clone(),
        idle_timeout: Duration::from_secs(common.idle_timeout_secs),
        max_path_depth: common.max_path_depth,
        max_json_body_bytes: common.max_json_body_bytes,
        request_body_timeout: Duration::from_secs(common.request_body_timeout_secs),
        provider: built.provider,
        progress_every: Duration::from_secs(common.transfer_progress_secs),
    });
    crate::metrics::set_info(&built.descriptor.servicename);
    crate::metrics::init_transfers(built.provider);
    let readiness_data = web::Data::new(readiness.clone());
    let in_flight = InFlight::default();
    let in_flight_data = web::Data::new(in_flight.clone());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(in_flight_data.clone())
            .wrap(from_fn(observe))
            .configure(routes::configure(state.clone(), readiness_data.clone()))
            .default_service(web::to(not_found))
    })
    .disable_signals()
    .on_connect(routes::caller::on_connect)
    // Longer than typical client pools keep idle connections, so a reused one is not
    // closed under a client's feet.
    .keep_alive(Duration::from_secs(75))
    .shutdown_timeout(common.shutdown_timeout_secs)
    .bind(common.listen_addr)?;
    if common.workers > 0 {
        server = server.workers(common.workers);
    }
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("the server bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    let server = tokio::spawn(server);

    let (registration, failed) = match common.central_service_token_storage.clone() {
        None => {
            tracing::warn!(
                "CENTRAL_SERVICE_TOKEN_STORAGE is unset: registration is off, serving at once"
            );
            readiness.set(Phase::Ready);
            (None, None)
        }
        Some(url) => {
            readiness.set(Phase::Registering);
            let (tx, rx) = oneshot::channel();
            let implements = built.implements();
            let descriptor = Arc::new(built.descriptor);
            let ready = readiness.clone();
            let check = Duration::from_secs(common.registration_check_secs);
            let task = tokio::spawn(async move {
                match registration::register(
                    &http,
                    &url,
                    &descriptor,
                    &implements,
                    registration::backoff(),
                )
                .await
                {
                    Ok(outcome) => {
                        if ready.phase() == Phase::Registering {
                            ready.set(Phase::Ready);
                        }
                        registration::watch(&http, &url, &descriptor, &implements, check, outcome)
                            .await;
                    }
                    Err(e) => {
                        let _ = tx.send(e);
                    }
                }
            });
            (Some(task), Some(rx))
        }
    };
    tracing::info!(%addr, "listening");
    Ok(RunningConnector {
        addr,
        handle,
        readiness,
        in_flight,
        grace: Duration::from_secs(common.shutdown_timeout_secs),
        server,
        registration,
        failed,
    })
}

/// Unknown paths are 404; known paths with an undeclared method are 405 with `Allow`.
async fn not_found(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use actix_web::ResponseError;
    let (fs, md) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| (s.file_storage.is_some(), s.metadata.is_some()))
        .unwrap_or_default();
    let allowed: Vec<String> = crate::routes::mounted_routes(fs, md)
        .into_iter()
        .filter(|(_, template)| path_matches(template, req.path()))
        .map(|(method, _)| method)
        .collect();
    if allowed.is_empty() {
        return crate::error::ConnectorError::NotFound(
            "no such route; see the OpenAPI documents in specs/".into(),
        )
        .error_response();
    }
    let allow = allowed.join(", ");
    let mut resp = crate::error::ConnectorError::MethodNotAllowed(format!(
        "{} is not served here; allowed: {allow}",
        req.method()
    ))
    .error_response();
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
        resp.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    resp
}

/// Matches a path against an OpenAPI template (`{name}` matches one segment).
fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// Runs a connector process until SIGTERM/SIGINT (exit 0) or a fatal registration
/// error (exit 2).
pub fn run_to_completion(common: CommonConfig, built: Built, name: &str) -> ExitCode {
    let shutdown = Duration::from_secs(common.shutdown_timeout_secs);
    let result = actix_web::rt::System::new().block_on(async move {
        let mut running = match start(common, built).await {
            Ok(r) => r,
            Err(e) => return Err(ConfigError::new("LISTEN_ADDR", format!("cannot listen: {e}"))),
        };
        let failed = running.failed.take();
        let registration_failed = async {
            match failed {
                Some(rx) => rx.await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            signal = shutdown_signal() => {
                tracing::info!(signal, grace_secs = shutdown.as_secs(), "draining: finishing in-flight requests");
                running.stop().await;
                tracing::info!("stopped");
                Ok(())
            }
            Some(err) = registration_failed => {
                running.stop().await;
                Err(ConfigError::new("CENTRAL_SERVICE_TOKEN_STORAGE", err.to_string()))
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(key = %e.key, "{e}");
            eprintln!("{name}: configuration error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
