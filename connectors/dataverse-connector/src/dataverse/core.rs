//! A small client of Dataverse's native API: datasets, draft versions, locks, files and
//! publishing, with the API token in `X-Dataverse-key` (sensitive, never in a URL),
//! answers read up to `MAX_UPSTREAM_ANSWER_BYTES`, bounded retries, and Dataverse's
//! errors mapped. URLs are built from `DATAVERSE_ADDRESS`, never from answers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use connector_core::answer::json_capped;
use connector_core::http::{authorized, path_segment, AuthScheme, Upstream};
use connector_core::retry::{self, Attempt, Idempotency, RetryPolicy};
use connector_core::transfer::form::FormUpload;
use connector_core::transfer::upload::UploadBody;
use connector_core::transfer::{hashing, Algorithm, DigestHandle};
use connector_core::{ConnectorError, Credentials};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response};
use serde_json::Value;
use url::Url;

use super::error;

pub const API_KEY_HEADER: &str = "X-Dataverse-key";
const AUTH: AuthScheme<'static> = AuthScheme::Header(API_KEY_HEADER);
/// The Search API's largest page (`api/Search.search`: `per_page` ≤ 1000; 100 is kind).
const PAGE_SIZE: usize = 100;
/// The first wait between lock polls; doubled up to [`LOCK_POLL_MAX`].
const LOCK_POLL_FIRST: Duration = Duration::from_millis(250);
const LOCK_POLL_MAX: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct DataverseApi {
    http: Upstream,
    base: Url,
    policy: RetryPolicy,
    max_answer_bytes: usize,
    max_pages: usize,
}

impl DataverseApi {
    pub fn new(
        http: Upstream,
        base: Url,
        policy: RetryPolicy,
        max_answer_bytes: usize,
        max_pages: usize,
    ) -> Self {
        Self {
            http,
            base,
            policy,
            max_answer_bytes,
            max_pages,
        }
    }

    pub fn response_timeout(&self) -> Duration {
        self.http.response_timeout()
    }

    fn url(&self, path: &str) -> String {
        crate::descriptor::join(&self.base, path)
    }

    fn dataset_url(&self, id: &str) -> String {
        self.url(&format!("api/datasets/{}", path_segment(id)))
    }

    async fn send(
        &self,
        creds: &Credentials,
        idempotency: Idempotency,
        what: &str,
        make: impl Fn() -> Result<Attempt, ConnectorError>,
    ) -> Result<Response, ConnectorError> {
        retry::send_with(
            &self.http,
            self.policy,
            idempotency,
            what,
            make,
            |answer, what| error::from_answer(answer, what, creds),
        )
        .await
    }

    /// One call; the answer's `data` (Dataverse's `{"status": "OK", "data": ...}`).
    async fn call(
        &self,
        creds: &Credentials,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<Value, ConnectorError> {
        let make = || {
            let req = self.http.client().request(method.clone(), url);
            // `@Consumes("application/json")`: `.json` sets the type (SOURCES.md §2).
            Attempt::json_call(req, creds, AUTH, body)
        };
        let resp = self.send(creds, idempotency, what, make).await?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let v: Value = json_capped(resp, self.max_answer_bytes, what).await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// The user's drafts in `collection` and below (Search API, `fq=publicationStatus:
    /// Draft`, `show_entity_ids`), all pages. A listing still full at the last page
    /// allowed is a 502 naming the limit: a shortened list would tell RDS that projects
    /// it knows are gone.
    pub async fn list_drafts(
        &self,
        creds: &Credentials,
        collection: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let what = "the list of the user's draft datasets";
        let mut all = Vec::new();
        for page in 0..self.max_pages {
            let mut url = Url::parse(&self.url("api/search"))
                .map_err(|e| ConnectorError::Internal(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("q", "*")
                .append_pair("type", "dataset")
                .append_pair("subtree", collection)
                .append_pair("fq", "publicationStatus:Draft")
                .append_pair("per_page", &PAGE_SIZE.to_string())
                .append_pair("start", &(page * PAGE_SIZE).to_string())
                .append_pair("show_entity_ids", "true");
            let data = self
                .call(
                    creds,
                    Method::GET,
                    url.as_str(),
                    None,
                    Idempotency::Idempotent,
                    what,
                )
                .await?;
            let Some(items) = data.get("items").and_then(Value::as_array) else {
                return Err(ConnectorError::BadGateway(format!(
                    "Dataverse's answer for {what} has no items"
                )));
            };
            let n = items.len();
            all.extend(items.iter().cloned());
            let total = data.get("total_count").and_then(Value::as_u64);
            if n < PAGE_SIZE || total.is_some_and(|t| ((page + 1) * PAGE_SIZE) as u64 >= t) {
                return Ok(all);
            }
        }
        Err(ConnectorError::BadGateway(format!(
            "{what} goes on past {} pages of {PAGE_SIZE}, the limit DATAVERSE_MAX_PAGES",
            self.max_pages
        )))
    }

    /// `POST /api/dataverses/{collection}/datasets` (201 `{id, persistentId}`).
    pub async fn create(
        &self,
        creds: &Credentials,
        collection: &str,
        body: &Value,
    ) -> Result<Value, ConnectorError> {
        let url = self.url(&format!(
            "api/dataverses/{}/datasets",
            path_segment(collection)
        ));
        self.call(
            creds,
            Method::POST,
            &url,
            Some(body),
            Idempotency::Once,
            "a new dataset",
        )
        .await
    }

    /// `GET /api/datasets/{id}`: the dataset (PID parts, `latestVersion`).
    pub async fn dataset(&self, creds: &Credentials, id: &str) -> Result<Value, ConnectorError> {
        let what = format!("dataset {id}");
        self.call(
            creds,
            Method::GET,
            &self.dataset_url(id),
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    /// `GET .../versions/:draft`, without files, with the contact e-mail even where
    /// `:ExcludeEmailFromExport` hides it (a merge would drop it, SOURCES.md §3).
    pub async fn draft(&self, creds: &Credentials, id: &str) -> Result<Value, ConnectorError> {
        let url = format!(
            "{}/versions/:draft?excludeFiles=true&ignoreSettingExcludeEmailFromExport=true",
            self.dataset_url(id)
        );
        let what = format!("the draft of dataset {id}");
        self.call(
            creds,
            Method::GET,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    /// `PUT .../versions/:draft` with the whole version (it replaces every field).
    pub async fn put_draft(
        &self,
        creds: &Credentials,
        id: &str,
        version: &Value,
    ) -> Result<Value, ConnectorError> {
        let url = format!("{}/versions/:draft", self.dataset_url(id));
        let what = format!("the metadata of dataset {id}");
        self.call(
            creds,
            Method::PUT,
            &url,
            Some(version),
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    /// `DELETE .../versions/:draft` (a never-published dataset is destroyed).
    pub async fn delete_draft(&self, creds: &Credentials, id: &str) -> Result<(), ConnectorError> {
        let url = format!("{}/versions/:draft", self.dataset_url(id));
        let what = format!("the draft of dataset {id}");
        self.call(
            creds,
            Method::DELETE,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }

    /// The dataset's lock types (`GET .../locks`, `[{lockType}]`).
    pub async fn locks(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let url = format!("{}/locks", self.dataset_url(id));
        let what = format!("the locks of dataset {id}");
        let data = self
            .call(
                creds,
                Method::GET,
                &url,
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await?;
        Ok(data
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("lockType").and_then(Value::as_str))
            .map(str::to_owned)
            .collect())
    }

    /// Waits until the dataset has no lock (ingest, publication, workflows lock it, and
    /// writes meanwhile answer 403/400), polling with backoff up to the response
    /// deadline; then a 503 with `Retry-After` naming the lock.
    pub async fn wait_unlocked(&self, creds: &Credentials, id: &str) -> Result<(), ConnectorError> {
        let deadline = Instant::now() + self.response_timeout();
        let mut wait = LOCK_POLL_FIRST;
        loop {
            let locks = self.locks(creds, id).await?;
            if locks.is_empty() {
                return Ok(());
            }
            if Instant::now() + wait > deadline {
                return Err(ConnectorError::RetryLater {
                    detail: format!(
                        "dataset {id} is still locked on Dataverse ({}); try again later",
                        locks.join(", ")
                    ),
                    retry_after_secs: 10,
                    rate_limited: false,
                });
            }
            tracing::debug!(dataset = id, locks = %locks.join(","), "waiting for Dataverse's locks");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(LOCK_POLL_MAX);
        }
    }

    /// `POST .../actions/:publish?type=major` (200, or 202 while a workflow runs).
    pub async fn publish(&self, creds: &Credentials, id: &str) -> Result<Value, ConnectorError> {
        let url = format!("{}/actions/:publish?type=major", self.dataset_url(id));
        let what = format!("publishing dataset {id}");
        self.call(creds, Method::POST, &url, None, Idempotency::Once, &what)
            .await
    }

    /// The draft's files (`GET .../versions/:draft/files`), file metadata objects.
    pub async fn list_files(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let url = format!("{}/versions/:draft/files", self.dataset_url(id));
        let what = format!("the files of dataset {id}");
        match self
            .call(
                creds,
                Method::GET,
                &url,
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await?
        {
            Value::Array(a) => Ok(a),
            _ => Err(ConnectorError::BadGateway(format!(
                "Dataverse's answer for {what} is not a list"
            ))),
        }
    }

    /// `POST .../add` with the framed multipart body (a transfer: the idle watchdog,
    /// no overall deadline). A POST that creates a file: retried after a rate limit
    /// (nothing was created) when the body can be sent again, never after a 5xx or a
    /// broken connection (the file may exist; a second one would be renamed).
    pub async fn add_file(
        &self,
        creds: &Credentials,
        id: &str,
        what: &str,
        form: FormUpload,
    ) -> Result<Value, ConnectorError> {
        let url = format!("{}/add", self.dataset_url(id));
        let content_type = form.content_type;
        let idempotency = match form.body.idempotency() {
            Idempotency::Single => Idempotency::Single,
            _ => Idempotency::Once,
        };
        let len = form.body.length();
        let body = Mutex::new(form.body);
        let make = || {
            let stream = body
                .lock()
                .map_err(|_| ConnectorError::Internal("the upload body is poisoned".into()))?
                .attempt()?;
            let req = self
                .http
                .client()
                .post(&url)
                .header(CONTENT_TYPE, content_type.as_str());
            Ok(Attempt::Transfer {
                req: authorized(req, creds, AUTH)?,
                body: stream,
                len,
            })
        };
        let resp = self.send(creds, idempotency, what, make).await?;
        let v: Value = json_capped(resp, self.max_answer_bytes, what).await?;
        Ok(v.get("data").cloned().unwrap_or(Value::Null))
    }

    /// `DELETE /api/files/{id}`.
    pub async fn delete_file(
        &self,
        creds: &Credentials,
        file_id: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.url(&format!("api/files/{}", path_segment(file_id)));
        let what = format!("file {file_id}");
        self.call(
            creds,
            Method::DELETE,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }

    /// `GET .../uploadurls?size=N`: the store's direct-upload URLs; `None` when the store
    /// offers none (404 "Direct upload not supported ...", SOURCES.md §5). Read from the
    /// answer itself: a message shown to the caller may be withheld.
    pub async fn upload_urls(
        &self,
        creds: &Credentials,
        id: &str,
        size: u64,
    ) -> Result<Option<Value>, ConnectorError> {
        const NOT_OFFERED: &str = "direct upload is not offered";
        let url = format!("{}/uploadurls?size={size}", self.dataset_url(id));
        let what = format!("the direct-upload URLs of dataset {id}");
        let make = || {
            let req = authorized(self.http.client().get(&url), creds, AUTH)?;
            Ok(Attempt::Call(req))
        };
        let sent = retry::send_with(
            &self.http,
            self.policy,
            Idempotency::Idempotent,
            &what,
            make,
            |answer, what| {
                let said = String::from_utf8_lossy(&answer.body);
                if answer.status == 404 && said.contains("Direct upload not supported") {
                    ConnectorError::NotFound(NOT_OFFERED.into())
                } else {
                    error::from_answer(answer, what, creds)
                }
            },
        )
        .await;
        match sent {
            Ok(resp) => {
                let v: Value = json_capped(resp, self.max_answer_bytes, &what).await?;
                Ok(Some(v.get("data").cloned().unwrap_or(Value::Null)))
            }
            Err(ConnectorError::NotFound(d)) if d == NOT_OFFERED => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One PUT to the store (a presigned URL: no token goes there), `x-amz-tagging:
    /// dv-state=temp` on a single upload (signed into its URL). Retried as the body
    /// allows; the MD5 of the last attempt's bytes and the store's `ETag` (unquoted).
    pub async fn put_object(
        &self,
        creds: &Credentials,
        url: &Url,
        body: UploadBody,
        tagged: bool,
        what: &str,
    ) -> Result<(String, Option<String>), ConnectorError> {
        let idempotency = body.idempotency();
        let len = body.length();
        let body = Mutex::new(body);
        let sent = Mutex::new(DigestHandle::default());
        let make = || {
            let stream = body
                .lock()
                .map_err(|_| ConnectorError::Internal("the upload body is poisoned".into()))?
                .attempt()?;
            let (stream, handle) = hashing(stream, &[Algorithm::Md5]);
            if let Ok(mut s) = sent.lock() {
                *s = handle;
            }
            let mut req = self
                .http
                .client()
                .put(url.clone())
                .header(CONTENT_TYPE, "application/octet-stream");
            if tagged {
                req = req.header("x-amz-tagging", "dv-state=temp");
            }
            Ok(Attempt::Transfer {
                req,
                body: stream,
                len,
            })
        };
        let resp = self.send(creds, idempotency, what, make).await?;
        let etag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_matches('"').to_ascii_lowercase())
            .ok_or_else(|| {
                ConnectorError::BadGateway(format!("the store answered {what} without an ETag"))
            })?;
        let md5 = sent
            .lock()
            .ok()
            .and_then(|h| h.get())
            .filter(|d| d.bytes == len)
            .and_then(|d| d.md5);
        Ok((etag, md5))
    }

    /// A server path from `uploadurls` (`complete`, `abort`) on the configured host only.
    fn store_path_url(&self, path: &str) -> Result<String, ConnectorError> {
        if !path.starts_with("/api/datasets/mpupload?") {
            return Err(ConnectorError::BadGateway(
                "Dataverse's multipart upload names an unexpected completion path".into(),
            ));
        }
        Ok(self.url(path))
    }

    /// `PUT {complete}` with `{"1": etag, ...}`.
    pub async fn complete_multipart(
        &self,
        creds: &Credentials,
        path: &str,
        etags: &Value,
        what: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.store_path_url(path)?;
        self.call(
            creds,
            Method::PUT,
            &url,
            Some(etags),
            Idempotency::Once,
            what,
        )
        .await?;
        Ok(())
    }

    /// `DELETE {abort}` (204).
    pub async fn abort_multipart(
        &self,
        creds: &Credentials,
        path: &str,
        what: &str,
    ) -> Result<(), ConnectorError> {
        let url = self.store_path_url(path)?;
        self.call(
            creds,
            Method::DELETE,
            &url,
            None,
            Idempotency::Idempotent,
            what,
        )
        .await?;
        Ok(())
    }
}
