//! `/storage/file` and `/storage/folder`: the fileStorage interface.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, Route};

use super::multipart::MultipartUpload;
use super::params::Params;
use super::{state, success, uploaded, AppState};
use crate::error::ConnectorError;
use crate::interface::{FileStorage, StoragePath, WriteMode};

/// Every route of the interface, below `/storage`; mounting and the spec test use it.
pub(super) fn routes() -> Vec<(Method, &'static str, Route)> {
    vec![
        (Method::GET, "/folder", web::get().to(list_folder)),
        (Method::GET, "/file", web::get().to(get_file)),
        (Method::POST, "/file", web::post().to(post_file)),
        (Method::PATCH, "/file", web::patch().to(patch_file)),
        (Method::DELETE, "/file", web::delete().to(delete_file)),
    ]
}

fn storage(state: &AppState) -> Result<&dyn FileStorage, ConnectorError> {
    state.file_storage.as_deref().ok_or_else(|| {
        ConnectorError::NotImplemented("this connector has no fileStorage interface".into())
    })
}

/// A file path: required and not the root.
fn file_path(raw: &str) -> Result<StoragePath, ConnectorError> {
    let path = StoragePath::parse(raw)?;
    if path.is_root() {
        return Err(ConnectorError::BadRequest(
            "filepath must name a file, not the root folder".into(),
        ));
    }
    Ok(path)
}

async fn list_folder(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let params = Params::read(&req, body, state.max_json_body_bytes).await?;
    let creds = state
        .credentials(&params.required_string("userId")?)
        .await?;
    let raw = params.string("filepath")?.unwrap_or_default();
    let folder = StoragePath::parse(&raw)?;
    let recursive = params.bool_or("recursive", true)?;
    let files = storage(state)?
        .list_folder(&creds, &folder, recursive)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "files": as_sent(files, &folder, &raw) })))
}

/// Entries start with the folder as the caller wrote it: RDS's exporter joins
/// `f"{filepath}/{entry}"` unless the entry starts with its `filepath`, so a folder sent
/// as `RDSTest` must list `RDSTest/x`, not `/RDSTest/x`.
fn as_sent(files: Vec<String>, folder: &StoragePath, raw: &str) -> Vec<String> {
    let normalised = folder.as_string();
    let sent = raw.trim_end_matches('/');
    if folder.is_root() || sent == normalised {
        return files;
    }
    files
        .into_iter()
        .map(|f| match f.strip_prefix(&normalised) {
            Some(rest) => format!("{sent}{rest}"),
            None => f,
        })
        .collect()
}

async fn get_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let params = Params::read(&req, body, state.max_json_body_bytes).await?;
    let creds = state
        .credentials(&params.required_string("userId")?)
        .await?;
    let path = file_path(&params.required_string("filepath")?)?;
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let download = storage(state)?.get_file(&creds, &path, range).await?;

    let status = actix_web::http::StatusCode::from_u16(download.status).map_err(|_| {
        ConnectorError::BadGateway("the provider answered with an invalid status".into())
    })?;
    let mut resp = HttpResponse::build(status);
    resp.content_type(
        download
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    );
    for (name, value) in [
        (header::ETAG, &download.etag),
        (header::LAST_MODIFIED, &download.last_modified),
        (header::CONTENT_RANGE, &download.content_range),
    ] {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            resp.insert_header((name, v));
        }
    }
    resp.insert_header((header::ACCEPT_RANGES, "bytes"));
    if let Some(name) = path.file_name() {
        resp.insert_header(header::ContentDisposition::attachment(name));
    }
    // A caller who stops reading is cut after the idle timeout, releasing the provider.
    let body = crate::transfer::watchdog::to_caller(download.body, state.idle_timeout);
    Ok(match download.content_length {
        // A sized body: a stream that ends early is a broken transfer, never a short 200.
        Some(len) => resp.no_chunking(len).streaming(body),
        None => resp.streaming(body),
    })
}

async fn upload(
    req: HttpRequest,
    body: web::Payload,
    mode: WriteMode,
) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let multipart = MultipartUpload::read(&req, body).await?;
    let user_id = multipart
        .field("userId")
        .ok_or_else(|| {
            ConnectorError::BadRequest(
                "userId is required (a form field before the file part)".into(),
            )
        })?
        .to_owned();
    let raw_path = multipart
        .field("filepath")
        .ok_or_else(|| {
            ConnectorError::BadRequest(
                "filepath is required (a form field before the file part)".into(),
            )
        })?
        .to_owned();
    let creds = state.credentials(&user_id).await?;
    let fs = storage(state)?;
    let received = multipart
        .stream_into("userId", state.idle_timeout, |upload| async move {
            // `filepath` naming a folder (trailing `/`) takes the part's file name.
            let path = match (raw_path.ends_with('/'), upload.filename.as_deref()) {
                (true, Some(name)) => StoragePath::parse(&raw_path)?.join(name)?,
                _ => file_path(&raw_path)?,
            };
            fs.put_file(&creds, &path, upload, mode).await
        })
        .await?;
    Ok(uploaded(received.1))
}

async fn post_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    upload(req, body, WriteMode::CreateOrReplace).await
}

async fn patch_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    upload(req, body, WriteMode::ReplaceExisting).await
}

async fn delete_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let params = Params::read(&req, body, state.max_json_body_bytes).await?;
    let creds = state
        .credentials(&params.required_string("userId")?)
        .await?;
    let path = file_path(&params.required_string("filepath")?)?;
    storage(state)?.delete(&creds, &path).await?;
    Ok(success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_entries_keep_the_callers_folder_form() {
        let entries = vec!["/RDSTest/a".to_owned(), "/RDSTest/sub/b".to_owned()];
        for (raw, want) in [
            ("RDSTest", ["RDSTest/a", "RDSTest/sub/b"]),
            ("RDSTest/", ["RDSTest/a", "RDSTest/sub/b"]),
            ("/RDSTest", ["/RDSTest/a", "/RDSTest/sub/b"]),
        ] {
            let folder = StoragePath::parse(raw).unwrap_or_else(|_| StoragePath::root());
            assert_eq!(as_sent(entries.clone(), &folder, raw), want, "{raw}");
        }
        let root = StoragePath::root();
        assert_eq!(as_sent(vec!["/a".into()], &root, ""), ["/a"]);
    }
}
