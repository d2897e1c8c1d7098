//! Several runs of one signing group as one session: all inputs of a transaction signed in
//! one batch.
//!
//! Each item runs in its own sub-session (derived from the batch session and the item
//! number, so execution ids differ per item); its messages travel inside the batch session
//! with the item number in front of the payload. The rounds of all items advance together,
//! so a batch of k signatures takes the round trips of one. The batch ends when every item
//! has ended; an abort of any item aborts the batch.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ids::{SessionCtx, SessionId};
use crate::protocol::{BoxedProtocol, Message, Protocol, Step};

/// Most items one batch may hold.
pub const MAX_BATCH: usize = 1024;

/// The session of item `item` of a batch in `session`.
pub fn item_session(session: SessionId, item: u16) -> SessionId {
    let mut h = Sha256::new();
    h.update(b"mpc-core/batch-item/v1");
    h.update(session.0);
    h.update(item.to_be_bytes());
    SessionId(h.finalize().into())
}

/// The context of item `item` of a batch run under `ctx`.
///
/// # Errors
/// Never for a valid `ctx`; kept fallible because contexts are validated.
pub fn item_ctx(ctx: &SessionCtx, item: u16) -> Result<SessionCtx> {
    SessionCtx::new(
        item_session(ctx.session(), item),
        ctx.scheme(),
        ctx.me(),
        ctx.parties(),
    )
}

/// Runs `items` (made with [`item_ctx`] for item 0, 1, ...) as one protocol.
pub struct Batch<O> {
    ctx: SessionCtx,
    items: Vec<Item<O>>,
    queue: VecDeque<Message>,
    finished: bool,
}

struct Item<O> {
    session: SessionId,
    run: BoxedProtocol<O>,
    out: Option<O>,
}

impl<O> Batch<O> {
    /// A batch under `ctx`; item `i` of `runs` must run in [`item_session`]`(ctx.session(), i)`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when there are no runs, more than [`MAX_BATCH`], or a run's
    /// context does not match its item.
    pub fn new(ctx: SessionCtx, runs: Vec<BoxedProtocol<O>>) -> Result<Self> {
        if runs.is_empty() || runs.len() > MAX_BATCH {
            return Err(Error::Invalid {
                what: "batch",
                reason: format!("{} items (allowed 1..={MAX_BATCH})", runs.len()),
            });
        }
        let mut items = Vec::with_capacity(runs.len());
        for (i, run) in (0u16..).zip(runs) {
            let expected = item_ctx(&ctx, i)?;
            if *run.ctx() != expected {
                return Err(Error::Invalid {
                    what: "batch",
                    reason: format!("item {i} does not run in the batch's item session"),
                });
            }
            items.push(Item {
                session: expected.session(),
                run,
                out: None,
            });
        }
        Ok(Batch {
            ctx,
            items,
            queue: VecDeque::new(),
            finished: false,
        })
    }
}

impl<O> Protocol for Batch<O> {
    type Output = Vec<O>;

    fn ctx(&self) -> &SessionCtx {
        &self.ctx
    }

    fn proceed(&mut self) -> Result<Step<Vec<O>>> {
        if self.finished {
            return Err(Error::Misuse("proceed after the batch finished"));
        }
        if let Some(m) = self.queue.pop_front() {
            return Ok(Step::Send(m));
        }
        for (i, item) in (0u16..).zip(self.items.iter_mut()) {
            while item.out.is_none() {
                match item.run.proceed()? {
                    Step::Send(m) => {
                        let mut payload = Vec::with_capacity(m.payload.len().saturating_add(2));
                        payload.extend_from_slice(&i.to_be_bytes());
                        payload.extend_from_slice(&m.payload);
                        self.queue.push_back(Message {
                            session: self.ctx.session(),
                            payload,
                            ..m
                        });
                    }
                    Step::NeedMessage => break,
                    Step::Done(o) => item.out = Some(o),
                }
            }
        }
        if let Some(m) = self.queue.pop_front() {
            return Ok(Step::Send(m));
        }
        if self.items.iter().all(|it| it.out.is_some()) {
            self.finished = true;
            let outs = self.items.iter_mut().filter_map(|it| it.out.take());
            return Ok(Step::Done(outs.collect()));
        }
        Ok(Step::NeedMessage)
    }

    fn receive(&mut self, msg: Message) -> Result<()> {
        if msg.session != self.ctx.session() {
            return Err(Error::WrongSession { from: msg.from });
        }
        let (head, rest) =
            msg.payload
                .split_first_chunk::<2>()
                .ok_or_else(|| Error::MalformedMessage {
                    from: msg.from,
                    reason: "batch message without item number".into(),
                })?;
        let i = u16::from_be_bytes(*head);
        let item = self
            .items
            .get_mut(usize::from(i))
            .ok_or_else(|| Error::MalformedMessage {
                from: msg.from,
                reason: format!("batch has no item {i}"),
            })?;
        if item.out.is_some() {
            return Err(Error::DuplicateMessage {
                from: msg.from,
                round: msg.round,
            });
        }
        item.run.receive(Message {
            session: item.session,
            payload: rest.to_vec(),
            ..msg
        })
    }
}
