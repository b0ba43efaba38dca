//! Uploads that never leave a half file looking complete: the bytes are streamed into a
//! hidden temporary name in the target folder, then `MOVE`d over the target in one step.
//! A failed or abandoned upload deletes its temporary file (even when the request is
//! dropped mid-way, through [`TempGuard`]).

use connector_core::interface::{StoragePath, Upload, WriteMode};
use connector_core::{ConnectorError, Credentials, Result};

use super::core::{what, DavCore};

/// Marks our temporary upload names: `.<name>.rds-upload-<uuid>`.
const TEMP_MARKER: &str = ".rds-upload-";
/// Leaves room for the marker and a uuid within the usual 255-byte name limit.
const MAX_NAME_IN_TEMP: usize = 180;

/// Whether `name` is one of our in-flight uploads (hidden from listings).
pub fn is_upload_temp(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARKER)
}

fn temp_name(name: &str) -> String {
    let mut cut = name.len().min(MAX_NAME_IN_TEMP);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        ".{}{TEMP_MARKER}{}",
        &name[..cut],
        uuid::Uuid::new_v4().simple()
    )
}

/// Deletes the temporary file when dropped armed: on errors, and when the request is
/// cancelled (the caller went away) while the upload was in flight.
struct TempGuard {
    core: DavCore,
    creds: Credentials,
    path: StoragePath,
    armed: bool,
}

impl TempGuard {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (core, creds, path) = (self.core.clone(), self.creds.clone(), self.path.clone());
        rt.spawn(async move {
            match core.delete(&creds, &path).await {
                Ok(()) | Err(ConnectorError::NotFound(_)) => {}
                Err(e) => tracing::warn!(path = %path, error = %e, "could not remove an unfinished upload"),
            }
        });
    }
}

/// Creates the missing folders above `folder`, top down.
async fn ensure_folder(core: &DavCore, creds: &Credentials, folder: &StoragePath) -> Result<()> {
    let mut missing = Vec::new();
    let mut cur = folder.clone();
    while !cur.is_root() {
        match core.stat(creds, &cur).await? {
            Some(e) if e.is_collection => break,
            Some(_) => {
                return Err(ConnectorError::Conflict(format!(
                    "{} is a file, so it cannot hold other files",
                    what("path", &cur)
                )))
            }
            None => {
                let parent = cur.parent().unwrap_or_else(StoragePath::root);
                missing.push(std::mem::replace(&mut cur, parent));
            }
        }
    }
    for f in missing.iter().rev() {
        core.mkcol(creds, f).await?;
    }
    Ok(())
}

/// Writes `upload` to `path` (already resolved; for [`WriteMode::ReplaceExisting`] the
/// caller checked that it exists).
pub async fn write(
    core: &DavCore,
    creds: &Credentials,
    path: &StoragePath,
    upload: Upload,
    mode: WriteMode,
) -> Result<()> {
    let (Some(name), Some(parent)) = (path.file_name(), path.parent()) else {
        return Err(ConnectorError::BadRequest(
            "filepath must name a file, not the root folder".into(),
        ));
    };
    let existing = core.stat(creds, path).await?;
    match (&existing, mode) {
        (Some(e), _) if e.is_collection => {
            return Err(ConnectorError::Conflict(format!(
                "{} is a folder; a file cannot replace it",
                what("path", path)
            )))
        }
        (None, WriteMode::ReplaceExisting) => {
            return Err(ConnectorError::NotFound(format!(
                "{} does not exist",
                what("file", path)
            )))
        }
        (None, WriteMode::CreateOrReplace) => ensure_folder(core, creds, &parent).await?,
        (Some(_), _) => {}
    }

    let temp = parent.join(&temp_name(name))?;
    let guard = TempGuard {
        core: core.clone(),
        creds: creds.clone(),
        path: temp.clone(),
        armed: true,
    };
    // A caller that breaks off, or sends other than its size, makes the body end in an
    // error: the PUT fails, the guard removes the temporary file, and the core answers
    // the caller's fault as a 400 (it watches the bytes, see `Upload::size`).
    core.put(
        creds,
        &temp,
        upload.body,
        upload.size,
        upload.content_type.as_deref(),
    )
    .await?;
    core.move_to(creds, &temp, path).await?;
    guard.disarm();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_hidden_and_bounded() {
        let t = temp_name("report.pdf");
        assert!(t.starts_with(".report.pdf.rds-upload-"));
        assert!(is_upload_temp(&t));
        assert!(!is_upload_temp("report.pdf"));
        let long = "ü".repeat(200);
        assert!(temp_name(&long).len() < 255);
    }
}
