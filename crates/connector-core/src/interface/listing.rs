//! What a provider's folder listing holds: typed entries. The core turns them into the
//! strings RDS reads (`routes::storage`), so no provider formats paths for a caller.

use super::StoragePath;

/// Whether a listed entry is a file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
}

/// One entry of a folder listing: where it is (absolute, below the listed folder) and
/// what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: StoragePath,
    pub kind: EntryKind,
}

impl Entry {
    pub fn file(path: StoragePath) -> Self {
        Self {
            path,
            kind: EntryKind::File,
        }
    }

    pub fn folder(path: StoragePath) -> Self {
        Self {
            path,
            kind: EntryKind::Folder,
        }
    }
}
