//! Liveness, readiness and metrics, and the shared readiness state.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use actix_web::{web, HttpResponse};

use crate::error::ConnectorError;
use crate::metrics;

/// Where the connector is in its life: the interface is served only while `Ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Waiting for the Token Storage to accept the registration.
    Registering = 0,
    Ready = 1,
    /// SIGTERM received: in-flight requests finish, new ones are refused.
    Draining = 2,
}

#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicU8>);

impl Readiness {
    pub fn phase(&self) -> Phase {
        match self.0.load(Ordering::Acquire) {
            0 => Phase::Registering,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    pub fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Release);
        metrics::set_registered(phase == Phase::Ready);
    }

    /// The error for a request that arrives while not ready, if any.
    pub fn check(&self) -> Result<(), ConnectorError> {
        match self.phase() {
            Phase::Ready => Ok(()),
            Phase::Registering => Err(ConnectorError::ServiceUnavailable(
                "the connector is not registered with the Token Storage yet; retry shortly".into(),
            )),
            Phase::Draining => Err(ConnectorError::ServiceUnavailable(
                "the connector is shutting down; retry on another instance".into(),
            )),
        }
    }
}

pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

pub(crate) async fn ready(readiness: web::Data<Readiness>) -> Result<HttpResponse, ConnectorError> {
    readiness.check()?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

pub(crate) async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics::render())
}
