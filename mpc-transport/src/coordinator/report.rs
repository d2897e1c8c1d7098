//! What the coordinator reports about a signing request: each attempt, its quorum, who was
//! blamed, and per-party, per-round timings.

use mpc_core::{PartyIndex, SessionId};
use serde::Serialize;

use crate::control::RunTimings;

/// A party left out of later attempts, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// The party.
    pub party: PartyIndex,
    /// Why (timed out, connection lost, blamed by another party...).
    pub reason: String,
}

/// One party's part in an attempt.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PartyTiming {
    /// The party.
    pub party: PartyIndex,
    /// When its response arrived, in microseconds since the attempt started (none: no
    /// response).
    pub responded_us: Option<u64>,
    /// The party's own timings of its run (per round: who, when).
    pub run: Option<RunTimings>,
    /// Its failure, if it reported or caused one.
    pub error: Option<String>,
}

/// The last message a party accepted in one round, i.e. when that round completed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoundTiming {
    /// Round id (engine phase << 8 | round).
    pub round: u16,
    /// Party whose run this is.
    pub party: PartyIndex,
    /// Sender of the round's last message (the slowest peer of the round).
    pub slowest: PartyIndex,
    /// Microseconds since that party's run started.
    pub completed_us: u64,
}

/// One attempt: a quorum, a fresh session.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptReport {
    /// Session id of the attempt.
    pub session: SessionId,
    /// Quorum used.
    pub quorum: Vec<PartyIndex>,
    /// Presignature used (online signing), as hex.
    pub presignature: Option<String>,
    /// Wall time, microseconds.
    pub elapsed_us: u64,
    /// Error of the attempt (none: it succeeded).
    pub error: Option<String>,
    /// Parties blamed for the failure.
    pub blamed: Vec<PartyIndex>,
    /// Per-party timings.
    pub parties: Vec<PartyTiming>,
}

impl AttemptReport {
    /// Per party and round, when the round completed at that party and who was last.
    pub fn rounds(&self) -> Vec<RoundTiming> {
        let mut out: Vec<RoundTiming> = Vec::new();
        for p in &self.parties {
            let Some(run) = &p.run else { continue };
            for &(round, from, at) in &run.arrivals {
                match out
                    .iter_mut()
                    .find(|r| r.party == p.party && r.round == round)
                {
                    Some(r) if at >= r.completed_us => {
                        r.completed_us = at;
                        r.slowest = from;
                    }
                    Some(_) => {}
                    None => out.push(RoundTiming {
                        round,
                        party: p.party,
                        slowest: from,
                        completed_us: at,
                    }),
                }
            }
        }
        out
    }
}

/// Everything about one request: attempts in order, and who was excluded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionReport {
    /// Attempts, in order; the last one succeeded if the request did.
    pub attempts: Vec<AttemptReport>,
    /// Parties excluded along the way.
    pub excluded: Vec<Exclusion>,
    /// Whether a full signing ran because no presignature fitted.
    pub fell_back_to_full: bool,
    /// Wall time, microseconds.
    pub elapsed_us: u64,
}

impl core::fmt::Display for SessionReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        writeln!(
            f,
            "request: {:.2} ms, {} attempt(s)",
            ms(self.elapsed_us),
            self.attempts.len()
        )?;
        for (i, a) in self.attempts.iter().enumerate() {
            let outcome = a.error.as_deref().unwrap_or("ok");
            writeln!(
                f,
                "  attempt {}: quorum {:?}, {:.2} ms, {outcome}",
                i + 1,
                a.quorum,
                ms(a.elapsed_us)
            )?;
            for p in &a.parties {
                let resp = p
                    .responded_us
                    .map_or("no response".to_string(), |us| format!("{:.2} ms", ms(us)));
                let run = p.run.as_ref().map_or(String::new(), |r| {
                    format!(", own run {:.2} ms", ms(r.elapsed_us))
                });
                writeln!(f, "    party {}: {resp}{run}", p.party)?;
            }
            for r in a.rounds() {
                writeln!(
                    f,
                    "    round {:#06x} at party {}: done at {:.2} ms (last from party {})",
                    r.round,
                    r.party,
                    ms(r.completed_us),
                    r.slowest
                )?;
            }
        }
        for e in &self.excluded {
            writeln!(f, "  excluded party {}: {}", e.party, e.reason)?;
        }
        Ok(())
    }
}
