//! `dataverse-emulator`: the emulator as a process for the conformance stack
//! (crates/conformance-stack), following `test_support::emulator`'s protocol: started with
//! the user's token, it prints the connector's environment to reach it and the hook
//! variables of ci/conformance/hooks.py, and serves until its stdin ends.

use std::process::ExitCode;

use dataverse_emulator::DataverseEmulator;
use test_support::emulator::{serve, Announcement};

fn main() -> ExitCode {
    serve("dataverse-emulator", |inv| async move {
        let emulator =
            DataverseEmulator::start(&inv.token).map_err(|e| format!("cannot start: {e}"))?;
        // Once the connector serves its interface, prepare sample state here and name it
        // to the hooks: `CONFORMANCE_PATHS` (fileStorage: `|`-separated paths that exist),
        // `CONFORMANCE_PROJECT=1` (metadata: the hooks create a project with a file).
        // The connector answers 501 problem+json on every interface route (the contract's
        // answer for an operation not written yet): allowed in the conformance run until its
        // methods are written. Remove the hook then, so that a 501 fails the run.
        let announcement = Announcement::default()
            .env("DATAVERSE_ADDRESS", emulator.url())
            .hook("CONFORMANCE_ALLOW_501", "1");
        Ok((announcement, emulator))
    })
}
