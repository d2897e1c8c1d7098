//! The policy section of a party's configuration (TOML).

use serde::{Deserialize, Serialize};

/// A party's rules (`[policy]` in its config). A chain without a section is not signed for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Sign requests that carry no chain payload (a bare digest the party cannot check).
    /// For benchmarks of the protocols alone; never in custody.
    #[serde(default)]
    pub danger_allow_raw_digests: bool,
    /// Bitcoin rules.
    #[serde(default)]
    pub btc: Option<BtcConfig>,
    /// EVM rules.
    #[serde(default)]
    pub evm: Option<EvmConfig>,
    /// Solana rules.
    #[serde(default)]
    pub sol: Option<SolConfig>,
}

/// `[policy.btc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BtcConfig {
    /// Networks the party signs for (`bitcoin`, `testnet`, `signet`, `regtest`); the
    /// summary shows output addresses of the first.
    pub networks: Vec<String>,
    /// Sighash types allowed on P2WPKH inputs of the key (`ALL`, `NONE`, `SINGLE`, each
    /// optionally `|ANYONECANPAY`). Default: `["ALL"]`.
    #[serde(default = "default_p2wpkh")]
    pub p2wpkh_sighash: Vec<String>,
    /// Sighash types allowed on P2TR inputs of the key (`DEFAULT`, `ALL`, ...). Default:
    /// `["DEFAULT"]`.
    #[serde(default = "default_p2tr")]
    pub p2tr_sighash: Vec<String>,
    /// Every non-Taproot input must carry its whole previous transaction, so the party
    /// checks the amount it spends itself (segwit v0 signs amounts the coordinator could
    /// otherwise lie about). Default: true.
    #[serde(default = "yes")]
    pub require_previous_tx: bool,
    /// Largest value sent to outputs that are not the key's own, per transaction (sats).
    #[serde(default)]
    pub max_sent_sats: Option<u64>,
    /// Largest fee per transaction (sats).
    #[serde(default)]
    pub max_fee_sats: Option<u64>,
}

/// `[policy.evm]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmConfig {
    /// Chain ids the party signs for.
    pub chain_ids: Vec<u64>,
    /// Largest value per transaction, in wei (a decimal string, as values exceed 64 bits).
    #[serde(default)]
    pub max_value_wei: Option<String>,
    /// If set, the only destinations allowed (checksummed or lowercase hex addresses).
    #[serde(default)]
    pub allowed_destinations: Option<Vec<String>>,
}

/// `[policy.sol]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolConfig {
    /// Largest number of lamports moved by the system program's transfers and account
    /// creations in one transaction.
    #[serde(default)]
    pub max_lamports: Option<u64>,
    /// If set, the only programs a transaction may call (base58). Default: any.
    #[serde(default)]
    pub allowed_programs: Option<Vec<String>>,
}

fn default_p2wpkh() -> Vec<String> {
    vec!["ALL".into()]
}

fn default_p2tr() -> Vec<String> {
    vec!["DEFAULT".into()]
}

fn yes() -> bool {
    true
}
