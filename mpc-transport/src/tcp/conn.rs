//! Connections: dialing, accepting, the TLS handshake and the frame reader/writer.

use std::net::SocketAddr;
use std::sync::Arc;

use mpc_core::PartyIndex;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::Inner;
use crate::error::TransportError;
use crate::frame::{read_frame, write_queued};
use crate::tls::{accept_tls, identify, peer_cert, server_name};

fn io(e: impl core::fmt::Display) -> TransportError {
    TransportError::Io(e.to_string())
}

/// Accepts connections from lower-indexed parties for as long as the node lives.
pub(super) async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    let acceptor = TlsAcceptor::from(inner.tls.server.clone());
    loop {
        // At most `max_handshakes` handshakes at once; the others wait in the backlog.
        let Ok(permit) = inner.handshakes.clone().acquire_owned().await else {
            return;
        };
        let Ok((tcp, addr)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            if let Err(e) = accept_one(inner, acceptor, tcp, permit).await {
                tracing::info!(%addr, error = %e, "incoming connection refused");
            }
        });
    }
}

async fn accept_one(
    inner: Arc<Inner>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    handshake: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), TransportError> {
    let tls = accept_tls(&acceptor, tcp, inner.opts.handshake_timeout).await?;
    drop(handshake);
    let peer = identify(peer_cert(&tls)?, &inner.tls.domain, inner.mesh.n)?;
    if peer >= inner.mesh.me {
        // Only lower-indexed parties dial us; anything else is misconfigured or hostile.
        return Err(TransportError::Tls(format!(
            "party {peer} dialed party {}; only lower indices dial",
            inner.mesh.me
        )));
    }
    serve(inner, peer, tls).await;
    Ok(())
}

/// Keeps one connection to the higher-indexed `peer` alive: dial, serve until it breaks,
/// wait (exponential backoff), dial again.
pub(super) async fn dial_loop(inner: Arc<Inner>, peer: PartyIndex, addr: SocketAddr) {
    let connector = TlsConnector::from(inner.tls.client.clone());
    let (min, max) = inner.opts.reconnect;
    let mut wait = min;
    loop {
        match dial_one(&inner, &connector, peer, addr).await {
            Ok(tls) => {
                wait = min;
                serve(inner.clone(), peer, tls).await;
            }
            Err(e) => tracing::debug!(peer, %addr, error = %e, "dial failed"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(max);
    }
}

async fn dial_one(
    inner: &Inner,
    connector: &TlsConnector,
    peer: PartyIndex,
    addr: SocketAddr,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TransportError> {
    let name = server_name(&inner.tls.domain, peer)?;
    let fut = async {
        let tcp = TcpStream::connect(addr).await.map_err(io)?;
        tcp.set_nodelay(true).map_err(io)?;
        // rustls checks the server's certificate is valid for `party-<peer>.<domain>`.
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| TransportError::Tls(e.to_string()))
    };
    tokio::time::timeout(inner.opts.handshake_timeout, fut)
        .await
        .map_err(|_| TransportError::Tls("connect timed out".into()))?
}

/// Runs one authenticated connection with `peer` until it breaks. A newer connection with
/// the same peer replaces this one.
async fn serve<S>(inner: Arc<Inner>, peer: PartyIndex, stream: S)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let task = tokio::spawn(run(inner.clone(), peer, stream));
    let old = inner
        .mesh
        .router()
        .connections
        .insert(peer, task.abort_handle());
    if let Some(old) = old {
        old.abort();
    }
    let _ = task.await;
}

async fn run<S>(inner: Arc<Inner>, peer: PartyIndex, stream: S)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let Some(queue) = inner.mesh.outbound(peer) else {
        return;
    };
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = async {
        let mut rx = queue.lock().await;
        write_queued(&mut wr, &mut rx, inner.opts.delay).await;
    };
    let max = inner.mesh.limits.max_frame;
    let reader = async {
        loop {
            match read_frame(&mut rd, max).await {
                Ok(Ok(frame)) => inner.mesh.route(peer, frame).await,
                Ok(Err(size)) => inner
                    .mesh
                    .reject(peer, TransportError::FrameTooLarge { size, limit: max }),
                Err(_) => break,
            }
        }
    };
    tokio::select! {
        () = writer => {},
        () = reader => {},
    }
    tracing::debug!(me = inner.mesh.me, peer, "connection closed");
}
