//! A small sans-IO driver for the fixed-round protocols written here (GG20, resharing).
//!
//! In every round each participant sends one point-to-point message to every other
//! participant (the public part of that message is the same for all, the proofs are per
//! recipient). A round is computed when the messages of every other participant for it
//! have arrived; messages for later rounds wait, checked, in their slot.

use std::collections::{BTreeMap, VecDeque};

use crate::adapter::check_incoming;
use crate::error::{Error, Result};
use crate::ids::{PartyIndex, SessionCtx};
use crate::protocol::{Message, Protocol, Step};

/// What a round produces: messages for the next round, or the output.
pub(crate) enum Next<O> {
    /// Payload per recipient (every other participant).
    Send(BTreeMap<PartyIndex, Vec<u8>>),
    /// The run is finished.
    Done(O),
}

/// A protocol of `ROUNDS` rounds: `start` makes the round-1 messages, `round(r, inbox)`
/// consumes every other participant's round-`r` message.
pub(crate) trait Rounds {
    type Output;
    /// Number of message rounds.
    const ROUNDS: u8;
    /// Which protocol this is, for its payload caps (`crate::limits`).
    const KIND: crate::limits::ProtocolKind;
    fn start(&mut self) -> Result<BTreeMap<PartyIndex, Vec<u8>>>;
    fn round(&mut self, r: u8, inbox: BTreeMap<PartyIndex, Vec<u8>>) -> Result<Next<Self::Output>>;
    /// Checks a round-`r` payload from `from` as it arrives, before it takes its slot: a
    /// payload refused here ([`Error::MalformedMessage`]) leaves the run as it was, and the
    /// sender's real message can still come. By default a payload is checked only when its
    /// round runs.
    fn check(&self, r: u8, from: PartyIndex, payload: &[u8]) -> Result<()> {
        let _ = (r, from, payload);
        Ok(())
    }
}

pub(crate) struct RoundsRun<S: Rounds> {
    ctx: SessionCtx,
    phase: u8,
    state: S,
    started: bool,
    finished: bool,
    current: u8,
    outbox: VecDeque<Message>,
    inbox: BTreeMap<u8, BTreeMap<PartyIndex, Vec<u8>>>,
}

impl<S: Rounds> RoundsRun<S> {
    pub(crate) fn new(ctx: SessionCtx, phase: u8, state: S) -> Self {
        RoundsRun {
            ctx,
            phase,
            state,
            started: false,
            finished: false,
            current: 1,
            outbox: VecDeque::new(),
            inbox: BTreeMap::new(),
        }
    }

    fn queue(&mut self, round: u8, out: BTreeMap<PartyIndex, Vec<u8>>) {
        for (to, payload) in out {
            self.outbox.push_back(Message {
                session: self.ctx.session(),
                round: (u16::from(self.phase) << 8) | u16::from(round),
                from: self.ctx.me(),
                to: Some(to),
                payload,
            });
        }
    }

    fn others(&self) -> usize {
        self.ctx.parties().len().saturating_sub(1)
    }
}

impl<S: Rounds> Protocol for RoundsRun<S> {
    type Output = S::Output;

    fn ctx(&self) -> &SessionCtx {
        &self.ctx
    }

    fn proceed(&mut self) -> Result<Step<S::Output>> {
        if self.finished {
            return Err(Error::Misuse("proceed called after the run finished"));
        }
        if !self.started {
            self.started = true;
            let out = self.state.start().inspect_err(|_| self.finished = true)?;
            self.queue(1, out);
        }
        loop {
            if let Some(m) = self.outbox.pop_front() {
                return Ok(Step::Send(m));
            }
            let complete = self
                .inbox
                .get(&self.current)
                .is_some_and(|m| m.len() == self.others());
            if !complete {
                return Ok(Step::NeedMessage);
            }
            let msgs = self.inbox.remove(&self.current).unwrap_or_default();
            let r = self.current;
            match self.state.round(r, msgs) {
                Ok(Next::Send(out)) => {
                    self.current = r.saturating_add(1);
                    self.queue(self.current, out);
                }
                Ok(Next::Done(o)) => {
                    self.finished = true;
                    return Ok(Step::Done(o));
                }
                Err(e) => {
                    self.finished = true;
                    return Err(e);
                }
            }
        }
    }

    fn receive(&mut self, msg: Message) -> Result<()> {
        check_incoming(&self.ctx, &msg, S::KIND)?;
        if msg.to.is_none() {
            return Err(Error::MalformedMessage {
                from: msg.from,
                reason: "messages of this protocol are addressed to one party".into(),
            });
        }
        let phase = msg.round >> 8;
        let round = u8::try_from(msg.round & 0xff).unwrap_or(0);
        if phase != u16::from(self.phase) || round == 0 || round > S::ROUNDS {
            return Err(Error::MalformedMessage {
                from: msg.from,
                reason: format!("round {:#06x} is not part of this protocol", msg.round),
            });
        }
        if round < self.current {
            return Err(Error::DuplicateMessage {
                from: msg.from,
                round: msg.round,
            });
        }
        if self
            .inbox
            .get(&round)
            .is_some_and(|slot| slot.contains_key(&msg.from))
        {
            return Err(Error::DuplicateMessage {
                from: msg.from,
                round: msg.round,
            });
        }
        self.state.check(round, msg.from, &msg.payload)?;
        self.inbox
            .entry(round)
            .or_default()
            .insert(msg.from, msg.payload);
        Ok(())
    }
}

/// Decodes a peer's payload, naming the peer when it does not decode.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    from: PartyIndex,
    payload: &[u8],
) -> Result<T> {
    serde_json::from_slice(payload).map_err(|e| {
        let mut reason = e.to_string();
        reason.truncate(160);
        Error::Aborted {
            culprits: vec![from],
            reason: format!("party {from} sent a message that does not decode: {reason}"),
        }
    })
}

/// An abort blaming one party.
pub(crate) fn blame(party: PartyIndex, reason: impl core::fmt::Display) -> Error {
    Error::Aborted {
        culprits: vec![party],
        reason: format!("party {party}: {reason}"),
    }
}

/// What a sender's echo of a broadcast round says about it, against what this party
/// received.
pub(crate) enum Echo {
    /// The echo matches: every party sent the sender what it sent this party.
    Matches,
    /// The echo differs in what party `0` (a third party) sent: that party equivocated or
    /// the echo is false, and this party cannot tell which.
    Differs(PartyIndex),
}

/// Compares `echoed` (the sender's record of what every party sent in a broadcast round,
/// itself included) with `received` (this party's record, itself included).
///
/// Blame rests on what this party saw itself: an echo that lists other parties, or
/// misstates what the sender sent this party, or what this party sent everyone, names the
/// sender; a difference in a third party's entry is returned as [`Echo::Differs`].
pub(crate) fn compare_echo<T: PartialEq>(
    me: PartyIndex,
    from: PartyIndex,
    received: &BTreeMap<PartyIndex, T>,
    echoed: &[(PartyIndex, T)],
) -> Result<Echo> {
    let lists_the_same_parties = echoed.len() == received.len()
        && echoed.iter().zip(received.keys()).all(|((j, _), k)| j == k);
    if !lists_the_same_parties {
        return Err(blame(
            from,
            "its echo does not list this run's parties in order",
        ));
    }
    let mut differs = None;
    for (j, value) in echoed {
        if received.get(j) != Some(value) {
            if *j == from || *j == me {
                return Err(blame(
                    from,
                    format!("its echo misstates what party {j} sent"),
                ));
            }
            differs.get_or_insert(*j);
        }
    }
    Ok(differs.map_or(Echo::Matches, Echo::Differs))
}

/// The abort of a run in which `party`'s broadcast reached parties differently.
pub(crate) fn equivocation(party: PartyIndex) -> Error {
    Error::Aborted {
        culprits: Vec::new(),
        reason: format!(
            "parties received different broadcasts from party {party}: party {party} \
             equivocated or an echo is false (not attributable)"
        ),
    }
}
