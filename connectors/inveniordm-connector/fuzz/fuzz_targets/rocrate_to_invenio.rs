//! Any JSON as RDS metadata: the mapping never panics, and what it produces survives
//! InvenioRDM → RO-Crate → InvenioRDM unchanged (the round trip on its own output).
#![no_main]

use inveniordm_connector::mapping::{to_invenio, to_ro_crate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let once = to_invenio(&to_ro_crate(&to_invenio(&input)));
    let twice = to_invenio(&to_ro_crate(&once));
    assert_eq!(once, twice, "the mapping is stable after one round");
});
