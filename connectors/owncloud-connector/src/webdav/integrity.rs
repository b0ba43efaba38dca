//! What the server says it stored or sent, against the digests we computed while the
//! bytes streamed through.
//!
//! ownCloud reports checksums as `ALGO:hex` items: in PROPFIND, `oc:checksums` holds one
//! or more `oc:checksum` elements (ownCloud 10 puts `SHA1:… MD5:… ADLER32:…` in one),
//! and a download carries `OC-Checksum: SHA1:…`. Nextcloud reports only what a client
//! sent. We compare every algorithm we computed (SHA1, and the core's SHA256) that the
//! server names; one that differs is a failed transfer; none in common means nothing to
//! check.

use bytes::Bytes;
use connector_core::interface::ByteStream;
use futures_util::StreamExt;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::multistatus::ParseError;
use connector_core::transfer::{hashing, Algorithm, ChecksumMismatch, Digests};

const OC: &[u8] = b"http://owncloud.org/ns";

/// The digest computed for comparison: SHA1, which ownCloud 10 stores for every file,
/// sends as `OC-Checksum` on downloads, and which our chunked uploads send for Nextcloud
/// to store. (MD5, which ownCloud also reports, would add the slowest hash of all to every
/// transfer and prove nothing more.)
pub const ALGORITHMS: &[Algorithm] = &[Algorithm::Sha1];

/// A Depth-0 PROPFIND body asking only for the checksums.
pub const PROPFIND_CHECKSUMS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:checksums/></d:prop></d:propfind>"#;

/// The text of every `oc:checksum` in a multistatus, joined by spaces; `None` if empty.
pub fn parse_oc_checksums(xml: &str) -> Result<Option<String>, ParseError> {
    let mut reader = NsReader::from_str(xml);
    let mut inside = false;
    let mut found = Vec::new();
    loop {
        match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(ns), Event::Start(e)))
                if ns.as_ref() == OC && e.local_name().as_ref() == b"checksum" =>
            {
                inside = true;
            }
            Ok((_, Event::End(_))) => inside = false,
            Ok((_, Event::Text(t))) if inside => {
                let text = t
                    .decode()
                    .map_err(|e| ParseError::Xml(e.to_string()))?
                    .trim()
                    .to_owned();
                if !text.is_empty() {
                    found.push(text);
                }
            }
            Ok((_, Event::Eof)) => break,
            Ok(_) => {}
            Err(e) => return Err(ParseError::Xml(e.to_string())),
        }
    }
    Ok((!found.is_empty()).then(|| found.join(" ")))
}

/// The outcome of comparing a server's checksum list with our digests.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every algorithm both sides know agrees (at least one).
    Match,
    /// No algorithm in common (or the server reports none we compute).
    Unchecked,
    /// This algorithm differs.
    Mismatch(&'static str),
}

/// Compares `ALGO:hex` items (separated by spaces or commas) with `ours`.
pub fn compare(list: &str, ours: &Digests) -> Verdict {
    let mut matched = false;
    for item in list.split([' ', ',']).filter(|s| !s.is_empty()) {
        let Some((algo, hex)) = item.split_once(':') else {
            continue;
        };
        let (name, mine) = match algo.to_ascii_uppercase().as_str() {
            "SHA1" => ("SHA1", &ours.sha1),
            "MD5" => ("MD5", &ours.md5),
            "SHA256" => ("SHA256", &ours.sha256),
            _ => continue,
        };
        let Some(mine) = mine else { continue };
        if !mine.eq_ignore_ascii_case(hex.trim()) {
            return Verdict::Mismatch(name);
        }
        matched = true;
    }
    if matched {
        Verdict::Match
    } else {
        Verdict::Unchecked
    }
}

/// `body` with its last piece held back until the stream has ended, then passed to
/// `at_end`: an error from it replaces the last piece. A consumer that stops at a known
/// length (reqwest does) still drives the stream to its end, so digests computed on the
/// way are complete before the last byte is out.
pub fn hold_last<F>(body: ByteStream, at_end: F) -> ByteStream
where
    F: FnOnce() -> Option<std::io::Error> + Send + 'static,
{
    // `at_end` is `None` once the inner stream has ended or failed: it is not polled again.
    let state = (body, None::<Bytes>, Some(at_end));
    Box::pin(futures_util::stream::unfold(
        state,
        |(mut inner, mut held, mut at_end)| async move {
            at_end.as_ref()?;
            loop {
                match inner.next().await {
                    Some(Ok(b)) if b.is_empty() => {}
                    Some(Ok(b)) => {
                        if let Some(prev) = held.replace(b) {
                            return Some((Ok(prev), (inner, held, at_end)));
                        }
                    }
                    Some(Err(e)) => return Some((Err(e), (inner, None, None))),
                    None => {
                        let failure = at_end.take().and_then(|f| f());
                        return match failure {
                            Some(e) => Some((Err(e), (inner, None, None))),
                            None => held.take().map(|b| (Ok(b), (inner, None, None))),
                        };
                    }
                }
            }
        },
    ))
}

/// A download body checked against the server's `OC-Checksum`: the last piece is held
/// back until the whole body has been hashed, and replaced by an error when the digest
/// differs, so a caller never receives all the bytes of a corrupted file.
pub fn verified_download(body: ByteStream, expected: String, what: String) -> ByteStream {
    let (hashed, digests) = hashing(body, ALGORITHMS);
    hold_last(hashed, move || {
        let Verdict::Mismatch(algo) = compare(&expected, &digests.get()?) else {
            return None;
        };
        tracing::warn!(file = %what, algo, "download checksum mismatch");
        Some(
            ChecksumMismatch(format!(
                "{what} arrived with a different {algo} checksum than the server reports"
            ))
            .into_io(),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Digests of `data`, by the core's own hashing.
    async fn digests(data: &'static [u8]) -> Digests {
        let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from_static(data))]));
        let (mut s, handle) = hashing(body, ALGORITHMS);
        while s.next().await.is_some() {}
        handle.get().unwrap()
    }

    #[tokio::test]
    async fn owncloud_lists_are_read_and_compared() {
        let d = digests(b"abc").await;
        let xml = format!(
            r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:o="http://owncloud.org/ns"><d:response><d:href>/x</d:href><d:propstat><d:prop><o:checksums><o:checksum>SHA1:{} MD5:900150983CD24FB0D6963F7D28E17F72 ADLER32:024d0127</o:checksum></o:checksums></d:prop></d:propstat></d:response></d:multistatus>"#,
            d.sha1.as_deref().unwrap().to_uppercase()
        );
        let list = parse_oc_checksums(&xml).unwrap().unwrap();
        assert_eq!(compare(&list, &d), Verdict::Match);
        assert_eq!(
            compare(&list, &digests(b"abd").await),
            Verdict::Mismatch("SHA1")
        );
        assert_eq!(compare("ADLER32:024d0127", &d), Verdict::Unchecked);
        assert_eq!(
            compare("MD5:900150983cd24fb0d6963f7d28e17f72", &d),
            Verdict::Unchecked
        );
        let empty = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x</d:href></d:response></d:multistatus>"#;
        assert_eq!(parse_oc_checksums(empty).unwrap(), None);
    }

    async fn collect(s: ByteStream) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }

    #[tokio::test]
    async fn a_corrupted_download_never_completes() {
        let pieces = || -> ByteStream {
            Box::pin(futures_util::stream::iter(
                [&b"hel"[..], b"lo"].map(|p| Ok(Bytes::from_static(p))),
            ))
        };
        let good = format!("SHA1:{}", digests(b"hello").await.sha1.unwrap());
        let (bytes, failed) = collect(verified_download(pieces(), good, "f".into())).await;
        assert_eq!((bytes.as_slice(), failed), (&b"hello"[..], false));
        let bad = format!("SHA1:{}", digests(b"jello").await.sha1.unwrap());
        let (bytes, failed) = collect(verified_download(pieces(), bad, "f".into())).await;
        assert_eq!((bytes.as_slice(), failed), (&b"hel"[..], true));
    }
}
