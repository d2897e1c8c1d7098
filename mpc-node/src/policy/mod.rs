//! A policy that sees what it signs: a chain registry (one [`ChainRules`] per chain name,
//! so a new chain is one registration) and the party's rules, applied to the decoded
//! transaction before the party joins a session; every decision is appended to the audit
//! log ([`crate::audit`]) before the party's signature share leaves.
//!
//! A party never signs the digest a coordinator sends: a chain's rules decode the unsigned
//! payload, check it, and derive the request themselves (`mpc_core::chain::derive_request`).
//! Raw digests (requests without a chain payload) are refused unless the config sets
//! `danger_allow_raw_digests = true`.
//!
//! ```
//! use mpc_node::policy::{NodePolicy, PolicyConfig};
//! use mpc_transport::{KeyRef, RequestPolicy};
//! use mpc_core::{PublicKey, SchemeId, SignRequest};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config: PolicyConfig = toml::from_str("[evm]\nchain_ids = [1]\n")?;
//! let policy = NodePolicy::new(&config, None)?;
//! let key = KeyRef {
//!     scheme: SchemeId::Cggmp21Secp256k1,
//!     public_key: PublicKey::secp256k1(&hex::decode(
//!         "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
//!     )?)?,
//!     epoch: 0,
//! };
//! // A bare digest is refused, naming the rule.
//! let refusal = policy.approve(&key, &SignRequest::ecdsa([1; 32])).unwrap_err();
//! assert!(refusal.contains("raw_digest"));
//! # Ok(()) }
//! ```

mod btc;
mod config;
mod evm;
mod sol;

use std::collections::BTreeMap;
use std::sync::Mutex;

use mpc_core::chain::{derive_request, ChainEncoder};
use mpc_core::{PublicKey, SeenRequest, SignRequest};
use mpc_transport::{KeyRef, RequestContext, RequestPolicy};

pub use self::btc::BtcRules;
pub use self::config::{BtcConfig, EvmConfig, PolicyConfig, SolConfig};
pub use self::evm::EvmRules;
pub use self::sol::SolRules;
use crate::audit::{AuditLog, Decision, Record};
use crate::error::Result;

/// Why a request was refused: the rule and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The rule (`btc.sighash`, `evm.chain_id`, `sol.max_lamports`, `raw_digest`, ...).
    pub rule: &'static str,
    /// What was found.
    pub reason: String,
}

impl Refusal {
    /// A refusal by `rule`.
    pub fn new(rule: &'static str, reason: impl Into<String>) -> Self {
        Refusal {
            rule,
            reason: reason.into(),
        }
    }
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "refused by rule {}: {}", self.rule, self.reason)
    }
}

/// A request the party derived itself, with a summary of what it signs.
#[derive(Debug, Clone)]
pub struct Approved {
    /// The request to sign, as the party derived it.
    pub request: SeenRequest,
    /// The decoded transaction, for the audit log.
    pub summary: String,
}

/// The rules of one chain: decode the payload, check it, derive the request. A new chain
/// is one registration:
///
/// ```
/// use mpc_core::{SeenRequest, SignRequest};
/// use mpc_node::policy::{Approved, ChainRegistry, ChainRules, NodePolicy, Refusal};
/// use mpc_transport::{KeyRef, RequestPolicy};
///
/// /// A chain whose payload is a memo of at most 32 bytes, signed as is.
/// struct Memo;
///
/// impl ChainRules for Memo {
///     fn chain(&self) -> &'static str { "memo" }
///     fn check(&self, _key: &KeyRef, r: &SignRequest) -> Result<Approved, Refusal> {
///         let p = r.chain_payload.as_ref().ok_or_else(|| Refusal::new("raw_digest", "no payload"))?;
///         if p.bytes.len() > 32 {
///             return Err(Refusal::new("memo.length", "longer than 32 bytes"));
///         }
///         let mut derived = SignRequest::ed25519(p.bytes.clone());
///         derived.chain_payload = Some(p.clone());
///         // An Ed25519 message is seen as it is signed.
///         let request = SeenRequest::message(derived).map_err(|e| Refusal::new("memo", e.to_string()))?;
///         Ok(Approved { request, summary: String::from_utf8_lossy(&p.bytes).into() })
///     }
/// }
///
/// let mut registry = ChainRegistry::new();
/// registry.register(Box::new(Memo));
/// let policy = NodePolicy::with_registry(registry, false, None);
/// let key = KeyRef {
///     scheme: mpc_core::SchemeId::FrostEd25519,
///     public_key: mpc_core::PublicKey::Ed25519([0x58; 32]),
///     epoch: 0,
/// };
/// let mut long = SignRequest::ed25519(vec![]);
/// long.chain_payload = Some(mpc_core::ChainPayload { chain: "memo".into(), bytes: vec![b'x'; 40], item: 0 });
/// assert!(policy.approve(&key, &long).unwrap_err().contains("rule memo.length"));
/// ```
pub trait ChainRules: Send + Sync {
    /// The chain name in [`mpc_core::ChainPayload::chain`].
    fn chain(&self) -> &'static str;

    /// Decodes the request's payload, applies the rules for `key` and derives the request
    /// the party signs.
    ///
    /// # Errors
    /// A [`Refusal`] naming the rule.
    fn check(&self, key: &KeyRef, request: &SignRequest)
        -> core::result::Result<Approved, Refusal>;
}

/// Derives `request` with `encoder` once the rules passed (the digest must match).
pub(crate) fn derive<C: ChainEncoder>(
    encoder: &C,
    key: &PublicKey,
    request: &SignRequest,
    summary: String,
) -> core::result::Result<Approved, Refusal> {
    derive_request(encoder, key, request, |_| Ok(()))
        .map(|request| Approved { request, summary })
        .map_err(|e| Refusal::new("derive", e.to_string()))
}

/// Chain rules by chain name.
#[derive(Default)]
pub struct ChainRegistry {
    chains: BTreeMap<&'static str, Box<dyn ChainRules>>,
}

impl core::fmt::Debug for ChainRegistry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.chains.keys()).finish()
    }
}

impl ChainRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the rules of a chain (replacing any for the same name).
    pub fn register(&mut self, rules: Box<dyn ChainRules>) -> &mut Self {
        self.chains.insert(rules.chain(), rules);
        self
    }

    /// The built-in chains that `config` has a section for.
    ///
    /// # Errors
    /// An invalid value in the config.
    pub fn from_config(config: &PolicyConfig) -> Result<Self> {
        let mut r = Self::new();
        if let Some(c) = &config.btc {
            r.register(Box::new(BtcRules::new(c)?));
        }
        if let Some(c) = &config.evm {
            r.register(Box::new(EvmRules::new(c)?));
        }
        if let Some(c) = &config.sol {
            r.register(Box::new(SolRules::new(c)?));
        }
        Ok(r)
    }

    /// The chains registered.
    pub fn chains(&self) -> Vec<&'static str> {
        self.chains.keys().copied().collect()
    }

    fn get(&self, chain: &str) -> Option<&dyn ChainRules> {
        self.chains.get(chain).map(AsRef::as_ref)
    }
}

/// The party's policy: registry, rules and audit log. Implements
/// [`mpc_transport::RequestPolicy`], so a party server calls it for every request.
pub struct NodePolicy {
    registry: ChainRegistry,
    allow_raw: bool,
    audit: Option<Mutex<AuditLog>>,
}

impl core::fmt::Debug for NodePolicy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NodePolicy")
            .field("chains", &self.registry)
            .field("allow_raw", &self.allow_raw)
            .field("audit", &self.audit.is_some())
            .finish()
    }
}

impl NodePolicy {
    /// The built-in chains of `config`, logging to `audit` (none: no log, for tests).
    ///
    /// # Errors
    /// An invalid value in the config.
    pub fn new(config: &PolicyConfig, audit: Option<AuditLog>) -> Result<Self> {
        Ok(Self::with_registry(
            ChainRegistry::from_config(config)?,
            config.danger_allow_raw_digests,
            audit,
        ))
    }

    /// A policy over any registry (for chains of your own).
    pub fn with_registry(
        registry: ChainRegistry,
        allow_raw: bool,
        audit: Option<AuditLog>,
    ) -> Self {
        NodePolicy {
            registry,
            allow_raw,
            audit: audit.map(Mutex::new),
        }
    }

    /// The decision on `request` for `key`, without logging it.
    ///
    /// # Errors
    /// The [`Refusal`].
    pub fn decide(
        &self,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<Approved, Refusal> {
        let Some(payload) = &request.chain_payload else {
            return if self.allow_raw {
                // A digest with its message is hashed here; a bare digest is taken on trust
                // and signed only interactively (a presignature refuses it).
                let (request, summary) = match SeenRequest::from_preimage(request) {
                    Ok(seen) => (seen, "hashed message (danger_allow_raw_digests)"),
                    Err(_) if request.preimage.is_some() => {
                        return Err(Refusal::new(
                            "preimage",
                            "the digest is not the hash of the message it carries",
                        ))
                    }
                    Err(_) => (
                        SeenRequest::unchecked(request.clone()),
                        "raw digest (danger_allow_raw_digests)",
                    ),
                };
                Ok(Approved {
                    request,
                    summary: summary.into(),
                })
            } else {
                Err(Refusal::new(
                    "raw_digest",
                    "the request carries no chain payload; this party signs only what it derives itself",
                ))
            };
        };
        let rules = self.registry.get(&payload.chain).ok_or_else(|| {
            Refusal::new(
                "chain",
                format!("no rules for chain {:?} here", payload.chain),
            )
        })?;
        rules.check(key, request)
    }
}

impl RequestPolicy for NodePolicy {
    fn approve(
        &self,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<SeenRequest, String> {
        self.approve_in(&RequestContext::default(), key, request)
    }

    fn approve_in(
        &self,
        ctx: &RequestContext,
        key: &KeyRef,
        request: &SignRequest,
    ) -> core::result::Result<SeenRequest, String> {
        let decision = self.decide(key, request).and_then(|a| {
            // A presignature refuses a digest taken on trust; refuse it here, so the log
            // records the refusal rather than a signature that never happens.
            if ctx.presigned && a.request.for_presignature().is_err() {
                return Err(Refusal::new(
                    "presign_digest",
                    "a presignature signs only a request this party derived itself; a bare digest is signed only interactively",
                ));
            }
            Ok(a)
        });
        let mut record = match &decision {
            Ok(a) => {
                let mut r = Record::new(Decision::Signed, "allowed");
                r.summary = Some(a.summary.clone());
                r
            }
            Err(refusal) => {
                Record::new(Decision::Refused, refusal.rule).reason(refusal.reason.clone())
            }
        };
        record.session = ctx.session.map(|s| hex::encode(s.0));
        record.coordinator = ctx.coordinator.clone();
        record.key = Some(format!(
            "{} {}",
            key.scheme,
            hex::encode(key.public_key.as_bytes())
        ));
        record.chain = request.chain_payload.as_ref().map(|p| p.chain.clone());
        if let Some(audit) = &self.audit {
            let mut log = audit
                .lock()
                .map_err(|_| "audit log lock poisoned".to_string())?;
            // The record is on disk before the decision is acted on; a log that cannot be
            // written refuses everything.
            log.append(record).map_err(|e| {
                format!("refused by rule audit: the audit log cannot be written: {e}")
            })?;
        }
        decision.map(|a| a.request).map_err(|r| r.to_string())
    }
}
