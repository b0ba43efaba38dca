//! `/storage/file` and `/storage/folder`: the fileStorage interface.

use std::future::Future;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, Route};

use super::caller::unless_caller_leaves;
use super::multipart::MultipartUpload;
use super::params::Params;
use super::{state, success, uploaded, AppState};
use crate::credentials::Credentials;
use crate::error::ConnectorError;
use crate::interface::{
    is_plain_name, Entry, EntryKind, Extent, FileDownload, FileStorage, StoragePath, WriteMode,
};
use crate::transfer::meter::Direction;

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
    let creds = &state
        .credentials(&params.required_string("userId")?)
        .await?;
    let raw = params.string("filepath")?.unwrap_or_default();
    let folder = StoragePath::parse(&raw)?;
    let recursive = params.bool_or("recursive", true)?;
    let fs = storage(state)?;
    // A recursive listing can be long: it stops when the caller leaves.
    let (listed, entries) = unless_caller_leaves(
        &req,
        with_decoded_retry(&folder, |p| async move {
            fs.list_folder(creds, &p, recursive).await
        }),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "files": as_sent(entries, &listed, &raw, recursive) })))
}

/// Runs `op` on `path`; when the provider does not find it, once more on its
/// percent-decoded variant (if any): RDS callers sometimes send paths that are already
/// encoded, and the original port retried them `unquote`d. Returns the path that answered.
async fn with_decoded_retry<T, F, Fut>(
    path: &StoragePath,
    op: F,
) -> Result<(StoragePath, T), ConnectorError>
where
    F: Fn(StoragePath) -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    match op(path.clone()).await {
        Ok(v) => Ok((path.clone(), v)),
        Err(ConnectorError::NotFound(msg)) => match path.decoded_variant() {
            Some(decoded) => op(decoded.clone()).await.map(|v| (decoded, v)),
            None => Err(ConnectorError::NotFound(msg)),
        },
        Err(e) => Err(e),
    }
}

/// The listing as RDS reads it, from the entries of `listed` (the folder as sent, or its
/// decoded variant). Recursive: files only, sorted (the provider may walk in parallel);
/// not recursive: the provider's order, folders marked by a trailing `/`.
///
/// Entries start with the folder as the caller wrote it: RDS's exporter joins
/// `f"{filepath}/{entry}"` unless the entry starts with its `filepath`, so a folder sent
/// as `RDSTest` must list `RDSTest/x`, not `/RDSTest/x`.
///
/// A provider's names are not trusted: an entry outside the folder or the folder itself,
/// or one whose names are not plain (`..`, empty, a backslash, a control character), is
/// dropped (counted in a warning), so RDS never fetches or writes a path the provider
/// made up.
fn as_sent(entries: Vec<Entry>, listed: &StoragePath, raw: &str, recursive: bool) -> Vec<String> {
    let sent = if listed.is_root() {
        ""
    } else {
        raw.trim_end_matches('/')
    };
    let total = entries.len();
    let mut dropped = 0usize;
    let mut files: Vec<String> = entries
        .iter()
        .filter_map(|entry| {
            let below = entry
                .path
                .segments()
                .strip_prefix(listed.segments())
                .filter(|names| !names.is_empty() && names.iter().all(|n| is_plain_name(n)));
            let Some(names) = below else {
                dropped += 1;
                return None;
            };
            let folder = entry.kind == EntryKind::Folder;
            if folder && recursive {
                return None;
            }
            let mut line = String::from(sent);
            for name in names {
                line.push('/');
                line.push_str(name);
            }
            if folder {
                line.push('/');
            }
            Some(line)
        })
        .collect();
    if recursive {
        files.sort_unstable();
    }
    if dropped > 0 {
        tracing::warn!(
            folder = %listed,
            dropped,
            total,
            "the provider listed entries that are not plain names inside the folder; dropped"
        );
    }
    files
}

async fn get_file(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, ConnectorError> {
    let state = state(&req)?;
    let params = Params::read(&req, body, state.max_json_body_bytes).await?;
    let creds = &state
        .credentials(&params.required_string("userId")?)
        .await?;
    let path = file_path(&params.required_string("filepath")?)?;
    let fs = storage(state)?;
    let ranges = fs.supports_ranges();
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| ranges);
    let (_, download) =
        with_decoded_retry(
            &path,
            |p| async move { fs.get_file(creds, &p, range).await },
        )
        .await?;
    // A broken answer is refused before it counts as a transfer.
    let declared = body_length(&download)?;
    let meter = state.meter(Direction::Download, declared);
    // A caller who stops reading is cut after the idle timeout, releasing the provider.
    let download = FileDownload {
        body: crate::transfer::watchdog::to_caller(download.body, state.idle_timeout, meter),
        ..download
    };
    answer(download, path.file_name(), ranges)
}

/// The length of a download's body, if known: a part is exactly its range long, and a
/// provider saying otherwise is broken.
fn body_length(download: &FileDownload) -> Result<Option<u64>, ConnectorError> {
    match download.extent {
        Extent::Full => Ok(download.content_length),
        Extent::Partial { content_range } => {
            if download
                .content_length
                .is_some_and(|len| len != content_range.len())
            {
                return Err(ConnectorError::BadGateway(format!(
                    "the provider's partial answer is not as long as its range {content_range}"
                )));
            }
            Ok(Some(content_range.len()))
        }
    }
}

/// The HTTP answer of a download: 200 for the whole file, 206 with its `Content-Range`
/// for a part; `Accept-Ranges: bytes` only from a provider that serves ranges.
fn answer(
    download: FileDownload,
    file_name: Option<&str>,
    accept_ranges: bool,
) -> Result<HttpResponse, ConnectorError> {
    let content_length = body_length(&download)?;
    let mut resp = match download.extent {
        Extent::Full => HttpResponse::Ok(),
        Extent::Partial { content_range } => {
            let mut resp = HttpResponse::PartialContent();
            resp.insert_header((header::CONTENT_RANGE, content_range.to_string()));
            resp
        }
    };
    resp.content_type(
        download
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    );
    for (name, value) in [
        (header::ETAG, &download.etag),
        (header::LAST_MODIFIED, &download.last_modified),
    ] {
        if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            resp.insert_header((name, v));
        }
    }
    if accept_ranges {
        resp.insert_header((header::ACCEPT_RANGES, "bytes"));
    }
    if let Some(name) = file_name {
        resp.insert_header(header::ContentDisposition::attachment(name));
    }
    Ok(match content_length {
        // A sized body: a stream that ends early is a broken transfer, never a short 200.
        Some(len) => resp.no_chunking(len).streaming(download.body),
        None => resp.streaming(download.body),
    })
}

/// For a PATCH: the path as sent when something is there, else its percent-decoded
/// variant (whose absence the provider reports). Asked before the body streams, as a
/// streamed upload cannot be sent twice.
async fn existing_variant(
    fs: &dyn FileStorage,
    creds: &Credentials,
    path: StoragePath,
) -> Result<StoragePath, ConnectorError> {
    match path.decoded_variant() {
        Some(decoded) if !fs.exists(creds, &path).await? => Ok(decoded),
        _ => Ok(path),
    }
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
        .stream_into(state, |upload| async move {
            // `filepath` naming a folder (trailing `/`) takes the part's file name.
            let path = match (raw_path.ends_with('/'), upload.filename.as_deref()) {
                (true, Some(name)) => StoragePath::parse(&raw_path)?.join(name)?,
                _ => file_path(&raw_path)?,
            };
            path.check_depth(state.max_path_depth)?;
            let path = match mode {
                WriteMode::ReplaceExisting => existing_variant(fs, &creds, path).await?,
                WriteMode::CreateOrReplace => path,
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
    let creds = &state
        .credentials(&params.required_string("userId")?)
        .await?;
    let path = file_path(&params.required_string("filepath")?)?;
    let fs = storage(state)?;
    with_decoded_retry(&path, |p| async move { fs.delete(creds, &p).await }).await?;
    Ok(success())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::Mutex;

    use actix_web::body::MessageBody;
    use async_trait::async_trait;

    use super::*;
    use crate::interface::ContentRange;

    fn p(raw: &str) -> StoragePath {
        StoragePath::parse(raw).unwrap()
    }

    fn file(raw: &str) -> Entry {
        Entry::file(p(raw))
    }

    #[test]
    fn listing_entries_keep_the_callers_folder_form() {
        let entries = vec![file("/RDSTest/sub/b"), file("/RDSTest/a")];
        for (raw, want) in [
            ("RDSTest", ["RDSTest/a", "RDSTest/sub/b"]),
            ("RDSTest/", ["RDSTest/a", "RDSTest/sub/b"]),
            ("/RDSTest", ["/RDSTest/a", "/RDSTest/sub/b"]),
            ("//RDSTest//", ["//RDSTest/a", "//RDSTest/sub/b"]),
        ] {
            assert_eq!(as_sent(entries.clone(), &p(raw), raw, true), want, "{raw}");
        }
        let root = StoragePath::root();
        for raw in ["", "/"] {
            assert_eq!(as_sent(vec![file("/a")], &root, raw, true), ["/a"]);
        }
    }

    /// Recursive: files only, sorted as strings (a space sorts before `/`); not
    /// recursive: the provider's order, folders with a trailing `/`.
    #[test]
    fn recursive_listings_are_sorted_files_and_flat_ones_mark_folders() {
        let entries = vec![
            file("/d/z.txt"),
            Entry::folder(p("/d/a")),
            file("/d/a/x"),
            file("/d/a b/x"),
        ];
        assert_eq!(
            as_sent(entries.clone(), &p("/d"), "/d", true),
            ["/d/a b/x", "/d/a/x", "/d/z.txt"]
        );
        assert_eq!(
            as_sent(entries, &p("/d"), "d", false),
            ["d/z.txt", "d/a/", "d/a/x", "d/a b/x"]
        );
    }

    /// A listing of the decoded variant still starts with the folder as the caller sent it.
    #[test]
    fn a_decoded_listing_keeps_the_encoded_prefix_sent() {
        let raw = "/Data/with%20space";
        let listed = p(raw).decoded_variant().unwrap();
        assert_eq!(
            as_sent(vec![file("/Data/with space/ü.txt")], &listed, raw, true),
            ["/Data/with%20space/ü.txt"]
        );
    }

    /// What a hostile or broken provider hands back in a listing (names with backslashes
    /// or control characters, other folders, the folder itself): dropped, never passed
    /// on; plain entries stay.
    #[test]
    fn listing_entries_outside_the_folder_or_not_plain_are_dropped() {
        let folder = p("/docs");
        let entries: Vec<Entry> = [
            "/docs/a.txt",
            "/docs/sub/b.txt",
            "/docs/back\\slash.txt",
            "/docs/ctl\u{1}.txt",
            "/docs/sub/del\u{7f}",
            "/docsx/other.txt",
            "/other/c.txt",
            "/docs",
            "/",
        ]
        .into_iter()
        .map(file)
        .chain([Entry::folder(p("/docs/sub")), Entry::folder(p("/docs"))])
        .collect();
        assert_eq!(
            as_sent(entries.clone(), &folder, "/docs", false),
            ["/docs/a.txt", "/docs/sub/b.txt", "/docs/sub/"]
        );
        assert_eq!(
            as_sent(entries, &folder, "docs/", true),
            ["docs/a.txt", "docs/sub/b.txt"]
        );
    }

    /// The paths a provider was asked for, answering `NotFound` for all but `found`.
    async fn retried(asked: &str, found: &str) -> (Vec<String>, Result<String, ConnectorError>) {
        let calls = Mutex::new(Vec::new());
        let result = with_decoded_retry(&p(asked), |path| {
            calls.lock().unwrap().push(path.as_string());
            let hit = path.as_string() == found;
            async move {
                if hit {
                    Ok(path.as_string())
                } else {
                    Err(ConnectorError::NotFound("missing".into()))
                }
            }
        })
        .await
        .map(|(worked, v)| {
            assert_eq!(worked.as_string(), v);
            v
        });
        (calls.into_inner().unwrap(), result)
    }

    #[actix_web::test]
    async fn a_missing_encoded_path_is_retried_decoded_once() {
        let (calls, result) = retried("/a%20b/%C3%BC", "/a b/ü").await;
        assert_eq!(calls, ["/a%20b/%C3%BC", "/a b/ü"]);
        assert_eq!(result.ok().as_deref(), Some("/a b/ü"));

        // Found as sent: no second call (a literal `%20` name wins).
        let (calls, result) = retried("/a%20b", "/a%20b").await;
        assert_eq!(calls, ["/a%20b"]);
        assert!(result.is_ok());

        // Missing both ways: the decoded variant's 404.
        let (calls, result) = retried("/a%20b", "/elsewhere").await;
        assert_eq!(calls, ["/a%20b", "/a b"]);
        assert!(matches!(result, Err(ConnectorError::NotFound(_))));

        // Nothing to decode: one call.
        let (calls, result) = retried("/plain", "/elsewhere").await;
        assert_eq!(calls, ["/plain"]);
        assert!(matches!(result, Err(ConnectorError::NotFound(_))));
    }

    #[actix_web::test]
    async fn other_errors_are_not_retried() {
        let calls = Mutex::new(0);
        let result: Result<(StoragePath, ()), _> = with_decoded_retry(&p("/a%20b"), |_| {
            *calls.lock().unwrap() += 1;
            async { Err(ConnectorError::Forbidden("no".into())) }
        })
        .await;
        assert!(matches!(result, Err(ConnectorError::Forbidden(_))));
        assert_eq!(calls.into_inner().unwrap(), 1);
    }

    /// Knows which paths exist.
    struct Exists(Vec<&'static str>);

    #[async_trait]
    impl FileStorage for Exists {
        async fn exists(&self, _: &Credentials, path: &StoragePath) -> crate::Result<bool> {
            Ok(self.0.contains(&path.as_string().as_str()))
        }
    }

    #[actix_web::test]
    async fn a_patch_writes_the_decoded_path_when_the_sent_one_is_missing() {
        let creds = Credentials::new(None, "t".to_owned().into());
        let fs = Exists(vec!["/a b", "/c%20d", "/c d"]);
        for (sent, written) in [
            ("/a%20b", "/a b"),
            ("/c%20d", "/c%20d"),
            ("/e%20f", "/e f"),
            ("/plain", "/plain"),
        ] {
            let path = existing_variant(&fs, &creds, p(sent)).await.unwrap();
            assert_eq!(path.as_string(), written, "{sent}");
        }
    }

    fn download(extent: Extent, content_length: Option<u64>) -> FileDownload {
        FileDownload {
            extent,
            content_length,
            content_type: None,
            etag: Some("\"e1\"".into()),
            last_modified: None,
            body: Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from_static(
                b"RDS",
            ))])),
        }
    }

    fn header_of(resp: &HttpResponse, name: header::HeaderName) -> Option<&str> {
        resp.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[actix_web::test]
    async fn a_whole_file_is_200_and_a_part_206_with_its_range() {
        let resp = answer(download(Extent::Full, Some(3)), Some("a b.txt"), false).unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(header_of(&resp, header::CONTENT_RANGE), None);
        assert_eq!(header_of(&resp, header::ACCEPT_RANGES), None);
        assert_eq!(header_of(&resp, header::ETAG), Some("\"e1\""));
        assert_eq!(
            header_of(&resp, header::CONTENT_TYPE),
            Some("application/octet-stream")
        );
        assert!(header_of(&resp, header::CONTENT_DISPOSITION)
            .is_some_and(|v| v.starts_with("attachment")));
        assert_eq!(resp.into_body().size(), actix_web::body::BodySize::Sized(3));

        let range = ContentRange::parse("bytes 6-8/10").unwrap();
        let partial = Extent::Partial {
            content_range: range,
        };
        for length in [Some(3), None] {
            let resp = answer(download(partial, length), None, true).unwrap();
            assert_eq!(resp.status(), 206);
            assert_eq!(
                header_of(&resp, header::CONTENT_RANGE),
                Some("bytes 6-8/10")
            );
            assert_eq!(header_of(&resp, header::ACCEPT_RANGES), Some("bytes"));
            assert_eq!(resp.into_body().size(), actix_web::body::BodySize::Sized(3));
        }
        // A part that is not its range long is the provider's fault.
        assert!(matches!(
            answer(download(partial, Some(10)), None, true),
            Err(ConnectorError::BadGateway(_))
        ));
    }
}
