//! `filepath` as RDS sends it, validated once so providers never see `..` or NUL.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::ConnectorError;

/// The default of `MAX_PATH_DEPTH`: deeper than any real project tree, and a bound on the
/// folders one upload may create (each missing folder costs the provider a call).
pub const DEFAULT_MAX_PATH_DEPTH: usize = 64;

/// Whether a name from a provider is one plain entry name: not empty, not `.` or `..`
/// (also percent-encoded, as [`StoragePath::parse`] refuses them), and free of `/`, `\`
/// and control characters (NUL included). Listings drop other names.
pub fn is_plain_name(name: &str) -> bool {
    let decoded = percent_decode_str(name).decode_utf8_lossy();
    !name.is_empty()
        && name != "."
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && !decoded.split(['/', '\\']).any(|part| part == "..")
}

/// An absolute path inside the user's storage, normalised: a leading `/`, no empty or
/// `.` segments, no `..` (refused), no NUL. The root is `/`. Segments are the names as
/// the user sees them (not percent-encoded); providers encode them for their protocol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoragePath {
    segments: Vec<String>,
}

impl StoragePath {
    pub fn root() -> Self {
        Self {
            segments: Vec::new(),
        }
    }

    /// Parses a caller's `filepath`. An empty string is the root (RDS's exporter strips
    /// the trailing `/`, so a root folder arrives as `""`).
    pub fn parse(raw: &str) -> Result<Self, ConnectorError> {
        if raw.contains('\0') {
            return Err(ConnectorError::BadRequest(
                "filepath must not contain a NUL character".into(),
            ));
        }
        let mut segments = Vec::new();
        for seg in raw.split('/') {
            if seg.is_empty() || seg == "." {
                continue;
            }
            // `%2e%2e` is refused too: some provider or proxy on the way may decode it.
            let decoded = percent_decode_str(seg).decode_utf8_lossy();
            if seg == ".." || decoded.split(['/', '\\']).any(|part| part == "..") {
                return Err(ConnectorError::BadRequest(format!(
                    "filepath {raw:?} contains a '..' segment; only paths inside the storage are allowed"
                )));
            }
            segments.push(seg.to_owned());
        }
        Ok(Self { segments })
    }

    /// Refuses a file path inside more than `max` folders (`MAX_PATH_DEPTH`), for writes:
    /// a provider may create each missing folder on the way with one call.
    pub fn check_depth(&self, max: usize) -> Result<(), ConnectorError> {
        let folders = self.segments.len().saturating_sub(1);
        if folders > max {
            return Err(ConnectorError::BadRequest(format!(
                "filepath lies {folders} folders deep, more than the limit of {max} \
                 (MAX_PATH_DEPTH)"
            )));
        }
        Ok(())
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The names from the root down, unencoded.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    pub fn file_name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    pub fn parent(&self) -> Option<Self> {
        if self.is_root() {
            return None;
        }
        Some(Self {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
        })
    }

    /// Appends one name (which must not contain `/`; a provider's listing yields such names).
    pub fn join(&self, name: &str) -> Result<Self, ConnectorError> {
        let mut joined = self.as_string();
        if !joined.ends_with('/') {
            joined.push('/');
        }
        joined.push_str(name);
        Self::parse(&joined)
    }

    /// The path with `%XX` sequences decoded, when that differs and is valid UTF-8. For
    /// callers that send already-encoded paths: providers may retry with it on a 404.
    pub fn decoded_variant(&self) -> Option<Self> {
        let raw = self.as_string();
        let decoded = percent_decode_str(&raw).decode_utf8().ok()?;
        if decoded == raw {
            return None;
        }
        Self::parse(&decoded).ok()
    }

    /// `/a/b` (or `/` for the root).
    pub fn as_string(&self) -> String {
        if self.segments.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.push_str(seg);
        }
        s
    }
}

impl fmt::Display for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_keeps_special_names() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("a", "/a"),
            ("/a//b/./c/", "/a/b/c"),
            (
                "/with space/ü n i c ø d e/#%?+&.txt",
                "/with space/ü n i c ø d e/#%?+&.txt",
            ),
            ("/a%20b", "/a%20b"),
            ("/...", "/..."),
            ("/a..b", "/a..b"),
        ] {
            assert_eq!(StoragePath::parse(raw).unwrap().as_string(), want, "{raw}");
        }
    }

    #[test]
    fn refuses_escape_and_nul() {
        for raw in [
            "..",
            "/a/../b",
            "/a/%2e%2e/b",
            "/a/%2E%2E",
            "/x/..",
            "/a\0b",
            "%2e%2e%2fetc",
        ] {
            assert!(
                matches!(StoragePath::parse(raw), Err(ConnectorError::BadRequest(_))),
                "{raw:?} must be refused"
            );
        }
    }

    #[test]
    fn plain_names_and_depth() {
        for ok in ["a", "a b.txt", "...", "a..b", "100%.txt", "ü"] {
            assert!(is_plain_name(ok), "{ok:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a\nb",
            "%2e%2e",
            "x%2F..%2Fy",
            "\u{7f}",
        ] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        // 64 folders and the file.
        let deep = StoragePath::parse(&"/d".repeat(65)).unwrap();
        assert!(deep.check_depth(64).is_ok());
        let err = deep.check_depth(63).unwrap_err().to_string();
        assert!(err.contains("MAX_PATH_DEPTH"), "{err}");
    }

    #[test]
    fn parent_join_and_decoded_variant() {
        let p = StoragePath::parse("/a/b c").unwrap();
        assert_eq!(p.file_name(), Some("b c"));
        assert_eq!(p.parent().map(|p| p.as_string()), Some("/a".into()));
        assert_eq!(StoragePath::root().join("x").unwrap().as_string(), "/x");
        assert!(p.join("..").is_err());
        let enc = StoragePath::parse("/a%20b/%C3%BC").unwrap();
        assert_eq!(
            enc.decoded_variant().map(|p| p.as_string()),
            Some("/a b/ü".into())
        );
        assert_eq!(p.decoded_variant(), None);
    }
}
