//! RDS's metadata interface on Dataverse's native API:
//!
//! - [`backend`]: the `Metadata` impl; [`core`]: the REST client (the core's retries,
//!   lock polling); [`error`]: Dataverse's error answers mapped; [`paths`]: RDS's file
//!   names as `directoryLabel` + `label`.
//! - Project ids are dataset database ids (digits); file ids data file database ids.

pub mod backend;
pub mod core;
pub mod error;
pub mod paths;

pub use backend::DataverseBackend;
