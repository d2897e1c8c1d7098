//! The durable presignature pool: a consumed presignature never comes back, not after a
//! restart, not from a stale copy of its file; concurrent takers never share one; a
//! request that does not fit does not burn it; a torn journal record is cut off.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use mpc_core::engines::cggmp21::Cggmp21Presignature;
use mpc_core::local::run_local;
use mpc_core::*;

fn shares() -> &'static Vec<Cggmp21Share> {
    static S: OnceLock<Vec<Cggmp21Share>> = OnceLock::new();
    S.get_or_init(|| {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/test-only-paillier-primes.json"
        );
        let primes = PaillierPrimes::list_from_json(&std::fs::read(file).unwrap()).unwrap();
        local::keygen::<Cggmp21>(2, primes.into_iter().take(3).map(Into::into).collect()).unwrap()
    })
}

/// One presigning run by parties 0 and 1; returns their presignatures.
fn presign(path: Option<&[u32]>) -> Vec<Cggmp21Presignature> {
    let sid = SessionId::random(&mut rand_core::OsRng);
    let runs = [0u16, 1]
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(sid, SchemeId::Cggmp21Secp256k1, i, &[0, 1]).unwrap();
            Cggmp21::presign(&ctx, &shares()[usize::from(i)], path)
        })
        .collect::<Result<Vec<_>>>()
        .unwrap();
    run_local(runs).unwrap()
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpc-pool-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn party0(p: Vec<Cggmp21Presignature>) -> Cggmp21Presignature {
    p.into_iter().next().unwrap()
}

#[test]
fn consumed_presignature_stays_consumed_across_restarts_and_stale_copies() {
    let d = dir("restart");
    let key = shares()[0].public_key();
    let (a, b) = (party0(presign(None)), party0(presign(None)));
    let (ida, idb) = (a.id(), b.id());
    let mut pool = PresignaturePool::open(&d).unwrap();
    pool.insert(a).unwrap();
    pool.insert(b).unwrap();
    assert_eq!(pool.len(), 2);

    // A stale copy of `a`'s file, as a backup restore would bring back.
    let file_a = d.join(format!("{}.presig", hex::encode(ida)));
    let stale = std::fs::read(&file_a).unwrap();

    let req = SignRequest::ecdsa([1; 32]);
    pool.partial_sign(&ida, &key, &req).unwrap();
    assert!(!file_a.exists());
    assert!(matches!(
        pool.partial_sign(&ida, &key, &req),
        Err(Error::PresignatureUsed(_))
    ));
    drop(pool);

    // Restart, with the stale copy put back.
    std::fs::write(&file_a, &stale).unwrap();
    let mut pool = PresignaturePool::open(&d).unwrap();
    assert_eq!(
        pool.entries().iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![idb]
    );
    assert!(pool.is_consumed(&ida));
    assert!(
        !file_a.exists(),
        "stale copy of a consumed presignature removed"
    );
    assert!(matches!(
        pool.partial_sign(&ida, &key, &req),
        Err(Error::PresignatureUsed(_))
    ));
    // The stale presignature cannot be inserted again either.
    let restored = Cggmp21Presignature::from_json(&stale).unwrap();
    assert!(matches!(
        pool.insert(restored),
        Err(Error::PresignatureUsed(_))
    ));
    pool.partial_sign(&idb, &key, &req).unwrap();
    assert!(pool.is_empty());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn concurrent_takers_never_share_a_presignature() {
    let d = dir("concurrent");
    let key = shares()[0].public_key();
    let p = party0(presign(None));
    let id = p.id();
    let pool = Arc::new(Mutex::new(PresignaturePool::open(&d).unwrap()));
    pool.lock().unwrap().insert(p).unwrap();
    let wins: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8u8)
            .map(|k| {
                let pool = pool.clone();
                s.spawn(move || {
                    let req = SignRequest::ecdsa([k; 32]);
                    pool.lock().unwrap().partial_sign(&id, &key, &req).is_ok()
                })
            })
            .collect();
        hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
    });
    assert_eq!(wins, 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn request_that_does_not_fit_does_not_burn_it_and_torn_journal_is_cut() {
    let d = dir("fit");
    let key = shares()[0].public_key();
    let p = party0(presign(Some(&[1, 2])));
    let id = p.id();
    let derived = Cggmp21::signing_key(&shares()[0], Some(&[1, 2])).unwrap();
    let mut pool = PresignaturePool::open(&d).unwrap();
    pool.insert(p).unwrap();
    // Wrong path, wrong key, wrong kind: refused, the presignature stays.
    let plain = SignRequest::ecdsa([2; 32]);
    assert!(pool.partial_sign(&id, &key, &plain).is_err());
    assert!(pool
        .partial_sign(&id, &key, &plain.clone().with_path(&[1, 2]))
        .is_err());
    assert!(pool
        .partial_sign(&id, &derived, &SignRequest::ed25519(b"x".to_vec()))
        .is_err());
    assert_eq!(pool.len(), 1);
    drop(pool);

    // A torn journal record (crash during an append, before the flush) is cut off.
    let journal = d.join("consumed.log");
    std::fs::write(&journal, [7u8; 5]).unwrap();
    let mut pool = PresignaturePool::open(&d).unwrap();
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0);
    pool.partial_sign(&id, &derived, &plain.with_path(&[1, 2]))
        .unwrap();
    drop(pool);
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 32);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn corrupt_pool_file_is_refused_with_its_name() {
    let d = dir("corrupt");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{}.presig", "ab".repeat(32))), b"{not json").unwrap();
    let err = PresignaturePool::open(&d).unwrap_err().to_string();
    assert!(err.contains(".presig"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
