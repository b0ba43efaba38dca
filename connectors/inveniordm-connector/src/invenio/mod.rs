//! RDS's metadata interface on InvenioRDM's REST API:
//!
//! - [`backend`]: the `Metadata` impl; [`core`]: the REST client and its retries;
//!   [`error`]: Invenio's error answers mapped; [`writer`]: stream, buffer or spool an
//!   upload so it goes out with a length.
//! - Project ids are record ids: strings (`abcd-1234` on a stock instance, numbers on
//!   Zenodo), checked to be one plain path segment.
//! - Files are listed as Invenio describes them (`key`, `size`, `checksum`, `status`,
//!   `links`); the core resolves the caller's file id against their keys.

pub mod backend;
pub mod core;
pub mod error;
pub mod writer;

pub use backend::InvenioBackend;
