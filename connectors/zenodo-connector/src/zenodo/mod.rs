//! The Zenodo backend: RDS's metadata interface on Zenodo's deposit API, in Apache
//! OpenDAL's rooms:
//!
//! - [`backend`]: the `Metadata` impl; [`core`]: the REST client (bounded retries and
//!   bucket uploads on the core's `retry` and `transfer::upload`); [`error`]: Zenodo's
//!   wording on the core's error mapping.
//! - Project ids are Zenodo deposition ids (numbers; anything else is a 400).
//! - Files are listed as Zenodo describes them (`id`, `filename`, ...); the core resolves
//!   the caller's file id against them.

pub mod backend;
pub mod core;
pub mod error;

pub use backend::ZenodoBackend;
