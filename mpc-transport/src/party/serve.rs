//! The control listener of a party: mutual TLS, coordinator certificate only, JSON frames.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::{bad, Party};
use crate::control::{Framed, Request, Response};
use crate::error::TransportError;
use crate::frame::{read_frame, write_queued, Queued};
use crate::tls::{accept_tls, check_coordinator, peer_cert, TlsIdentity};

pub(super) async fn serve(
    party: Arc<Party>,
    listener: TcpListener,
    identity: &TlsIdentity,
) -> Result<(), TransportError> {
    let tls = identity.configs()?;
    let acceptor = TlsAcceptor::from(tls.server.clone());
    let domain = Arc::new(tls.domain);
    let handshakes = Arc::new(tokio::sync::Semaphore::new(
        party.opts.max_handshakes.max(1),
    ));
    loop {
        // At most `max_handshakes` handshakes at once; the others wait in the backlog.
        let Ok(handshake) = handshakes.clone().acquire_owned().await else {
            return Ok(());
        };
        let (tcp, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "control accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let (party, acceptor, domain) = (party.clone(), acceptor.clone(), domain.clone());
        tokio::spawn(async move {
            if let Err(e) = accept(party, acceptor, tcp, &domain, handshake).await {
                tracing::info!(%addr, error = %e, "control connection refused");
            }
        });
    }
}

async fn accept(
    party: Arc<Party>,
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    domain: &str,
    handshake: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), TransportError> {
    let tls = accept_tls(&acceptor, tcp, party.opts.handshake_timeout).await?;
    drop(handshake);
    check_coordinator(peer_cert(&tls)?, domain)?;
    connection(party, tls, crate::tls::coordinator_name(domain)).await;
    Ok(())
}

/// Reads requests, handles each in its own task, writes responses as they complete. At
/// most `max_requests` requests of all connections run at once: past that, reading waits
/// (the coordinator's connection is slowed, nothing more is held).
async fn connection<S>(party: Arc<Party>, stream: S, from: String)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Queued>(1024);
    let delay = party.opts.delay;
    let writer = async move { write_queued(&mut wr, &mut rx, delay).await };
    let max = party.opts.max_frame;
    let reader = async move {
        loop {
            let frame = match read_frame(&mut rd, max).await {
                Ok(Ok(f)) => f,
                Ok(Err(size)) => {
                    tracing::warn!(size, "control frame over the cap skipped");
                    continue;
                }
                Err(_) => break,
            };
            let (id, request) = match serde_json::from_slice::<Framed<Request>>(&frame) {
                Ok(f) => (f.id, Ok(f.body)),
                Err(e) => match serde_json::from_slice::<Framed<serde_json::Value>>(&frame) {
                    Ok(f) => (f.id, Err(e)),
                    Err(_) => {
                        tracing::warn!(error = %e, "unreadable control frame dropped");
                        continue;
                    }
                },
            };
            let Ok(slot) = party.requests.clone().acquire_owned().await else {
                break;
            };
            let (party, tx, from) = (party.clone(), tx.clone(), from.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let body = match request {
                    Ok(r) => party.handle_from(Some(from), r).await,
                    Err(e) => Response::Failed(bad(format!("malformed request: {e}"))),
                };
                match serde_json::to_vec(&Framed { id, body }) {
                    Ok(bytes) => {
                        let _ = tx.send((tokio::time::Instant::now(), bytes)).await;
                    }
                    Err(e) => tracing::error!(error = %e, "response not encodable"),
                }
            });
        }
    };
    tokio::select! {
        () = writer => {},
        () = reader => {},
    }
}
