//! `StoragePath::parse`: no `..` (plain or percent-encoded) ever survives, no NUL, no
//! empty or `.` segment; the output re-parses to itself; refusals happen only for `..`
//! or NUL; `parent`/`join`/`decoded_variant` keep the same guarantees.
#![no_main]

use connector_core::interface::StoragePath;
use libfuzzer_sys::fuzz_target;

fn escapes(seg: &str) -> bool {
    let decoded = url_decode(seg);
    seg == ".." || decoded.split(['/', '\\']).any(|p| p == "..")
}

/// Percent-decoding written independently of the parser's (lossy, like it).
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check(p: &StoragePath) {
    let s = p.as_string();
    assert!(s.starts_with('/'));
    for seg in p.segments() {
        assert!(!seg.is_empty() && seg != "." && !seg.contains('/') && !seg.contains('\0'));
        assert!(!escapes(seg), "{seg:?} survived in {s:?}");
    }
    assert_eq!(
        StoragePath::parse(&s).ok().as_ref(),
        Some(p),
        "{s:?} does not re-parse to itself"
    );
    assert_eq!(p.to_string(), s);
    assert_eq!(p.is_root(), s == "/");
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is the path, the second (if any) a name to join.
    let (path, name) = raw.split_once('\n').unwrap_or((raw, ""));
    match StoragePath::parse(path) {
        Ok(p) => {
            assert!(!path.contains('\0'));
            check(&p);
            if let Some(parent) = p.parent() {
                check(&parent);
                let last = p.file_name().unwrap_or_default();
                assert_eq!(parent.join(last).ok(), Some(p.clone()));
            }
            if let Some(d) = p.decoded_variant() {
                check(&d);
            }
            if let Ok(j) = p.join(name) {
                check(&j);
                assert!(j.segments().starts_with(p.segments()));
            }
        }
        Err(_) => assert!(
            path.contains('\0') || path.split('/').any(escapes),
            "{path:?} refused without '..' or NUL"
        ),
    }
});
