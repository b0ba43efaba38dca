//! An actix server on its own thread and actix system, so an emulator works from any test
//! runtime (tokio, actix) and from sync code. Dropping it stops the server.

use actix_web::dev::{Server, ServerHandle};

pub struct ServerThread {
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    /// Runs `build` (typically `HttpServer::new(..).listen(listener).map(|s| s.run())`) on a
    /// new thread and returns once the server is listening.
    pub fn spawn(
        build: impl FnOnce() -> std::io::Result<Server> + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match build() {
                    Ok(server) => {
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let handle = rx
            .recv()
            .map_err(|_| std::io::Error::other("the server thread ended before listening"))??;
        Ok(Self {
            handle,
            thread: Some(thread),
        })
    }

    /// Stops the server and waits for its thread.
    pub async fn stop(mut self) {
        self.handle.stop(false).await;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // Stop without awaiting: the server thread ends on its own.
            drop(self.handle.stop(false));
        }
    }
}
