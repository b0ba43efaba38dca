//! Multistatus documents built from structured entries (any of the prefixes servers
//! use, escaped text, a 404 propstat with decoy values, failed responses, unknown props)
//! parse back to exactly those entries.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use owncloud_connector::webdav::multistatus::{parse, Entry};

#[derive(Debug, Arbitrary)]
struct GenEntry {
    href: String,
    is_collection: bool,
    content_length: Option<u64>,
    content_type: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    oc_size: Option<u64>,
    file_id: Option<String>,
    permissions: Option<String>,
    /// A second propstat with status 404 whose values must be ignored.
    decoy: bool,
    /// A response with a non-2xx status and no propstat before this one (skipped).
    failed_before: bool,
    cdata_href: bool,
}

#[derive(Debug, Arbitrary)]
struct Doc {
    /// 0: `d:` prefix, 1: `D:` prefix, 2: default namespace.
    style: u8,
    entries: Vec<GenEntry>,
}

/// What the parser keeps of a text: trimmed, control characters (which XML 1.0 forbids
/// or normalises) replaced.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { 'x' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(clean).filter(|s| !s.is_empty())
}

fuzz_target!(|doc: Doc| {
    let d = match doc.style % 3 {
        0 => "d:",
        1 => "D:",
        _ => "",
    };
    let ns = match doc.style % 3 {
        0 => r#"xmlns:d="DAV:""#,
        1 => r#"xmlns:D="DAV:""#,
        _ => r#"xmlns="DAV:""#,
    };
    let mut xml = format!(
        r#"<?xml version="1.0"?><{d}multistatus {ns} xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">"#
    );
    let mut want = Vec::new();
    for g in &doc.entries {
        if g.failed_before {
            xml.push_str(&format!(
                "<{d}response><{d}href>/gone</{d}href><{d}status>HTTP/1.1 404 Not Found</{d}status></{d}response>"
            ));
        }
        let href = clean(&g.href);
        let e = Entry {
            href: href.clone(),
            // A folder by resourcetype, or by its href ending in `/` (servers that leave
            // out resourcetype).
            is_collection: g.is_collection || href.ends_with('/'),
            content_length: g.content_length,
            content_type: opt(&g.content_type),
            etag: opt(&g.etag),
            last_modified: opt(&g.last_modified),
            oc_size: g.oc_size,
            file_id: opt(&g.file_id),
            permissions: opt(&g.permissions),
        };
        let href_xml = if g.cdata_href && !href.contains("]]>") {
            format!("<![CDATA[{href}]]>")
        } else {
            esc(&href)
        };
        xml.push_str(&format!("<{d}response>\n  <{d}href>{href_xml}</{d}href>"));
        xml.push_str(&format!("<{d}propstat><{d}prop>"));
        let mut prop = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                xml.push_str(&format!("<{name}> {} </{name}>", esc(&v)));
            }
        };
        prop(
            &format!("{d}getcontentlength"),
            e.content_length.map(|n| n.to_string()),
        );
        prop(&format!("{d}getcontenttype"), e.content_type.clone());
        prop(&format!("{d}getetag"), e.etag.clone());
        prop(&format!("{d}getlastmodified"), e.last_modified.clone());
        prop("oc:size", e.oc_size.map(|n| n.to_string()));
        prop("oc:fileid", e.file_id.clone());
        prop("oc:permissions", e.permissions.clone());
        prop("nc:has-preview", Some("false".into()));
        if e.is_collection {
            xml.push_str(&format!(
                "<{d}resourcetype><{d}collection/></{d}resourcetype>"
            ));
        } else {
            xml.push_str(&format!("<{d}resourcetype/>"));
        }
        xml.push_str(&format!(
            "</{d}prop><{d}status>HTTP/1.1 200 OK</{d}status></{d}propstat>"
        ));
        if g.decoy {
            xml.push_str(&format!(
                "<{d}propstat><{d}prop><{d}getcontentlength>99</{d}getcontentlength>\
                 <{d}getetag>decoy</{d}getetag><oc:fileid>decoy</oc:fileid>\
                 <{d}resourcetype><{d}collection/></{d}resourcetype></{d}prop>\
                 <{d}status>HTTP/1.1 404 Not Found</{d}status></{d}propstat>"
            ));
        }
        xml.push_str(&format!("</{d}response>\n"));
        if !href.is_empty() {
            want.push(e);
        }
    }
    xml.push_str(&format!("</{d}multistatus>"));
    match parse(&xml) {
        Ok(got) => assert_eq!(got, want, "{xml}"),
        Err(e) => panic!("{e}: {xml}"),
    }
});
