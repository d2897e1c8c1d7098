//! The node's errors. Every error about a file names the file.

use std::path::PathBuf;

/// Errors of the node library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// An I/O operation on a file or directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another process (or another handle in this one) holds the lock of a store or a
    /// presignature pool.
    #[error("{}: locked by another process or handle", path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The file exists and is never overwritten.
    #[error("{}: already exists; an existing secret is never overwritten (a new key gets a new key id)", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The key-encryption key cannot unwrap the file's data key: a wrong passphrase, key
    /// file or HSM key (or the file's key header was altered).
    #[error("{}: cannot unlock: wrong passphrase or key-encryption key ({reason})", path.display())]
    WrongKey {
        /// The sealed file.
        path: PathBuf,
        /// Details.
        reason: String,
    },
    /// The file is not a sealed file of this format, is cut short, or was altered.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The sealed file.
        path: PathBuf,
        /// What is wrong (tampered, truncated, wrong label, ...).
        reason: String,
    },
    /// A PKCS#11 operation failed.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// A configuration file or value is invalid.
    #[error("configuration {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An error of the cryptographic core.
    #[error(transparent)]
    Core(#[from] mpc_core::Error),
    /// Anything else, explained.
    #[error("{0}")]
    Other(String),
}

/// Result with [`NodeError`].
pub type Result<T> = core::result::Result<T, NodeError>;

pub(crate) fn io(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> NodeError {
    let path = path.into();
    move |source| NodeError::Io {
        action,
        path,
        source,
    }
}
