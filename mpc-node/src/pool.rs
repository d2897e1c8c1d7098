//! A durable presignature pool for every presigning engine (CGGMP21, GG20): single use that
//! survives a restart.
//!
//! Two partial signatures made with one presignature reveal the key share. Once
//! presignatures are kept on disk a restart could bring a used one back, so the pool keeps
//! an append-only journal of consumed ids and follows one rule:
//!
//! **an id is written to the journal and the journal is flushed (`fdatasync`) before the
//! partial signature is computed.** A crash after the flush loses one presignature, never
//! reuses one.
//!
//! Layout, inside the node's [`SealedStore`] under [`pool_dir`] (`pools/<key-id>/` for a
//! key's first epoch):
//!
//! - `<id-hex>.presig`: one ready presignature, sealed (label: presignature, scheme, key
//!   id, party, epoch), written once atomically;
//! - `consumed.log`: the journal, 32 bytes per consumed id (ids are not secret).
//!
//! On [`DurablePool::open`], files whose id is in the journal are deleted, and a torn last
//! journal record (a crash during an append, before the flush, so nothing was issued) is
//! cut off. A file that does not open (tampered, another key's) stops the pool from
//! starting, naming the file, rather than being skipped.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use mpc_core::presign_store::{take_to_sign, PoolEntry, PresignatureStore, StoredPresignature};
use mpc_core::{Presigning, PublicKey, SeenRequest};

use crate::error::{io, NodeError, Result};
use crate::seal::{Label, SecretKind};
use crate::store::SealedStore;

const JOURNAL: &str = "consumed.log";

/// The pool directory of epoch `epoch` of `key_id` inside the store (`pools/<key-id>` for
/// epoch 0, `pools/<key-id>.e<epoch>` after a resharing: each epoch's presignatures are
/// separate and go with their epoch).
pub fn pool_dir(key_id: &str, epoch: u32) -> String {
    if epoch == 0 {
        format!("pools/{key_id}")
    } else {
        format!("pools/{key_id}.e{epoch}")
    }
}
const EXT: &str = "presig";

/// A durable pool of one key's presignatures at one party (see the module docs).
pub struct DurablePool<S: Presigning> {
    store: Arc<SealedStore>,
    sub: String,
    label: Label,
    epoch: u32,
    journal: File,
    journal_path: PathBuf,
    ready: BTreeMap<[u8; 32], S::Presignature>,
    consumed: HashSet<[u8; 32]>,
    _engine: PhantomData<fn() -> S>,
}

impl<S: Presigning> core::fmt::Debug for DurablePool<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DurablePool")
            .field("dir", &self.sub)
            .field("ready", &self.ready.len())
            .field("consumed", &self.consumed.len())
            .finish()
    }
}

fn corrupt(path: PathBuf, reason: impl ToString) -> NodeError {
    NodeError::Corrupt {
        path,
        reason: reason.to_string(),
    }
}

impl<S: Presigning> DurablePool<S> {
    /// Opens (or creates) the pool of key `key_id` (epoch `epoch`) held by `party` in
    /// `store`, and loads its ready presignatures.
    ///
    /// # Errors
    /// [`NodeError::Io`]; [`NodeError::Corrupt`] or [`NodeError::WrongKey`] naming a stored
    /// presignature that does not open.
    pub fn open(store: Arc<SealedStore>, key_id: &str, party: u16, epoch: u32) -> Result<Self> {
        let sub = pool_dir(key_id, epoch);
        let dir = store.path(&sub)?;
        crate::fsutil::private_dir(&dir)?;
        let journal_path = dir.join(JOURNAL);
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(io("opening", &journal_path))?;
        // One handle per pool, in this process and any other (an exclusive flock on the
        // journal, held while the pool is open): two handles would each keep their own
        // set of ready presignatures and could both issue one.
        match journal.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(NodeError::Locked { path: journal_path })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("locking", &journal_path)(e)),
        }
        let consumed = read_journal(&journal_path)?;
        crate::fsutil::sync_dir(&dir)?;
        let label = Label::new(SecretKind::Presignature, Some(S::ID), key_id, party, epoch);
        let mut ready = BTreeMap::new();
        for name in store.list(&sub, EXT)? {
            let path = store.path(&name)?;
            let bytes = store.get(&name, &label)?;
            let p = S::Presignature::from_bytes(&bytes).map_err(|e| corrupt(path.clone(), e))?;
            let named = path
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s == hex::encode(p.id()));
            if !named {
                return Err(corrupt(path, "file name differs from the presignature id"));
            }
            mpc_core::presign_store::check_epoch(&p, epoch)
                .map_err(|e| corrupt(path.clone(), e))?;
            if consumed.contains(&p.id()) {
                store.remove(&name)?;
            } else {
                ready.insert(p.id(), p);
            }
        }
        Ok(DurablePool {
            store,
            sub,
            label,
            epoch,
            journal,
            journal_path,
            ready,
            consumed,
            _engine: PhantomData,
        })
    }

    fn name(&self, id: &[u8; 32]) -> String {
        format!("{}/{}.{EXT}", self.sub, hex::encode(id))
    }

    fn storage(e: NodeError) -> mpc_core::Error {
        mpc_core::Error::Storage(e.to_string())
    }
}

impl<S: Presigning> PresignatureStore<S> for DurablePool<S> {
    fn insert(&mut self, p: S::Presignature) -> mpc_core::Result<[u8; 32]> {
        mpc_core::presign_store::check_epoch(&p, self.epoch)?;
        let id = p.id();
        if self.consumed.contains(&id) || self.ready.contains_key(&id) {
            return Err(mpc_core::Error::PresignatureUsed(hex::encode(id)));
        }
        let bytes = p.to_bytes()?;
        self.store
            .put_new(&self.name(&id), &self.label, &bytes)
            .map_err(Self::storage)?;
        self.ready.insert(id, p);
        Ok(id)
    }

    fn entries(&self) -> Vec<PoolEntry> {
        self.ready.values().map(StoredPresignature::entry).collect()
    }

    fn is_consumed(&self, id: &[u8; 32]) -> bool {
        self.consumed.contains(id)
    }

    fn partial_sign(
        &mut self,
        id: &[u8; 32],
        signing_key: &PublicKey,
        request: &SeenRequest,
    ) -> mpc_core::Result<S::PartialSignature> {
        let (journal, path, consumed) = (&mut self.journal, &self.journal_path, &mut self.consumed);
        let p = take_to_sign(&mut self.ready, id, signing_key, request, || {
            // On disk and flushed before the partial signature exists.
            journal
                .write_all(id)
                .and_then(|()| journal.sync_data())
                .map_err(|e| Self::storage(io("appending to", path)(e)))?;
            consumed.insert(*id);
            Ok(())
        })?;
        // The journal already forbids the id; a file left by a failed delete is removed at
        // the next open.
        let _ = self.store.remove(&self.name(id));
        S::partial_sign(p, request)
    }

    fn len(&self) -> usize {
        self.ready.len()
    }
}

fn read_journal(path: &std::path::Path) -> Result<HashSet<[u8; 32]>> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(io("reading", path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(io("opening", path)(e)),
    }
    let whole = bytes.len() - bytes.len() % 32;
    if whole != bytes.len() {
        // A torn record: the append was not flushed, so its partial signature never left.
        crate::fsutil::truncate(path, whole)?;
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok())
        .collect())
}
