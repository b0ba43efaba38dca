//! The length of the file part, derived from the request's `Content-Length`.
//!
//! Multipart parts carry no length, but some providers need one before the first byte
//! (a Zenodo bucket PUT). When the file part is the last part, its length is the
//! request's length minus everything before the part's body and minus the closing
//! delimiter `\r\n--<boundary>--\r\n`, which is what every common client writes (Python
//! `requests`, curl, reqwest, browsers). A body that does not end that way (another part
//! after the file, an epilogue) no longer matches; the upload pump checks the count and
//! refuses it with a 400, so a wrong derivation never stores a wrong file.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// How much of the body is kept to find where the file part starts: the text fields
/// before it are small (see `MAX_FIELD_BYTES`), so a body whose file part starts later
/// is simply not derived.
const PREFIX_CAP: usize = 256 * 1024;

/// The first bytes of a request body, recorded while the multipart parser reads it.
#[derive(Clone, Default)]
pub(super) struct Prefix(Rc<RefCell<Vec<u8>>>);

impl Prefix {
    /// `payload`, with its first [`PREFIX_CAP`] bytes recorded on the way through.
    pub(super) fn record<S>(&self, payload: S) -> impl Stream<Item = Result<Bytes, PayloadError>>
    where
        S: Stream<Item = Result<Bytes, PayloadError>>,
    {
        let buf = Rc::clone(&self.0);
        payload.inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                let mut buf = buf.borrow_mut();
                let take = chunk.len().min(PREFIX_CAP - buf.len());
                buf.extend_from_slice(&chunk[..take]);
            }
        })
    }

    /// The file part's length, if it is part number `part` (1-based) of a body of
    /// `content_length` bytes with this `boundary`, and its headers were recorded.
    pub(super) fn file_length(
        &self,
        boundary: &str,
        part: usize,
        content_length: u64,
    ) -> Option<u64> {
        let body_start = body_offset(&self.0.borrow(), boundary.as_bytes(), part)?;
        let closing = "\r\n--".len() + boundary.len() + "--\r\n".len();
        content_length.checked_sub((body_start + closing) as u64)
    }
}

/// Where the body of part number `part` (1-based) starts in `prefix`.
fn body_offset(prefix: &[u8], boundary: &[u8], part: usize) -> Option<usize> {
    let delimiter = [b"--".as_slice(), boundary].concat();
    let after_crlf = [b"\r\n".as_slice(), &delimiter].concat();
    // RFC 2046: the first delimiter opens the body or follows the preamble and a CRLF;
    // the others follow a CRLF. A part's content never contains CRLF + delimiter.
    let mut at = if prefix.starts_with(&delimiter) {
        Some(0)
    } else {
        find(prefix, &after_crlf, 0).map(|i| i + 2)
    };
    for _ in 1..part {
        at = find(prefix, &after_crlf, at? + delimiter.len()).map(|i| i + 2);
    }
    let line = at? + delimiter.len();
    if prefix.get(line..line + 2)? == b"--" {
        return None; // the closing delimiter: there is no such part
    }
    // The delimiter line ends with a CRLF, the headers with an empty line; a part without
    // headers has the empty line right after the delimiter line.
    let line_end = find(prefix, b"\r\n", line)?;
    if prefix.get(line_end..line_end + 4) == Some(b"\r\n\r\n") {
        return Some(line_end + 4);
    }
    find(prefix, b"\r\n\r\n", line_end).map(|i| i + 4)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body as Python `requests` writes it: fields, then the file, then the closing
    /// delimiter with a CRLF.
    fn body(boundary: &str, preamble: &str, fields: &[(&str, &str)], file: &[u8]) -> Vec<u8> {
        let mut b = preamble.as_bytes().to_vec();
        for (name, value) in fields {
            b.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .bytes(),
            );
        }
        b.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .bytes(),
        );
        b.extend_from_slice(file);
        b.extend(format!("\r\n--{boundary}--\r\n").bytes());
        b
    }

    fn derive(body: &[u8], boundary: &str, part: usize) -> Option<u64> {
        let prefix = Prefix::default();
        prefix
            .0
            .borrow_mut()
            .extend_from_slice(&body[..body.len().min(PREFIX_CAP)]);
        prefix.file_length(boundary, part, body.len() as u64)
    }

    #[test]
    fn the_file_part_length_is_what_the_client_sent() {
        // "--b" without a CRLF before it is content, not a delimiter.
        let file = b"x--b\r\n\r\n-- b --b--".repeat(3);
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            (
                "",
                &[("userId", "port-owncloud-alice:t"), ("filename", "a.bin")],
            ),
            ("a preamble\r\n", &[("userId", "u")]),
            ("\r\n", &[("empty", "")]),
        ];
        for (preamble, fields) in cases {
            let b = body("b", preamble, fields, &file);
            assert_eq!(
                derive(&b, "b", fields.len() + 1),
                Some(file.len() as u64),
                "{preamble:?} {fields:?}"
            );
        }
        assert_eq!(derive(&body("xyz", "", &[], b""), "xyz", 1), Some(0));
    }

    #[test]
    fn a_part_without_headers_starts_right_after_the_empty_line() {
        let b = b"--b\r\n\r\nabc\r\n--b--\r\n";
        assert_eq!(derive(b, "b", 1), Some(3));
    }

    #[test]
    fn no_derivation_without_the_part_or_its_headers() {
        let b = body("b", "", &[("userId", "u")], b"data");
        assert_eq!(derive(&b, "b", 3), None, "there is no third part");
        assert_eq!(derive(&b, "other", 2), None, "another boundary");
        let cut = b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\nContent-";
        assert_eq!(derive(cut, "b", 1), None, "headers not complete");
        let prefix = Prefix::default();
        prefix.0.borrow_mut().extend_from_slice(&b);
        assert_eq!(
            prefix.file_length("b", 2, 10),
            None,
            "Content-Length too small"
        );
    }

    #[tokio::test]
    async fn recording_stops_at_the_cap() {
        let prefix = Prefix::default();
        let chunks = vec![
            Ok(Bytes::from(vec![1u8; PREFIX_CAP - 1])),
            Ok(Bytes::from_static(b"abc")),
        ];
        let recorded = prefix.record(futures_util::stream::iter(chunks));
        let n = recorded.count().await;
        assert_eq!(n, 2);
        assert_eq!(prefix.0.borrow().len(), PREFIX_CAP);
        assert_eq!(prefix.0.borrow()[PREFIX_CAP - 1], b'a');
    }
}
