//! Mounts the interfaces a connector implements, behind the readiness gate.

pub(crate) mod caller;
mod metadata;
mod multipart;
pub(crate) mod observe;
pub(crate) mod params;
mod storage;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpRequest, Route};

use crate::credentials::{Credentials, TokenResolver};
use crate::error::ConnectorError;
use crate::interface::{FileStorage, Metadata};
use crate::ops::{self, Readiness};

/// Everything a request handler needs.
pub(crate) struct AppState {
    pub resolver: TokenResolver,
    pub file_storage: Option<Arc<dyn FileStorage>>,
    pub metadata: Option<Arc<dyn Metadata>>,
    pub max_json_body_bytes: usize,
    /// A transfer to or from the caller that moves no byte for this long is cut.
    pub idle_timeout: std::time::Duration,
    /// `MAX_PATH_DEPTH`, checked on writes.
    pub max_path_depth: usize,
    /// The deadline for reading a non-file body (fields, JSON, multipart text fields).
    pub request_body_timeout: std::time::Duration,
    /// The provider's upstream name: the `upstream` label of the transfer metrics.
    pub provider: &'static str,
    /// `TRANSFER_PROGRESS_SECS`: how often a running transfer logs its progress.
    pub progress_every: std::time::Duration,
}

impl AppState {
    /// Starts metering a transfer with the provider, in the current request's span.
    pub(crate) fn meter(
        &self,
        direction: crate::transfer::meter::Direction,
        declared: Option<u64>,
    ) -> crate::transfer::meter::Meter {
        crate::transfer::meter::Meter::start(
            self.provider,
            direction,
            declared,
            self.progress_every,
        )
    }

    pub(crate) async fn credentials(&self, user_id: &str) -> Result<Credentials, ConnectorError> {
        self.resolver.resolve(user_id).await
    }
}

/// The routes of one app instance (one per worker).
pub(crate) fn configure(
    state: web::Data<AppState>,
    readiness: web::Data<Readiness>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let has_storage = state.file_storage.is_some();
        let has_metadata = state.metadata.is_some();
        cfg.app_data(state)
            .app_data(readiness)
            .route(OPS[0], web::get().to(ops::health))
            .route(OPS[1], web::get().to(ops::ready))
            .route(OPS[2], web::get().to(ops::metrics));
        if has_storage {
            cfg.service(
                web::scope(STORAGE)
                    .wrap(from_fn(gate))
                    .configure(|c| add_routes(c, storage::routes())),
            );
        }
        if has_metadata {
            cfg.service(
                web::scope(METADATA)
                    .wrap(from_fn(gate))
                    .configure(|c| add_routes(c, metadata::routes())),
            );
        }
    }
}

const STORAGE: &str = "/storage";
const METADATA: &str = "/metadata";
const OPS: [&str; 3] = ["/health", "/ready", "/metrics"];

fn add_routes(cfg: &mut web::ServiceConfig, routes: Vec<(Method, &'static str, Route)>) {
    for (_, path, route) in routes {
        cfg.route(path, route);
    }
}

/// `(METHOD, path)` of every route served for the given interfaces, paths in OpenAPI form
/// (`{project-id}`), for comparing with the documents in `specs/`.
pub fn mounted_routes(file_storage: bool, metadata: bool) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = OPS
        .iter()
        .map(|p| ("GET".to_owned(), (*p).to_owned()))
        .collect();
    let mut add = |prefix: &str, routes: Vec<(Method, &'static str, Route)>| {
        for (method, path, _) in routes {
            all.push((
                method.as_str().to_owned(),
                format!("{prefix}{path}").replace('_', "-"),
            ));
        }
    };
    if file_storage {
        add(STORAGE, storage::routes());
    }
    if metadata {
        add(METADATA, metadata::routes());
    }
    all
}

/// Refuses interface requests until registered and while draining (503 problem+json).
async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(readiness) = req.app_data::<web::Data<Readiness>>() {
        readiness.check()?;
    }
    next.call(req).await
}

/// The shared state of a handler's app.
pub(crate) fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ConnectorError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ConnectorError::Internal("application state missing".into()))
}

/// The answer to an upload: `{"success": true}` as RDS expects, plus the SHA-256 of the
/// bytes received (`"sha256"`, lower-case hex) when the whole body was read.
pub(crate) fn uploaded(digests: Option<crate::transfer::Digests>) -> actix_web::HttpResponse {
    let mut body = serde_json::json!({"success": true});
    if let Some(sha256) = digests.and_then(|d| d.sha256) {
        body["sha256"] = serde_json::Value::String(sha256);
    }
    actix_web::HttpResponse::Ok().json(body)
}

/// The JSON answer `{"success": true}` the RDS callers expect from writes.
pub(crate) fn success() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(serde_json::json!({"success": true}))
}
