//! A durable CGGMP21 presignature pool: single use that survives a restart.
//!
//! A presignature must never be used twice (two partial signatures with one presignature
//! reveal the key share). Once presignatures are kept on disk, a restart could bring a used
//! one back, so the pool keeps an append-only journal of consumed ids and follows one rule:
//!
//! **an id is written to the journal and the journal is flushed to disk (`fdatasync`)
//! before the partial signature is computed.** A crash after the flush loses one
//! presignature, never reuses one.
//!
//! Layout of the pool directory (owner-only permissions on Unix):
//!
//! - `<id-hex>.presig`: one ready presignature ([`Cggmp21Presignature::to_json`]), written
//!   to a temporary file, flushed, then renamed into place;
//! - `consumed.log`: the journal, 32 bytes per consumed id.
//!
//! On [`PresignaturePool::open`] files whose id is in the journal are deleted, leftover
//! temporary files are removed, and a torn last journal record (a crash during an append,
//! before the flush, so nothing was issued) is cut off.
//!
//! The pool is not internally synchronized: wrap it in a mutex. Two processes must not
//! open the same directory.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::engines::cggmp21::{Cggmp21, Cggmp21Partial, Cggmp21Presignature};
use crate::error::{Error, Result};
use crate::hexser::{from_hex, to_hex};
use crate::ids::PartyIndex;
use crate::scheme::Presigning;
use crate::sig::{PublicKey, SignRequest};

const JOURNAL: &str = "consumed.log";
const EXT: &str = "presig";

/// What the pool tells about a ready presignature (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    /// Presignature id, the same at every signer.
    pub id: [u8; 32],
    /// Signers of the presigning run.
    pub signers: Vec<PartyIndex>,
    /// Derivation path fixed at presigning.
    pub path: Option<Vec<u32>>,
    /// The key it signs for.
    pub signing_key: PublicKey,
}

/// Ready presignatures of one party, on disk, each usable once. See the module docs.
pub struct PresignaturePool {
    dir: PathBuf,
    journal: File,
    ready: BTreeMap<[u8; 32], Cggmp21Presignature>,
    consumed: HashSet<[u8; 32]>,
}

impl core::fmt::Debug for PresignaturePool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PresignaturePool")
            .field("dir", &self.dir)
            .field("ready", &self.ready.len())
            .field("consumed", &self.consumed.len())
            .finish()
    }
}

fn storage(what: &str, path: &Path, e: impl core::fmt::Display) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

impl PresignaturePool {
    /// Opens (or creates) the pool in `dir` and loads its ready presignatures.
    ///
    /// # Errors
    /// [`Error::Storage`] for I/O errors; [`Error::Invalid`] naming the file for a stored
    /// presignature that does not read back (the pool refuses to start rather than skip it).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| storage("creating", &dir, e))?;
        restrict(&dir)?;
        let consumed = read_journal(&dir)?;
        let jpath = dir.join(JOURNAL);
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&jpath)
            .map_err(|e| storage("opening", &jpath, e))?;
        sync_dir(&dir)?;
        let mut ready = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| storage("reading", &dir, e))?;
        for entry in entries {
            let path = entry.map_err(|e| storage("reading", &dir, e))?.path();
            let ext = path.extension().and_then(|e| e.to_str());
            if ext == Some("tmp") {
                remove(&path)?;
                continue;
            }
            if ext != Some(EXT) {
                continue;
            }
            let bytes = zeroize::Zeroizing::new(
                std::fs::read(&path).map_err(|e| storage("reading", &path, e))?,
            );
            let p = Cggmp21Presignature::from_json(&bytes).map_err(|e| Error::Invalid {
                what: "pool file",
                reason: format!("{}: {e}", path.display()),
            })?;
            let named = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(from_hex)
                .is_some_and(|b| b == p.id());
            if !named {
                return Err(Error::Invalid {
                    what: "pool file",
                    reason: format!("{}: file name differs from the id", path.display()),
                });
            }
            if consumed.contains(&p.id()) {
                remove(&path)?;
            } else {
                ready.insert(p.id(), p);
            }
        }
        sync_dir(&dir)?;
        Ok(PresignaturePool {
            dir,
            journal,
            ready,
            consumed,
        })
    }

    /// Stores a new presignature durably (written, flushed, renamed, directory flushed).
    ///
    /// # Errors
    /// [`Error::PresignatureUsed`] if its id was consumed or is already in the pool;
    /// [`Error::Storage`].
    pub fn insert(&mut self, p: Cggmp21Presignature) -> Result<[u8; 32]> {
        let id = p.id();
        if self.consumed.contains(&id) || self.ready.contains_key(&id) {
            return Err(Error::PresignatureUsed(to_hex(&id)));
        }
        let json = p.to_json()?;
        let path = self.file(&id);
        let tmp = path.with_extension("tmp");
        let mut f = create_private(&tmp)?;
        f.write_all(&json)
            .and_then(|()| f.sync_all())
            .map_err(|e| storage("writing", &tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| storage("renaming", &tmp, e))?;
        sync_dir(&self.dir)?;
        self.ready.insert(id, p);
        Ok(id)
    }

    /// The ready presignatures.
    pub fn entries(&self) -> Vec<PoolEntry> {
        self.ready
            .values()
            .map(|p| PoolEntry {
                id: p.id(),
                signers: p.signers().to_vec(),
                path: p.path().map(<[u32]>::to_vec),
                signing_key: p.signing_key(),
            })
            .collect()
    }

    /// Number of ready presignatures.
    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Whether none is ready.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    /// Whether `id` was consumed (here or before a restart).
    pub fn is_consumed(&self, id: &[u8; 32]) -> bool {
        self.consumed.contains(id)
    }

    /// Issues the partial signature of presignature `id` for `request`, which must verify
    /// under `signing_key`: checks the key and the request fit (without touching the
    /// presignature), writes `id` to the journal and flushes it,
    /// and only then computes the partial signature. The presignature is gone afterwards,
    /// whatever happens next.
    ///
    /// # Errors
    /// [`Error::PresignatureUsed`] for an id consumed or unknown;
    /// [`Error::PresignatureMismatch`] or the engine's error for a key or request that does
    /// not fit (the presignature stays ready); [`Error::Storage`] if the
    /// journal cannot be flushed (nothing is issued).
    pub fn partial_sign(
        &mut self,
        id: &[u8; 32],
        signing_key: &PublicKey,
        request: &SignRequest,
    ) -> Result<Cggmp21Partial> {
        let p = self
            .ready
            .get(id)
            .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))?;
        if p.signing_key() != *signing_key {
            return Err(Error::PresignatureMismatch(
                "the presignature was made for another key",
            ));
        }
        p.check_request(request)?;
        let jpath = self.dir.join(JOURNAL);
        self.journal
            .write_all(id)
            .and_then(|()| self.journal.sync_data())
            .map_err(|e| storage("appending to", &jpath, e))?;
        self.consumed.insert(*id);
        let p = self
            .ready
            .remove(id)
            .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))?;
        // The journal already forbids the id; a file left behind by a failed delete is
        // removed at the next open.
        let _ = std::fs::remove_file(self.file(id));
        Cggmp21::partial_sign(p, request)
    }

    fn file(&self, id: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}.{EXT}", to_hex(id)))
    }
}

fn read_journal(dir: &Path) -> Result<HashSet<[u8; 32]>> {
    let path = dir.join(JOURNAL);
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes)
                .map_err(|e| storage("reading", &path, e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(storage("opening", &path, e)),
    }
    let whole = bytes.len() - bytes.len() % 32;
    if whole != bytes.len() {
        // A torn record: the append was not flushed, so its partial signature never left.
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| storage("opening", &path, e))?;
        f.set_len(u64::try_from(whole).unwrap_or(0))
            .and_then(|()| f.sync_all())
            .map_err(|e| storage("truncating", &path, e))?;
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok())
        .collect())
}

fn remove(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| storage("removing", path, e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| storage("flushing", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn create_private(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(|e| storage("creating", path, e))
}

fn restrict(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| storage("restricting", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
