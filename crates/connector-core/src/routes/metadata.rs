//! `/metadata/project...`: the metadata interface.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, Route};

use super::caller::unless_caller_leaves;
use super::multipart::MultipartUpload;
use super::params::Params;
use super::{state, success, uploaded, AppState};
use crate::credentials::Credentials;
use crate::error::ConnectorError;
use crate::interface::{FileRecord, Metadata};

/// Every route of the interface, below `/metadata`; mounting and the spec test use it.
pub(super) fn routes() -> Vec<(Method, &'static str, Route)> {
    const PROJECT: &str = "/project/{project_id}";
    const FILES: &str = "/project/{project_id}/files";
    const FILE: &str = "/project/{project_id}/files/{file_id}";
    vec![
        (Method::GET, "/project", web::get().to(list_projects)),
        (Method::POST, "/project", web::post().to(create_project)),
        (Method::GET, PROJECT, web::get().to(get_project)),
        (Method::PATCH, PROJECT, web::patch().to(update_project)),
        (Method::DELETE, PROJECT, web::delete().to(delete_project)),
        (Method::PUT, PROJECT, web::put().to(publish_project)),
        (Method::GET, FILES, web::get().to(list_files)),
        (Method::POST, FILES, web::post().to(upload_file)),
        (Method::DELETE, FILES, web::delete().to(delete_files)),
        (Method::GET, FILE, web::get().to(get_file)),
        (Method::DELETE, FILE, web::delete().to(delete_file)),
    ]
}

/// The parts every JSON-bodied metadata request starts with.
struct Call<'a> {
    md: &'a dyn Metadata,
    creds: Credentials,
    params: Params,
}

async fn call<'a>(req: &'a HttpRequest, body: web::Payload) -> Result<Call<'a>, ConnectorError> {
    let state: &AppState = state(req)?;
    let params = Params::read(req, body, state.max_json_body_bytes).await?;
    let creds = state
        .credentials(&params.required_string("userId")?)
        .await?;
    let md = state.metadata.as_deref().ok_or_else(|| {
        ConnectorError::NotImplemented("this connector has no metadata interface".into())
    })?;
    Ok(Call { md, creds, params })
}

fn project_id(req: &HttpRequest) -> Result<&str, ConnectorError> {
    req.match_info()
        .get("project_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConnectorError::BadRequest("the project id is missing".into()))
}

fn file_id(req: &HttpRequest) -> Result<&str, ConnectorError> {
    req.match_info()
        .get("file_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConnectorError::BadRequest("the file id is missing".into()))
}

/// `metadata` as sent: an object, or null/absent.
fn metadata_field(params: &Params) -> Result<Option<serde_json::Value>, ConnectorError> {
    match params.value("metadata") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(ConnectorError::BadRequest(
            "metadata must be a JSON object (an RO-Crate or the provider's metadata) or null"
                .into(),
        )),
    }
}

async fn list_projects(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    // Up to ZENODO_MAX_PAGES calls: they stop when the caller leaves.
    let projects = unless_caller_leaves(&req, c.md.list_projects(&c.creds)).await?;
    Ok(HttpResponse::Ok().json(projects))
}

async fn create_project(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    let metadata = metadata_field(&c.params)?;
    Ok(HttpResponse::Ok().json(c.md.create_project(&c.creds, metadata).await?))
}

async fn get_project(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    Ok(HttpResponse::Ok().json(c.md.get_project(&c.creds, project_id(&req)?).await?))
}

async fn update_project(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    let metadata = metadata_field(&c.params)?.unwrap_or_else(|| serde_json::json!({}));
    Ok(HttpResponse::Ok().json(
        c.md.update_project(&c.creds, project_id(&req)?, metadata)
            .await?,
    ))
}

async fn delete_project(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    c.md.delete_project(&c.creds, project_id(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn publish_project(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    Ok(HttpResponse::Ok().json(c.md.publish_project(&c.creds, project_id(&req)?).await?))
}

async fn list_files(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    let files = c.md.list_files(&c.creds, project_id(&req)?).await?;
    let native: Vec<&serde_json::Value> = files.iter().map(|f| &f.native).collect();
    Ok(HttpResponse::Ok().json(native))
}

/// The file a caller's file id names: the provider's id, else the index in the list (as
/// RDS's exporter sends), else the name.
fn resolve<'a>(files: &'a [FileRecord], file_id: &str) -> Option<&'a FileRecord> {
    files
        .iter()
        .find(|f| f.id == file_id)
        .or_else(|| file_id.parse::<usize>().ok().and_then(|i| files.get(i)))
        .or_else(|| files.iter().find(|f| f.name == file_id))
}

/// Lists the project's files and finds the one the request names.
async fn find_file(c: &Call<'_>, req: &HttpRequest) -> Result<FileRecord, ConnectorError> {
    let (project, file_id) = (project_id(req)?, file_id(req)?);
    let files = c.md.list_files(&c.creds, project).await?;
    resolve(&files, file_id).cloned().ok_or_else(|| {
        ConnectorError::NotFound(format!(
            "file {file_id:?} does not exist in project {project}"
        ))
    })
}

async fn upload_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let project = project_id(&req)?.to_owned();
    let multipart = MultipartUpload::read(&req, body).await?;
    let user_id = multipart
        .field("userId")
        .ok_or_else(|| {
            ConnectorError::BadRequest(
                "userId is required (a form field before the file part)".into(),
            )
        })?
        .to_owned();
    let creds = state.credentials(&user_id).await?;
    let md = state.metadata.as_deref().ok_or_else(|| {
        ConnectorError::NotImplemented("this connector has no metadata interface".into())
    })?;
    let received = multipart
        .stream_into(state, |upload| async move {
            if upload.filename.as_deref().is_none_or(str::is_empty) {
                return Err(ConnectorError::BadRequest(
                    "filename is required (a form field, or the file part's file name)".into(),
                ));
            }
            md.upload_file(&creds, &project, upload).await
        })
        .await?;
    Ok(uploaded(received.1))
}

async fn delete_files(
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    let project = project_id(&req)?;
    for file in c.md.list_files(&c.creds, project).await? {
        c.md.delete_file(&c.creds, project, &file).await?;
    }
    Ok(success())
}

async fn get_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    Ok(HttpResponse::Ok().json(find_file(&c, &req).await?.native))
}

async fn delete_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let c = call(&req, body).await?;
    let file = find_file(&c, &req).await?;
    c.md.delete_file(&c.creds, project_id(&req)?, &file).await?;
    Ok(success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str) -> FileRecord {
        FileRecord {
            id: id.into(),
            name: name.into(),
            native: serde_json::json!({ "id": id, "filename": name }),
        }
    }

    /// By the provider's id first, then by index (what RDS's exporter sends), then by
    /// name; an id that is all three picks the provider's id.
    #[test]
    fn file_ids_resolve_by_id_then_index_then_name() {
        let files = [
            record("f-a", "a.txt"),
            record("f-b", "2"),
            record("0", "c.txt"),
        ];
        let id_of = |file_id: &str| resolve(&files, file_id).map(|f| f.id.as_str());
        assert_eq!(id_of("f-b"), Some("f-b"));
        assert_eq!(id_of("1"), Some("f-b"));
        assert_eq!(
            id_of("0"),
            Some("0"),
            "the provider's id wins over the index"
        );
        assert_eq!(id_of("2"), Some("0"), "the index wins over the name");
        assert_eq!(id_of("a.txt"), Some("f-a"));
        assert_eq!(id_of("c.txt"), Some("0"));
        for missing in ["3", "d.txt", "", "-1", "01x"] {
            assert_eq!(id_of(missing), None, "{missing:?}");
        }
        assert!(resolve(&[], "0").is_none());
    }
}
