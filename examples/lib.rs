//! Helpers shared by the examples: the quickstart's key directory, Paillier primes with
//! progress, and the quickstart's chain transactions ([`chains`]).
#![forbid(unsafe_code)]

pub use mpc_node::demo::txs as chains;

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mpc_core::share::EngineData;
use mpc_core::{KeyShare, PaillierPrimes, SchemeId};

/// DEMO ONLY: the quickstart's directory of key shares and cached primes, one file per
/// party, in clear (owner-only permissions). The quickstart is a one-process tour: all
/// parties' shares live in this one process and this one directory, which a wallet must
/// never do (a deployment uses `mpc-node`: networked ceremonies, one sealed store per
/// party). Files are written once (never overwritten), and a directory holding only some
/// shares of a key is an error, not a reason to make a new key.
#[derive(Debug, Clone)]
pub struct KeyDir(pub PathBuf);

impl KeyDir {
    fn share_path(&self, scheme: SchemeId, t: u16, n: u16, i: u16) -> PathBuf {
        self.0
            .join(format!("{scheme}-{t}of{n}"))
            .join(format!("party-{i}.json"))
    }

    /// Loads the `n` shares of a `t`-of-`n` key, if all are there.
    ///
    /// # Errors
    /// A file that exists but does not read as a share.
    pub fn load<D: EngineData>(
        &self,
        scheme: SchemeId,
        t: u16,
        n: u16,
    ) -> Result<Option<Vec<KeyShare<D>>>, Box<dyn std::error::Error>> {
        let paths: Vec<PathBuf> = (0..n).map(|i| self.share_path(scheme, t, n, i)).collect();
        let present = paths.iter().filter(|p| p.exists()).count();
        if present == 0 {
            return Ok(None);
        }
        if present < paths.len() {
            return Err(format!(
                "{}: only {present} of {n} shares of the {scheme} key are there; restore the \
                 missing files or delete the directory to start over with a new key",
                self.0.display()
            )
            .into());
        }
        let mut shares = Vec::new();
        for p in paths {
            let bytes = zeroize::Zeroizing::new(std::fs::read(&p)?);
            shares.push(
                KeyShare::from_json(&bytes, scheme).map_err(|e| format!("{}: {e}", p.display()))?,
            );
        }
        Ok(Some(shares))
    }

    /// Loads party `i`'s share of a `t`-of-`n` key (a party process reads only its own).
    ///
    /// # Errors
    /// The file is missing or does not read as a share.
    pub fn load_one<D: EngineData>(
        &self,
        scheme: SchemeId,
        t: u16,
        n: u16,
        i: u16,
    ) -> Result<KeyShare<D>, Box<dyn std::error::Error>> {
        let p = self.share_path(scheme, t, n, i);
        let bytes = zeroize::Zeroizing::new(
            std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?,
        );
        let share =
            KeyShare::from_json(&bytes, scheme).map_err(|e| format!("{}: {e}", p.display()))?;
        if share.index() != i {
            return Err(format!("{}: share of party {}", p.display(), share.index()).into());
        }
        Ok(share)
    }

    /// Saves shares.
    ///
    /// # Errors
    /// I/O errors.
    pub fn save<D: EngineData>(
        &self,
        shares: &[KeyShare<D>],
    ) -> Result<(), Box<dyn std::error::Error>> {
        for s in shares {
            let p = self.share_path(s.scheme(), s.threshold(), s.parties(), s.index());
            write_secret(&p, &s.to_json()?)?;
        }
        Ok(())
    }

    /// Party `i`'s Paillier primes: loaded from the cache, or generated (showing progress on
    /// `bars`) and cached.
    ///
    /// # Errors
    /// I/O errors or a corrupt cache file.
    pub fn primes(&self, n: u16) -> Result<Vec<PaillierPrimes>, Box<dyn std::error::Error>> {
        let paths: Vec<PathBuf> = (0..n)
            .map(|i| self.0.join("primes").join(format!("party-{i}.json")))
            .collect();
        let mut out: Vec<Option<PaillierPrimes>> = Vec::new();
        for p in &paths {
            out.push(match std::fs::read(p) {
                Ok(b) => Some(serde_json::from_slice(&zeroize::Zeroizing::new(b))?),
                Err(_) => None,
            });
        }
        let missing: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_none())
            .map(|(i, _)| i)
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "Generating Paillier safe primes ({} bits, two per party) for {} parties; this takes one to three minutes and is cached in {}",
                PaillierPrimes::PRIME_BITS,
                missing.len(),
                self.0.join("primes").display()
            );
            let fresh = generate_with_progress(&missing)?;
            for (i, primes) in missing.into_iter().zip(fresh) {
                let path = paths.get(i).ok_or("index")?;
                write_secret(path, &serde_json::to_vec(&primes)?)?;
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(primes);
                }
            }
        }
        out.into_iter()
            .map(|p| p.ok_or_else(|| "primes missing".into()))
            .collect()
    }
}

/// Generates Paillier primes for parties `0..n` in parallel, one progress line per party
/// (kept in memory only).
///
/// # Errors
/// A progress bar template, a generation thread that panicked.
pub fn generate_primes_with_progress(
    n: u16,
) -> Result<Vec<PaillierPrimes>, Box<dyn std::error::Error>> {
    let parties: Vec<usize> = (0..usize::from(n)).collect();
    generate_with_progress(&parties)
}

/// Generates primes for the given parties in parallel, one progress line per party.
fn generate_with_progress(
    parties: &[usize],
) -> Result<Vec<PaillierPrimes>, Box<dyn std::error::Error>> {
    use std::io::IsTerminal;
    let plain = !std::io::stderr().is_terminal();
    let multi = MultiProgress::new();
    let style = ProgressStyle::with_template("{spinner} party {prefix}: {msg} [{elapsed}]")?;
    let handles: Vec<_> = parties
        .iter()
        .map(|&i| {
            let bar = multi.add(
                ProgressBar::new_spinner()
                    .with_style(style.clone())
                    .with_prefix(i.to_string()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar.set_message("searching for safe prime 1 of 2");
            std::thread::spawn(move || {
                let start = Instant::now();
                let p = PaillierPrimes::generate(&mut rand_core::OsRng, |k| {
                    if plain {
                        // Bars are hidden when stderr is not a terminal: print lines instead.
                        eprintln!(
                            "party {i}: safe prime {k} of 2 found after {:.1?}",
                            start.elapsed()
                        );
                    }
                    bar.set_message(if k == 1 {
                        format!(
                            "prime 1 found after {:.0?}; searching for prime 2 of 2",
                            start.elapsed()
                        )
                    } else {
                        "both primes found".to_owned()
                    })
                });
                bar.finish_with_message(format!("done in {:.1?}", start.elapsed()));
                p
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .map_err(|_| "prime generation thread panicked".into())
        })
        .collect()
}

/// Writes a new file readable only by its owner (atomically; an existing file is never
/// replaced).
///
/// # Errors
/// I/O errors, or the file exists.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    Ok(mpc_node::fsutil::write_new(path, bytes)?)
}
