//! The party's session journal (`sessions.log` in its key store): the ids of the sessions it
//! joined, 32 bytes each, appended before each session opens, so a coordinator cannot replay
//! a session after a restart ([`mpc_transport::SessionJournal`]).
//!
//! An append is handed to the operating system before the session opens (it survives a
//! crash or kill of the party process); it is not flushed to the disk one by one, so a
//! power loss can forget the last ids (single use of presignatures never rests on this
//! journal: the pools flush their own). A torn last record is cut off when the journal is
//! opened; past twice [`mpc_transport::party::SEEN_SESSIONS`] records the file is rewritten
//! with the newest ones (a new file renamed over the old).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mpc_core::SessionId;
use mpc_transport::party::SEEN_SESSIONS;
use mpc_transport::SessionJournal;

use crate::error::{io, NodeError, Result};
use crate::fsutil;

/// The journal's file name inside the store directory.
pub const SESSIONS_FILE: &str = "sessions.log";

const RECORD: usize = 32;

/// A file of session ids (see the [module docs](self)).
#[derive(Debug)]
pub struct FileSessionJournal {
    path: PathBuf,
    file: Mutex<File>,
}

impl FileSessionJournal {
    /// Opens (or creates) the journal at `path`, cutting a torn last record.
    ///
    /// # Errors
    /// [`NodeError::Io`].
    pub fn open(path: &Path) -> Result<Self> {
        let file = append(path)?;
        let len = file.metadata().map_err(io("reading", path))?.len();
        let whole = usize::try_from(len).unwrap_or(usize::MAX) / RECORD * RECORD;
        if u64::try_from(whole).unwrap_or(u64::MAX) != len {
            fsutil::truncate(path, whole)?;
        }
        Ok(FileSessionJournal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Rewrites the journal with `ids` (a new file renamed over the old one).
    fn compact(&self, ids: &[SessionId]) -> Result<()> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| NodeError::Other(format!("{}: no parent", self.path.display())))?;
        let tmp = self.path.with_extension("log.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = fsutil::create_private(&tmp)?;
        let bytes: Vec<u8> = ids.iter().flat_map(|s| s.0).collect();
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(io("writing", &tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io("renaming", &tmp))?;
        fsutil::sync_dir(dir)?;
        let reopened = append(&self.path)?;
        *self
            .file
            .lock()
            .map_err(|_| NodeError::Other("session journal lock poisoned".into()))? = reopened;
        Ok(())
    }
}

fn append(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true).read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map_err(io("opening", path))
}

impl SessionJournal for FileSessionJournal {
    fn load(&self) -> core::result::Result<Vec<SessionId>, String> {
        let mut bytes = Vec::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("reading {}: {e}", self.path.display()))?;
        let ids: Vec<SessionId> = bytes
            .chunks_exact(RECORD)
            .filter_map(|c| <[u8; RECORD]>::try_from(c).ok().map(SessionId))
            .collect();
        if ids.len() > 2 * SEEN_SESSIONS {
            let newest = ids.get(ids.len() - SEEN_SESSIONS..).unwrap_or(&ids);
            self.compact(newest).map_err(|e| e.to_string())?;
            return Ok(newest.to_vec());
        }
        Ok(ids)
    }

    fn record(&self, id: SessionId) -> core::result::Result<(), String> {
        let mut f = self
            .file
            .lock()
            .map_err(|_| "session journal lock poisoned".to_string())?;
        f.write_all(&id.0)
            .map_err(|e| format!("appending to {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn ids_survive_a_reopen_and_a_torn_tail_is_cut() {
        let dir = std::env::temp_dir().join(format!("mpc-sessions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(SESSIONS_FILE);
        let j = FileSessionJournal::open(&path).unwrap();
        j.record(SessionId([1; 32])).unwrap();
        j.record(SessionId([2; 32])).unwrap();
        drop(j);
        // A crash in the middle of an append.
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&[3; 7])
            .unwrap();
        let j = FileSessionJournal::open(&path).unwrap();
        assert_eq!(
            j.load().unwrap(),
            vec![SessionId([1; 32]), SessionId([2; 32])]
        );
        j.record(SessionId([4; 32])).unwrap();
        assert_eq!(j.load().unwrap().len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
