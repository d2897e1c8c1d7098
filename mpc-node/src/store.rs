//! The sealed key store of one node: a directory (0700) of sealed files (0600), owned by
//! one process at a time (an exclusive lock on `store.lock`).
//!
//! Every file is written once, atomically ([`crate::fsutil::write_new`]), and never
//! overwritten: a new key gets a new key id. Opening a file checks it against the label the
//! reader expects ([`crate::seal::open`]); a wrong passphrase, a tampered or truncated file
//! or a store locked by another process is a clear error naming the file, and nothing in the
//! store is changed by a failed open.
//!
//! ```
//! use std::sync::Arc;
//! use mpc_node::seal::{KeyFileKek, Label, SecretKind};
//! use mpc_node::store::SealedStore;
//!
//! # fn main() -> Result<(), mpc_node::NodeError> {
//! let dir = std::env::temp_dir().join(format!("mpc-store-doc-{}", std::process::id()));
//! let store = SealedStore::open(&dir, Arc::new(KeyFileKek::from_bytes([1; 32])))?;
//! let label = Label::new(SecretKind::TlsKey, None, "", 0, 0);
//! store.put_new("tls.key", &label, b"-----BEGIN PRIVATE KEY-----...")?;
//! assert!(store.put_new("tls.key", &label, b"other").is_err()); // never overwritten
//! assert_eq!(&*store.get("tls.key", &label)?, b"-----BEGIN PRIVATE KEY-----...");
//! // A second handle on the same directory is refused while this one lives.
//! assert!(SealedStore::open(&dir, Arc::new(KeyFileKek::from_bytes([1; 32]))).is_err());
//! # drop(store); std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{io, NodeError, Result};
use crate::fsutil::{private_dir, remove_tmp_files, write_new};
use crate::seal::{open, peek_label, seal, KeyEncryptionKey, Label};

/// Name of the lock file in a store directory.
pub const LOCK_FILE: &str = "store.lock";

/// A sealed store (see the module docs).
pub struct SealedStore {
    dir: PathBuf,
    kek: Arc<dyn KeyEncryptionKey>,
    _lock: File,
}

impl core::fmt::Debug for SealedStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealedStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SealedStore {
    /// Opens (or creates) the store in `dir` and takes its lock.
    ///
    /// # Errors
    /// [`NodeError::Locked`] if another process (or another handle) holds it;
    /// [`NodeError::Io`].
    pub fn open(dir: impl Into<PathBuf>, kek: Arc<dyn KeyEncryptionKey>) -> Result<Self> {
        let dir = dir.into();
        private_dir(&dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("opening", &lock_path))?;
        // An advisory exclusive lock (flock on Unix), released when the process exits.
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(NodeError::Locked { path: lock_path })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io("locking", &lock_path)(e)),
        }
        remove_tmp_files(&dir)?;
        Ok(SealedStore {
            dir,
            kek,
            _lock: lock,
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` (a relative path inside the store; `..` and absolute paths are
    /// refused).
    ///
    /// # Errors
    /// [`NodeError::Other`] for a name that leaves the store.
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        let p = Path::new(name);
        if name.is_empty()
            || p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(NodeError::Other(format!(
                "{name:?} is not a name inside the store"
            )));
        }
        Ok(self.dir.join(p))
    }

    /// Seals `plaintext` as `label` into the new file `name` (sub-directories are made).
    ///
    /// # Errors
    /// [`NodeError::Exists`] if `name` exists (it is never overwritten); [`NodeError::Io`].
    pub fn put_new(&self, name: &str, label: &Label, plaintext: &[u8]) -> Result<PathBuf> {
        let path = self.path(name)?;
        if let Some(parent) = path.parent() {
            if parent != self.dir {
                private_dir(parent)?;
            }
        }
        if path.exists() {
            return Err(NodeError::Exists { path });
        }
        let sealed = seal(self.kek.as_ref(), label, plaintext)?;
        write_new(&path, &sealed)?;
        Ok(path)
    }

    /// Opens `name`, which must carry `label`.
    ///
    /// # Errors
    /// [`NodeError::Io`] (missing file), [`NodeError::Corrupt`], [`NodeError::WrongKey`],
    /// each naming the file.
    pub fn get(&self, name: &str, label: &Label) -> Result<Zeroizing<Vec<u8>>> {
        let path = self.path(name)?;
        let bytes = std::fs::read(&path).map_err(io("reading", &path))?;
        open(self.kek.as_ref(), label, &bytes, &path)
    }

    /// The label of `name`, without opening it.
    ///
    /// # Errors
    /// As [`SealedStore::get`], without the key check.
    pub fn label_of(&self, name: &str) -> Result<Label> {
        let path = self.path(name)?;
        let bytes = std::fs::read(&path).map_err(io("reading", &path))?;
        peek_label(&bytes, &path)
    }

    /// Whether `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.path(name).is_ok_and(|p| p.exists())
    }

    /// Removes `name` (for secrets whose use is over, such as consumed presignatures) and
    /// flushes its directory.
    ///
    /// # Errors
    /// [`NodeError::Io`].
    pub fn remove(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(io("removing", &path))?;
        if let Some(parent) = path.parent() {
            crate::fsutil::sync_dir(parent)?;
        }
        Ok(())
    }

    /// Removes sub-directory `name` and everything in it (a retired share, a pending share
    /// being replaced), then flushes its parent; nothing to do if it is absent.
    ///
    /// # Errors
    /// [`NodeError::Io`].
    pub fn remove_dir(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("removing", &path)(e)),
        }
        if let Some(parent) = path.parent() {
            crate::fsutil::sync_dir(parent)?;
        }
        Ok(())
    }

    /// Names of the files in sub-directory `sub` (`""` for the top) ending in `.ext`.
    ///
    /// # Errors
    /// [`NodeError::Io`].
    pub fn list(&self, sub: &str, ext: &str) -> Result<Vec<String>> {
        let dir = if sub.is_empty() {
            self.dir.clone()
        } else {
            self.path(sub)?
        };
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io("reading", &dir))? {
            let p = entry.map_err(io("reading", &dir))?.path();
            if p.extension().is_some_and(|e| e == ext) {
                if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                    out.push(if sub.is_empty() {
                        name.to_string()
                    } else {
                        format!("{sub}/{name}")
                    });
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
