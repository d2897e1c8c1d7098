//! Careful file writes: owner-only permissions, atomic creation that never replaces an
//! existing file, and flushed directories.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{io, NodeError, Result};

/// Creates `dir` (and parents) and restricts it to its owner (0700 on Unix).
///
/// # Errors
/// [`NodeError::Io`] naming the directory.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io("restricting", dir))?;
    }
    Ok(())
}

/// Flushes a directory, so a rename or a new name in it survives a crash.
///
/// # Errors
/// [`NodeError::Io`] naming the directory.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("flushing", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Opens a new owner-only file (0600 on Unix) for writing; fails if it exists.
///
/// # Errors
/// [`NodeError::Io`].
pub fn create_private(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(io("creating", path))
}

/// Writes `bytes` to a new file `path` atomically: a temporary file in the same directory
/// is written and flushed, then linked to `path` (which fails if `path` exists, so nothing
/// is ever replaced), then removed; the directory is flushed. A crash leaves either no
/// file or the whole file (and perhaps a `*.tmp` to clean up).
///
/// # Errors
/// [`NodeError::Exists`] if `path` exists; [`NodeError::Io`].
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| NodeError::Other(format!("{}: no parent directory", path.display())))?;
    if path.exists() {
        return Err(NodeError::Exists {
            path: path.to_path_buf(),
        });
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(name);
    let _ = std::fs::remove_file(&tmp);
    let mut f = create_private(&tmp)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io("writing", &tmp))?;
    drop(f);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(NodeError::Exists {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io("linking", path)(e)),
    }
    sync_dir(dir)
}

/// Cuts `path` to its first `len` bytes and flushes it (a torn last record of a journal or
/// log, written by an append that crashed before its flush).
///
/// # Errors
/// [`NodeError::Io`].
pub fn truncate(path: &Path, len: usize) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io("opening", path))?;
    f.set_len(u64::try_from(len).unwrap_or(u64::MAX))
        .and_then(|()| f.sync_all())
        .map_err(io("truncating", path))
}

/// Removes leftover temporary files (`*.tmp`) in `dir`.
///
/// # Errors
/// [`NodeError::Io`].
pub fn remove_tmp_files(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io("reading", dir))? {
        let path = entry.map_err(io("reading", dir))?.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            std::fs::remove_file(&path).map_err(io("removing", &path))?;
        }
    }
    Ok(())
}
