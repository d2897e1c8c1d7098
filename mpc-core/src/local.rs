//! Runs all parties of a protocol in the calling thread, passing messages in memory.
//!
//! For tests, benchmarks and one-process demos; no transport, no threads, no clock. A run
//! that can make no more progress (a party waits for a message nobody will send) ends
//! with [`Error::Aborted`] naming the parties still waiting, instead of hanging.

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::ids::PartyIndex;
use crate::protocol::{BoxedProtocol, Message, Step};

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
