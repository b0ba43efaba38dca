//! The emulated routes. Each refusal names the source of the rule (SOURCES.md).

use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::state::{Dataset, State};

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(st: &Shared) -> MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|p| p.into_inner())
}

/// `AbstractApiBean.error`: `{"status":"ERROR","message":...}`.
pub(crate) fn error(status: u16, message: &str) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({ "status": "ERROR", "message": message }))
}

pub(crate) fn rate_limited(_method: &str, _path: &str) -> HttpResponse {
    error(429, "Rate limited due to too many requests.")
}

pub(crate) fn dataset_json(_st: &State, d: &Dataset) -> Value {
    json!({ "id": d.id })
}

pub(crate) fn add_lock(_st: &mut State, _id: u64, _reason: &str, _polls: usize) {}

pub(crate) fn routes(_cfg: &mut web::ServiceConfig) {}

pub(crate) async fn not_found() -> HttpResponse {
    error(404, "API endpoint does not exist on this server.")
}

pub(crate) fn create_sample(_st: &mut State, _user: &str) -> Option<u64> {
    None
}
