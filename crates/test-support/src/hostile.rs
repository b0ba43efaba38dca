//! A small HTTP server that answers what a test tells it to, for providers that misbehave
//! in ways no real server library would: answers of any size sent as a stream (chunked,
//! no `Content-Length`), endless listings, crafted names. It counts requests and the body
//! bytes it managed to send, so a test can tell that the connector stopped reading or
//! stopped asking.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// What a handler answers.
pub type Answer = Response<BoxBody<Bytes, Infallible>>;

/// A complete answer with a `Content-Length`.
pub fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut resp = Response::new(Full::new(body.into()).boxed());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(ct) = content_type.parse() {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, ct);
    }
    resp
}

/// Counts of what the server did, shared with its handler.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    body_bytes_sent: AtomicU64,
}

impl Counters {
    /// Requests whose head arrived.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Bytes of streamed bodies ([`streamed`]) handed to the connection so far.
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }
}

/// An answer streamed chunk by chunk (`Transfer-Encoding: chunked`), each chunk counted
/// when the connection takes it: a reader that stops reading stops the count.
pub fn streamed(
    counters: &Arc<Counters>,
    status: u16,
    content_type: &str,
    chunks: impl Stream<Item = Bytes> + Send + Sync + 'static,
) -> Answer {
    let counters = Arc::clone(counters);
    let frames = chunks.map(move |chunk| {
        counters
            .body_bytes_sent
            .fetch_add(chunk.len() as u64, Ordering::SeqCst);
        Ok::<_, Infallible>(Frame::data(chunk))
    });
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(ct) = content_type.parse() {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, ct);
    }
    resp
}

/// A running server; stopped (every connection dropped) when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl HostileServer {
    /// Listens on a free loopback port; `handler` answers every request.
    pub async fn start<F, Fut>(handler: F) -> std::io::Result<Self>
    where
        F: Fn(Request<hyper::body::Incoming>, Arc<Counters>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(handler),
            Arc::clone(&counters),
        ));
        Ok(Self {
            addr,
            counters,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    pub fn requests(&self) -> u64 {
        self.counters.requests()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, handler: Arc<F>, counters: Arc<Counters>)
where
    F: Fn(Request<hyper::body::Incoming>, Arc<Counters>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let handler = Arc::clone(&handler);
                let counters = Arc::clone(&counters);
                conns.spawn(async move {
                    let service = service_fn(move |req| {
                        counters.requests.fetch_add(1, Ordering::SeqCst);
                        let answer = handler(req, Arc::clone(&counters));
                        async move { Ok::<_, Infallible>(answer.await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}
