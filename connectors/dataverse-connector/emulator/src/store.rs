//! Direct upload (SOURCES.md §5): `GET .../uploadurls` (`Datasets.getMPUploadUrls`,
//! `S3AccessIO.generateTemporaryS3UploadUrls`), the S3-like store the URLs point at
//! (served by the emulator under `/s3/`), and `PUT`/`DELETE /api/datasets/mpupload`
//! (`Datasets.completeMPUpload`, `abortMPUpload`).

#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use md5::{Digest as _, Md5};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt as _;

use crate::handlers::{error, find_dataset, lock, ok, param, tri, user, Shared};
use crate::render;
use crate::state::{MultipartUpload, StoreObject};

/// The emulated bucket (`s3://<bucket>:<key>`).
const BUCKET: &str = "dataverse-emulator";

fn s3_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ))
}

/// `GET /api/datasets/{id}/uploadurls?size=`: 404 when the store offers no direct
/// upload; one URL up to `partSize`, else `ceil(size / partSize)` part URLs with the
/// `abort` and `complete` paths.
pub(crate) async fn upload_urls(
    req: HttpRequest,
    id: web::Path<String>,
    st: web::Data<Shared>,
) -> HttpResponse {
    let mut g = lock(&st);
    let who = tri!(user(&req, &g));
    let id = tri!(find_dataset(&req, &g, &id));
    let Some(d) = g.datasets.get(&id) else {
        return error(404, &format!("Dataset with ID {id} not found."));
    };
    if d.owner != who {
        return error(
            403,
            "You are not permitted to upload files to this dataset.",
        );
    }
    let pid = render::persistent_id(&g, d);
    let Some(part_size) = g.options.direct_upload else {
        return error(
            404,
            &format!("Direct upload not supported for files in this dataset: {id}"),
        );
    };
    // `@QueryParam("size") long`: absent → 0.
    let size: u64 = match param(&req, "size").map(|s| s.parse()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return crate::handlers::unknown_route(),
    };
    if let Some(max) = g.options.max_file_bytes {
        if size > max {
            return error(
                400,
                &format!("The file you are trying to upload is too large to be uploaded to this dataset. The maximum allowed file size is {max} bytes."),
            );
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let rand = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("{now:x}-{}", &rand[..12]);
    let sid = format!("s3://{BUCKET}:{key}");
    let path = g.files_dir.join(format!("s3-{key}"));
    let base = g.base_url.clone();
    let signature = uuid::Uuid::new_v4().simple().to_string();
    let mut data = json!({ "partSize": part_size, "storageIdentifier": sid });
    let multipart = if size <= part_size {
        data["url"] = json!(format!(
            "{base}/s3/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature={signature}"
        ));
        None
    } else {
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let parts = size.div_ceil(part_size);
        let urls: BTreeMap<String, String> = (1..=parts)
            .map(|n| {
                (
                    n.to_string(),
                    format!("{base}/s3/{key}?uploadId={upload_id}&partNumber={n}&X-Amz-Signature={signature}"),
                )
            })
            .collect();
        let mp = format!(
            "/api/datasets/mpupload?globalid={pid}&uploadid={upload_id}&storageidentifier={sid}"
        );
        data["urls"] = json!(urls);
        data["abort"] = json!(mp);
        data["complete"] = json!(mp);
        Some(MultipartUpload {
            upload_id,
            parts,
            part_size,
            received: BTreeMap::new(),
        })
    };
    g.objects.insert(
        sid,
        StoreObject {
            dataset: id,
            path,
            size: 0,
            md5: String::new(),
            complete: false,
            multipart,
        },
    );
    ok(data)
}

/// `PUT /s3/{key}[?uploadId=&partNumber=]`: S3's rules — a `Content-Length` (chunked
/// bodies: 501), the signed `x-amz-tagging: dv-state=temp` on a single PUT
/// (`S3AccessIO.generateTemporaryS3UploadUrl`), the `ETag` the quoted MD5 of the part.
pub(crate) async fn put_object(
    req: HttpRequest,
    key: web::Path<String>,
    mut payload: web::Payload,
    st: web::Data<Shared>,
) -> HttpResponse {
    let sid = format!("s3://{BUCKET}:{key}");
    let headers = req.headers();
    if headers
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("chunked"))
    {
        return s3_error(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        );
    }
    if !headers.contains_key("content-length") {
        return s3_error(
            411,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        );
    }
    let part: Option<u64> = param(&req, "partNumber").and_then(|p| p.parse().ok());
    let (path, corrupt) = {
        let mut g = lock(&st);
        let Some(obj) = g.objects.get(&sid) else {
            return s3_error(404, "NoSuchKey", "The specified key does not exist.");
        };
        let path = match (&obj.multipart, part) {
            (None, None) => {
                let tagged = headers.get("x-amz-tagging").and_then(|v| v.to_str().ok())
                    == Some("dv-state=temp");
                if !tagged {
                    return s3_error(
                        403,
                        "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided.",
                    );
                }
                obj.path.clone()
            }
            (Some(mp), Some(n)) => {
                if param(&req, "uploadId").as_deref() != Some(mp.upload_id.as_str()) {
                    return s3_error(404, "NoSuchUpload", "The specified upload does not exist.");
                }
                if n == 0 || n > mp.parts {
                    return s3_error(
                        400,
                        "InvalidArgument",
                        "Part number must be an integer between 1 and 10000, inclusive",
                    );
                }
                obj.path.with_extension(format!("part{n}"))
            }
            _ => return s3_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
        };
        let corrupt = g.corrupt_uploads > 0;
        g.corrupt_uploads = g.corrupt_uploads.saturating_sub(1);
        (path, corrupt)
    };
    let mut file = match tokio::fs::File::create(&path).await {
        Ok(f) => f,
        Err(_) => return s3_error(500, "InternalError", "We encountered an internal error."),
    };
    let mut md5 = Md5::new();
    let mut size = 0u64;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            let _ = tokio::fs::remove_file(&path).await;
            return s3_error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
        };
        let mut bytes = chunk.to_vec();
        if corrupt && size == 0 {
            if let Some(b) = bytes.first_mut() {
                *b ^= 0xff;
            }
        }
        size += bytes.len() as u64;
        md5.update(&bytes);
        if file.write_all(&bytes).await.is_err() {
            return s3_error(500, "InternalError", "We encountered an internal error.");
        }
    }
    if file.flush().await.is_err() {
        return s3_error(500, "InternalError", "We encountered an internal error.");
    }
    let md5 = hex::encode(md5.finalize());
    let mut g = lock(&st);
    let Some(obj) = g.objects.get_mut(&sid) else {
        return s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    match (&mut obj.multipart, part) {
        (Some(mp), Some(n)) => {
            mp.received.insert(n, md5.clone());
        }
        _ => {
            obj.size = size;
            obj.md5 = md5.clone();
            obj.complete = true;
        }
    }
    HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{md5}\"")))
        .finish()
}

const COMPLETE_FAILED: &str = "Could not complete multipart upload";

/// The upload named by `storageidentifier`/`uploadid`, checked against the caller.
fn find_upload(
    req: &HttpRequest,
    g: &crate::state::State,
    denied: &str,
) -> Result<String, HttpResponse> {
    let who = user(req, g)?;
    let sid = param(req, "storageidentifier").unwrap_or_default();
    let upload = param(req, "uploadid").unwrap_or_default();
    let obj = g.objects.get(&sid).filter(|o| {
        o.multipart.as_ref().is_some_and(|m| m.upload_id == upload)
            && g.datasets.get(&o.dataset).is_some_and(|d| d.owner == who)
    });
    match obj {
        Some(_) => Ok(sid),
        None => Err(error(403, denied)),
    }
}

async fn remove_parts(path: &std::path::Path, parts: u64) {
    for n in 1..=parts {
        let _ = tokio::fs::remove_file(path.with_extension(format!("part{n}"))).await;
    }
}

/// `PUT /api/datasets/mpupload?...` with `{"1": etag, ...}`: every part, each but the
/// last exactly `partSize` (S3 refuses smaller ones), the ETags as returned. Any failure
/// answers 500 and aborts the upload (`Datasets.completeMPUpload`).
pub(crate) async fn complete(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<Shared>,
) -> HttpResponse {
    let (sid, path, mp) = {
        let g = lock(&st);
        let sid = tri!(find_upload(
            &req,
            &g,
            "You are not permitted to complete file uploads with the supplied parameters."
        ));
        let Some(obj) = g.objects.get(&sid) else {
            return error(500, COMPLETE_FAILED);
        };
        let Some(mp) = obj.multipart.clone() else {
            return error(500, COMPLETE_FAILED);
        };
        (sid, obj.path.clone(), mp)
    };
    let etags: Option<BTreeMap<String, Value>> = serde_json::from_slice(&body).ok();
    let mut ok_parts = etags.is_some_and(|etags| {
        (1..=mp.parts).all(|n| {
            let given = etags
                .get(&n.to_string())
                .and_then(Value::as_str)
                .map(|s| s.trim_matches('"').to_owned());
            given.is_some() && given.as_ref() == mp.received.get(&n)
        }) && etags.len() as u64 == mp.parts
    });
    let mut total = 0u64;
    if ok_parts {
        for n in 1..=mp.parts {
            let len = tokio::fs::metadata(path.with_extension(format!("part{n}")))
                .await
                .map(|m| m.len())
                .unwrap_or(0);
            if (n < mp.parts && len != mp.part_size) || len > mp.part_size || len == 0 {
                ok_parts = false;
            }
            total += len;
        }
    }
    let joined = if ok_parts {
        join(&path, mp.parts).await
    } else {
        None
    };
    remove_parts(&path, mp.parts).await;
    let mut g = lock(&st);
    match joined {
        Some(md5) => {
            if let Some(obj) = g.objects.get_mut(&sid) {
                obj.size = total;
                obj.md5 = md5;
                obj.complete = true;
                obj.multipart = None;
            }
            ok(json!({"message": "Multipart Upload completed"}))
        }
        None => {
            g.objects.remove(&sid);
            error(500, COMPLETE_FAILED)
        }
    }
}

/// Concatenates the parts into the object; its MD5.
async fn join(path: &std::path::Path, parts: u64) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut out = tokio::fs::File::create(path).await.ok()?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    for n in 1..=parts {
        let mut part = tokio::fs::File::open(path.with_extension(format!("part{n}")))
            .await
            .ok()?;
        loop {
            let read = part.read(&mut buf).await.ok()?;
            if read == 0 {
                break;
            }
            let chunk = buf.get(..read)?;
            md5.update(chunk);
            out.write_all(chunk).await.ok()?;
        }
    }
    out.flush().await.ok()?;
    Some(hex::encode(md5.finalize()))
}

/// `DELETE /api/datasets/mpupload?...` → 204 (`Datasets.abortMPUpload`).
pub(crate) async fn abort(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let (sid, path, parts) = {
        let g = lock(&st);
        let sid = tri!(find_upload(
            &req,
            &g,
            "You are not permitted to abort file uploads with the supplied parameters."
        ));
        let Some(obj) = g.objects.get(&sid) else {
            return error(500, "Could not abort multipart upload");
        };
        let parts = obj.multipart.as_ref().map_or(0, |m| m.parts);
        (sid, obj.path.clone(), parts)
    };
    remove_parts(&path, parts).await;
    lock(&st).objects.remove(&sid);
    HttpResponse::NoContent().finish()
}
