//! Any JSON as RDS metadata: the mapping never panics, and what it produces survives
//! citation block → RO-Crate → citation block unchanged (the round trip on its own
//! output), through the citation fields as well.
#![no_main]

use dataverse_connector::mapping::{from_fields, from_ro_crate, to_fields, to_ro_crate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let once = from_ro_crate(&to_ro_crate(&from_ro_crate(&input)));
    let twice = from_ro_crate(&to_ro_crate(&once));
    assert_eq!(once, twice, "the mapping is stable after one round");
    let fields = from_fields(&to_fields(&once));
    assert_eq!(fields.title, once.title);
    assert_eq!(fields.authors, once.authors);
    assert_eq!(fields.keywords, once.keywords);
});
