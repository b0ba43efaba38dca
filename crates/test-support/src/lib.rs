//! Real servers and faithful emulators for the connectors' tests and the demo.
//!
//! - [`token_storage`]: RDS's Token Storage (`POST /service`) and the port service's token
//!   lookup (`GET /user/{user}/service/{servicename}`), in process.
//! - [`webdav`]: a real WebDAV server (the `dav-server` crate) laid out like ownCloud and
//!   Nextcloud, behind a token check, with their file ids, checksums and chunked uploads.
//! - [`faulty`]: a raw-TCP upstream that truncates, resets, stalls or trickles; [`paced`]:
//!   uploads sent at a chosen pace, or stalled midway.
//! - [`zenodo`]: an emulator of Zenodo's deposit API, following its live behaviour.
//! - [`hostile`]: a server answering what a test crafts (streamed answers of any size);
//!   [`hostile_dav`] builds WebDAV trees on it that never end, loop, or hold bad names.

pub mod faulty;
pub mod hostile;
pub mod hostile_dav;
pub mod load;
pub mod paced;
mod server_thread;
pub mod token_storage;
pub mod webdav;
pub mod zenodo;
