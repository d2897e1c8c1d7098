//! Small helpers shared by the engines.

use crate::adapter::{Machine, RoundBasedRun};
use crate::error::Error;
use crate::ids::SessionCtx;
use crate::protocol::BoxedProtocol;

/// Maps an engine error to an abort. The engines keep their blame lists (signer positions
/// whose proofs failed) in private error types, so `culprits` stays empty and the reason
/// carries the engine's whole explanation: the chain of sources and the detailed form.
/// Message-level faults are attributed by the adapter before they reach the engine.
pub(crate) fn abort(e: impl std::error::Error) -> Error {
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    reason.push_str(&format!(" (details: {e:?})"));
    Error::Aborted {
        culprits: vec![],
        reason,
    }
}

/// Boxes a state machine as a protocol run of `phase`.
pub(crate) fn boxed<M, O>(ctx: &SessionCtx, phase: u8, machine: Machine<M, O>) -> BoxedProtocol<O>
where
    M: round_based::ProtocolMessage + serde::Serialize + serde::de::DeserializeOwned + 'static,
    O: 'static,
{
    Box::new(RoundBasedRun::new(ctx.clone(), phase, machine))
}

/// Checks a derivation path is non-hardened (each index below 2^31).
pub(crate) fn check_path(path: &[u32]) -> Result<(), Error> {
    if path.len() > 255 {
        return Err(Error::Derivation(format!(
            "path of {} levels is deeper than BIP-32's 255",
            path.len()
        )));
    }
    if let Some(i) = path.iter().find(|&&i| i >= 0x8000_0000) {
        return Err(Error::Derivation(format!(
            "index {i} is hardened; threshold keys derive only non-hardened children"
        )));
    }
    Ok(())
}
