//! Runs all parties of a protocol in the calling thread, passing messages in memory.
//!
//! For tests, benchmarks and one-process demos; no transport, no threads, no clock. A run
//! that can make no more progress (a party waits for a message nobody will send) ends
//! with [`Error::Aborted`] naming the parties still waiting, instead of hanging.

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::ids::{PartyIndex, SessionCtx, SessionId};
use crate::protocol::{BoxedProtocol, Message, Step};
use crate::scheme::ThresholdScheme;
use crate::share::KeyShare;
use crate::sig::{SignRequest, Signature};

/// Drives every run to completion and returns the outputs in the order of `runs`.
///
/// # Errors
/// The first error a run returns, or [`Error::Aborted`] when the runs stall.
pub fn run_local<O>(runs: Vec<BoxedProtocol<O>>) -> Result<Vec<O>> {
    let ids: Vec<PartyIndex> = runs.iter().map(|r| r.ctx().me()).collect();
    let (mut ends, order) = drive_all(runs, |_, _| Delivery::Deliver);
    // The error that happened first, as a driver that stops at the first error reports it.
    if let Some(k) = order
        .into_iter()
        .find(|&k| matches!(ends.get(k), Some(Some(Err(_)))))
    {
        if let Some(Some(Err(e))) = ends.get_mut(k).map(Option::take) {
            return Err(e);
        }
    }
    let mut waiting = Vec::new();
    let mut out = Vec::with_capacity(ends.len());
    for (id, end) in ids.into_iter().zip(ends) {
        match end {
            Some(Ok(o)) => out.push(o),
            _ => waiting.push(id),
        }
    }
    if waiting.is_empty() {
        Ok(out)
    } else {
        Err(Error::Aborted {
            culprits: vec![],
            reason: format!("runs stalled: parties {waiting:?} wait for messages nobody sends"),
        })
    }
}

/// What a delivery hook of [`run_each`] does with one message to one receiver.
#[derive(Debug)]
pub enum Delivery {
    /// Deliver it (as the hook may have changed it).
    Deliver,
    /// Drop it.
    Drop,
}

/// Drives every run as far as it goes and returns each party's own result, in the order of
/// `runs`: for simulations of faulty parties. Every message passes through `hook` once per
/// receiver (`hook(receiver, message)`), which may change it, so a test can tamper with,
/// truncate, replace or drop a party's message, or send different receivers different
/// versions (equivocation). A message a run refuses ends that party's run here with the
/// refusal (a networked driver logs the refused frame and keeps waiting, so there the run
/// ends at its round timeout naming the sender). A party still
/// waiting when nothing moves ends with [`Error::Aborted`] with no culprit named (a
/// networked driver names the silent parties after its round timeout).
pub fn run_each<O>(
    runs: Vec<BoxedProtocol<O>>,
    hook: impl FnMut(PartyIndex, &mut Message) -> Delivery,
) -> Vec<Result<O>> {
    drive_all(runs, hook)
        .0
        .into_iter()
        .map(|end| {
            end.unwrap_or_else(|| {
                Err(Error::Aborted {
                    culprits: vec![],
                    reason: "run stalled: waiting for messages nobody sends".into(),
                })
            })
        })
        .collect()
}

/// Moves messages between the runs (through `hook`) until none can go further; returns how
/// each ended (`None` for a run still waiting) and the order in which they ended.
fn drive_all<O>(
    mut runs: Vec<BoxedProtocol<O>>,
    mut hook: impl FnMut(PartyIndex, &mut Message) -> Delivery,
) -> (Vec<Option<Result<O>>>, Vec<usize>) {
    let mut order = Vec::new();
    let ids: Vec<PartyIndex> = runs.iter().map(|r| r.ctx().me()).collect();
    let mut inbox: Vec<VecDeque<Message>> = runs.iter().map(|_| VecDeque::new()).collect();
    let mut out: Vec<Option<Result<O>>> = runs.iter().map(|_| None).collect();
    loop {
        let mut progressed = false;
        for k in 0..runs.len() {
            let (Some(run), Some(slot)) = (runs.get_mut(k), out.get_mut(k)) else {
                continue;
            };
            if slot.is_some() {
                continue;
            }
            loop {
                let step = match run.proceed() {
                    Ok(step) => step,
                    Err(e) => {
                        *slot = Some(Err(e));
                        order.push(k);
                        progressed = true;
                        break;
                    }
                };
                match step {
                    Step::Send(m) => {
                        progressed = true;
                        for (j, id) in ids.iter().enumerate() {
                            let wanted = match m.to {
                                Some(to) => to == *id,
                                None => *id != m.from,
                            };
                            let mut copy = m.clone();
                            if wanted && matches!(hook(*id, &mut copy), Delivery::Deliver) {
                                if let Some(q) = inbox.get_mut(j) {
                                    q.push_back(copy);
                                }
                            }
                        }
                    }
                    Step::NeedMessage => {
                        let Some(m) = inbox.get_mut(k).and_then(VecDeque::pop_front) else {
                            break;
                        };
                        progressed = true;
                        if let Err(e) = run.receive(m) {
                            *slot = Some(Err(e));
                            order.push(k);
                            break;
                        }
                    }
                    Step::Done(o) => {
                        progressed = true;
                        *slot = Some(Ok(o));
                        order.push(k);
                        break;
                    }
                }
            }
        }
        if !progressed || out.iter().all(Option::is_some) {
            return (out, order);
        }
    }
}

/// Key generation by `configs.len()` parties with threshold `t`, all in this thread, under
/// a fresh random session. Returns the shares by party index.
///
/// # Errors
/// As [`ThresholdScheme::keygen`] and [`run_local`].
pub fn keygen<S: ThresholdScheme>(
    t: u16,
    configs: Vec<S::KeygenConfig>,
) -> Result<Vec<KeyShare<S::Data>>> {
    let n = u16::try_from(configs.len()).map_err(|_| Error::InvalidThreshold { t, n: u16::MAX })?;
    let sid = SessionId::random(&mut rand_core::OsRng);
    let runs = (0u16..)
        .zip(configs)
        .map(|(i, c)| S::keygen(&SessionCtx::keygen(sid, S::ID, i, n)?, t, c))
        .collect::<Result<Vec<_>>>()?;
    run_local(runs)
}

/// Signing of `requests` as one batch ([`ThresholdScheme::sign_batch`]) by the parties
/// `signers`, all in this thread, under a fresh random session. `shares` holds at least the
/// signers' shares (found by their index). Checks that all signers output the same
/// signatures.
///
/// # Errors
/// As [`ThresholdScheme::sign_batch`] and [`run_local`]; [`Error::NotAParticipant`] when a
/// signer's share is missing.
pub fn sign_batch<S: ThresholdScheme>(
    shares: &[KeyShare<S::Data>],
    signers: &[PartyIndex],
    requests: &[SignRequest],
) -> Result<Vec<Signature>> {
    run_signers::<S, _>(shares, signers, |ctx, share| {
        S::sign_batch(ctx, share, requests)
    })
}

/// Signing of one request ([`ThresholdScheme::sign`]) by the parties `signers`, all in this
/// thread, under a fresh random session.
///
/// # Errors
/// As [`sign_batch`].
pub fn sign<S: ThresholdScheme>(
    shares: &[KeyShare<S::Data>],
    signers: &[PartyIndex],
    request: &SignRequest,
) -> Result<Signature> {
    run_signers::<S, _>(shares, signers, |ctx, share| S::sign(ctx, share, request))
}

fn run_signers<S: ThresholdScheme, O: PartialEq>(
    shares: &[KeyShare<S::Data>],
    signers: &[PartyIndex],
    start: impl Fn(&SessionCtx, &KeyShare<S::Data>) -> Result<BoxedProtocol<O>>,
) -> Result<O> {
    let sid = SessionId::random(&mut rand_core::OsRng);
    let mine = signers
        .iter()
        .map(|&i| {
            shares
                .iter()
                .find(|s| s.index() == i)
                .ok_or(Error::NotAParticipant(i))
        })
        .collect::<Result<Vec<_>>>()?;
    // The session is for the newest epoch among the signers: a share of an older one is
    // named (Error::EpochMismatch) instead of producing a signature that fails.
    let epoch = mine.iter().map(|s| s.epoch()).max().unwrap_or(0);
    let runs = signers
        .iter()
        .zip(mine)
        .map(|(&i, share)| {
            start(
                &SessionCtx::new(sid, S::ID, i, signers)?.with_epoch(epoch),
                share,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let mut outs = run_local(runs)?.into_iter();
    let first = outs.next().ok_or(Error::Misuse("no signers"))?;
    if outs.any(|o| o != first) {
        return Err(Error::Aborted {
            culprits: vec![],
            reason: "signers output different signatures".into(),
        });
    }
    Ok(first)
}
