//! A file answer, streamed from the provider to the caller. Whole or partial is a type,
//! so a 206 without its `Content-Range` cannot be built.

use std::fmt;

use super::ByteStream;

/// A `Content-Range` of a partial answer: `bytes {first}-{last}/{complete or *}`
/// (RFC 9110 §14.4), checked when built (`first <= last < complete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    first: u64,
    last: u64,
    complete: Option<u64>,
}

impl ContentRange {
    pub fn new(first: u64, last: u64, complete: Option<u64>) -> Option<Self> {
        (first <= last && complete.is_none_or(|c| last < c)).then_some(Self {
            first,
            last,
            complete,
        })
    }

    /// Parses a provider's `Content-Range` header of a satisfied byte range; `None` for
    /// anything else (another unit, `bytes */len`, a malformed or inverted range).
    pub fn parse(header: &str) -> Option<Self> {
        let spec = header.trim().strip_prefix("bytes ")?.trim_start();
        let (range, complete) = spec.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let complete = match complete {
            "*" => None,
            n => Some(n.parse().ok()?),
        };
        Self::new(first.parse().ok()?, last.parse().ok()?, complete)
    }

    /// The number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// A range holds at least one byte; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bytes {}-{}/", self.first, self.last)?;
        match self.complete {
            Some(c) => write!(f, "{c}"),
            None => f.write_str("*"),
        }
    }
}

/// Which part of the file a download carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// The whole file: 200.
    Full,
    /// The caller's range: 206 with this `Content-Range`.
    Partial { content_range: ContentRange },
}

/// A file answer, streamed from the provider to the caller.
pub struct FileDownload {
    pub extent: Extent,
    /// The body's length; with one, a body that ends early is a broken transfer.
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: ByteStream,
}

impl FileDownload {
    /// A whole file, its other headers unknown.
    pub fn full(body: ByteStream, content_length: Option<u64>) -> Self {
        Self {
            extent: Extent::Full,
            content_length,
            content_type: None,
            etag: None,
            last_modified: None,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_round_trips_and_refuses_nonsense() {
        for ok in ["bytes 6-8/10", "bytes 0-0/1", "bytes 5-9/*"] {
            assert_eq!(
                ContentRange::parse(ok).map(|r| r.to_string()).as_deref(),
                Some(ok)
            );
        }
        assert_eq!(
            ContentRange::parse("bytes 6-8/10").map(|r| r.len()),
            Some(3)
        );
        for bad in [
            "",
            "bytes */10",
            "bytes 8-6/10",
            "bytes 6-10/10",
            "items 0-1/2",
            "bytes 0-1",
            "bytes -1-2/3",
            "bytes a-b/c",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad:?}");
        }
    }
}
