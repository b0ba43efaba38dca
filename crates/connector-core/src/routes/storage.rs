//! `/storage/file` and `/storage/folder`: the fileStorage interface.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, Route};

use super::caller::unless_caller_leaves;
use super::multipart::MultipartUpload;
use super::params::Params;
use super::{state, success, uploaded, AppState};
use crate::error::ConnectorError;
use crate::interface::{is_plain_name, FileStorage, StoragePath, WriteMode};

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
    // A recursive listing can be long: it stops when the caller leaves.
    let files = unless_caller_leaves(
        &req,
        storage(state)?.list_folder(&creds, &folder, recursive),
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "files": as_sent(files, &folder, &raw) })))
}

/// The part of a provider's entry below `folder` (`/x/y`, or `/x/` for a sub-folder),
/// when the entry is inside it and made of plain names only; `None` otherwise.
fn inside<'a>(entry: &'a str, folder: &StoragePath) -> Option<&'a str> {
    let rest = if folder.is_root() {
        entry
    } else {
        entry.strip_prefix(&folder.as_string())?
    };
    let names = rest.strip_prefix('/')?;
    let names = names.strip_suffix('/').unwrap_or(names);
    names.split('/').all(is_plain_name).then_some(rest)
}

/// Entries start with the folder as the caller wrote it: RDS's exporter joins
/// `f"{filepath}/{entry}"` unless the entry starts with its `filepath`, so a folder sent
/// as `RDSTest` must list `RDSTest/x`, not `/RDSTest/x`.
///
/// A provider's names are not trusted: an entry outside the folder or holding `..`, an
/// empty name, a backslash or a control character is dropped (counted in a warning), so
/// RDS never fetches or writes a path the provider made up.
fn as_sent(files: Vec<String>, folder: &StoragePath, raw: &str) -> Vec<String> {
    let normalised = if folder.is_root() {
        String::new()
    } else {
        folder.as_string()
    };
    let sent = if folder.is_root() {
        ""
    } else {
        raw.trim_end_matches('/')
    };
    let total = files.len();
    let kept: Vec<String> = files
        .iter()
        .filter_map(|f| inside(f, folder))
        .map(|rest| format!("{sent}{rest}"))
        .collect();
    if kept.len() < total {
        tracing::warn!(
            folder = %normalised,
            dropped = total - kept.len(),
            "the provider listed entries that are not plain names inside the folder; dropped"
        );
    }
    kept
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
            path.check_depth(state.max_path_depth)?;
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

    /// What a hostile or broken provider hands back in a listing (a WebDAV server whose
    /// hrefs hold `..`, NUL or backslashes, or name other folders): dropped, never passed
    /// on; plain entries stay.
    #[test]
    fn listing_entries_outside_the_folder_or_not_plain_are_dropped() {
        let folder = StoragePath::parse("/docs").unwrap_or_else(|_| StoragePath::root());
        let entries: Vec<String> = [
            "/docs/a.txt",
            "/docs/sub/",
            "/docs/sub/b.txt",
            "/docs/a/../../escape.txt",
            "/docs/./x",
            "/docs//x",
            "/docs/nul\0.txt",
            "/docs/back\\slash.txt",
            "/docs/%2e%2e/y",
            "/docsx/other.txt",
            "/other/c.txt",
            "/docs",
            "/docs/",
            "docs/rel.txt",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            as_sent(entries.clone(), &folder, "/docs"),
            ["/docs/a.txt", "/docs/sub/", "/docs/sub/b.txt"]
        );
        assert_eq!(
            as_sent(entries, &folder, "docs/"),
            ["docs/a.txt", "docs/sub/", "docs/sub/b.txt"]
        );
        let root = StoragePath::root();
        assert_eq!(
            as_sent(
                vec!["/a".into(), "/../b".into(), "//c".into(), "d".into()],
                &root,
                "/"
            ),
            ["/a"]
        );
    }
}
