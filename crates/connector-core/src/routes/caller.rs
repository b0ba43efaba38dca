//! Noticing a caller who has gone, so its work stops (and the connection's socket options).
//!
//! actix-web keeps running a handler after its caller has closed the connection (a read
//! end-of-stream may be an HTTP half-close), so a listing of a tree without end went on
//! walking the provider long after RDS had given up. At accept, [`on_connect`] keeps a
//! duplicate of the connection's socket; [`unless_caller_leaves`] races a handler's work
//! against that socket reporting end-of-stream or an error, and drops the work (and with
//! it every upstream call it has in flight) when the caller is gone.

use std::any::Any;
use std::future::Future;

use actix_web::dev::Extensions;
use actix_web::HttpRequest;

use crate::error::ConnectorError;

/// A duplicate of the connection's socket, dropped with the connection.
struct CallerSocket(std::net::TcpStream);

/// `HttpServer::on_connect`: remembers the socket of a plain TCP connection.
pub(crate) fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    // An answer's head and its body can leave in two writes (a download's first bytes
    // come from its own pump); with Nagle's algorithm on, the second waits for the
    // caller's delayed ACK, 40 ms per small request.
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        let _ = tcp.set_nodelay(true);
    }
    #[cfg(unix)]
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        use std::os::fd::AsFd;
        if let Ok(fd) = tcp.as_fd().try_clone_to_owned() {
            ext.insert(CallerSocket(std::net::TcpStream::from(fd)));
        }
    }
    #[cfg(not(unix))]
    let _ = (conn, ext);
}

/// Resolves when the caller of `req` has closed its connection or it broke; never when
/// that cannot be told (no socket, or a next request already waiting on it).
async fn gone(req: &HttpRequest) {
    let stream = req
        .conn_data::<CallerSocket>()
        .and_then(|s| s.0.try_clone().ok())
        .and_then(|s| tokio::net::TcpStream::from_std(s).ok());
    let Some(stream) = stream else {
        return std::future::pending().await;
    };
    let mut byte = [0u8; 1];
    match stream.peek(&mut byte).await {
        // End of stream, or a reset: nobody is there to read an answer.
        Ok(0) | Err(_) => {}
        // A pipelined request: the caller is there.
        Ok(_) => std::future::pending().await,
    }
}

/// How long work runs before the caller's socket is watched. Watching costs a `dup`, two
/// `epoll_ctl`, a `recv` and a `close` per request (3 % of a small listing's CPU in the
/// profile, docs/bench/profile.md); a small answer is done before this, and a long walk
/// stops this much later at most.
const WATCH_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs `work` unless the caller leaves first; then `work` is dropped, with everything it
/// has in flight, and the answer (which nobody reads) says so.
pub(crate) async fn unless_caller_leaves<T>(
    req: &HttpRequest,
    work: impl Future<Output = Result<T, ConnectorError>>,
) -> Result<T, ConnectorError> {
    let watch = async {
        tokio::time::sleep(WATCH_AFTER).await;
        gone(req).await
    };
    tokio::select! {
        biased;
        done = work => done,
        () = watch => {
            tracing::info!("the caller closed the connection; its request's work is stopped");
            Err(ConnectorError::BadRequest(
                "the caller closed the connection before the answer".into(),
            ))
        }
    }
}
