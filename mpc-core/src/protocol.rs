//! The sans-IO protocol run: feed incoming messages, take outgoing ones, get the output.
//!
//! A [`Protocol`] has no threads, clock or sockets. The caller (a transport driver, an
//! enclave's message loop, a test) moves [`Message`]s between parties:
//!
//! ```text
//! loop {
//!     match run.proceed()? {
//!         Step::Send(msg)     => deliver msg to msg.to (or to every other participant),
//!         Step::NeedMessage   => wait for a message m, then run.receive(m)?  (an Err rejects
//!                                only that message; the run goes on),
//!         Step::Done(output)  => break output,
//!     }
//! }
//! ```
//!
//! `receive` may be called at any time, also before the run asks: messages that arrive early
//! (from a party already in the next round) are queued.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{PartyIndex, SessionCtx, SessionId};

/// Largest payload a protocol message may have (16 MiB). CGGMP21 auxiliary-info messages,
/// with their Paillier proofs, are the largest the engines send (a few hundred kilobytes).
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// One protocol message between two parties (or from one party to all others).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Session the message belongs to.
    pub session: SessionId,
    /// Round id: the engine phase in the high byte, the engine's round in the low byte.
    pub round: u16,
    /// Sender, by key-generation index.
    pub from: PartyIndex,
    /// Recipient, or `None` for a broadcast to every other participant.
    pub to: Option<PartyIndex>,
    /// The engine's encoded message.
    pub payload: Vec<u8>,
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("session", &self.session)
            .field("round", &self.round)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// What a protocol run wants next.
#[derive(Debug)]
pub enum Step<O> {
    /// Deliver this message.
    Send(Message),
    /// Feed one more message with [`Protocol::receive`], then call [`Protocol::proceed`].
    NeedMessage,
    /// The run finished with this output.
    Done(O),
}

/// A sans-IO protocol run. See the [module docs](self) for the driving loop.
///
/// Runs are not `Send`: a run lives on the thread that created it (the engines' state
/// machines use single-threaded shared state). Run parties in parallel by giving each its
/// own thread.
pub trait Protocol {
    /// What the run produces.
    type Output;

    /// The session context of the run.
    fn ctx(&self) -> &SessionCtx;

    /// Advances the run as far as it can go without new input.
    ///
    /// # Errors
    /// The protocol aborted ([`crate::Error::Aborted`], naming culprits when possible) or
    /// the run was misused (proceeding after it finished).
    fn proceed(&mut self) -> Result<Step<Self::Output>>;

    /// Offers one incoming message.
    ///
    /// # Errors
    /// The message is rejected, and the run is unchanged, when it belongs to another session,
    /// comes from a party that is not a participant (or from ourselves), is addressed to
    /// somebody else, is a duplicate, is too large, or does not decode.
    fn receive(&mut self, msg: Message) -> Result<()>;
}

/// A boxed protocol run, as returned by the engines.
pub type BoxedProtocol<O> = Box<dyn Protocol<Output = O>>;

impl<O> Protocol for BoxedProtocol<O> {
    type Output = O;
    fn ctx(&self) -> &SessionCtx {
        (**self).ctx()
    }
    fn proceed(&mut self) -> Result<Step<O>> {
        (**self).proceed()
    }
    fn receive(&mut self, msg: Message) -> Result<()> {
        (**self).receive(msg)
    }
}
