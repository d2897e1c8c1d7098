//! Encrypted backups of one party's share, and their restore.
//!
//! A backup holds one share of one key, encrypted with `age` to the recovery recipient
//! configured for that party alone (`[backup] recipient`, an X25519 `age1…` key whose
//! identity a recovery officer keeps offline). Each party has its own recipient, so no
//! holder of one identity collects `t` shares of a key. Inside, beside the share, the backup
//! carries the public facts it must match (key id, scheme, group key, threshold, parties,
//! party index, epoch, every public share); a restore opens it with the identity, checks
//! the share against its own public share and those facts, and stores it as an active key
//! only in a store of the same party that does not hold the key yet.
//!
//! Backup and restore work on a stopped party (the store is locked by a running one).

use std::path::Path;

use mpc_core::{KeyShare, PublicKey, SchemeId};
use mpc_transport::HeldKey;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{io, NodeError, Result};
use crate::vault::{KeyMeta, NodeVault};

/// Format tag of the backup's plaintext.
pub const BACKUP_FORMAT: &str = "mpc-node-backup/1";

/// The public facts of a backup (what `backup` and `restore` print).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFacts {
    /// Key id.
    pub key_id: String,
    /// Scheme.
    pub scheme: SchemeId,
    /// Epoch of the share.
    pub epoch: u32,
    /// Parties of the key.
    pub parties: u16,
    /// Signers needed.
    pub threshold: u16,
    /// The party whose share this is.
    pub party: u16,
    /// Group public key.
    pub public_key: PublicKey,
    /// The deployment party holding each share index (empty: share index `i` at party
    /// `i`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub committee: Vec<u16>,
}

impl BackupFacts {
    /// The share index of this backup's party.
    fn share_index(&self) -> Option<u16> {
        if self.committee.is_empty() {
            Some(self.party)
        } else {
            mpc_transport::committee::share_index(&self.committee, self.party)
        }
    }
}

/// The backup's plaintext (inside the age encryption).
#[derive(Serialize, Deserialize)]
struct Body {
    format: String,
    facts: BackupFacts,
    public_shares: Vec<PublicKey>,
    /// The key-share JSON (secret).
    share: String,
}

impl Drop for Body {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

fn facts(meta: &KeyMeta) -> BackupFacts {
    BackupFacts {
        key_id: meta.key_id.clone(),
        scheme: meta.scheme,
        epoch: meta.epoch,
        parties: meta.n,
        threshold: meta.t,
        party: meta.party,
        public_key: meta.public_key,
        committee: meta.committee.clone(),
    }
}

/// Writes an encrypted backup of this party's share of `key_id` to `out` (a new file,
/// 0600) for the age recipient `recipient`.
///
/// # Errors
/// No such key, a key still pending, a recipient that does not parse, `out` exists, I/O.
pub fn export(vault: &NodeVault, key_id: &str, recipient: &str, out: &Path) -> Result<BackupFacts> {
    let recipient: age::x25519::Recipient = recipient.trim().parse().map_err(|e| {
        NodeError::Other(format!(
            "backup recipient {recipient:?} is not an age X25519 key: {e}"
        ))
    })?;
    let meta = vault.meta(key_id)?;
    if !vault.is_active(key_id)? {
        return Err(NodeError::Other(format!(
            "key {key_id} is pending (not active at every party): nothing to back up"
        )));
    }
    let json = vault.share_json(key_id)?;
    let held = vault.open_key(key_id)?;
    let body = Body {
        format: BACKUP_FORMAT.into(),
        facts: facts(&meta),
        public_shares: held.public_shares()?,
        share: String::from_utf8(json.to_vec())
            .map_err(|_| NodeError::Other("a key share that is not UTF-8 JSON".into()))?,
    };
    let plain =
        Zeroizing::new(serde_json::to_vec(&body).map_err(|e| NodeError::Other(e.to_string()))?);
    let sealed = age::encrypt(&recipient, &plain)
        .map_err(|e| NodeError::Other(format!("age encryption: {e}")))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    }
    crate::fsutil::write_new(out, &sealed)?;
    Ok(body.facts.clone())
}

/// Restores the backup `input` with the age identity `identity` (the text of an
/// `AGE-SECRET-KEY-1…` line) into this party's store, as an active key.
///
/// # Errors
/// A backup that does not open with the identity (another recipient, tampered, truncated),
/// a backup of another party, a share that does not match the facts it carries or its own
/// public share, a key already in the store; each naming the file.
pub fn restore(vault: &NodeVault, identity: &str, input: &Path) -> Result<BackupFacts> {
    let bad = |reason: String| NodeError::Corrupt {
        path: input.to_path_buf(),
        reason,
    };
    let identity = identity
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| NodeError::Other("the identity file holds no AGE-SECRET-KEY line".into()))?
        .parse::<age::x25519::Identity>()
        .map_err(|e| NodeError::Other(format!("the recovery identity does not parse: {e}")))?;
    let sealed = std::fs::read(input).map_err(io("reading", input))?;
    let plain = Zeroizing::new(age::decrypt(&identity, &sealed).map_err(|e| {
        bad(format!(
            "does not open with this identity (another party's recipient, or tampered): {e}"
        ))
    })?);
    let body: Body = serde_json::from_slice(&plain).map_err(|e| bad(e.to_string()))?;
    if body.format != BACKUP_FORMAT {
        return Err(bad(format!("unknown backup format {:?}", body.format)));
    }
    let f = &body.facts;
    if f.party != vault.party() {
        return Err(bad(format!(
            "a backup of party {}'s share; this is party {}",
            f.party,
            vault.party()
        )));
    }
    let share = body.share.as_bytes();
    let check = |header: &mpc_core::ShareHeader, public_shares: Vec<PublicKey>| {
        let fits = header.scheme == f.scheme
            && header.public_key == f.public_key
            && Some(header.index) == f.share_index()
            && header.t == f.threshold
            && header.n == f.parties
            && header.epoch == f.epoch
            && public_shares == body.public_shares;
        if fits {
            Ok(())
        } else {
            Err(bad(
                "the share does not match the public facts it carries".into()
            ))
        }
    };
    // Reading the share checks its secret against its own public share.
    let opened = |e: mpc_core::Error| bad(format!("the share does not open: {e}"));
    let held = match f.scheme {
        SchemeId::Cggmp21Secp256k1 => {
            let s: mpc_core::Cggmp21Share = KeyShare::from_json(share, f.scheme).map_err(opened)?;
            check(s.header(), s.public_shares()?)?;
            HeldKey::Cggmp21 {
                share: s,
                pool: None,
            }
        }
        SchemeId::Gg20Secp256k1 => {
            let s: mpc_core::Gg20Share = KeyShare::from_json(share, f.scheme).map_err(opened)?;
            check(s.header(), s.public_shares()?)?;
            HeldKey::Gg20 {
                share: s,
                pool: None,
            }
        }
        SchemeId::FrostEd25519 => {
            let s = KeyShare::from_json(share, f.scheme).map_err(opened)?;
            check(s.header(), s.public_shares()?)?;
            HeldKey::FrostEd25519(s)
        }
        SchemeId::FrostSecp256k1Tr => {
            let s = KeyShare::from_json(share, f.scheme).map_err(opened)?;
            check(s.header(), s.public_shares()?)?;
            HeldKey::FrostTaproot(s)
        }
        other => return Err(bad(format!("no engine for {other}"))),
    };
    vault.restore(&f.key_id, &held, &f.committee)?;
    Ok(f.clone())
}

/// DEMO ONLY: a fresh recovery identity and its recipient (`AGE-SECRET-KEY-1…`, `age1…`).
pub fn new_recovery_identity() -> (Zeroizing<String>, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    (
        Zeroizing::new(id.to_string().expose_secret().to_string()),
        recipient,
    )
}
