//! The party's audit log: one JSON line per decision (signed or refused, and why), each
//! record carrying the hash of the one before, flushed to disk before the party's signature
//! share leaves.
//!
//! A line is `{"hash":"<hex>","record":{...}}` where `hash` is SHA-256 over a domain tag,
//! the previous record's hash and the exact bytes of `record`; `record` holds its sequence
//! number `seq` (from 0) and `prev`, the previous hash (zeros for the first). Editing a
//! record breaks its hash; deleting or reordering records breaks `seq` and `prev`. After
//! each append the log's head (last `seq` and hash) is written to `<log>.head`, so a cut
//! tail is found as well. [`verify`] (the `mpc-node audit verify` command) reports the
//! first broken or missing record.
//!
//! ```
//! use mpc_node::audit::{verify, AuditLog, Decision, Record};
//!
//! # fn main() -> Result<(), mpc_node::NodeError> {
//! let path = std::env::temp_dir().join(format!("audit-doc-{}.jsonl", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! let mut log = AuditLog::open(&path)?;
//! log.append(Record::new(Decision::Refused, "btc.sighash").reason("SIGHASH_NONE on input 0"))?;
//! assert_eq!(verify(&path)?.records, 1);
//! # std::fs::remove_file(&path).ok(); std::fs::remove_file(path.with_extension("jsonl.head")).ok();
//! # Ok(()) }
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{io, NodeError, Result};

/// What the party decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// The party signs (its share leaves after this record is on disk).
    Signed,
    /// The party refuses.
    Refused,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Sequence number (set by [`AuditLog::append`]).
    pub seq: u64,
    /// Hash of the previous record, hex (set by [`AuditLog::append`]).
    pub prev: String,
    /// Milliseconds since the Unix epoch (set by [`AuditLog::append`]).
    pub time_ms: u64,
    /// The decision.
    pub decision: Decision,
    /// The rule that decided (`btc.sighash`, `evm.chain_id`, ... or `allowed`).
    pub rule: String,
    /// Why, for a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Session (or presignature) id, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The key: scheme and group public key, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The chain of the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// A decoded summary of the transaction (outputs, amounts, fee, destination, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Who asked (the coordinator's certificate name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<String>,
}

impl Record {
    /// A record of `decision` by `rule`; the rest is filled with the builder methods.
    pub fn new(decision: Decision, rule: impl Into<String>) -> Self {
        Record {
            seq: 0,
            prev: String::new(),
            time_ms: 0,
            decision,
            rule: rule.into(),
            reason: None,
            session: None,
            key: None,
            chain: None,
            summary: None,
            coordinator: None,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = Some(r.into());
        self
    }
}

#[derive(Serialize)]
struct LineRef<'a> {
    hash: &'a str,
    record: &'a serde_json::value::RawValue,
}

#[derive(Deserialize)]
struct Line<'a> {
    hash: String,
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
}

#[derive(Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_hash(prev: &str, record: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"mpc-node/audit-record/v1");
    h.update(prev.as_bytes());
    h.update(record.as_bytes());
    hex::encode(h.finalize())
}

fn head_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".head");
    path.with_file_name(name)
}

/// An open audit log (append only).
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    next_seq: u64,
    last_hash: String,
}

impl AuditLog {
    /// Opens (or creates) the log at `path`, continuing its chain. A torn last line (a crash
    /// during an append, before the flush, so nothing was signed on it) is cut off.
    ///
    /// # Errors
    /// [`NodeError::Io`]; [`NodeError::Corrupt`] if the last whole record does not read.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsutil::private_dir(dir)?;
        }
        let mut next_seq = 0;
        let mut last_hash = ZERO.to_string();
        if path.exists() {
            let bytes = std::fs::read(path).map_err(io("reading", path))?;
            let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            if whole != bytes.len() {
                crate::fsutil::truncate(path, whole)?;
            }
            let text =
                std::str::from_utf8(bytes.get(..whole).unwrap_or_default()).map_err(|_| {
                    NodeError::Corrupt {
                        path: path.to_path_buf(),
                        reason: "not UTF-8".into(),
                    }
                })?;
            if let Some(last) = text.lines().last() {
                let (hash, record) = parse_line(last).map_err(|reason| NodeError::Corrupt {
                    path: path.to_path_buf(),
                    reason,
                })?;
                next_seq = record.seq.saturating_add(1);
                last_hash = hash;
            }
        }
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let file = o.open(path).map_err(io("opening", path))?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            next_seq,
            last_hash,
        })
    }

    /// Appends `record` (its `seq`, `prev` and time are set here) and flushes it to disk.
    /// Returns its hash.
    ///
    /// # Errors
    /// [`NodeError::Io`]: the decision must then not be acted on.
    pub fn append(&mut self, mut record: Record) -> Result<String> {
        record.seq = self.next_seq;
        record.prev = self.last_hash.clone();
        record.time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let body = serde_json::to_string(&record).map_err(|e| NodeError::Other(e.to_string()))?;
        let hash = chain_hash(&self.last_hash, &body);
        let raw = serde_json::value::RawValue::from_string(body)
            .map_err(|e| NodeError::Other(e.to_string()))?;
        let mut line = serde_json::to_vec(&LineRef {
            hash: &hash,
            record: &raw,
        })
        .map_err(|e| NodeError::Other(e.to_string()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(io("appending to", &self.path))?;
        self.next_seq = self.next_seq.saturating_add(1);
        self.last_hash = hash.clone();
        // The head is a checkpoint for finding a cut tail; it may lag one record after a
        // crash, which `verify` accepts.
        let head = serde_json::to_vec(&Head {
            seq: record.seq,
            hash: hash.clone(),
        })
        .map_err(|e| NodeError::Other(e.to_string()))?;
        let hp = head_path(&self.path);
        let tmp = hp.with_extension("head.tmp");
        std::fs::write(&tmp, head)
            .and_then(|()| std::fs::rename(&tmp, &hp))
            .map_err(io("writing", &hp))?;
        Ok(hash)
    }
}

fn parse_line(line: &str) -> core::result::Result<(String, Record), String> {
    let l: Line<'_> = serde_json::from_str(line).map_err(|e| format!("unreadable line: {e}"))?;
    let record: Record =
        serde_json::from_str(l.record.get()).map_err(|e| format!("unreadable record: {e}"))?;
    if chain_hash(&record.prev, l.record.get()) != l.hash {
        return Err(format!(
            "record {} does not match its hash (edited)",
            record.seq
        ));
    }
    Ok((l.hash, record))
}

/// What [`verify`] found in a sound log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Number of records.
    pub records: u64,
    /// Hash of the last record (zeros for an empty log).
    pub head: String,
}

/// Checks the whole chain of the log at `path` (and its head file, when present).
///
/// # Errors
/// [`NodeError::Corrupt`] naming the log and the first broken or missing record (its line
/// number and sequence number); [`NodeError::Io`].
pub fn verify(path: &Path) -> Result<Verified> {
    let f = File::open(path).map_err(io("opening", path))?;
    let broken = |line: usize, reason: String| NodeError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut prev = ZERO.to_string();
    let mut seq = 0u64;
    for (n, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(io("reading", path))?;
        let lineno = n + 1;
        let (hash, record) = parse_line(&line).map_err(|r| broken(lineno, r))?;
        if record.seq != seq {
            return Err(broken(
                lineno,
                format!("record {seq} is missing (found record {})", record.seq),
            ));
        }
        if record.prev != prev {
            return Err(broken(
                lineno,
                format!("record {seq} does not follow the record before it"),
            ));
        }
        prev = hash;
        seq = seq.saturating_add(1);
    }
    let hp = head_path(path);
    if let Ok(bytes) = std::fs::read(&hp) {
        let head: Head = serde_json::from_slice(&bytes).map_err(|e| NodeError::Corrupt {
            path: hp.clone(),
            reason: e.to_string(),
        })?;
        // The head may lag by one record (a crash between the append and the head write).
        let last = seq.checked_sub(1);
        let fine = match last {
            Some(l) => head.seq == l && head.hash == prev || head.seq.saturating_add(1) == l,
            None => false,
        };
        if !fine {
            return Err(NodeError::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "the head file names record {} but the log ends {}: records are missing",
                    head.seq,
                    last.map_or("empty".to_string(), |l| format!("at record {l}"))
                ),
            });
        }
    }
    Ok(Verified {
        records: seq,
        head: prev,
    })
}
