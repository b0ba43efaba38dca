//! Streamed bodies crossing the core/provider boundary.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

/// A byte stream that can be handed to reqwest (`Body::wrap_stream`) or to actix.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + 'static>>;

/// An upload arriving as a multipart part, streamed: the bytes are read from the caller
/// while the provider sends them on, never held whole in memory.
pub struct Upload {
    /// The name the caller gave: the `filename` form field, else the part's file name.
    pub filename: Option<String>,
    /// The file's size: declared (a `size` form field, the part's own `Content-Length`)
    /// or derived from the request's `Content-Length` when the file part is last. The
    /// core ends the body with an error if the bytes do not match it. Unknown for a
    /// chunked request without a `size` field.
    pub size: Option<u64>,
    pub content_type: Option<String>,
    pub body: ByteStream,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("filename", &self.filename)
            .field("size", &self.size)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}
