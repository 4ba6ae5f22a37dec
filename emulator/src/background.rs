//! A server on its own thread and tokio runtime, stopped and joined when
//! dropped: the emulator and the conformance recorder both run so, beside
//! a caller that is not async.

use std::future::Future;

use tokio::sync::oneshot;

/// A running background server.
pub struct Background {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").finish_non_exhaustive()
    }
}

impl Background {
    /// Runs `serve(listener, stop)` on a thread named `name`; `stop`
    /// resolves when the `Background` is dropped.
    pub fn spawn<F, Fut>(
        name: &str,
        listener: std::net::TcpListener,
        serve: F,
    ) -> std::io::Result<Background>
    where
        F: FnOnce(tokio::net::TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        listener.set_nonblocking(true)?;
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    serve(listener, rx).await;
                });
            })?;
        Ok(Background {
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
