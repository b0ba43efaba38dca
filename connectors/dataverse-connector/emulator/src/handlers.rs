//! The dataset routes (`api/Dataverses.java`, `api/Datasets.java`), authentication
//! (`api/auth/*`) and the lookups every route shares (`AbstractApiBean`). Each refusal
//! names the source of the rule (SOURCES.md).

// Early answers travel as `Err(HttpResponse)`: simple, and size does not matter here.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::render;
use crate::state::{Dataset, Lock, PendingRelease, State, Version};
use crate::validate;

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(st: &Shared) -> MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|p| p.into_inner())
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(resp) => return resp,
        }
    };
}
pub(crate) use tri;

/// `AbstractApiBean.error`: `{"status":"ERROR","message":...}`.
pub(crate) fn error(status: u16, message: &str) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(code).json(json!({ "status": "ERROR", "message": message }))
}

/// `AbstractApiBean.ok`: `{"status":"OK","data":...}`.
pub(crate) fn ok(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "OK", "data": data }))
}

/// Rate limiting (SOURCES.md §11, `AbstractApiBean.execCommand`, `RateLimitCommandException`):
/// 429 without `Retry-After` or `X-RateLimit-*`; where the code submits the command itself
/// (file add `AddReplaceFileHelper.step_020`, file delete `Files.deleteFileInDataset`) the
/// same failure is a 400.
pub(crate) fn rate_limited(method: &str, path: &str) -> HttpResponse {
    const TAIL: &str = "failed: Rate limited due to too many requests.";
    if method == "POST" && path.ends_with("/add") {
        return error(
            400,
            &format!("There was an error when trying to add the new file. CreateNewDataFilesCommand {TAIL}"),
        );
    }
    if method == "DELETE" {
        if let Some(id) = path.strip_prefix("/api/files/") {
            return error(
                400,
                &format!("Delete failed for file ID {id} (CommandException): UpdateDatasetVersionCommand {TAIL}"),
            );
        }
    }
    let command = match method {
        "POST" if path.contains("/actions/:publish") => "PublishDatasetCommand",
        "POST" if path.starts_with("/api/dataverses/") => "CreateNewDatasetCommand",
        "PUT" => "UpdateDatasetVersionCommand",
        "DELETE" => "DeleteDatasetVersionCommand",
        _ if path.starts_with("/api/search") => "SearchCommand",
        _ => "GetLatestAccessibleDatasetVersionCommand",
    };
    error(429, &format!("{command} {TAIL}"))
}

fn query(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

pub(crate) fn param(req: &HttpRequest, name: &str) -> Option<String> {
    query(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

pub(crate) fn params(req: &HttpRequest, name: &str) -> Vec<String> {
    query(req)
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

/// `ApiKeyAuthMechanism`: `X-Dataverse-key`, else `?key=`; a token that resolves to
/// nobody → 401 "Bad API key" before the endpoint runs. `Ok(None)`: a guest.
pub(crate) fn caller(req: &HttpRequest, st: &State) -> Result<Option<String>, HttpResponse> {
    let token = req
        .headers()
        .get("x-dataverse-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| param(req, "key"));
    match token {
        None => Ok(None),
        Some(t) => match st.tokens.get(t.trim()) {
            Some(u) => Ok(Some(u.clone())),
            None => Err(error(401, "Bad API key")),
        },
    }
}

/// `AbstractApiBean.getRequestAuthenticatedUserOrDie`.
pub(crate) fn user(req: &HttpRequest, st: &State) -> Result<String, HttpResponse> {
    caller(req, st)?.ok_or_else(|| {
        error(
            401,
            "Only authenticated users can perform the requested operation",
        )
    })
}

/// `PermissionException` through `execCommand` → 401 (sic).
pub(crate) fn not_permitted(user: Option<&str>) -> HttpResponse {
    let who = user.map_or(":guest".to_owned(), |u| format!("@{u}"));
    error(
        401,
        &format!("User {who} is not permitted to perform requested action."),
    )
}

/// `AbstractApiBean.findDatasetOrDie`: a database id or `:persistentId?persistentId=`.
pub(crate) fn find_dataset(req: &HttpRequest, st: &State, id: &str) -> Result<u64, HttpResponse> {
    const PID_MISSING: &str =
        "When accessing a dataset based on Persistent ID, a persistentId query parameter must be present.";
    if id == ":persistentId" {
        let Some(pid) = param(req, "persistentId") else {
            return Err(error(400, PID_MISSING));
        };
        // The code answers an unknown PID with the `dataset_id_is_null` text.
        return st
            .datasets
            .values()
            .find(|d| render::persistent_id(st, d) == pid)
            .map(|d| d.id)
            .ok_or_else(|| error(404, PID_MISSING));
    }
    match id.parse::<u64>() {
        Ok(n) if st.datasets.contains_key(&n) => Ok(n),
        Ok(_) => Err(error(404, &format!("Dataset with ID {id} not found."))),
        Err(_) => Err(error(400, &format!("Bad dataset ID number: {id}."))),
    }
}

pub(crate) fn dataset_json(st: &State, d: &Dataset) -> Value {
    render::dataset(st, d, d.latest())
}

/// A lock of `reason` for `polls` reads of `GET .../locks`.
pub(crate) fn add_lock(st: &mut State, id: u64, reason: &str, polls: usize) {
    if polls == 0 {
        return;
    }
    let Some(d) = st.datasets.get_mut(&id) else {
        return;
    };
    let user = d.owner.clone();
    d.locks.push(Lock {
        reason: reason.to_owned(),
        user,
        date: render::java_date(),
        polls,
        message: None,
    });
}

/// `PermissionServiceBean.checkUpdateDatasetVersionLock`: an Ingest lock alone is
/// tolerated by metadata updates and file adds/deletes.
pub(crate) fn blocks_update(d: &Dataset) -> bool {
    d.locks.iter().any(|l| l.reason != "Ingest")
}

const EDIT_LOCKED: &str = "Dataset cannot be edited due to dataset lock.";

fn new_identifier() -> String {
    // Dataverse's default generator: shoulder `FK2/` and six random upper-case letters
    // and digits (`AbstractPidProvider.generateDatasetIdentifier`, "randomString").
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let bytes = uuid::Uuid::new_v4();
    let s: String = bytes.as_bytes()[..6]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("FK2/{s}")
}

fn new_dataset(st: &mut State, owner: &str, alias: &str, parsed: validate::Parsed) -> u64 {
    let id = st.next_id();
    let version_id = st.next_id();
    let now = render::timestamp();
    st.datasets.insert(
        id,
        Dataset {
            id,
            identifier: new_identifier(),
            owner: owner.to_owned(),
            collection: alias.to_owned(),
            created: now.clone(),
            released: Vec::new(),
            draft: Some(Version {
                id: version_id,
                fields: parsed.fields,
                license: parsed.license,
                terms_of_use: parsed.terms_of_use,
                files: Vec::new(),
                number: None,
                create_time: now.clone(),
                last_update: now,
                release_time: None,
            }),
            locks: Vec::new(),
            pending: None,
            publication_date: None,
        },
    );
    id
}

/// A minimal valid draft (the conformance run's sample project).
pub(crate) fn create_sample(st: &mut State, user: &str) -> Option<u64> {
    let alias = st.collections.keys().next()?.clone();
    let body = json!({
        "license": {"name": "CC0 1.0", "uri": "http://creativecommons.org/publicdomain/zero/1.0"},
        "metadataBlocks": {"citation": {"fields": [
            {"typeName": "title", "typeClass": "primitive", "multiple": false, "value": "Sample dataset"},
            {"typeName": "author", "typeClass": "compound", "multiple": true, "value": [
                {"authorName": {"typeName": "authorName", "typeClass": "primitive", "multiple": false, "value": user}}]},
            {"typeName": "datasetContact", "typeClass": "compound", "multiple": true, "value": [
                {"datasetContactEmail": {"typeName": "datasetContactEmail", "typeClass": "primitive", "multiple": false, "value": format!("{user}@example.org")}}]},
            {"typeName": "dsDescription", "typeClass": "compound", "multiple": true, "value": [
                {"dsDescriptionValue": {"typeName": "dsDescriptionValue", "typeClass": "primitive", "multiple": false, "value": "A sample."}}]},
            {"typeName": "subject", "typeClass": "controlledVocabulary", "multiple": true, "value": ["Other"]}
        ]}}
    });
    let parsed = validate::parse_version(&body).ok()?;
    Some(new_dataset(st, user, &alias, parsed))
}

fn is_json(req: &HttpRequest) -> Option<bool> {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// `POST /api/dataverses/{alias}/datasets` (`Dataverses.createDataset`, SOURCES.md §2).
pub(crate) async fn create(
    req: HttpRequest,
    alias: web::Path<String>,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let user = tri!(user(&req, &st));
    // `findDataverseOrDie`.
    if !st.collections.contains_key(alias.as_str()) {
        return error(
            404,
            &format!("Can't find dataverse with identifier='{alias}'"),
        );
    }
    let body = match is_json(&req) {
        // `@Consumes("application/json")`; other types never reach the method.
        Some(false) => return error(415, "Unsupported Media Type"),
        // Without a Content-Type the body is not read: the validation of an empty
        // version answers (`changelog.rst:143`).
        None => json!({"datasetVersion": {"metadataBlocks": {}}}),
        Some(true) => match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v,
            Err(e) => return error(400, &format!("Error parsing Json: {e}")),
        },
    };
    let Some(version) = body.get("datasetVersion") else {
        return error(400, "Please provide initial version in the dataset json");
    };
    if version
        .get("files")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
    {
        return error(400, "Only a superuser may add files via this api");
    }
    let parsed = match validate::parse_version(version) {
        Ok(p) => p,
        Err(e) => return error(400, &format!("Error parsing Json: {e}")),
    };
    if let Err(e) = validate::validate(&parsed.fields) {
        return error(403, &e);
    }
    let id = new_dataset(&mut st, &user, &alias, parsed);
    let pid = st
        .datasets
        .get(&id)
        .map(|d| render::persistent_id(&st, d))
        .unwrap_or_default();
    HttpResponse::Created()
        .insert_header(("Location", format!("/datasets/{id}")))
        .json(json!({"status": "OK", "data": {"id": id, "persistentId": pid}}))
}

/// The version a caller may see: owners see the draft; others the released ones only.
fn may_view(d: &Dataset, user: Option<&str>) -> bool {
    user == Some(d.owner.as_str()) || !d.released.is_empty()
}

/// `GET /api/datasets/{id}` (`Datasets.getDataset`): `latestVersion` is the latest the
/// caller may see.
pub(crate) async fn get_dataset(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let st = lock(&st);
    let caller = tri!(caller(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if !may_view(d, caller.as_deref()) {
        return not_permitted(caller.as_deref());
    }
    let version = if caller.as_deref() == Some(d.owner.as_str()) {
        d.latest()
    } else {
        d.released.last()
    };
    ok(render::dataset(&st, d, version))
}

/// `Datasets.getDatasetVersionOrDie`: `:draft`, `:latest`, `:latest-published`, `N.M`.
pub(crate) fn pick_version<'a>(
    d: &'a Dataset,
    v: &str,
    user: Option<&str>,
) -> Result<&'a Version, HttpResponse> {
    let owner = user == Some(d.owner.as_str());
    let missing = || {
        error(
            404,
            &format!("Dataset version {v} of dataset {} not found", d.id),
        )
    };
    match v {
        ":draft" => {
            if d.draft.is_some() && !owner {
                return Err(not_permitted(user));
            }
            d.draft.as_ref().ok_or_else(missing)
        }
        ":latest" => {
            let v = if owner { d.latest() } else { d.released.last() };
            v.ok_or_else(|| {
                if d.draft.is_some() {
                    not_permitted(user)
                } else {
                    missing()
                }
            })
        }
        ":latest-published" => d.released.last().ok_or_else(missing),
        n => {
            let (major, minor) = n.split_once('.').unwrap_or((n, "0"));
            let wanted = (major.parse::<u64>(), minor.parse::<u64>());
            let (Ok(major), Ok(minor)) = wanted else {
                return Err(missing());
            };
            d.released
                .iter()
                .find(|r| r.number == Some((major, minor)))
                .ok_or_else(missing)
        }
    }
}

/// `GET /api/datasets/{id}/versions/{v}` (`Datasets.getVersion`; `excludeFiles`).
pub(crate) async fn get_version(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, v) = path.into_inner();
    let st = lock(&st);
    let caller = tri!(caller(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    let version = tri!(pick_version(d, &v, caller.as_deref()));
    let with_files = param(&req, "excludeFiles").as_deref() != Some("true");
    ok(render::version(&st, d, version, with_files))
}

/// `GET /api/datasets/{id}/versions` (`Datasets.listVersions`): newest first, the draft
/// only for its owner; `excludeFiles`, `limit`, `offset`.
pub(crate) async fn list_versions(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let st = lock(&st);
    let caller = tri!(caller(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if !may_view(d, caller.as_deref()) {
        return not_permitted(caller.as_deref());
    }
    let with_files = param(&req, "excludeFiles").as_deref() != Some("true");
    let offset = param(&req, "offset")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit = param(&req, "limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let draft = d
        .draft
        .as_ref()
        .filter(|_| caller.as_deref() == Some(d.owner.as_str()));
    let versions: Vec<Value> = draft
        .into_iter()
        .chain(d.released.iter().rev())
        .skip(offset)
        .take(limit)
        .map(|v| render::version(&st, d, v, with_files))
        .collect();
    ok(Value::Array(versions))
}

/// `PUT /api/datasets/{id}/versions/:draft` (`Datasets.updateDraftVersion`, SOURCES.md §3):
/// the body is the version object and replaces every field and the terms (no `license`:
/// none); without a draft it creates one.
pub(crate) async fn update_draft(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, v) = path.into_inner();
    let mut st = lock(&st);
    let user = tri!(user(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    if v != ":draft" {
        return error(400, "Only the :draft version can be updated");
    }
    if is_json(&req) == Some(false) {
        return error(415, "Unsupported Media Type");
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(400, &format!("Error parsing dataset version: {e}")),
    };
    if body
        .get("files")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
    {
        return error(400, "You may not add files via this api.");
    }
    let parsed = match validate::parse_version(&body) {
        Ok(p) => p,
        Err(e) => return error(400, &format!("Error parsing dataset version: {e}")),
    };
    let version_id = st.next_id();
    let Some(d) = st.datasets.get_mut(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if d.owner != user {
        return not_permitted(Some(&user));
    }
    if blocks_update(d) {
        return error(403, EDIT_LOCKED);
    }
    // `UpdateDatasetVersionCommand` → `validateOrDie(..., false)`.
    if let Err(e) = validate::validate(&parsed.fields) {
        return error(403, &e);
    }
    let now = render::timestamp();
    let draft = d.ensure_draft(version_id, &now);
    draft.fields = parsed.fields;
    draft.license = parsed.license;
    draft.terms_of_use = parsed.terms_of_use;
    draft.last_update = now;
    match st
        .datasets
        .get(&id)
        .and_then(|d| Some((d, d.draft.as_ref()?)))
    {
        Some((d, draft)) => ok(render::version(&st, d, draft, true)),
        None => error(500, "no draft"),
    }
}

/// `DELETE /api/datasets/{id}/versions/:draft` (`Datasets.deleteDraftVersion`,
/// `DeleteDatasetVersionCommand`): a never-published dataset is destroyed.
pub(crate) async fn delete_draft(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (id, v) = path.into_inner();
    let mut st = lock(&st);
    let user = tri!(user(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    if v != ":draft" {
        return error(400, "Only the :draft version can be deleted");
    }
    let Some(d) = st.datasets.get_mut(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if d.owner != user {
        return not_permitted(Some(&user));
    }
    let Some(draft) = d.draft.as_ref() else {
        return error(401, "This is NOT a DRAFT version");
    };
    // `checkEditDatasetLock`: any lock, Ingest included.
    if !d.locks.is_empty() {
        return error(403, EDIT_LOCKED);
    }
    let unreleased: Vec<_> = draft
        .files
        .iter()
        .filter(|f| !f.released)
        .map(|f| f.stored.path.clone())
        .collect();
    if d.released.is_empty() {
        st.datasets.remove(&id);
    } else {
        d.draft = None;
    }
    for p in unreleased {
        // Best effort, as `finalizeFileDeletes`.
        let _ = std::fs::remove_file(p);
    }
    ok(json!({ "message": format!("Draft version of dataset {id} deleted") }))
}

/// `DELETE /api/datasets/{id}` (`Datasets.deleteDataset`): only an unpublished dataset
/// with one version goes (`DestroyDatasetCommand`).
pub(crate) async fn delete_dataset(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let user = tri!(user(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if d.owner != user {
        return not_permitted(Some(&user));
    }
    if !d.released.is_empty() {
        return error(401, "Only superusers can delete published datasets");
    }
    if !d.locks.is_empty() {
        return error(403, EDIT_LOCKED);
    }
    if let Some(d) = st.datasets.remove(&id) {
        for f in d.draft.iter().flat_map(|v| &v.files) {
            let _ = std::fs::remove_file(&f.stored.path);
        }
    }
    ok(json!({ "message": format!("Dataset {id} deleted") }))
}

const LOCK_REASONS: &[&str] = &[
    "Ingest",
    "Workflow",
    "InReview",
    "DcmUpload",
    "GlobusUpload",
    "finalizePublication",
    "EditInProgress",
    "FileValidationFailed",
];

/// `GET /api/datasets/{id}/locks[?type=]` (`Datasets.getLocksForDataset`): each read
/// counts down the emulated locks; a publication completes when its lock goes.
pub(crate) async fn get_locks(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    tri!(caller(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let wanted = param(&req, "type");
    if let Some(t) = &wanted {
        // `@QueryParam("type") DatasetLock.Reason`: not a reason → the container's 404.
        if !LOCK_REASONS.contains(&t.as_str()) {
            return unknown_route();
        }
    }
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    let shown: Vec<Value> = d
        .locks
        .iter()
        .filter(|l| wanted.as_deref().is_none_or(|t| l.reason == t))
        .map(|l| render::lock(&st, d, l))
        .collect();
    if let Some(d) = st.datasets.get_mut(&id) {
        for l in &mut d.locks {
            l.polls = l.polls.saturating_sub(1);
        }
        d.locks.retain(|l| l.polls > 0);
        if d.locks.is_empty() {
            if let Some(p) = d.pending.take() {
                release(d, p.major);
            }
        }
    }
    ok(Value::Array(shown))
}

/// `FinalizeDatasetPublicationCommand`: the draft becomes the next released version.
fn release(d: &mut Dataset, major: bool) {
    let Some(mut v) = d.draft.take() else {
        return;
    };
    let number = match (d.released.last().and_then(|r| r.number), major) {
        (None, _) => (1, 0),
        (Some((m, _)), true) => (m + 1, 0),
        (Some((m, n)), false) => (m, n + 1),
    };
    let now = render::timestamp();
    v.number = Some(number);
    v.release_time = Some(now.clone());
    v.last_update = now.clone();
    for f in &mut v.files {
        f.released = true;
    }
    d.publication_date
        .get_or_insert_with(|| now.get(..10).unwrap_or(&now).to_owned());
    d.released.push(v);
}

/// `POST /api/datasets/{id}/actions/:publish?type=` (`Datasets.publishDataset`,
/// `PublishDatasetCommand.verifyCommandArguments`, SOURCES.md §7).
pub(crate) async fn publish(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut st = lock(&st);
    let user = tri!(user(&req, &st));
    let id = tri!(find_dataset(&req, &st, &id));
    let major = match param(&req, "type").as_deref() {
        None => {
            return error(
                400,
                "Missing 'type' parameter (either 'major','minor', or 'updatecurrent').",
            )
        }
        Some("major") => true,
        Some("minor") => false,
        Some("updatecurrent") => return error(403, "Only superusers can update the current version"),
        Some(t) => {
            return error(
                400,
                &format!("Illegal 'type' parameter value '{t}'. It needs to be either 'major', 'minor', or 'updatecurrent'."),
            )
        }
    };
    let workflow = st.publish_workflow;
    let finalize = st.publish_finalize;
    let collection_published = |alias: &str| st.collections.get(alias).copied().unwrap_or(false);
    let Some(d) = st.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if d.owner != user {
        return not_permitted(Some(&user));
    }
    if !collection_published(&d.collection) {
        return error(
            403,
            &format!("This dataset may not be published because its host dataverse ({}) has not been published.", d.collection),
        );
    }
    // In `verifyCommandArguments`' order: host collection, terms, locks, state, minor.
    if d.latest()
        .is_some_and(|v| v.license.is_none() && v.terms_of_use.is_none())
    {
        return error(
            403,
            "Dataset must have a valid license or Custom Terms Of Use configured before it can be published.",
        );
    }
    // `PublishDatasetCommand.verifyCommandArguments` names every lock when one of these is
    // held; `PermissionServiceBean.checkPublishDatasetLock` refuses the others.
    let blocking = [
        "Ingest",
        "finalizePublication",
        "EditInProgress",
        "Workflow",
    ];
    if d.locks
        .iter()
        .any(|l| blocking.contains(&l.reason.as_str()))
    {
        let reasons: Vec<&str> = d.locks.iter().map(|l| l.reason.as_str()).collect();
        return error(
            403,
            &format!(
                "This dataset is locked. Reason: {}. Please try publishing later.",
                reasons.join(",")
            ),
        );
    }
    if d.locks.iter().any(|l| l.reason == "FileValidationFailed") {
        return error(403, "This dataset cannot be published because some files have been found missing or corrupted. . Please contact support to address this.");
    }
    if !d.locks.is_empty() {
        return error(403, "Dataset cannot be published due to dataset lock.");
    }
    let Some(draft) = d.draft.as_ref() else {
        return error(
            403,
            &format!("Latest version of dataset {} is already released. Only draft versions can be released.", d.identifier),
        );
    };
    if !major {
        let Some(last) = d.released.last() else {
            return error(
                403,
                "Cannot publish as minor version. Re-try as major release.",
            );
        };
        // `DatasetVersion.isMinorUpdate`: the same DataFiles as the released version.
        let ids = |v: &Version| {
            v.files
                .iter()
                .map(|f| f.stored.id)
                .collect::<std::collections::BTreeSet<_>>()
        };
        if ids(last) != ids(draft) {
            return error(
                403,
                "Cannot release as minor version. Re-try as major release.",
            );
        }
    }
    if let Err(e) = validate::validate(&draft.fields) {
        return error(403, &e);
    }
    let Some(d) = st.datasets.get_mut(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    // A `PrePublishDataset` workflow: 202 `WORKFLOW_IN_PROGRESS` under a Workflow lock;
    // or `FinalizeDatasetPublicationCommand` after a 200, under its lock; else at once.
    let deferred = match (workflow, finalize) {
        (Some(polls), _) => Some(("Workflow", polls)),
        (None, Some(polls)) => Some(("finalizePublication", polls)),
        (None, None) => None,
    };
    match deferred {
        Some((reason, polls)) => {
            d.pending = Some(PendingRelease { major });
            add_lock(&mut st, id, reason, polls);
        }
        None => release(d, major),
    }
    let Some(d) = st.datasets.get(&id) else {
        return error(500, "gone");
    };
    let data = dataset_json(&st, d);
    if workflow.is_some() {
        return HttpResponse::Accepted()
            .json(json!({"status": "WORKFLOW_IN_PROGRESS", "data": data}));
    }
    ok(data)
}

pub(crate) async fn not_found() -> HttpResponse {
    unknown_route()
}

/// An unknown route or an unconvertible parameter (the container's 404).
pub(crate) fn unknown_route() -> HttpResponse {
    error(404, "API endpoint does not exist on this server. Please check your code for typos, or consult our API guide at http://guides.dataverse.org.")
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    use crate::{files, info, search, store};
    cfg.route("/api/dataverses/{alias}/datasets", web::post().to(create))
        .route("/api/search", web::get().to(search::search))
        .route("/api/mydata/retrieve", web::get().to(search::mydata))
        .route("/api/datasets/mpupload", web::put().to(store::complete))
        .route("/api/datasets/mpupload", web::delete().to(store::abort))
        .route("/api/users/:me", web::get().to(info::me))
        .route("/api/licenses", web::get().to(info::licenses))
        .route("/api/info/version", web::get().to(info::version))
        .route("/api/datasets/{id}", web::get().to(get_dataset))
        .route("/api/datasets/{id}", web::delete().to(delete_dataset))
        .route("/api/datasets/{id}/locks", web::get().to(get_locks))
        .route(
            "/api/datasets/{id}/actions/:publish",
            web::post().to(publish),
        )
        .route("/api/datasets/{id}/add", web::post().to(files::add))
        .route(
            "/api/datasets/{id}/uploadurls",
            web::get().to(store::upload_urls),
        )
        .route("/api/datasets/{id}/versions", web::get().to(list_versions))
        .route(
            "/api/datasets/{id}/versions/{v}",
            web::get().to(get_version),
        )
        .route(
            "/api/datasets/{id}/versions/{v}",
            web::put().to(update_draft),
        )
        .route(
            "/api/datasets/{id}/versions/{v}",
            web::delete().to(delete_draft),
        )
        .route(
            "/api/datasets/{id}/versions/{v}/files",
            web::get().to(files::list),
        )
        .route("/api/files/{id}", web::delete().to(files::delete))
        .route("/s3/{key}", web::put().to(store::put_object));
}
