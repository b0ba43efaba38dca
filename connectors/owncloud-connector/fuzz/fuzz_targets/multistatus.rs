//! The PROPFIND multistatus parser on any text: no panic; every entry it keeps has a
//! trimmed, non-empty href whose segments resolve without panicking and are never
//! empty; parsing is deterministic. The Sabre error reader too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use owncloud_connector::webdav::multistatus::{decode_path, parse, sabre_message};
use url::Url;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(msg) = sabre_message(xml) {
        assert!(!msg.is_empty() && msg.trim() == msg);
    }
    let Ok(entries) = parse(xml) else {
        return;
    };
    let again = parse(xml).ok();
    assert_eq!(again.as_ref(), Some(&entries));
    let Ok(request) = Url::parse("https://cloud.example.org/remote.php/webdav/dir/") else {
        return;
    };
    for e in &entries {
        assert!(
            !e.href.is_empty() && e.href.trim() == e.href,
            "{:?}",
            e.href
        );
        if let Some(segs) = e.segments(&request) {
            assert!(segs.iter().all(|s| !s.is_empty()));
        }
        assert!(decode_path(&e.href).iter().all(|s| !s.is_empty()));
    }
});
