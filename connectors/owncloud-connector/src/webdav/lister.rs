//! Folder listings: one `Depth: 1` PROPFIND per folder (ownCloud refuses `infinity`),
//! sub-folders walked breadth-first with a bounded number of PROPFINDs in flight, so a
//! deep tree is fast without flooding the server.

use std::collections::VecDeque;

use connector_core::interface::StoragePath;
use connector_core::{ConnectorError, Credentials, Result};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;

use super::core::{DavCore, Depth, Listing};
use super::multistatus::decode_path;
use super::writer::is_upload_temp;

/// One child of a listed folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub name: String,
    pub is_folder: bool,
}

/// What one PROPFIND says about a folder.
pub struct FolderContent {
    /// `false` when the path is a file: the listing of a file is empty.
    pub is_folder: bool,
    pub children: Vec<Child>,
}

/// Splits a Depth-1 answer into the folder itself and its children.
pub fn folder_content(listing: &Listing) -> FolderContent {
    let asked = decode_path(listing.url.path());
    let segments: Vec<Option<Vec<String>>> = listing
        .entries
        .iter()
        .map(|e| e.segments(&listing.url))
        .collect();
    // The folder itself is the entry at the asked path; servers put it first, so that is
    // the fallback when normalisation (e.g. NFC vs NFD) makes the paths differ.
    let own = segments
        .iter()
        .position(|s| s.as_deref() == Some(asked.as_slice()))
        .unwrap_or(0);
    let is_folder = listing.entries.get(own).is_some_and(|e| e.is_collection);
    let children = listing
        .entries
        .iter()
        .zip(&segments)
        .enumerate()
        .filter(|(i, _)| *i != own)
        .filter_map(|(_, (entry, segs))| {
            let name = segs.as_ref()?.last()?.clone();
            // Our own in-flight uploads are not files yet.
            (!is_upload_temp(&name)).then_some(Child {
                name,
                is_folder: entry.is_collection,
            })
        })
        .collect();
    FolderContent {
        is_folder,
        children,
    }
}

/// Joins a display prefix (`/a` or `` for the root) and a name.
fn display_join(prefix: &str, name: &str) -> String {
    format!("{prefix}/{name}")
}

/// Lists `folder` (already known to answer) as the contract says. `display` is the
/// folder as the caller named it, without trailing `/` (empty for the root): returned
/// paths start with it, so callers can fetch them without string surgery.
pub async fn list(
    core: &DavCore,
    creds: &Credentials,
    folder: &StoragePath,
    first: FolderContent,
    display: &str,
    recursive: bool,
    concurrency: usize,
) -> Result<Vec<String>> {
    if !first.is_folder {
        return Ok(Vec::new());
    }
    if !recursive {
        return Ok(first
            .children
            .into_iter()
            .map(|c| {
                let mut p = display_join(display, &c.name);
                if c.is_folder {
                    p.push('/');
                }
                p
            })
            .collect());
    }

    let mut files = Vec::new();
    let mut pending: VecDeque<(StoragePath, String)> = VecDeque::new();
    let mut absorb = |content: FolderContent,
                      path: &StoragePath,
                      disp: &str,
                      pending: &mut VecDeque<_>|
     -> Result<()> {
        for c in content.children {
            let child_disp = display_join(disp, &c.name);
            if c.is_folder {
                pending.push_back((path.join(&c.name)?, child_disp));
            } else {
                files.push(child_disp);
            }
        }
        Ok(())
    };
    absorb(first, folder, display, &mut pending)?;

    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some((path, disp)) = pending.pop_front() else {
                break;
            };
            in_flight.push(async move {
                let res = core.propfind(creds, &path, Depth::One, "folder").await;
                (path, disp, res)
            });
        }
        let Some((path, disp, res)) = in_flight.next().await else {
            break;
        };
        match res {
            Ok(listing) => absorb(folder_content(&listing), &path, &disp, &mut pending)?,
            // Removed while we walked: it has no files any more.
            Err(ConnectorError::NotFound(_)) => {
                tracing::debug!(folder = %path, "sub-folder vanished during the listing");
            }
            Err(e) => return Err(e),
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::webdav::multistatus::parse;
    use url::Url;

    #[test]
    fn splits_self_and_children() {
        let xml = std::fs::read_to_string(format!(
            "{}/tests/fixtures/nextcloud_propfind.xml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let listing = Listing {
            url: Url::parse("https://nc.example.org/remote.php/dav/files/alice/Projects").unwrap(),
            entries: parse(&xml).unwrap(),
        };
        let content = folder_content(&listing);
        assert!(content.is_folder);
        assert_eq!(
            content.children,
            vec![
                Child {
                    name: "a&b c.csv".into(),
                    is_folder: false
                },
                Child {
                    name: "Daten 2026".into(),
                    is_folder: true
                },
                Child {
                    name: "données.txt".into(),
                    is_folder: false
                },
            ]
        );
    }
}
