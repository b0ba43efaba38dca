//! The fileStorage backend over ownCloud/Nextcloud WebDAV, in Apache OpenDAL's rooms:
//!
//! - [`backend`]: the `FileStorage` impl;
//! - [`core`]: the WebDAV client (URLs, auth, one method per verb);
//! - [`lister`]: folder listings, recursive with bounded concurrency, depth and entries;
//! - [`writer`]: uploads, plain or chunked, written in place;
//! - [`integrity`]: the server's checksums against the digests of what streamed through;
//! - [`multistatus`]: the PROPFIND and error XML;
//! - [`error`]: WebDAV statuses → the contract's errors.
//!
//! A missing path is `NotFound`; the core retries percent-encoded paths decoded and
//! formats listings for RDS.

pub mod backend;
pub mod core;
pub mod error;
pub mod integrity;
pub mod lister;
pub mod multistatus;
pub mod writer;

pub use backend::OwncloudStorage;
