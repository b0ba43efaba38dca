//! RDS's metadata interface on InvenioRDM's REST API:
//!
//! - [`backend`]: the `Metadata` impl, with the three-step and multipart uploads;
//!   [`core`]: the REST client (the core's retries); [`error`]: Invenio's error answers
//!   mapped.
//! - Project ids are record ids: strings (`abcd-1234` on a stock instance, numbers on
//!   Zenodo), checked to be one plain path segment.
//! - Files are listed as Invenio describes them (`key`, `size`, `checksum`, `status`,
//!   `links`); the core resolves the caller's file id against their keys.

pub mod backend;
pub mod core;
pub mod error;

pub use backend::InvenioBackend;
