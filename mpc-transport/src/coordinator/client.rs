//! The coordinator's connection to one party: kept open (redialed with backoff), many
//! requests in flight, responses matched by request id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpc_core::PartyIndex;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio_rustls::TlsConnector;

use super::CoordinatorOptions;
use crate::control::{Framed, Request, Response};
use crate::frame::{read_frame, write_frame, write_queued, Queued};
use crate::tls::{server_name, TlsConfigs};

/// Why a call got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// No connection to the party.
    Unreachable,
    /// The connection broke while waiting.
    Lost,
    /// No response in time.
    Timeout,
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CallError::Unreachable => "not connected",
            CallError::Lost => "connection lost while waiting for its response",
            CallError::Timeout => "no response in time",
        })
    }
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Response>>>>;

#[derive(Clone)]
struct Conn {
    tx: mpsc::Sender<Queued>,
    pending: Pending,
}

#[derive(Default)]
struct Shared {
    conn: Mutex<Option<Conn>>,
    next: AtomicU64,
}

/// A handle on the connection to one party.
#[derive(Clone)]
pub(crate) struct Client {
    shared: Arc<Shared>,
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Client {
    /// Starts the dial loop for `party` at `addr`.
    pub(crate) fn spawn(
        party: PartyIndex,
        addr: SocketAddr,
        tls: &TlsConfigs,
        opts: &CoordinatorOptions,
    ) -> (Client, AbortHandle) {
        let client = Client {
            shared: Arc::new(Shared::default()),
        };
        let task = tokio::spawn(dial_loop(
            client.shared.clone(),
            party,
            addr,
            tls.clone(),
            opts.clone(),
        ));
        (client, task.abort_handle())
    }

    /// Whether a connection is up now.
    pub(crate) fn connected(&self) -> bool {
        guard(&self.shared.conn).is_some()
    }

    /// Sends `request` and waits up to `timeout` for the response.
    pub(crate) async fn call(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Response, CallError> {
        let conn = guard(&self.shared.conn)
            .clone()
            .ok_or(CallError::Unreachable)?;
        let id = self.shared.next.fetch_add(1, Ordering::Relaxed);
        let bytes = serde_json::to_vec(&Framed { id, body: request })
            .map_err(|_| CallError::Unreachable)?;
        let (tx, rx) = oneshot::channel();
        guard(&conn.pending).insert(id, tx);
        let deadline = tokio::time::Instant::now() + timeout;
        let sent =
            tokio::time::timeout_at(deadline, conn.tx.send((tokio::time::Instant::now(), bytes)))
                .await;
        let result = match sent {
            Err(_) => Err(CallError::Timeout),
            Ok(Err(_)) => Err(CallError::Lost),
            Ok(Ok(())) => match tokio::time::timeout_at(deadline, rx).await {
                Err(_) => Err(CallError::Timeout),
                Ok(Err(_)) => Err(CallError::Lost),
                Ok(Ok(r)) => Ok(r),
            },
        };
        guard(&conn.pending).remove(&id);
        result
    }
}

async fn dial_loop(
    shared: Arc<Shared>,
    party: PartyIndex,
    addr: SocketAddr,
    tls: TlsConfigs,
    opts: CoordinatorOptions,
) {
    let connector = TlsConnector::from(tls.client.clone());
    let (min, max) = opts.reconnect;
    let mut wait = min;
    loop {
        match dial(&connector, &tls.domain, party, addr, opts.handshake_timeout).await {
            Ok(mut stream) => match hello(&mut stream, party, &opts).await {
                Ok(()) => {
                    wait = min;
                    run(&shared, stream, &opts).await;
                    tracing::info!(party, "control connection closed");
                }
                Err(e) => tracing::info!(party, error = %e, "control connection refused"),
            },
            Err(e) => tracing::debug!(party, %addr, error = %e, "control dial failed"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(max);
    }
}

async fn dial(
    connector: &TlsConnector,
    domain: &str,
    party: PartyIndex,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let name = server_name(domain, party).map_err(|e| e.to_string())?;
    let fut = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| "connect timed out".to_string())?
}

/// One ping before the connection is used: the party accepted our certificate (TLS 1.3
/// clients finish the handshake before the server has checked theirs) and is who its
/// certificate says.
async fn hello(
    stream: &mut tokio_rustls::client::TlsStream<TcpStream>,
    party: PartyIndex,
    opts: &CoordinatorOptions,
) -> Result<(), String> {
    let ping = serde_json::to_vec(&Framed {
        id: u64::MAX,
        body: &Request::Ping,
    })
    .map_err(|e| e.to_string())?;
    let fut = async {
        write_frame(stream, &ping)
            .await
            .map_err(|e| e.to_string())?;
        let frame = read_frame(stream, opts.max_frame)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|size| format!("response of {size} bytes"))?;
        match serde_json::from_slice::<Framed<Response>>(&frame) {
            Ok(Framed {
                body: Response::Pong { party: p },
                ..
            }) if p == party => Ok(()),
            _ => Err("unexpected answer to ping".to_string()),
        }
    };
    tokio::time::timeout(opts.handshake_timeout, fut)
        .await
        .map_err(|_| "no answer to ping".to_string())?
}

async fn run(
    shared: &Shared,
    stream: tokio_rustls::client::TlsStream<TcpStream>,
    opts: &CoordinatorOptions,
) {
    let (tx, mut rx) = mpsc::channel::<Queued>(1024);
    let pending: Pending = Arc::default();
    *guard(&shared.conn) = Some(Conn {
        tx,
        pending: pending.clone(),
    });
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = write_queued(&mut wr, &mut rx, opts.delay);
    let max = opts.max_frame;
    let reader = async {
        loop {
            let frame = match read_frame(&mut rd, max).await {
                Ok(Ok(f)) => f,
                Ok(Err(size)) => {
                    tracing::warn!(size, "control response over the cap skipped");
                    continue;
                }
                Err(_) => break,
            };
            match serde_json::from_slice::<Framed<Response>>(&frame) {
                Ok(f) => {
                    if let Some(tx) = guard(&pending).remove(&f.id) {
                        let _ = tx.send(f.body);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable control response dropped"),
            }
        }
    };
    tokio::select! {
        () = writer => {},
        () = reader => {},
    }
    *guard(&shared.conn) = None;
    // Dropping the senders wakes every caller still waiting with `Lost`.
    guard(&pending).clear();
}
