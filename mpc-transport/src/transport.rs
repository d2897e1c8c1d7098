//! The transport abstraction and the in-memory transport.

use std::future::Future;

use mpc_core::PartyIndex;
use tokio::sync::mpsc;

use crate::envelope::DEFAULT_MAX_FRAME;
use crate::error::TransportError;

/// Moves frames between parties. A transport must authenticate senders: the index returned
/// by [`Transport::recv`] is the peer the transport knows sent the frame (from its
/// certificate, its channel...), never a field read from the frame.
pub trait Transport {
    /// The local party's index.
    fn local(&self) -> PartyIndex;
    /// The largest frame this transport accepts.
    fn max_frame(&self) -> usize;
    /// Sends a frame to one party. Waits (backpressure) when the peer's queue is full.
    fn send(
        &mut self,
        to: PartyIndex,
        frame: Vec<u8>,
    ) -> impl Future<Output = Result<(), TransportError>>;
    /// Receives the next frame and its authenticated sender.
    fn recv(&mut self) -> impl Future<Output = Result<(PartyIndex, Vec<u8>), TransportError>>;
}

/// One party's end of an in-memory network: bounded channels, one per party.
pub struct InMemoryTransport {
    me: PartyIndex,
    peers: Vec<mpsc::Sender<(PartyIndex, Vec<u8>)>>,
    inbox: mpsc::Receiver<(PartyIndex, Vec<u8>)>,
    max_frame: usize,
}

impl core::fmt::Debug for InMemoryTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InMemoryTransport")
            .field("me", &self.me)
            .field("parties", &self.peers.len())
            .finish()
    }
}

/// Builds in-memory transports for parties `0..n`.
#[derive(Debug, Clone, Copy)]
pub struct InMemoryNetwork {
    /// Frames a party's queue holds before senders wait.
    pub capacity: usize,
    /// Frame cap.
    pub max_frame: usize,
}

impl Default for InMemoryNetwork {
    fn default() -> Self {
        InMemoryNetwork {
            capacity: 1024,
            max_frame: DEFAULT_MAX_FRAME,
        }
    }
}

impl InMemoryNetwork {
    /// One transport per party `0..n`, connected to each other.
    pub fn connect(&self, n: u16) -> Vec<InMemoryTransport> {
        let (txs, rxs): (Vec<_>, Vec<_>) =
            (0..n).map(|_| mpsc::channel(self.capacity.max(1))).unzip();
        rxs.into_iter()
            .zip(0u16..)
            .map(|(inbox, me)| InMemoryTransport {
                me,
                peers: txs.clone(),
                inbox,
                max_frame: self.max_frame,
            })
            .collect()
    }
}

impl Transport for InMemoryTransport {
    fn local(&self) -> PartyIndex {
        self.me
    }

    fn max_frame(&self) -> usize {
        self.max_frame
    }

    async fn send(&mut self, to: PartyIndex, frame: Vec<u8>) -> Result<(), TransportError> {
        if frame.len() > self.max_frame {
            return Err(TransportError::FrameTooLarge {
                size: frame.len(),
                limit: self.max_frame,
            });
        }
        let peer = self
            .peers
            .get(usize::from(to))
            .ok_or(TransportError::UnknownParty(to))?;
        peer.send((self.me, frame))
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn recv(&mut self) -> Result<(PartyIndex, Vec<u8>), TransportError> {
        let (from, frame) = self.inbox.recv().await.ok_or(TransportError::Closed)?;
        // A frame over the cap can only come from a peer built with a larger cap. Refuse it
        // like a network transport would; the caller decides whether to go on.
        if frame.len() > self.max_frame {
            return Err(TransportError::FrameTooLarge {
                size: frame.len(),
                limit: self.max_frame,
            });
        }
        Ok((from, frame))
    }
}
