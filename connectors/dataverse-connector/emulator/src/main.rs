//! `dataverse-emulator`: the emulator as a process for the conformance stack
//! (crates/conformance-stack), following `test_support::emulator`'s protocol. The user's
//! token is the user's API token; a dataset is created for the user at start and named to
//! the hooks as `CONFORMANCE_PROJECT` (its database id).

use std::process::ExitCode;

use dataverse_emulator::DataverseEmulator;
use test_support::emulator::{serve, Announcement};

fn main() -> ExitCode {
    serve("dataverse-emulator", |inv| async move {
        let emulator = DataverseEmulator::start()
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        emulator.add_token(&inv.token, &inv.user);
        let project = emulator
            .create_sample_dataset(&inv.user)
            .ok_or("cannot create the sample dataset")?;
        let announcement = Announcement::default()
            .env("DATAVERSE_ADDRESS", emulator.url())
            .env(
                "DATAVERSE_CONTACT_EMAIL",
                format!("{}@example.org", inv.user),
            )
            .hook("CONFORMANCE_PROJECT", project.to_string());
        Ok((announcement, emulator))
    })
}
