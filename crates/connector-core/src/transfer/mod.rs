//! What every transfer gets from the core, whatever the provider: a progress watchdog
//! that cuts a stalled stream without capping a healthy long one ([`watchdog`]), and
//! digests computed while the bytes stream, to compare with what the provider stored
//! ([`digest`]); and for providers that need an upload's length first, its body streamed,
//! buffered or spooled, and its name flattened ([`upload`]), or cut into parts that are
//! retried one by one for a provider's multipart transfer ([`parts`]), or framed as a
//! multipart/form-data body of known length ([`form`]); and what the operator sees of each
//! transfer, its metrics and progress lines ([`meter`]).

pub mod digest;
pub mod form;
pub(crate) mod meter;
pub mod parts;
pub mod upload;
pub mod watchdog;

pub use digest::{hashing, Algorithm, ChecksumMismatch, DigestHandle, Digests};
pub use watchdog::{idle_timeout, TransferStall};
