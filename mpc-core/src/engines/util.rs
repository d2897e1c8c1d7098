//! Small helpers shared by the engines.

use crate::adapter::{Machine, RoundBasedRun};
use crate::error::Error;
use crate::ids::{PartyIndex, SessionCtx};
use crate::limits::ProtocolKind;
use crate::protocol::BoxedProtocol;

/// Maps an engine error to this crate's error, for a run whose round-based party positions
/// are `parties` (position `k` is party `parties[k]`).
///
/// cggmp21 and givre keep their blame lists (the positions of the parties whose messages
/// failed a check) in private error types that show them only in their `Debug` form, as
/// `faulty_party: k` (an `AbortBlame`), `parties: [k, ..]`, or `[(k, msg, msg), ..]`
/// tuples. Those positions are read from there and named as `culprits` (not for a broadcast
/// found unreliable, where receivers blame each other); an engine's own bug or refused
/// arguments become [`Error::Internal`], never an abort with nobody blamed. The reason carries
/// the engine's whole explanation. `tests/threshold_raise.rs` checks this reading against
/// the engines' real errors for the DKG; the forms of the other rounds are checked only by
/// the unit test below so far. Message-level faults (undecodable, duplicate, foreign
/// session) are attributed by the adapter before they reach the engine.
pub(crate) fn abort_in(parties: &[PartyIndex]) -> impl Fn(&dyn std::error::Error) -> Error + '_ {
    move |e| convert(e, &|k| parties.get(usize::from(k)).copied())
}

/// [`abort_in`] for a run whose party positions are the party indices (key generation,
/// auxiliary info).
pub(crate) fn abort(e: impl std::error::Error) -> Error {
    convert(&e, &Some)
}

fn convert(e: &dyn std::error::Error, party_at: &dyn Fn(u16) -> Option<PartyIndex>) -> Error {
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    let details = format!("{e:?}");
    if LOCAL_FAULTS.iter().any(|f| details.contains(f)) {
        return Error::Internal(format!("{reason} (details: {details})"));
    }
    // A broadcast that was not reliable is reported by each receiver against the parties
    // whose echo differs from its own: with an equivocating sender, honest receivers name
    // each other. No culprit then.
    let mut culprits: Vec<PartyIndex> = if details.contains("NotReliable") {
        Vec::new()
    } else {
        blamed_positions(&details)
            .into_iter()
            .filter_map(party_at)
            .collect()
    };
    culprits.sort_unstable();
    culprits.dedup();
    reason.push_str(&format!(" (details: {details})"));
    Error::Aborted { culprits, reason }
}

/// Engine errors that are this party's own fault (a bug, or arguments the engine refuses),
/// by their `Debug` names in cggmp21, cggmp21-keygen/cggmp24-keygen and givre.
const LOCAL_FAULTS: [&str; 7] = [
    "Bug(",
    "InternalError(",
    "InvalidArgs(",
    "InvalidKeyShare(",
    "INotInRange",
    "NOverflowsU16",
    "UnexpectedNumberOfSigners",
];

/// The party positions an engine's `Debug` output blames (see [`abort_in`]).
fn blamed_positions(details: &str) -> Vec<u16> {
    let mut out = Vec::new();
    let number_after = |s: &str| -> Option<u16> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    for (at, _) in details.match_indices("faulty_party: ") {
        out.extend(details.get(at + 14..).and_then(number_after));
    }
    for (at, _) in details.match_indices("parties: [") {
        let list = details.get(at + 10..).unwrap_or_default();
        let end = list.find(']').unwrap_or(0);
        out.extend(
            list.get(..end)
                .unwrap_or_default()
                .split(", ")
                .filter_map(|x| x.trim().parse::<u16>().ok()),
        );
    }
    for pattern in ["([(", "), ("] {
        for (at, _) in details.match_indices(pattern) {
            out.extend(details.get(at + pattern.len()..).and_then(number_after));
        }
    }
    out
}

/// Boxes a state machine as a `kind` protocol run of `phase`.
pub(crate) fn boxed<M, O>(
    ctx: &SessionCtx,
    phase: u8,
    kind: ProtocolKind,
    machine: Machine<M, O>,
) -> BoxedProtocol<O>
where
    M: round_based::ProtocolMessage + serde::Serialize + serde::de::DeserializeOwned + 'static,
    O: 'static,
{
    Box::new(RoundBasedRun::new(ctx.clone(), phase, kind, machine))
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

#[cfg(test)]
mod tests {
    use super::blamed_positions;

    #[test]
    fn blame_is_read_from_each_debug_form() {
        assert_eq!(
            blamed_positions("Aborted(InvalidDataSize { parties: [2, 0] })"),
            vec![2, 0]
        );
        assert_eq!(
            blamed_positions("InvalidSchnorrProof([AbortBlame { faulty_party: 1, data_message: 3, proof_message: 4 }])"),
            vec![1]
        );
        assert_eq!(
            blamed_positions("EncProofOfK([(1, 3, 5), (2, 4, 6)])"),
            vec![1, 2]
        );
        assert!(blamed_positions("SignatureInvalid").is_empty());
    }

    #[test]
    fn unreliable_broadcasts_blame_nobody_and_local_faults_are_internal() {
        #[derive(Debug)]
        struct E(&'static str);
        impl core::fmt::Display for E {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {}
        let unreliable = E("SigningError(Aborted(Round1aNotReliable([(1, 3)])))");
        assert!(matches!(
            super::abort(unreliable),
            crate::Error::Aborted { culprits, .. } if culprits.is_empty()
        ));
        assert!(matches!(
            super::abort(E("KeyRefreshError(InternalError(PaillierKeyError))")),
            crate::Error::Internal(_)
        ));
    }
}
