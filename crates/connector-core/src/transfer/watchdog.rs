//! Idle timeouts that measure idleness: a transfer that moves at least one byte per
//! `IDLE_TIMEOUT_SECS` is never cut, however long it runs; one that stalls is cut within
//! about that time. Three places need it, each in the direction it watches:
//!
//! - a stream someone is reading ([`idle_timeout`]): a provider's download body, a
//!   caller's upload body. The timer runs while the reader waits for the next chunk.
//! - an outbound upload ([`Progress`] + [`stalled`]): reqwest pulls the body only as fast
//!   as the provider takes it, so the watchdog runs beside the request, not inside the
//!   stream. While the body flows, the idle timeout applies; once it has all been sent,
//!   the response deadline applies to the answer's head.
//! - a download to a caller who stops reading ([`to_caller`]): a watchdog task beside it
//!   drops the provider's stream (releasing the provider) when the caller has taken
//!   nothing for the idle timeout.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::interface::ByteStream;
use crate::transfer::meter::{Meter, Outcome};

fn secs(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64().max(1.0))
}

/// Ends `body` with a `TimedOut` error when no chunk arrives for `idle` while it is read.
pub fn idle_timeout(body: ByteStream, idle: Duration) -> ByteStream {
    Box::pin(IdleTimeout {
        inner: body,
        idle,
        sleep: Box::pin(tokio::time::sleep(idle)),
        done: false,
    })
}

struct IdleTimeout {
    inner: ByteStream,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    done: bool,
}

impl Stream for IdleTimeout {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                this.done = !matches!(item, Some(Ok(_)));
                Poll::Ready(item)
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.done = true;
                    Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no byte arrived for {}", secs(this.idle)),
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// How an outbound upload stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransferStall {
    /// No byte of the body went out for the idle timeout (the provider took none, or none
    /// came from the caller).
    #[error("the upload moved no byte for {}", secs(*.0))]
    Body(Duration),
    /// The whole body went out, but no answer came within the response deadline.
    #[error("the provider did not answer within {} of receiving the whole upload", secs(*.0))]
    Answer(Duration),
}

/// The progress of an outbound body: when a byte last went out, and when the last did.
#[derive(Debug)]
pub(crate) struct Progress {
    origin: Instant,
    /// Milliseconds since `origin` of the last chunk taken.
    last: AtomicU64,
    /// Milliseconds since `origin` (plus one) when the body ended; 0 while it flows.
    ended: AtomicU64,
    /// The body's own source has nothing yet (the caller is slow, not the provider).
    waiting_on_source: AtomicBool,
}

impl Progress {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            last: AtomicU64::new(0),
            ended: AtomicU64::new(0),
            waiting_on_source: AtomicBool::new(false),
        })
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// `body`, marking progress on each chunk taken, and the end: the stream's end, or
    /// its `len`-th byte (hyper stops reading a sized body there).
    pub(crate) fn track(self: &Arc<Self>, body: ByteStream, len: Option<u64>) -> ByteStream {
        let progress = self.clone();
        let mut body = body;
        let mut sent = 0u64;
        Box::pin(futures_util::stream::poll_fn(move |cx| {
            let polled = body.as_mut().poll_next(cx);
            progress
                .waiting_on_source
                .store(polled.is_pending(), Ordering::Relaxed);
            let item = std::task::ready!(polled);
            let now = progress.now_ms();
            progress.last.store(now, Ordering::Relaxed);
            if let Some(Ok(chunk)) = &item {
                sent += chunk.len() as u64;
            }
            if item.is_none() || len.is_some_and(|l| sent >= l) {
                progress.ended.store(now + 1, Ordering::Relaxed);
            }
            Poll::Ready(item)
        }))
    }
}

/// Resolves when the upload tracked by `progress` stalls: no chunk taken for `idle`, or
/// no answer within `answer` after the body ended. Race it against the request.
///
/// While the body waits on its own source (a caller's upload, which has an idle timeout
/// of its own and is answered as the caller's fault), the provider is given twice as
/// long, so the caller's stall is reported as such.
pub(crate) async fn stalled(
    progress: &Progress,
    idle: Duration,
    answer: Duration,
) -> TransferStall {
    loop {
        let ended = progress.ended.load(Ordering::Relaxed);
        let (deadline, stall) = if ended > 0 {
            (
                progress.at(ended - 1) + answer,
                TransferStall::Answer(answer),
            )
        } else {
            let last = progress.last.load(Ordering::Relaxed);
            let patience = match progress.waiting_on_source.load(Ordering::Relaxed) {
                true => idle * 2,
                false => idle,
            };
            (progress.at(last) + patience, TransferStall::Body(idle))
        };
        if Instant::now() >= deadline {
            return stall;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// A download on its way to the caller, who may stop reading: actix then stops polling
/// it, so a watchdog task beside it checks when it was last polled and, after `idle`
/// without, drops the provider's stream (and its connection). The caller then sees the
/// body end early, a broken transfer for a sized answer. The bytes themselves go straight
/// through (no channel, no second task per chunk).
///
/// `meter` sees every chunk and records how the download ended.
pub(crate) fn to_caller(body: ByteStream, idle: Duration, meter: Meter) -> ByteStream {
    let shared = Arc::new(CallerSide {
        origin: Instant::now(),
        last_polled: AtomicU64::new(0),
        body: std::sync::Mutex::new(Some(idle_timeout(body, idle))),
        finished: tokio::sync::Notify::new(),
        meter,
    });
    tokio::spawn(watch_caller(shared.clone(), idle));
    Box::pin(CallerBody(shared))
}

struct CallerSide {
    origin: Instant,
    /// Milliseconds since `origin` of the caller's last poll.
    last_polled: AtomicU64,
    /// `None` once ended, failed, or cut.
    body: std::sync::Mutex<Option<ByteStream>>,
    /// The body ended, or the caller went away: the watchdog can stop.
    finished: tokio::sync::Notify,
    meter: Meter,
}

async fn watch_caller(side: Arc<CallerSide>, idle: Duration) {
    loop {
        let last = side.origin + Duration::from_millis(side.last_polled.load(Ordering::Relaxed));
        // A provider that stalls is the provider's idle timeout's to report.
        let deadline = last + idle + Duration::from_millis(500);
        tokio::select! {
            () = side.finished.notified() => return,
            () = tokio::time::sleep_until(deadline) => {}
        }
        let last = side.origin + Duration::from_millis(side.last_polled.load(Ordering::Relaxed));
        if last.elapsed() < idle {
            continue;
        }
        // The caller is not polling, so nothing holds the lock for long.
        if let Ok(mut body) = side.body.lock() {
            if body.take().is_some() {
                side.meter.end(
                    Outcome::Stalled,
                    &format!(
                        "the caller took no byte for {}: the transfer is cut",
                        secs(idle)
                    ),
                );
            }
        }
        return;
    }
}

struct CallerBody(Arc<CallerSide>);

impl Stream for CallerBody {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let side = &self.0;
        let now = side.origin.elapsed().as_millis() as u64;
        side.last_polled.store(now, Ordering::Relaxed);
        let Ok(mut guard) = side.body.lock() else {
            return Poll::Ready(Some(Err(std::io::Error::other("the download is poisoned"))));
        };
        let Some(body) = guard.as_mut() else {
            return Poll::Ready(None);
        };
        let item = std::task::ready!(body.as_mut().poll_next(cx));
        match &item {
            Some(Ok(chunk)) => {
                side.meter.add(chunk.len());
                return Poll::Ready(item);
            }
            Some(Err(e)) => side.meter.end(Outcome::of_io(e), &e.to_string()),
            None => side.meter.end_of_body(),
        }
        *guard = None;
        side.finished.notify_one();
        Poll::Ready(item)
    }
}

impl Drop for CallerBody {
    fn drop(&mut self) {
        // Before the end: actix dropped the answer, the caller has gone.
        self.0
            .meter
            .end(Outcome::ClientBrokeOff, "the caller closed the connection");
        self.0.finished.notify_one();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use futures_util::StreamExt as _;

    fn paced(pieces: usize, every: Duration) -> ByteStream {
        Box::pin(futures_util::stream::unfold(0, move |n| async move {
            if n == pieces {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_is_never_cut_however_long() {
        // 40 pieces, one every 0.5 s: 20 s in all with a 1 s idle timeout.
        let mut s = idle_timeout(
            paced(40, Duration::from_millis(500)),
            Duration::from_secs(1),
        );
        let mut n = 0;
        while let Some(item) = s.next().await {
            item.unwrap();
            n += 1;
        }
        assert_eq!(n, 40);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_stream_is_cut() {
        let stalled = futures_util::stream::iter([Ok(Bytes::from_static(b"x"))])
            .chain(futures_util::stream::pending());
        let mut s = idle_timeout(Box::pin(stalled), Duration::from_secs(2));
        assert!(s.next().await.unwrap().is_ok());
        let started = Instant::now();
        let err = s.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(s.next().await.is_none(), "ended after the error");
    }

    #[tokio::test(start_paused = true)]
    async fn an_upload_is_watched_for_idleness_then_for_its_answer() {
        let idle = Duration::from_secs(1);
        let answer = Duration::from_secs(5);
        let progress = Progress::new();
        let mut body = progress.track(paced(10, Duration::from_millis(500)), None);
        let watch = stalled(&progress, idle, answer);
        tokio::pin!(watch);
        // 5 s of steady body: the watchdog stays quiet.
        loop {
            tokio::select! {
                item = body.next() => if item.is_none() { break },
                s = &mut watch => panic!("cut a steady upload: {s:?}"),
            }
        }
        let ended = Instant::now();
        assert_eq!(watch.await, TransferStall::Answer(answer));
        assert_eq!(ended.elapsed(), answer);

        let progress = Progress::new();
        let mut body = progress.track(
            Box::pin(
                futures_util::stream::iter([Ok(Bytes::from_static(b"x"))])
                    .chain(futures_util::stream::pending()),
            ),
            None,
        );
        assert!(body.next().await.is_some());
        assert_eq!(
            stalled(&progress, idle, answer).await,
            TransferStall::Body(idle)
        );
    }
}
