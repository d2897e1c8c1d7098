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
    /// How long to wait for the next accepted message before giving up on the round. The
    /// clock restarts on every accepted message, not on rejected ones, so junk cannot keep a
    /// stalled run alive.
    pub round_timeout: Duration,
}

impl Default for DriveOptions {
    fn default() -> Self {
        DriveOptions {
            round_timeout: Duration::from_secs(60),
        }
    }
}

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
    /// Frames that were refused (bad session, sender, duplicate, size...). The run went on.
    pub rejected: Vec<TransportError>,
    /// Frames sent.
    pub sent: usize,
    /// Accepted messages, in order.
    pub arrivals: Vec<Arrival>,
    /// Wall time of the run.
    pub elapsed: Duration,
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
    let mut report = DriveReport::default();
    let mut heard: HashMap<u16, HashSet<PartyIndex>> = HashMap::new();
    let mut last_sent_round = 0u16;
    let mut deadline = tokio::time::Instant::now() + opts.round_timeout;
    let span = tracing::debug_span!("run", scheme = %ctx.scheme(), party = me);
    let _guard = span.enter();
    loop {
        match run.proceed()? {
            Step::Send(m) => {
                last_sent_round = m.round;
                let to = m.to;
                let frame = Envelope {
                    scheme: ctx.scheme(),
                    message: m,
                }
                .encode(transport.max_frame())?;
                match to {
                    Some(p) => {
                        transport.send(p, frame).await?;
                        report.sent += 1;
                    }
                    None => {
                        for &p in ctx.parties().iter().filter(|&&p| p != me) {
                            transport.send(p, frame.clone()).await?;
                            report.sent += 1;
                        }
                    }
                }
            }
            Step::NeedMessage => {
                let received = match timeout_at(deadline, transport.recv()).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(timeout(&ctx, &heard, last_sent_round, opts.round_timeout))
                    }
                };
                let (from, frame) = match received {
                    Ok(x) => x,
                    Err(TransportError::Closed) => return Err(TransportError::Closed),
                    Err(e) => {
                        report.rejected.push(e);
                        continue;
                    }
                };
                let msg = match accept(&ctx, from, &frame, transport.max_frame()) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(from, error = %e, "rejected frame");
                        report.rejected.push(e);
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
                        deadline = tokio::time::Instant::now() + opts.round_timeout;
                    }
                    Err(e) => {
                        tracing::warn!(from, error = %e, "rejected message");
                        report.rejected.push(e.into());
                    }
                }
            }
            Step::Done(out) => {
                report.elapsed = start.elapsed();
                return Ok((out, report));
            }
        }
    }
}

fn timeout(
    ctx: &SessionCtx,
    heard: &HashMap<u16, HashSet<PartyIndex>>,
    last_sent_round: u16,
    after: Duration,
) -> TransportError {
    let round = heard
        .keys()
        .copied()
        .max()
        .unwrap_or(0)
        .max(last_sent_round);
    let empty = HashSet::new();
    let got = heard.get(&round).unwrap_or(&empty);
    let mut waiting_for: Vec<PartyIndex> = ctx
        .parties()
        .iter()
        .copied()
        .filter(|p| *p != ctx.me() && !got.contains(p))
        .collect();
    if waiting_for.is_empty() {
        waiting_for = ctx
            .parties()
            .iter()
            .copied()
            .filter(|p| *p != ctx.me())
            .collect();
    }
    TransportError::Timeout {
        round,
        waiting_for,
        after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
    }
}
