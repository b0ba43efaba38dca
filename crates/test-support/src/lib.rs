//! Real servers and faithful emulators for the connectors' tests and the demo.
//!
//! - [`token_storage`]: RDS's Token Storage (`POST /service`) and the port service's token
//!   lookup (`GET /user/{user}/service/{servicename}`), in process.
//! - [`webdav`]: a real WebDAV server (the `dav-server` crate) laid out like ownCloud and
//!   Nextcloud, behind a token check.
//! - [`zenodo`]: an emulator of Zenodo's deposit API, following its live behaviour.

pub mod faulty;
pub mod load;
pub mod logs;
mod server_thread;
pub mod token_storage;
pub mod webdav;
pub mod zenodo;
