//! Adapter from the engines' `round-based` state machines to [`Protocol`].
//!
//! It does the checks every engine needs on untrusted input (session, sender, recipient,
//! duplicates, size, decoding), maps signer positions to key-generation indices, and queues
//! messages that arrive before the state machine asks for them.

use std::collections::{HashSet, VecDeque};

use round_based::state_machine::{ProceedResult, StateMachine};
use round_based::{Incoming, MessageDestination, MessageType, ProtocolMessage};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, Result};
use crate::ids::{PartyIndex, SessionCtx};
use crate::limits::{payload_cap, ProtocolKind};
use crate::protocol::{Message, Protocol, Step, MAX_PAYLOAD};

/// A state machine whose output is already our result type.
pub(crate) type Machine<M, O> = Box<dyn StateMachine<Output = Result<O>, Msg = M>>;

/// Encodes an engine message for the wire.
pub(crate) fn encode<M: Serialize>(msg: &M) -> Result<Vec<u8>> {
    serde_json::to_vec(msg).map_err(|e| Error::Invalid {
        what: "outgoing message",
        reason: e.to_string(),
    })
}

/// A [`Protocol`] backed by a `round-based` state machine.
pub(crate) struct RoundBasedRun<M, O> {
    ctx: SessionCtx,
    phase: u8,
    kind: ProtocolKind,
    machine: Machine<M, O>,
    queue: VecDeque<Incoming<M>>,
    seen: HashSet<(PartyIndex, u16)>,
    next_id: u64,
    wants_message: bool,
    finished: bool,
}

impl<M, O> RoundBasedRun<M, O>
where
    M: ProtocolMessage + Serialize + DeserializeOwned,
{
    /// Wraps `machine`, whose party indices are positions in `ctx.parties()`.
    pub(crate) fn new(
        ctx: SessionCtx,
        phase: u8,
        kind: ProtocolKind,
        machine: Machine<M, O>,
    ) -> Self {
        RoundBasedRun {
            ctx,
            phase,
            kind,
            machine,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            next_id: 0,
            wants_message: false,
            finished: false,
        }
    }

    fn round_id(&self, engine_round: u16) -> u16 {
        (u16::from(self.phase) << 8) | (engine_round & 0xff)
    }

    fn outgoing(&self, recipient: MessageDestination, msg: &M) -> Result<Message> {
        let to = match recipient {
            MessageDestination::AllParties => None,
            MessageDestination::OneParty(pos) => Some(
                *self
                    .ctx
                    .parties()
                    .get(usize::from(pos))
                    .ok_or(Error::Misuse(
                        "engine addressed a position outside the party list",
                    ))?,
            ),
        };
        Ok(Message {
            session: self.ctx.session(),
            round: self.round_id(msg.round()),
            from: self.ctx.me(),
            to,
            payload: encode(msg)?,
        })
    }
}

/// Caps a peer-influenced explanation (decoder messages quote the input) at 160 characters.
fn short(reason: &str) -> String {
    match reason.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", reason.get(..i).unwrap_or_default()),
        None => reason.to_owned(),
    }
}

/// Checks the envelope fields of an incoming message against a session context, and its
/// size against the cap of its round in a `kind` run (`crate::limits`).
pub(crate) fn check_incoming(ctx: &SessionCtx, msg: &Message, kind: ProtocolKind) -> Result<u16> {
    if msg.payload.len() > MAX_PAYLOAD {
        return Err(Error::MessageTooLarge {
            size: msg.payload.len(),
            limit: MAX_PAYLOAD,
        });
    }
    let parties = u16::try_from(ctx.parties().len()).unwrap_or(u16::MAX);
    let round = u8::try_from(msg.round & 0xff).unwrap_or(u8::MAX);
    let cap = payload_cap(ctx.scheme(), kind, round, parties);
    if msg.payload.len() > cap {
        return Err(Error::MalformedMessage {
            from: msg.from,
            reason: format!(
                "payload of {} bytes is over the cap of {cap} bytes for round {round} of {kind:?}",
                msg.payload.len()
            ),
        });
    }
    if msg.session != ctx.session() {
        return Err(Error::WrongSession { from: msg.from });
    }
    if msg.from == ctx.me() {
        return Err(Error::UnexpectedSender { from: msg.from });
    }
    let pos = ctx
        .position_of(msg.from)
        .ok_or(Error::UnexpectedSender { from: msg.from })?;
    if let Some(to) = msg.to {
        if to != ctx.me() {
            return Err(Error::WrongRecipient { from: msg.from, to });
        }
    }
    Ok(pos)
}

impl<M, O> Protocol for RoundBasedRun<M, O>
where
    M: ProtocolMessage + Serialize + DeserializeOwned,
{
    type Output = O;

    fn ctx(&self) -> &SessionCtx {
        &self.ctx
    }

    fn proceed(&mut self) -> Result<Step<O>> {
        if self.finished {
            return Err(Error::Misuse("proceed called after the run finished"));
        }
        loop {
            if self.wants_message {
                let Some(incoming) = self.queue.pop_front() else {
                    return Ok(Step::NeedMessage);
                };
                self.machine
                    .received_msg(incoming)
                    .map_err(|_| Error::Misuse("state machine refused a message it asked for"))?;
                self.wants_message = false;
            }
            match self.machine.proceed() {
                ProceedResult::SendMsg(out) => {
                    return Ok(Step::Send(self.outgoing(out.recipient, &out.msg)?));
                }
                ProceedResult::NeedsOneMoreMessage => self.wants_message = true,
                ProceedResult::Yielded => {}
                ProceedResult::Output(result) => {
                    self.finished = true;
                    return result.map(Step::Done).map_err(|e| match e {
                        // Engines blame by signer position; say which party each one is.
                        Error::Aborted { culprits, reason } => Error::Aborted {
                            culprits,
                            reason: format!(
                                "{reason} [engine positions 0.. are parties {:?}]",
                                self.ctx.parties()
                            ),
                        },
                        other => other,
                    });
                }
                ProceedResult::Error(e) => {
                    self.finished = true;
                    return Err(Error::Aborted {
                        culprits: vec![],
                        reason: format!("state machine: {e}"),
                    });
                }
            }
        }
    }

    fn receive(&mut self, msg: Message) -> Result<()> {
        let pos = check_incoming(&self.ctx, &msg, self.kind)?;
        if (msg.round >> 8) != u16::from(self.phase) {
            return Err(Error::MalformedMessage {
                from: msg.from,
                reason: format!("round {:#06x} is not part of this phase", msg.round),
            });
        }
        let decoded: M =
            serde_json::from_slice(&msg.payload).map_err(|e| Error::MalformedMessage {
                from: msg.from,
                reason: short(&e.to_string()),
            })?;
        if self.round_id(decoded.round()) != msg.round {
            return Err(Error::MalformedMessage {
                from: msg.from,
                reason: format!(
                    "header says round {} but the payload is round {}",
                    msg.round & 0xff,
                    decoded.round()
                ),
            });
        }
        let key = (msg.from, msg.round);
        if !self.seen.insert(key) {
            return Err(Error::DuplicateMessage {
                from: msg.from,
                round: msg.round,
            });
        }
        let msg_type = if msg.to.is_some() {
            MessageType::P2P
        } else {
            MessageType::Broadcast
        };
        self.queue.push_back(Incoming {
            id: self.next_id,
            sender: pos,
            msg_type,
            msg: decoded,
        });
        self.next_id += 1;
        Ok(())
    }
}

/// Combines the outputs of the two runs of a [`Join`].
pub(crate) type Combine<A, B, O> = Box<dyn FnOnce(A, B) -> Result<O>>;

/// Two independent runs of one session, side by side (first in phase `0`, second in phase
/// `second_phase`), whose outputs are combined at the end. Every message is routed by its
/// phase to the run it belongs to and checked there on arrival, so nothing is held
/// unchecked.
pub(crate) struct Join<A: Protocol, B: Protocol, O> {
    ctx: SessionCtx,
    first: A,
    second: B,
    second_phase: u8,
    out_a: Option<A::Output>,
    out_b: Option<B::Output>,
    combine: Option<Combine<A::Output, B::Output, O>>,
}

impl<A: Protocol, B: Protocol, O> Join<A, B, O> {
    /// Joins `first` and `second` (whose messages use phase `second_phase`).
    pub(crate) fn new(
        first: A,
        second: B,
        second_phase: u8,
        combine: Combine<A::Output, B::Output, O>,
    ) -> Self {
        Join {
            ctx: first.ctx().clone(),
            first,
            second,
            second_phase,
            out_a: None,
            out_b: None,
            combine: Some(combine),
        }
    }
}

impl<A: Protocol, B: Protocol, O> Protocol for Join<A, B, O> {
    type Output = O;

    fn ctx(&self) -> &SessionCtx {
        &self.ctx
    }

    fn proceed(&mut self) -> Result<Step<O>> {
        if self.out_a.is_none() {
            match self.first.proceed()? {
                Step::Send(m) => return Ok(Step::Send(m)),
                Step::Done(o) => self.out_a = Some(o),
                Step::NeedMessage => {}
            }
        }
        if self.out_b.is_none() {
            match self.second.proceed()? {
                Step::Send(m) => return Ok(Step::Send(m)),
                Step::Done(o) => self.out_b = Some(o),
                Step::NeedMessage => {}
            }
        }
        match (self.out_a.take(), self.out_b.take()) {
            (Some(a), Some(b)) => {
                let combine = self
                    .combine
                    .take()
                    .ok_or(Error::Misuse("proceed called after the run finished"))?;
                combine(a, b).map(Step::Done)
            }
            (a, b) => {
                self.out_a = a;
                self.out_b = b;
                Ok(Step::NeedMessage)
            }
        }
    }

    fn receive(&mut self, msg: Message) -> Result<()> {
        if (msg.round >> 8) == u16::from(self.second_phase) {
            self.second.receive(msg)
        } else {
            self.first.receive(msg)
        }
    }
}
