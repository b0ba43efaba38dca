//! Folder listings: one `Depth: 1` PROPFIND per folder (ownCloud refuses `infinity`),
//! sub-folders walked breadth-first with a bounded number of PROPFINDs in flight, so a
//! deep tree is fast without flooding the server.
//!
//! A server decides the tree, so the walk is bounded: only plain names directly inside
//! the listed folder count as its children (a folder listing itself or an ancestor, as a
//! symlink loop does, is not walked again; `..`, NUL or backslashes are dropped), the walk
//! goes at most `MAX_LISTING_DEPTH` levels deep and collects at most `MAX_LISTING_ENTRIES`
//! entries; past a limit the listing is a 502 naming it. Every PROPFIND in flight is a
//! future owned by the walk (no spawned task), so dropping the walk (the caller left)
//! stops them all.

use std::collections::VecDeque;

use connector_core::interface::{is_plain_name, Entry, StoragePath};
use connector_core::{ConnectorError, Credentials, Result};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;

use super::core::{DavCore, Depth, Listing};
use super::multistatus::decode_path;
use super::writer::is_upload_temp;

/// How a recursive listing walks: PROPFINDs in flight (`OWNCLOUD_LIST_CONCURRENCY`) and how
/// far it may go (`MAX_LISTING_DEPTH`, `MAX_LISTING_ENTRIES`).
#[derive(Debug, Clone, Copy)]
pub struct Walk {
    pub concurrency: usize,
    pub max_depth: usize,
    pub max_entries: usize,
}

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

/// Splits a Depth-1 answer into the folder itself and its children. Entries that are not
/// one plain name below the folder (the folder again, an ancestor, another place, names
/// with `..`, `/`, `\`, NUL or control characters) are dropped with a warning.
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
    // Children are judged against the folder as the server wrote it.
    let base: &[String] = segments
        .get(own)
        .and_then(|s| s.as_deref())
        .unwrap_or(&asked);
    let mut dropped = 0usize;
    let children = listing
        .entries
        .iter()
        .zip(&segments)
        .enumerate()
        .filter(|(i, _)| *i != own)
        .filter_map(|(_, (entry, segs))| {
            let child = segs
                .as_deref()
                .and_then(|s| s.strip_prefix(base))
                .and_then(|rest| match rest {
                    [name] if is_plain_name(name) => Some(name.clone()),
                    _ => None,
                });
            let Some(name) = child else {
                dropped += 1;
                return None;
            };
            // Our own in-flight uploads are not files yet.
            (!is_upload_temp(&name)).then_some(Child {
                name,
                is_folder: entry.is_collection,
            })
        })
        .collect();
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "the WebDAV server listed entries that are not plain names inside the folder \
             (the folder itself, an ancestor, or names with '..', '/', '\\' or control \
             characters); dropped"
        );
    }
    FolderContent {
        is_folder,
        children,
    }
}

/// `folder/name`; names were checked in [`folder_content`], so a join that still fails
/// is the server's fault, not the caller's.
fn child(folder: &StoragePath, name: &str) -> Result<StoragePath> {
    folder.join(name).map_err(|_| {
        ConnectorError::BadGateway(format!(
            "the WebDAV server listed a name that is not a plain name: {name:?}"
        ))
    })
}

fn too_many(limits: &Walk) -> ConnectorError {
    ConnectorError::BadGateway(format!(
        "the listing has more than {} entries, the limit MAX_LISTING_ENTRIES; list a \
         sub-folder, or raise the limit if the tree is real",
        limits.max_entries
    ))
}

/// Lists `folder` (already known to answer) as the contract says: recursive, every file
/// below it; else its children, folders included. The core formats the entries.
pub async fn list(
    core: &DavCore,
    creds: &Credentials,
    folder: &StoragePath,
    first: FolderContent,
    recursive: bool,
    limits: Walk,
) -> Result<Vec<Entry>> {
    if !first.is_folder {
        return Ok(Vec::new());
    }
    if first.children.len() > limits.max_entries {
        return Err(too_many(&limits));
    }
    if !recursive {
        return first
            .children
            .into_iter()
            .map(|c| {
                let path = child(folder, &c.name)?;
                Ok(if c.is_folder {
                    Entry::folder(path)
                } else {
                    Entry::file(path)
                })
            })
            .collect();
    }

    let mut files = Vec::new();
    let mut entries = 0usize;
    // Folders still to list, with their depth below `folder` (its children are at 1).
    let mut pending: VecDeque<(StoragePath, usize)> = VecDeque::new();
    let mut absorb = |content: FolderContent,
                      path: &StoragePath,
                      depth: usize,
                      pending: &mut VecDeque<_>|
     -> Result<()> {
        entries += content.children.len();
        if entries > limits.max_entries {
            return Err(too_many(&limits));
        }
        for c in content.children {
            let child = child(path, &c.name)?;
            if c.is_folder {
                if depth > limits.max_depth {
                    return Err(ConnectorError::BadGateway(format!(
                        "the listing goes deeper than {} folders, the limit \
                         MAX_LISTING_DEPTH (a tree that never ends, such as a symlink \
                         loop, looks like this)",
                        limits.max_depth
                    )));
                }
                pending.push_back((child, depth));
            } else {
                files.push(Entry::file(child));
            }
        }
        Ok(())
    };
    absorb(first, folder, 1, &mut pending)?;

    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < limits.concurrency.max(1) {
            let Some((path, depth)) = pending.pop_front() else {
                break;
            };
            in_flight.push(async move {
                let res = core.propfind(creds, &path, Depth::One, "folder").await;
                (path, depth, res)
            });
        }
        let Some((path, depth, res)) = in_flight.next().await else {
            break;
        };
        match res {
            Ok(listing) => absorb(folder_content(&listing), &path, depth + 1, &mut pending)?,
            // Removed while we walked: it has no files any more.
            Err(ConnectorError::NotFound(_)) => {
                tracing::debug!(folder = %path, "sub-folder vanished during the listing");
            }
            Err(e) => return Err(e),
        }
    }
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
