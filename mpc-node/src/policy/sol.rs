//! Solana rules: lamports moved by the system program, the programs called.

use solana_address::Address;
use solana_system_interface::instruction::SystemInstruction;
use solana_transaction::versioned::VersionedTransaction;

use chain_sol::SolEncoder;
use mpc_core::chain::ChainEncoder;
use mpc_core::{SchemeId, SignRequest};
use mpc_transport::KeyRef;

use super::{derive, Approved, ChainRules, Refusal, SolConfig};
use crate::error::{NodeError, Result};

/// The Solana rules of a party (see [`SolConfig`]).
#[derive(Debug, Clone)]
pub struct SolRules {
    max_lamports: Option<u64>,
    programs: Option<Vec<Address>>,
}

impl SolRules {
    /// Rules from the config.
    ///
    /// # Errors
    /// A program id that is not base58 of 32 bytes.
    pub fn new(c: &SolConfig) -> Result<Self> {
        let programs = c
            .allowed_programs
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|p| {
                        p.parse::<Address>().map_err(|e| {
                            NodeError::Other(format!("policy.sol: program {p:?}: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        Ok(SolRules {
            max_lamports: c.max_lamports,
            programs,
        })
    }

    fn check_tx(&self, tx: &VersionedTransaction) -> core::result::Result<String, Refusal> {
        let keys = tx.message.static_account_keys();
        let system = solana_system_interface::program::ID;
        let mut moved: u64 = 0;
        let mut calls = Vec::new();
        for (n, ix) in tx.message.instructions().iter().enumerate() {
            let program = keys.get(usize::from(ix.program_id_index)).ok_or_else(|| {
                Refusal::new(
                    "sol.decode",
                    format!("instruction {n} names a program outside the static keys"),
                )
            })?;
            if let Some(list) = &self.programs {
                if !list.contains(program) {
                    return Err(Refusal::new(
                        "sol.program",
                        format!("instruction {n} calls {program}, not an allowed program"),
                    ));
                }
            }
            if *program == system {
                let ins: SystemInstruction = bincode::deserialize(&ix.data).map_err(|e| {
                    Refusal::new(
                        "sol.decode",
                        format!("instruction {n}: not a system instruction: {e}"),
                    )
                })?;
                let lamports = match ins {
                    SystemInstruction::Transfer { lamports }
                    | SystemInstruction::TransferWithSeed { lamports, .. }
                    | SystemInstruction::CreateAccount { lamports, .. }
                    | SystemInstruction::CreateAccountWithSeed { lamports, .. }
                    | SystemInstruction::CreateAccountAllowPrefund { lamports, .. }
                    | SystemInstruction::WithdrawNonceAccount(lamports) => lamports,
                    _ => 0,
                };
                moved = moved.saturating_add(lamports);
                calls.push(format!("system {lamports} lamports"));
            } else {
                calls.push(format!("program {program}"));
            }
        }
        if let Some(max) = self.max_lamports {
            if moved > max {
                return Err(Refusal::new(
                    "sol.max_lamports",
                    format!("moves {moved} lamports, above the limit of {max}"),
                ));
            }
        }
        Ok(format!(
            "fee payer {}; {} instructions [{}]; {moved} lamports moved by the system program",
            keys.first().map_or_else(String::new, ToString::to_string),
            calls.len(),
            calls.join(", ")
        ))
    }
}

impl ChainRules for SolRules {
    fn chain(&self) -> &'static str {
        "sol"
    }

    fn check(
        &self,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<Approved, Refusal> {
        if key.scheme != SchemeId::FrostEd25519 {
            return Err(Refusal::new(
                "sol.scheme",
                format!("{} keys do not sign Solana transactions", key.scheme),
            ));
        }
        let payload = request
            .chain_payload
            .as_ref()
            .ok_or_else(|| Refusal::new("raw_digest", "no chain payload"))?;
        let enc = SolEncoder::new();
        let tx = enc
            .decode_unsigned(&payload.bytes)
            .map_err(|e| Refusal::new("sol.decode", e.to_string()))?;
        let summary = self.check_tx(&tx)?;
        derive(&enc, &key.public_key, request, summary)
    }
}
