//! What every transfer gets from the core, whatever the provider: a progress watchdog
//! that cuts a stalled stream without capping a healthy long one ([`watchdog`]), and
//! digests computed while the bytes stream, to compare with what the provider stored
//! ([`digest`]); and for providers that need an upload's length first, its body streamed,
//! buffered or spooled, and its name flattened ([`upload`]), or cut into parts that are
//! retried one by one for a provider's multipart transfer ([`parts`]), or framed as a
//! multipart/form-data body of known length ([`form`]).

pub mod digest;
pub mod form;
pub mod parts;
pub mod upload;
pub mod watchdog;

pub use digest::{hashing, Algorithm, DigestHandle, Digests};
pub use watchdog::{idle_timeout, TransferStall};
