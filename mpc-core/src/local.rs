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
/// The first error any run returns, or [`Error::Aborted`] when the runs stall.
pub fn run_local<O>(mut runs: Vec<BoxedProtocol<O>>) -> Result<Vec<O>> {
    let ids: Vec<PartyIndex> = runs.iter().map(|r| r.ctx().me()).collect();
    let mut inbox: Vec<VecDeque<Message>> = runs.iter().map(|_| VecDeque::new()).collect();
    let mut out: Vec<Option<O>> = runs.iter().map(|_| None).collect();
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
                match run.proceed()? {
                    Step::Send(m) => {
                        progressed = true;
                        for (j, id) in ids.iter().enumerate() {
                            let wanted = match m.to {
                                Some(to) => to == *id,
                                None => *id != m.from,
                            };
                            if wanted {
                                if let Some(q) = inbox.get_mut(j) {
                                    q.push_back(m.clone());
                                }
                            }
                        }
                    }
                    Step::NeedMessage => {
                        let Some(m) = inbox.get_mut(k).and_then(VecDeque::pop_front) else {
                            break;
                        };
                        progressed = true;
                        run.receive(m)?;
                    }
                    Step::Done(o) => {
                        progressed = true;
                        *slot = Some(o);
                        break;
                    }
                }
            }
        }
        if out.iter().all(Option::is_some) {
            return Ok(out.into_iter().flatten().collect());
        }
        if !progressed {
            let waiting = ids
                .iter()
                .zip(&out)
                .filter(|(_, o)| o.is_none())
                .map(|(id, _)| *id)
                .collect::<Vec<_>>();
            return Err(Error::Aborted {
                culprits: vec![],
                reason: format!("runs stalled: parties {waiting:?} wait for messages nobody sends"),
            });
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
