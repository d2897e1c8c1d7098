//! Drives a sans-IO protocol run over a [`Transport`].

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use mpc_core::{Message, PartyIndex, Protocol, SessionCtx, Step};
use tokio::time::timeout_at;

use crate::envelope::Envelope;
use crate::error::TransportError;
use crate::transport::Transport;

/// How a run is driven.
#[derive(Debug, Clone)]
pub struct DriveOptions {
    /// How long to wait for the next accepted message (or for a send to go through) before
    /// giving up. The clock restarts on every accepted message, not on rejected ones; each
    /// peer can be accepted at most once per round, so a peer cannot keep a stalled run
    /// alive for long.
    pub round_timeout: Duration,
    /// Bound on the whole run, whatever peers send.
    pub run_timeout: Duration,
}

impl Default for DriveOptions {
    fn default() -> Self {
        DriveOptions {
            round_timeout: Duration::from_secs(60),
            run_timeout: Duration::from_secs(600),
        }
    }
}

/// How many rejected frames a report keeps (and logs); the rest are only counted.
pub const MAX_REPORTED_REJECTIONS: usize = 32;

/// When a message was accepted, relative to the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Round id.
    pub round: u16,
    /// Sender.
    pub from: PartyIndex,
    /// Time since the run started.
    pub at: Duration,
}

/// What happened during a run.
#[derive(Debug, Default)]
pub struct DriveReport {
    /// The first [`MAX_REPORTED_REJECTIONS`] frames that were refused (bad session, sender,
    /// duplicate, size...). The run went on.
    pub rejected: Vec<TransportError>,
    /// How many frames were refused in all.
    pub rejected_total: usize,
    /// Frames sent.
    pub sent: usize,
    /// Accepted messages, in order.
    pub arrivals: Vec<Arrival>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl DriveReport {
    fn reject(&mut self, from: Option<PartyIndex>, e: TransportError) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_REPORTED_REJECTIONS {
            tracing::warn!(from, error = %e, "rejected frame");
            self.rejected.push(e);
        }
    }
}

/// Checks a frame from `from` (as authenticated by the transport) for the session of `ctx`.
///
/// # Errors
/// [`TransportError::WrongSender`] if the envelope names someone else,
/// [`TransportError::WrongSession`] for another session or scheme, or a decode error.
pub fn accept(
    ctx: &SessionCtx,
    from: PartyIndex,
    frame: &[u8],
    max_frame: usize,
) -> Result<Message, TransportError> {
    let env = Envelope::decode(frame, max_frame)?;
    if env.message.from != from {
        return Err(TransportError::WrongSender {
            claimed: env.message.from,
            authenticated: from,
        });
    }
    if env.message.session != ctx.session() || env.scheme != ctx.scheme() {
        return Err(TransportError::WrongSession { from });
    }
    Ok(env.message)
}

/// Runs `run` to completion over `transport`.
///
/// Broadcasts are sent to each other participant of the run. Frames that fail the checks of
/// [`accept`] or that the run refuses (duplicates, malformed payloads) are recorded in the
/// report and the run goes on.
///
/// # Errors
/// [`TransportError::Timeout`] naming the parties whose messages were missing,
/// [`TransportError::Core`] when the protocol aborts, [`TransportError::Closed`].
pub async fn drive<P, T>(
    mut run: P,
    transport: &mut T,
    opts: &DriveOptions,
) -> Result<(P::Output, DriveReport), TransportError>
where
    P: Protocol,
    T: Transport,
{
    let ctx = run.ctx().clone();
    let me = ctx.me();
    let start = Instant::now();
    let run_deadline = tokio::time::Instant::now() + opts.run_timeout;
    let mut report = DriveReport::default();
    let mut heard: HashMap<u16, HashSet<PartyIndex>> = HashMap::new();
    let mut deadline = (tokio::time::Instant::now() + opts.round_timeout).min(run_deadline);
    let span = tracing::debug_span!("run", scheme = %ctx.scheme(), party = me);
    let _guard = span.enter();
    loop {
        match run.proceed()? {
            Step::Send(m) => {
                let to = m.to;
                let frame = Envelope {
                    scheme: ctx.scheme(),
                    message: m,
                }
                .encode(transport.max_frame())?;
                let targets: Vec<PartyIndex> = match to {
                    Some(p) => vec![p],
                    None => ctx.parties().iter().copied().filter(|&p| p != me).collect(),
                };
                let send_deadline =
                    (tokio::time::Instant::now() + opts.round_timeout).min(run_deadline);
                for p in targets {
                    match timeout_at(send_deadline, transport.send(p, frame.clone())).await {
                        Ok(r) => r?,
                        Err(_) => return Err(timeout_sending(p, opts.round_timeout)),
                    }
                    report.sent += 1;
                }
            }
            Step::NeedMessage => {
                let received = match timeout_at(deadline, transport.recv()).await {
                    Ok(r) => r,
                    Err(_) => return Err(timeout(&ctx, &heard, opts.round_timeout)),
                };
                let (from, frame) = match received {
                    Ok(x) => x,
                    Err(TransportError::Closed) => return Err(TransportError::Closed),
                    Err(e) => {
                        report.reject(None, e);
                        continue;
                    }
                };
                let msg = match accept(&ctx, from, &frame, transport.max_frame()) {
                    Ok(m) => m,
                    Err(e) => {
                        report.reject(Some(from), e);
                        continue;
                    }
                };
                let round = msg.round;
                match run.receive(msg) {
                    Ok(()) => {
                        heard.entry(round).or_default().insert(from);
                        report.arrivals.push(Arrival {
                            round,
                            from,
                            at: start.elapsed(),
                        });
                        deadline =
                            (tokio::time::Instant::now() + opts.round_timeout).min(run_deadline);
                    }
                    Err(e) => report.reject(Some(from), e.into()),
                }
            }
            Step::Done(out) => {
                report.elapsed = start.elapsed();
                return Ok((out, report));
            }
        }
    }
}

fn timeout_sending(to: PartyIndex, after: Duration) -> TransportError {
    TransportError::Timeout {
        round: 0,
        waiting_for: vec![to],
        after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
    }
}

/// Names the parties missing from the lowest round that some participant has not completed:
/// a peer that skips a round is blamed for it even if it sent later rounds. If every round
/// seen is complete, nobody has sent the next one yet and all other participants are named.
fn timeout(
    ctx: &SessionCtx,
    heard: &HashMap<u16, HashSet<PartyIndex>>,
    after: Duration,
) -> TransportError {
    let others: Vec<PartyIndex> = ctx
        .parties()
        .iter()
        .copied()
        .filter(|p| *p != ctx.me())
        .collect();
    let mut rounds: Vec<u16> = heard.keys().copied().collect();
    rounds.sort_unstable();
    let missing = rounds.iter().find_map(|r| {
        let got = heard.get(r)?;
        let missing: Vec<PartyIndex> = others
            .iter()
            .copied()
            .filter(|p| !got.contains(p))
            .collect();
        (!missing.is_empty()).then_some((*r, missing))
    });
    let (round, waiting_for) =
        missing.unwrap_or_else(|| (rounds.last().map_or(0, |r| r + 1), others));
    TransportError::Timeout {
        round,
        waiting_for,
        after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
    }
}
