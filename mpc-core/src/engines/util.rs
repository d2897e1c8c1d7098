//! Small helpers shared by the engines.

use std::fmt::Display;

use crate::adapter::{Machine, RoundBasedRun};
use crate::error::Error;
use crate::ids::SessionCtx;
use crate::protocol::BoxedProtocol;

/// Maps an engine error to an abort. The engines used here do not attribute aborts to
/// parties in their error types, so `culprits` stays empty; message-level faults are
/// attributed by the adapter before they reach the engine.
pub(crate) fn abort(e: impl Display) -> Error {
    Error::Aborted {
        culprits: vec![],
        reason: e.to_string(),
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
    if let Some(i) = path.iter().find(|&&i| i >= 0x8000_0000) {
        return Err(Error::Derivation(format!(
            "index {i} is hardened; threshold keys derive only non-hardened children"
        )));
    }
    Ok(())
}
