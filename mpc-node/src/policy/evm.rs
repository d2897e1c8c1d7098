//! EVM rules: chain ids, the value sent, the destinations.

use alloy_consensus::{Transaction, TypedTransaction};
use alloy_primitives::{Address, U256};
use chain_evm::EvmEncoder;
use mpc_core::chain::ChainEncoder;
use mpc_core::{SchemeId, SignRequest};
use mpc_transport::KeyRef;

use super::{derive, Approved, ChainRules, EvmConfig, Refusal};
use crate::error::{NodeError, Result};

/// The EVM rules of a party (see [`EvmConfig`]).
#[derive(Debug, Clone)]
pub struct EvmRules {
    chain_ids: Vec<u64>,
    max_value: Option<U256>,
    destinations: Option<Vec<Address>>,
}

fn config_error(reason: String) -> NodeError {
    NodeError::Other(format!("policy.evm: {reason}"))
}

impl EvmRules {
    /// Rules from the config.
    ///
    /// # Errors
    /// A value or address that does not parse.
    pub fn new(c: &EvmConfig) -> Result<Self> {
        let max_value = c
            .max_value_wei
            .as_deref()
            .map(|v| {
                U256::from_str_radix(v, 10)
                    .map_err(|e| config_error(format!("max_value_wei {v:?}: {e}")))
            })
            .transpose()?;
        let destinations = c
            .allowed_destinations
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|a| {
                        a.parse::<Address>()
                            .map_err(|e| config_error(format!("address {a:?}: {e}")))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        Ok(EvmRules {
            chain_ids: c.chain_ids.clone(),
            max_value,
            destinations,
        })
    }

    fn check_tx(&self, tx: &TypedTransaction) -> core::result::Result<(u64, String), Refusal> {
        let chain_id = tx.chain_id().ok_or_else(|| {
            Refusal::new(
                "evm.chain_id",
                "the transaction has no chain id (pre-EIP-155 replayable)",
            )
        })?;
        if !self.chain_ids.contains(&chain_id) {
            return Err(Refusal::new(
                "evm.chain_id",
                format!(
                    "chain id {chain_id} is not among the allowed {:?}",
                    self.chain_ids
                ),
            ));
        }
        let value = tx.value();
        if let Some(max) = self.max_value {
            if value > max {
                return Err(Refusal::new(
                    "evm.max_value",
                    format!("value {value} wei, above the limit of {max}"),
                ));
            }
        }
        let to = tx.to();
        if let Some(list) = &self.destinations {
            match to {
                Some(a) if list.contains(&a) => {}
                Some(a) => {
                    return Err(Refusal::new(
                        "evm.destination",
                        format!("{} is not an allowed destination", a.to_checksum(None)),
                    ))
                }
                None => {
                    return Err(Refusal::new(
                        "evm.destination",
                        "contract creation is not an allowed destination",
                    ))
                }
            }
        }
        let summary = format!(
            "{:?} chain id {chain_id}, nonce {}, to {}, value {value} wei, gas limit {}, {} bytes of input",
            tx.tx_type(),
            tx.nonce(),
            to.map_or_else(|| "contract creation".to_string(), |a| a.to_checksum(None)),
            tx.gas_limit(),
            tx.input().len()
        );
        Ok((chain_id, summary))
    }
}

impl ChainRules for EvmRules {
    fn chain(&self) -> &'static str {
        "evm"
    }

    fn check(
        &self,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<Approved, Refusal> {
        if !matches!(
            key.scheme,
            SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1
        ) {
            return Err(Refusal::new(
                "evm.scheme",
                format!("{} keys do not sign EVM transactions", key.scheme),
            ));
        }
        let payload = request
            .chain_payload
            .as_ref()
            .ok_or_else(|| Refusal::new("raw_digest", "no chain payload"))?;
        // Decoding does not depend on the chain id; the encoder that derives does.
        let tx = EvmEncoder::new(0)
            .decode_unsigned(&payload.bytes)
            .map_err(|e| Refusal::new("evm.decode", e.to_string()))?;
        let (chain_id, summary) = self.check_tx(&tx)?;
        derive(
            &EvmEncoder::new(chain_id),
            &key.public_key,
            request,
            summary,
        )
    }
}
