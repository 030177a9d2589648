//! The accept loop. axum's `serve` has no settings, and a server facing the internet needs three:
//! a deadline for a request's headers (half-open and slowloris clients are dropped), a cap on
//! connections held at once (beyond it, new ones wait in the listen backlog), and the client's
//! address on every request (rate limits key on it; see `client_address`). Connections are served
//! by hyper-util (HTTP/1 and HTTP/2, upgrades for WebSockets) and drained on shutdown: the
//! listener closes at once, requests in flight get [`DRAIN`] to finish.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tower::ServiceExt as _;

use super::client_address::{ClientAddress, TrustedProxies};

/// How long requests in flight may finish after a shutdown signal.
pub const DRAIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    /// Who may tell a request's client address.
    pub proxies: Arc<TrustedProxies>,
}

/// Serve `router` on `listener` until `shutdown` resolves, then let requests in flight finish.
pub async fn serve(router: Router, listener: TcpListener, limits: ListenOptions, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(s) => s, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a little
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let proxies = limits.proxies.clone();
        let service = router.clone().map_request(move |mut req: hyper::Request<Incoming>| {
            let client = proxies.client_of(remote.ip(), req.headers());
            req.extensions_mut().insert(ConnectInfo(remote));
            req.extensions_mut().insert(ClientAddress(client));
            req.map(Body::new)
        });
        // The slot lives as long as the socket, so a WebSocket keeps counting after its upgrade.
        let io = TokioIo::new(Counted { stream, _slot: slot });
        let conn = builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service)).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running {} s after shutdown; stopping anyway", DRAIN.as_secs());
    }
}

/// A TCP stream that holds one connection slot until it is dropped.
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
