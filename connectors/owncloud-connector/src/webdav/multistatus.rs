//! PROPFIND `207 Multi-Status` answers and Sabre error bodies, parsed by namespace, never
//! by prefix: servers write `d:`, `D:` or a default namespace, and ownCloud/Nextcloud add
//! their own props (`oc:`, `nc:`) that may come back in a second propstat with 404.
//!
//! Answers are parsed as they arrive ([`parse_stream`]), bounded per entry and in entries,
//! so a server's answer of any length costs at most what those bounds allow.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

const DAV: &[u8] = b"DAV:";
const OC: &[u8] = b"http://owncloud.org/ns";
const SABRE: &[u8] = b"http://sabredav.org/ns";

/// One `<d:response>`: a resource and the props the server found for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The href as sent: percent-encoded, absolute path, full URL or relative.
    pub href: String,
    pub is_collection: bool,
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `oc:size`: for folders, the size of everything inside.
    pub oc_size: Option<u64>,
    pub file_id: Option<String>,
    pub permissions: Option<String>,
}

impl Entry {
    /// The decoded path segments of the href, resolved against the URL that was asked.
    pub fn segments(&self, request_url: &Url) -> Option<Vec<String>> {
        let url = request_url.join(&self.href).ok()?;
        Some(decode_path(url.path()))
    }
}

/// Splits a URL path into decoded, non-empty segments.
pub fn decode_path(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the WebDAV answer is not well-formed XML: {0}")]
    Xml(String),
    #[error("the WebDAV answer is not a DAV multistatus")]
    NotMultistatus,
    /// One entry (or what came between two) was longer than this many bytes.
    #[error("an entry of the WebDAV answer is larger than {0} bytes, the limit MAX_UPSTREAM_ANSWER_BYTES")]
    TooLarge(usize),
    #[error("the WebDAV answer holds more than {0} entries, the limit MAX_LISTING_ENTRIES")]
    TooManyEntries(usize),
    /// The answer could not be read to its end (the transport's error inside).
    #[error("the WebDAV answer could not be read to its end")]
    Read(std::sync::Arc<std::io::Error>),
}

/// Which text-bearing element we are inside, if it is one we keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Href,
    Status,
    ContentLength,
    ContentType,
    Etag,
    LastModified,
    OcSize,
    FileId,
    Permissions,
}

fn field_of(ns: &[u8], local: &[u8]) -> Option<Field> {
    match (ns, local) {
        (DAV, b"href") => Some(Field::Href),
        (DAV, b"status") => Some(Field::Status),
        (DAV, b"getcontentlength") => Some(Field::ContentLength),
        (DAV, b"getcontenttype") => Some(Field::ContentType),
        (DAV, b"getetag") => Some(Field::Etag),
        (DAV, b"getlastmodified") => Some(Field::LastModified),
        (OC, b"size") => Some(Field::OcSize),
        (OC, b"fileid") => Some(Field::FileId),
        (OC, b"permissions") => Some(Field::Permissions),
        _ => None,
    }
}

/// Props of one propstat, applied to the entry only if its status is 2xx.
#[derive(Default)]
struct PropStat {
    props: Entry,
    status_ok: bool,
}

#[derive(Default)]
struct ParserState {
    entries: Vec<Entry>,
    response: Option<Entry>,
    /// `false` when the response itself carries a non-2xx `<d:status>` (no propstat).
    response_ok: bool,
    propstat: Option<PropStat>,
    in_resourcetype: bool,
    field: Option<Field>,
    text: String,
    saw_multistatus: bool,
}

impl ParserState {
    fn start(&mut self, ns: &[u8], local: &[u8]) {
        match (ns, local) {
            (DAV, b"multistatus") => self.saw_multistatus = true,
            (DAV, b"response") => {
                self.response = Some(Entry::default());
                self.response_ok = true;
            }
            (DAV, b"propstat") if self.response.is_some() => {
                self.propstat = Some(PropStat::default())
            }
            (DAV, b"resourcetype") => self.in_resourcetype = true,
            (DAV, b"collection") if self.in_resourcetype => {
                if let Some(ps) = &mut self.propstat {
                    ps.props.is_collection = true;
                }
            }
            _ => {
                self.field = field_of(ns, local);
                self.text.clear();
            }
        }
    }

    fn end(&mut self, ns: &[u8], local: &[u8]) {
        match (ns, local) {
            (DAV, b"response") => {
                if let Some(mut entry) = self.response.take() {
                    // Servers that leave out resourcetype still end folder hrefs in `/`.
                    entry.is_collection |= entry.href.ends_with('/');
                    if self.response_ok && !entry.href.is_empty() {
                        self.entries.push(entry);
                    }
                }
            }
            (DAV, b"propstat") => {
                if let (Some(ps), Some(entry)) = (self.propstat.take(), self.response.as_mut()) {
                    if ps.status_ok {
                        merge(entry, ps.props);
                    }
                }
            }
            (DAV, b"resourcetype") => self.in_resourcetype = false,
            _ => {
                if let Some(field) = self.field.take() {
                    let text = std::mem::take(&mut self.text);
                    self.set(field, text.trim());
                }
            }
        }
    }

    fn set(&mut self, field: Field, text: &str) {
        match field {
            Field::Href => {
                if let Some(r) = &mut self.response {
                    r.href = text.to_owned();
                }
            }
            Field::Status => {
                let ok = status_is_success(text);
                match (&mut self.propstat, &self.response) {
                    (Some(ps), _) => ps.status_ok = ok,
                    (None, Some(_)) => self.response_ok = ok,
                    _ => {}
                }
            }
            other => {
                let Some(ps) = &mut self.propstat else { return };
                let p = &mut ps.props;
                let owned = (!text.is_empty()).then(|| text.to_owned());
                match other {
                    Field::ContentLength => p.content_length = text.parse().ok(),
                    Field::ContentType => p.content_type = owned,
                    Field::Etag => p.etag = owned,
                    Field::LastModified => p.last_modified = owned,
                    Field::OcSize => p.oc_size = text.parse().ok(),
                    Field::FileId => p.file_id = owned,
                    Field::Permissions => p.permissions = owned,
                    Field::Href | Field::Status => {}
                }
            }
        }
    }
}

fn merge(into: &mut Entry, from: Entry) {
    into.is_collection |= from.is_collection;
    into.content_length = into.content_length.or(from.content_length);
    into.content_type = into.content_type.take().or(from.content_type);
    into.etag = into.etag.take().or(from.etag);
    into.last_modified = into.last_modified.take().or(from.last_modified);
    into.oc_size = into.oc_size.or(from.oc_size);
    into.file_id = into.file_id.take().or(from.file_id);
    into.permissions = into.permissions.take().or(from.permissions);
}

/// `HTTP/1.1 200 OK` → true; anything not 2xx (or unreadable) → false.
fn status_is_success(line: &str) -> bool {
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .is_some_and(|c| (200..300).contains(&c))
}

/// What one parse may hold: the bytes read since the last complete `<d:response>` (one
/// entry, or whatever a server sends between entries) and the number of entries.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// `MAX_UPSTREAM_ANSWER_BYTES`.
    pub max_entry_bytes: usize,
    /// `MAX_LISTING_ENTRIES` (plus the folder's own entry).
    pub max_entries: usize,
}

impl Bounds {
    /// No bound: for answers already in memory (tests, fuzzing).
    pub const NONE: Bounds = Bounds {
        max_entry_bytes: usize::MAX,
        max_entries: usize::MAX,
    };
}

/// Whether the parse goes on after one event.
enum Step {
    More,
    /// A `</d:response>` was read.
    EntryDone,
    End,
}

impl ParserState {
    /// Handles one event; `open` counts elements not yet closed.
    fn event(
        &mut self,
        ns: ResolveResult<'_>,
        event: Event<'_>,
        open: &mut usize,
    ) -> Result<Step, ParseError> {
        let ns: &[u8] = match ns {
            ResolveResult::Bound(n) => n.0,
            _ => b"",
        };
        match event {
            Event::Start(e) => {
                *open += 1;
                self.start(ns, e.local_name().as_ref());
            }
            Event::Empty(e) => {
                let local = e.local_name();
                self.start(ns, local.as_ref());
                self.end(ns, local.as_ref());
            }
            Event::End(e) => {
                *open = open.saturating_sub(1);
                let is_response = ns == DAV && e.local_name().as_ref() == b"response";
                self.end(ns, e.local_name().as_ref());
                if is_response {
                    return Ok(Step::EntryDone);
                }
            }
            Event::Text(t) if self.field.is_some() => {
                let text = t
                    .xml10_content()
                    .map_err(|e| ParseError::Xml(e.to_string()))?;
                self.text.push_str(&text);
            }
            Event::CData(c) if self.field.is_some() => {
                let text = c.decode().map_err(|e| ParseError::Xml(e.to_string()))?;
                self.text.push_str(&text);
            }
            Event::GeneralRef(r) if self.field.is_some() => {
                push_reference(&mut self.text, &r)?;
            }
            Event::Eof => return Ok(Step::End),
            _ => {}
        }
        Ok(Step::More)
    }

    fn finish(self, open: usize) -> Result<Vec<Entry>, ParseError> {
        // quick-xml does not complain about elements left open at the end: count them, so
        // a truncated answer is an error and not a shorter listing.
        if open > 0 {
            return Err(ParseError::Xml(
                "the answer ends inside an element (truncated)".into(),
            ));
        }
        if !self.saw_multistatus {
            return Err(ParseError::NotMultistatus);
        }
        Ok(self.entries)
    }
}

/// Parses a multistatus body into its responses, in document order (the first one is
/// the resource that was asked for).
pub fn parse(xml: &str) -> Result<Vec<Entry>, ParseError> {
    let mut reader = NsReader::from_str(xml);
    let mut st = ParserState::default();
    let mut open = 0usize;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| ParseError::Xml(e.to_string()))?;
        if let Step::End = st.event(ns, event, &mut open)? {
            return st.finish(open);
        }
    }
}

/// Parses a multistatus body as it arrives, holding only the entries and the one being
/// read: memory is bounded by `bounds`, not by the answer. `body` yields the answer's
/// chunks; its errors end the parse as [`ParseError::Read`].
pub async fn parse_stream<S, E>(body: S, bounds: Bounds) -> Result<Vec<Entry>, ParseError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    // Bytes handed to the parser, and the count at the end of the last entry: the source
    // refuses to hand more than `max_entry_bytes` past it, so no text or element (which
    // quick-xml gathers whole) can grow beyond that.
    let read = Arc::new(AtomicU64::new(0));
    let mark = Arc::new(AtomicU64::new(0));
    let over = Arc::new(AtomicBool::new(false));
    let max = bounds.max_entry_bytes as u64;
    let source = {
        let (read, mark, over) = (read.clone(), mark.clone(), over.clone());
        body.map(move |chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            let total = read.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total.saturating_sub(mark.load(Ordering::Relaxed)) > max {
                over.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("an entry exceeds the byte limit"));
            }
            Ok(chunk)
        })
    };
    let mut reader = NsReader::from_reader(tokio_util::io::StreamReader::new(source));
    let mut st = ParserState::default();
    let mut open = 0usize;
    // Every `<d:response>` counts, also those skipped for a failed status: an endless run
    // of them must end too.
    let mut responses = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let (ns, event) = match reader.read_resolved_event_into_async(&mut buf).await {
            Ok(ev) => ev,
            Err(_) if over.load(Ordering::Relaxed) => {
                return Err(ParseError::TooLarge(bounds.max_entry_bytes))
            }
            Err(quick_xml::Error::Io(e)) => return Err(ParseError::Read(e)),
            Err(e) => return Err(ParseError::Xml(e.to_string())),
        };
        match st.event(ns, event, &mut open)? {
            Step::More => {}
            Step::EntryDone => {
                responses += 1;
                if responses > bounds.max_entries {
                    return Err(ParseError::TooManyEntries(bounds.max_entries));
                }
                mark.store(read.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            Step::End => return st.finish(open),
        }
    }
}

/// Appends an entity or character reference (`&amp;`, `&#233;`) as its character.
fn push_reference(out: &mut String, r: &quick_xml::events::BytesRef<'_>) -> Result<(), ParseError> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| ParseError::Xml(e.to_string()))?
    {
        out.push(c);
        return Ok(());
    }
    let name = r.decode().map_err(|e| ParseError::Xml(e.to_string()))?;
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(s) => out.push_str(s),
        None => return Err(ParseError::Xml(format!("unknown entity &{name};"))),
    }
    Ok(())
}

/// The `<s:message>` of a Sabre error body (`<d:error>`), if there is one.
pub fn sabre_message(xml: &str) -> Option<String> {
    let mut reader = NsReader::from_str(xml);
    let mut in_message = false;
    let mut text = String::new();
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let is_message = |local: &[u8]| {
            matches!(ns, ResolveResult::Bound(n) if n.0 == SABRE) && local == b"message"
        };
        match event {
            Event::Start(e) if is_message(e.local_name().as_ref()) => in_message = true,
            Event::End(e) if is_message(e.local_name().as_ref()) => {
                let msg = text.trim().to_owned();
                return (!msg.is_empty()).then_some(msg);
            }
            Event::Text(t) if in_message => text.push_str(&t.xml10_content().ok()?),
            Event::GeneralRef(r) if in_message => push_reference(&mut text, &r).ok()?,
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn names(entries: &[Entry], request: &str) -> Vec<String> {
        let url = Url::parse(request).unwrap();
        entries
            .iter()
            .map(|e| {
                e.segments(&url)
                    .unwrap()
                    .last()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn owncloud10_folder() {
        let entries = parse(&fixture("owncloud10_propfind.xml")).unwrap();
        assert_eq!(entries.len(), 5);
        let root = &entries[0];
        assert!(root.is_collection);
        assert_eq!(root.href, "/remote.php/webdav/Photos%20%26%20more/");
        assert_eq!(root.oc_size, Some(3_145_728 + 12));
        assert_eq!(root.file_id.as_deref(), Some("00000123ocabc123"));
        let req = "https://cloud.example.org/remote.php/webdav/Photos%20%26%20more/";
        assert_eq!(
            names(&entries, req),
            [
                "Photos & more",
                "Sub folder",
                "100% #1?.txt",
                "Ünïcödé+plus.jpg",
                "empty.bin"
            ]
        );
        let file = &entries[2];
        assert!(!file.is_collection);
        assert_eq!(file.content_length, Some(12));
        assert_eq!(file.content_type.as_deref(), Some("text/plain"));
        assert_eq!(file.etag.as_deref(), Some("\"5f2b7d3c9a1e4\""));
        assert_eq!(
            file.last_modified.as_deref(),
            Some("Tue, 10 Mar 2026 08:15:00 GMT")
        );
        assert_eq!(file.permissions.as_deref(), Some("RDNVW"));
        // The empty file's length is 0, not missing.
        assert_eq!(entries[4].content_length, Some(0));
        // Folder entries: collection; their getcontentlength came back in a 404 propstat.
        assert!(entries[1].is_collection);
        assert_eq!(entries[1].content_length, None);
    }

    #[test]
    fn nextcloud_folder_with_other_prefixes() {
        let entries = parse(&fixture("nextcloud_propfind.xml")).unwrap();
        assert_eq!(entries.len(), 4);
        let req = "https://nc.example.org/remote.php/dav/files/alice/Projects/";
        assert_eq!(
            names(&entries, req),
            ["Projects", "a&b c.csv", "Daten 2026", "données.txt"]
        );
        assert!(entries[0].is_collection);
        assert!(!entries[1].is_collection);
        assert!(entries[2].is_collection);
        assert_eq!(entries[1].content_length, Some(2048));
        assert_eq!(
            entries[3].content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        // Full-URL href resolves to the same path.
        assert_eq!(
            entries[3].segments(&Url::parse(req).unwrap()).unwrap(),
            [
                "remote.php",
                "dav",
                "files",
                "alice",
                "Projects",
                "données.txt"
            ]
        );
    }

    #[test]
    fn default_namespace_relative_hrefs_and_failed_responses() {
        let xml = r#"<?xml version="1.0"?>
            <multistatus xmlns="DAV:">
              <response><href>./</href>
                <propstat><prop><getetag>"e1"</getetag></prop>
                <status>HTTP/1.1 200 OK</status></propstat></response>
              <response><href>x%20y.txt</href>
                <propstat><prop><getcontentlength>7</getcontentlength><resourcetype/></prop>
                <status>HTTP/1.1 200 OK</status></propstat></response>
              <response><href>gone.txt</href><status>HTTP/1.1 404 Not Found</status></response>
              <response><href>odd&amp;name&#x20;.txt</href>
                <propstat><prop><getcontentlength><![CDATA[3]]></getcontentlength></prop>
                <status>HTTP/1.1 200 OK</status></propstat></response>
            </multistatus>"#;
        let entries = parse(xml).unwrap();
        assert_eq!(entries.len(), 3, "the 404 response is skipped");
        let req = "http://h/remote.php/webdav/dir/";
        assert_eq!(names(&entries, req), ["dir", "x y.txt", "odd&name .txt"]);
        assert_eq!(entries[1].content_length, Some(7));
        assert!(
            entries[0].is_collection,
            "a `/` href without resourcetype is a folder"
        );
        assert_eq!(entries[2].content_length, Some(3));
    }

    fn chunks(
        xml: &str,
        size: usize,
    ) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin {
        let parts: Vec<_> = xml
            .as_bytes()
            .chunks(size)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(parts)
    }

    /// The streamed parse sees what the whole-text parse sees, however the answer is cut,
    /// and refuses past its bounds.
    #[tokio::test]
    async fn streamed_parse_matches_and_is_bounded() {
        let xml = fixture("owncloud10_propfind.xml");
        let whole = parse(&xml).unwrap();
        for size in [1, 7, 64, 4096] {
            let streamed = parse_stream(chunks(&xml, size), Bounds::NONE)
                .await
                .unwrap();
            assert_eq!(streamed, whole, "chunks of {size}");
        }
        let few = Bounds {
            max_entry_bytes: usize::MAX,
            max_entries: 3,
        };
        assert!(matches!(
            parse_stream(chunks(&xml, 64), few).await,
            Err(ParseError::TooManyEntries(3))
        ));
        // Responses skipped for their status count too.
        let failed = format!(
            r#"<d:multistatus xmlns:d="DAV:">{}</d:multistatus>"#,
            "<d:response><d:href>/x</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
                .repeat(10)
        );
        assert!(matches!(
            parse_stream(chunks(&failed, 64), few).await,
            Err(ParseError::TooManyEntries(3))
        ));
        let small = Bounds {
            max_entry_bytes: 256,
            max_entries: usize::MAX,
        };
        assert!(matches!(
            parse_stream(chunks(&xml, 64), small).await,
            Err(ParseError::TooLarge(256))
        ));
        assert!(
            parse_stream(chunks(&xml[..xml.len() / 2], 64), Bounds::NONE)
                .await
                .is_err()
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(
            parse("<html><body>Maintenance</body></html>"),
            Err(ParseError::NotMultistatus)
        ));
        assert!(parse("<d:multistatus xmlns:d=\"DAV:\"><d:response>").is_err());
    }

    #[test]
    fn sabre_error_message() {
        let xml = fixture("sabre_error_404.xml");
        assert_eq!(
            sabre_message(&xml).as_deref(),
            Some("File with name Missing & Co could not be located")
        );
        assert_eq!(sabre_message("<html/>"), None);
    }
}
