//! The Zenodo backend: RDS's metadata interface on Zenodo's deposit API, in Apache
//! OpenDAL's rooms:
//!
//! - [`backend`]: the `Metadata` impl; [`core`]: the REST client; [`retry`]: bounded
//!   retries; [`error`]: error mapping; [`writer`]: spool-or-stream for bucket uploads
//!   and flat file names.
//! - Project ids are Zenodo deposition ids (numbers; anything else is a 400).
//! - Files are listed as Zenodo describes them (`id`, `filename`, ...); the core resolves
//!   the caller's file id against them.

pub mod backend;
pub mod core;
pub mod error;
pub mod retry;
pub mod writer;

pub use backend::ZenodoBackend;
