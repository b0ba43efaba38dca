//! `zenodo-emulator`: the emulator as a process for the conformance stack, following
//! `test_support::emulator`'s protocol. The user's token is a Zenodo personal access token;
//! the hooks create their project through the connector.

use std::process::ExitCode;

use test_support::emulator::{serve, Announcement};
use zenodo_emulator::ZenodoEmulator;

fn main() -> ExitCode {
    serve("zenodo-emulator", |inv| async move {
        let zenodo = ZenodoEmulator::start()
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        zenodo.add_token(&inv.token, &inv.user);
        let announcement = Announcement::default()
            .env("ZENODO_ADDRESS", zenodo.url())
            .env("ZENODO_OAUTH_CLIENT_ID", "conformance-zenodo-client")
            .env(
                "ZENODO_OAUTH_CLIENT_SECRET",
                "conformance-zenodo-client-secret",
            )
            .hook("CONFORMANCE_PROJECT", "1");
        Ok((announcement, zenodo))
    })
}
