//! Serving the emulator: a TCP listener whose connections the fault layer
//! can break (`Kill`: the next read or write fails and the socket closes
//! with a reset), and the service hook dispatcher running beside the server
//! for as long as it serves.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Breaks one connection: the request's answer never reaches the client.
#[derive(Debug, Clone, Default)]
pub struct Kill(Arc<AtomicBool>);

impl Kill {
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn fired(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// An accepted connection that fails once its `Kill` fired.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    kill: Kill,
}

impl Conn {
    /// The error a killed connection gives; the socket is set to reset
    /// (SO_LINGER 0) so the client sees ECONNRESET, not a clean close.
    fn reset(&self) -> io::Error {
        let _ = self.stream.set_zero_linger();
        io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection dropped by fault injection",
        )
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.fired() {
            return Poll::Ready(Err(self.reset()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.fired() {
            return Poll::Ready(Err(self.reset()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.fired() {
            return Poll::Ready(Err(self.reset()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A TCP listener handing out killable connections.
#[derive(Debug)]
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    return (
                        Conn {
                            stream,
                            kill: Kill::default(),
                        },
                        addr,
                    );
                }
                // Out of file descriptors and the like: wait, then go on.
                Err(e) => {
                    tracing::debug!(target: "ado_emulator", "accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, Listener>> for Kill {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        stream.io().kill.clone()
    }
}

/// Serves `router` until `shutdown`, with the webhook dispatcher running:
/// `start_dispatcher` starts it here, on the serving runtime.
pub async fn serve(
    start_dispatcher: impl FnOnce() -> Option<tokio::task::JoinHandle<()>>,
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let dispatcher = start_dispatcher();
    let result = axum::serve(
        Listener(listener),
        router.into_make_service_with_connect_info::<Kill>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(d) = dispatcher {
        d.abort();
    }
    result
}
