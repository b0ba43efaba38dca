//! A minimal provider for exercising the core through HTTP: it reports what the core
//! handed it (credentials, path, upload bytes), so tests see the core's parsing.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use connector_core::descriptor::{
    AuthUrl, ClientId, ClientSecret, FileTransferArchive, FileTransferMode, Icon, OAuth2Descriptor,
    RedirectUrl, ServiceAuth, ServiceDescriptor, TokenUrl,
};
use connector_core::interface::{
    ContentRange, Entry, Extent, FileDownload, FileStorage, StoragePath, Upload, WriteMode,
};
use connector_core::{Built, CommonConfig, Credentials, Result};
use futures_util::StreamExt;
use secrecy::ExposeSecret;

pub const CLIENT_SECRET: &str = "client-secret-never-logged";

pub fn descriptor(name: &str) -> ServiceDescriptor {
    ServiceDescriptor {
        servicename: name.into(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::None,
        auth: ServiceAuth::OAuth2(OAuth2Descriptor {
            auth_url: AuthUrl::new(
                "https://cloud.example.org/index.php/apps/oauth2/authorize".into(),
            )
            .unwrap(),
            token_url: TokenUrl::new(
                "https://cloud.example.org/index.php/apps/oauth2/api/v1/token".into(),
            )
            .unwrap(),
            redirect_url: Some(
                RedirectUrl::new("https://rds.example.org/redirect".into()).unwrap(),
            ),
            client_id: ClientId::new("client-id".into()),
            client_secret: ClientSecret::new(CLIENT_SECRET.into()),
            scopes: vec![],
        }),
        description: vec![
            ("en".into(), "A test service".into()),
            ("de".into(), "Ein Testdienst".into()),
        ],
        display_name: "Echo".into(),
        info_url: "https://example.org/info".into(),
        help_url: "https://example.org/help".into(),
        icon: Some(Icon::from_bytes(
            "image/svg+xml",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        )),
        metadata_profile: None,
        project_link_template: String::new(),
    }
}

/// Bytes received by `put_file`, and how many uploads completed.
#[derive(Default)]
pub struct Received {
    pub bytes: AtomicU64,
    pub uploads: AtomicU64,
}

pub struct Echo(pub Arc<Received>);

#[async_trait]
impl FileStorage for Echo {
    async fn list_folder(
        &self,
        creds: &Credentials,
        folder: &StoragePath,
        recursive: bool,
    ) -> Result<Vec<Entry>> {
        // Files inside the folder, named after what the core handed over (`/` in the
        // folder written `%2F`: one name each).
        [
            format!("user={}", creds.username().unwrap_or("-")),
            format!("token={}", creds.token().expose_secret()),
            format!("folder={}", folder.as_string().replace('/', "%2F")),
            format!("recursive={recursive}"),
        ]
        .iter()
        .map(|name| folder.join(name).map(Entry::file))
        .collect()
    }

    /// A slow download: `/slow/<n>` streams n chunks of 64 KiB, 100 ms apart. Echo
    /// serves no ranges: a `Range` reaching it is the core's mistake, answered with one
    /// byte as a 206 (so a test sees it).
    async fn get_file(
        &self,
        _: &Credentials,
        path: &StoragePath,
        range: Option<&str>,
    ) -> Result<FileDownload> {
        if range.is_some() {
            let one = futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"x"))]);
            return Ok(FileDownload {
                extent: Extent::Partial {
                    content_range: ContentRange::new(0, 0, None).unwrap(),
                },
                ..FileDownload::full(Box::pin(one), Some(1))
            });
        }
        let n: u64 = path.file_name().and_then(|n| n.parse().ok()).unwrap_or(1);
        let chunks = futures_util::stream::iter(0..n).then(|_| async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 64 * 1024]))
        });
        Ok(FileDownload::full(Box::pin(chunks), Some(n * 64 * 1024)))
    }

    async fn put_file(
        &self,
        _: &Credentials,
        path: &StoragePath,
        mut upload: Upload,
        mode: WriteMode,
    ) -> Result<()> {
        let mut n = 0u64;
        while let Some(chunk) = upload.body.next().await {
            n += chunk
                .map_err(|e| connector_core::ConnectorError::BadRequest(e.to_string()))?
                .len() as u64;
        }
        if path.file_name() == Some("fail") {
            return Err(connector_core::ConnectorError::Locked("locked".into()));
        }
        let _ = mode;
        self.0.bytes.fetch_add(n, Ordering::SeqCst);
        self.0.uploads.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

pub fn built(name: &str, received: Arc<Received>) -> Built {
    Built::new(descriptor(name), "echo").with_file_storage(Echo(received))
}

pub fn common() -> CommonConfig {
    CommonConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    }
}

/// Polls `url` until it answers `status`, for at most ~20 s (a bound, not a timing claim).
pub async fn wait_for_status(url: &str, status: u16) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().as_u16() == status {
                return true;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}
