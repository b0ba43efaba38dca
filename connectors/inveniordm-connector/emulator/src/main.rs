//! `inveniordm-emulator`: the emulator as a process for the conformance stack
//! (crates/conformance-stack), following `test_support::emulator`'s protocol. The user's
//! token is a personal access token of the instance (the connector runs in login mode:
//! no OAuth client is announced); the hooks create their project through the connector.

use std::process::ExitCode;

use inveniordm_emulator::InvenioEmulator;
use test_support::emulator::{serve, Announcement};

fn main() -> ExitCode {
    serve("inveniordm-emulator", |inv| async move {
        let emulator = InvenioEmulator::start()
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        emulator.add_token(&inv.token, &inv.user);
        let announcement = Announcement::default()
            .env("INVENIORDM_ADDRESS", emulator.url())
            .hook("CONFORMANCE_PROJECT", "1");
        Ok((announcement, emulator))
    })
}
