//! RDS's layer 2, played against the connectors: the calls its exporter and metadata
//! services make, with the same fields and formats.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Client, Response};
use serde_json::{json, Value};

use crate::sample::{SampleFile, FOLDER};
use crate::stack::{Stack, REPOSITORY_TOKEN, USER};
use crate::{DemoError, Report, Step};

/// Runs one step, recording its time; the error names the step.
async fn step<T>(
    steps: &mut Vec<Step>,
    name: &str,
    fut: impl std::future::Future<Output = Result<(T, u64), String>>,
) -> Result<T, DemoError> {
    let started = Instant::now();
    match fut.await {
        Ok((value, bytes)) => {
            steps.push(Step {
                name: name.to_owned(),
                elapsed: started.elapsed(),
                bytes,
            });
            Ok(value)
        }
        Err(detail) => Err(DemoError::Step {
            step: name.to_owned(),
            detail,
        }),
    }
}

/// The body of a failed call, for the error message.
async fn failure(what: &str, resp: Response) -> String {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    format!("{what}: HTTP {status}: {body}")
}

async fn wait_ready(client: &Client, name: &str, url: &str) -> Result<(), String> {
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{url}/ready")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{name} did not become ready within 30 s"))
}

/// An RO-Crate describing the research folder, as RDS's metadata UI produces.
fn ro_crate() -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {
                "@id": "ro-crate-metadata.json",
                "@type": "CreativeWork",
                "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"},
                "about": {"@id": "./"}
            },
            {
                "@id": "./",
                "@type": "Dataset",
                "name": "Soil moisture campaign 2026",
                "description": "Raw soil moisture measurements at two depths,\nwith sensor calibration and microscopy of samples.",
                "datePublished": "2026-11-28",
                "keywords": ["soil moisture", "field campaign", "RDS demo"],
                "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
                "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}]
            },
            {
                "@id": "https://orcid.org/0000-0002-1825-0097",
                "@type": "Person",
                "givenName": "Josiah",
                "familyName": "Carberry",
                "affiliation": {"@id": "https://ror.org/05gq02987"}
            },
            {
                "@id": "https://ror.org/05gq02987",
                "@type": "Organization",
                "name": "Brown University"
            }
        ]
    })
}

pub async fn run(stack: &Stack, files: &[SampleFile], progress: bool) -> Result<Report, DemoError> {
    let client = Client::new();
    let mut steps = Vec::new();
    let oc = stack.owncloud.url.clone();
    let zc = stack.metadata.url.clone();
    let repo = stack.repository.repository();
    let title = repo.title();
    let meta_user = stack.repository.user_id(USER, REPOSITORY_TOKEN);

    step(&mut steps, "connectors registered and ready", async {
        wait_ready(&client, "owncloud-connector", &oc).await?;
        wait_ready(&client, repo.connector(), &zc).await?;
        Ok(((), 0))
    })
    .await?;

    // The exporter's `Service.reload`: list the folder (JSON body on GET, normal userId).
    let folder = format!("/{FOLDER}");
    let listed: Vec<String> = step(&mut steps, "list the research folder", async {
        let resp = client
            .get(format!("{oc}/storage/folder"))
            .json(&json!({"userId": USER, "filepath": folder}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(failure("listing", resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        let files: Vec<String> =
            serde_json::from_value(v["files"].clone()).map_err(|e| e.to_string())?;
        Ok((files, 0))
    })
    .await?;
    if listed.len() != files.len() {
        return Err(DemoError::Step {
            step: "list the research folder".into(),
            detail: format!(
                "listed {} files, the folder holds {}",
                listed.len(),
                files.len()
            ),
        });
    }

    // The metadata service creates the deposit from the research's RO-Crate.
    let project_id: String = step(&mut steps, &format!("create the {title} draft"), async {
        let resp = client
            .post(format!("{zc}/metadata/project"))
            .json(&json!({"userId": meta_user, "metadata": ro_crate()}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(failure("create", resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        let id = v["projectId"]
            .as_str()
            .map(str::to_owned)
            .ok_or("no projectId in the answer")?;
        Ok((id, 0))
    })
    .await?;

    let total: u64 = files.iter().map(|f| f.size).sum();
    let bar = if progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "  {bar:40.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    // The exporter's loop: fetch each listed file, hand it to the metadata port.
    step(
        &mut steps,
        &format!("stream every file ownCloud → {title}"),
        async {
            let mut moved = 0u64;
            for entry in &listed {
                // Service.getFile: entries that start with the folder are used as they are.
                let path = if entry.starts_with(&folder) {
                    entry.clone()
                } else {
                    format!("{folder}/{entry}")
                };
                let filename = path.trim_start_matches(&format!("{folder}/")).to_owned();
                bar.set_message(filename.clone());
                let download = client
                    .get(format!("{oc}/storage/file"))
                    .json(&json!({"userId": USER, "filepath": path}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !download.status().is_success() {
                    return Err(failure(&format!("download of {path}"), download).await);
                }
                let counter = bar.clone();
                let body = download.bytes_stream().map(move |chunk| {
                    if let Ok(c) = &chunk {
                        counter.inc(c.len() as u64);
                    }
                    chunk
                });
                // Addfile: fields userId, filename, username, then the part `file`.
                let form = reqwest::multipart::Form::new()
                    .text("userId", meta_user.clone())
                    .text("filename", filename.clone())
                    .text("username", USER)
                    .part(
                        "file",
                        reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(body))
                            .file_name(filename.clone()),
                    );
                let upload = client
                    .post(format!("{zc}/metadata/project/{project_id}/files"))
                    .multipart(form)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !upload.status().is_success() {
                    return Err(failure(&format!("upload of {filename}"), upload).await);
                }
                moved = bar.position();
            }
            bar.finish_and_clear();
            Ok(((), moved))
        },
    )
    .await?;

    // The metadata service publishes and reads the DOI.
    let doi: String = step(&mut steps, "publish", async {
        let resp = client
            .put(format!("{zc}/metadata/project/{project_id}"))
            .json(&json!({"userId": meta_user}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(failure("publish", resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        let doi = v["DOI"]
            .as_str()
            .map(str::to_owned)
            .ok_or("no DOI in the answer")?;
        Ok((doi, 0))
    })
    .await?;

    let (verified, mismatches) = step(&mut steps, "verify checksums", async {
        let stored = stack.repository.stored(&project_id)?;
        // The repository may flatten folders into names: match by content.
        let mut by_hash: HashMap<(String, u64), usize> = HashMap::new();
        for f in &stored {
            *by_hash.entry((f.sha256.clone(), f.size)).or_default() += 1;
        }
        let mut verified = 0;
        let mut mismatches = Vec::new();
        for f in files {
            match by_hash.get_mut(&(f.sha256.clone(), f.size)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    verified += 1;
                }
                _ => mismatches.push(f.relative.clone()),
            }
        }
        Ok(((verified, mismatches), 0))
    })
    .await?;

    let template = stack
        .token_storage
        .services()
        .into_iter()
        .find(|s| s["servicename"] == repo.service())
        .and_then(|s| s["projectLinkTemplate"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let record = stack.repository.record_id(&project_id);
    Ok(Report {
        repository: title,
        steps,
        doi,
        project_link: template.replace("${projectId}", &record),
        files_total: files.len(),
        files_verified: verified,
        mismatches,
    })
}
