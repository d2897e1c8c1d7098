//! The durable presignature pool, sealed at rest, for both presigning engines: a consumed
//! presignature never comes back (not after a restart, not from a stale copy of its file),
//! concurrent takers never share one, a request that does not fit does not burn it, a torn
//! journal record is cut off, a tampered file stops the pool naming the file, and the
//! presignature's secret bytes are nowhere on disk in clear.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::*;
use mpc_core::*;
use mpc_node::pool::DurablePool;
use mpc_node::seal::KeyFileKek;
use mpc_node::store::SealedStore;

fn open<S: Presigning>(dir: &Path) -> DurablePool<S> {
    let store = SealedStore::open(dir, Arc::new(KeyFileKek::from_bytes([9; 32]))).unwrap();
    DurablePool::open(Arc::new(store), "key-1", 0, 0).unwrap()
}

fn presig_file(dir: &Path, id: &[u8; 32]) -> std::path::PathBuf {
    dir.join("pools/key-1")
        .join(format!("{}.presig", hex::encode(id)))
}

fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes_under(&p));
        } else {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn consumed_presignature_stays_consumed_across_restarts_and_stale_copies() {
    let d = fresh_dir("pool-restart");
    let key = cggmp_shares()[0].public_key();
    let a = presign::<Cggmp21>(cggmp_shares(), &[0, 1], None).remove(0);
    let b = presign::<Cggmp21>(cggmp_shares(), &[0, 1], None).remove(0);
    let (ida, idb) = (a.id(), b.id());
    let clear = a.to_bytes().unwrap();
    let mut pool = open::<Cggmp21>(&d);
    pool.insert(a).unwrap();
    pool.insert(b).unwrap();
    assert_eq!(pool.len(), 2);
    // Sealed: the stored bytes do not contain the presignature's serialization.
    let disk = all_bytes_under(&d);
    assert!(!disk.windows(64).any(|w| clear.windows(64).any(|c| c == w)));

    // A stale copy of `a`'s file, as a backup restore would bring back.
    let file_a = presig_file(&d, &ida);
    let stale = std::fs::read(&file_a).unwrap();
    let req = SeenRequest::hash_message(MessageHash::Sha256, &[1; 32]);
    pool.partial_sign(&ida, &key, &req).unwrap();
    assert!(!file_a.exists());
    assert!(matches!(
        pool.partial_sign(&ida, &key, &req),
        Err(Error::PresignatureUsed(_))
    ));
    drop(pool);

    // Restart, with the stale copy put back.
    std::fs::write(&file_a, &stale).unwrap();
    let mut pool = open::<Cggmp21>(&d);
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
    pool.partial_sign(&idb, &key, &req).unwrap();
    assert!(pool.is_empty());
    drop(pool);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn concurrent_takers_never_share_a_presignature() {
    let d = fresh_dir("pool-concurrent");
    let key = cggmp_shares()[0].public_key();
    let p = presign::<Cggmp21>(cggmp_shares(), &[0, 1], None).remove(0);
    let id = p.id();
    let pool = Arc::new(Mutex::new(open::<Cggmp21>(&d)));
    pool.lock().unwrap().insert(p).unwrap();
    let wins: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8u8)
            .map(|k| {
                let pool = pool.clone();
                s.spawn(move || {
                    let req = SeenRequest::hash_message(MessageHash::Sha256, &[k; 32]);
                    pool.lock().unwrap().partial_sign(&id, &key, &req).is_ok()
                })
            })
            .collect();
        hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
    });
    assert_eq!(wins, 1);
    drop(pool);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn request_that_does_not_fit_does_not_burn_it_and_torn_journal_is_cut() {
    let d = fresh_dir("pool-fit");
    let key = cggmp_shares()[0].public_key();
    let p = presign::<Cggmp21>(cggmp_shares(), &[0, 1], Some(&[1, 2])).remove(0);
    let id = p.id();
    let derived = Cggmp21::signing_key(&cggmp_shares()[0], Some(&[1, 2])).unwrap();
    let mut pool = open::<Cggmp21>(&d);
    pool.insert(p).unwrap();
    // Wrong path, wrong key, wrong kind: refused, the presignature stays.
    let plain = SeenRequest::hash_message(MessageHash::Sha256, &[2; 32]);
    assert!(pool.partial_sign(&id, &key, &plain).is_err());
    assert!(pool
        .partial_sign(&id, &key, &plain.clone().with_path(&[1, 2]).unwrap())
        .is_err());
    assert!(pool
        .partial_sign(
            &id,
            &derived,
            &SeenRequest::unchecked(SignRequest::ed25519(b"x".to_vec()))
        )
        .is_err());
    // The right key and path, but a bare digest taken on trust (RUSTSEC-2025-0127).
    assert!(matches!(
        pool.partial_sign(
            &id,
            &derived,
            &SeenRequest::unchecked(SignRequest::ecdsa([2; 32]).with_path(&[1, 2]))
        ),
        Err(Error::UnseenDigest)
    ));
    assert_eq!(pool.len(), 1);
    drop(pool);

    // A torn journal record (crash during an append, before the flush) is cut off.
    let journal = d.join("pools/key-1/consumed.log");
    std::fs::write(&journal, [7u8; 5]).unwrap();
    let mut pool = open::<Cggmp21>(&d);
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0);
    pool.partial_sign(&id, &derived, &plain.with_path(&[1, 2]).unwrap())
        .unwrap();
    drop(pool);
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 32);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn tampered_pool_file_is_refused_with_its_name() {
    let d = fresh_dir("pool-tampered");
    let p = presign::<Cggmp21>(cggmp_shares(), &[0, 1], None).remove(0);
    let id = p.id();
    let mut pool = open::<Cggmp21>(&d);
    pool.insert(p).unwrap();
    drop(pool);
    let file = presig_file(&d, &id);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    let store = SealedStore::open(&d, Arc::new(KeyFileKek::from_bytes([9; 32]))).unwrap();
    let err = DurablePool::<Cggmp21>::open(Arc::new(store), "key-1", 0, 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("{}.presig", hex::encode(id))),
        "{err}"
    );
    assert!(err.contains("tampered"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The same pool type serves GG20: presignatures of a tss-lib key survive a restart and
/// sign once; the signature verifies with libsecp256k1.
#[test]
fn gg20_presignatures_sign_once_across_a_restart() {
    let shares = gg20_shares();
    let signers = [0u16, 2, 4];
    let key = shares[0].public_key();
    let presigs = presign::<Gg20>(shares, &signers, None);
    let id = presigs[0].id();
    let dirs: Vec<_> = signers
        .iter()
        .map(|i| fresh_dir(&format!("pool-gg20-{i}")))
        .collect();
    for (d, p) in dirs.iter().zip(presigs) {
        open::<Gg20>(d).insert(p).unwrap();
    }
    let seen = SeenRequest::hash_message(MessageHash::Sha256, b"gg20 pool");
    let prehash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(b"gg20 pool").into();
    // Restarted pools: each reads its presignature back from the sealed file.
    let partials: Vec<_> = dirs
        .iter()
        .map(|d| open::<Gg20>(d).partial_sign(&id, &key, &seen).unwrap())
        .collect();
    let sig = Gg20::combine(&key, seen.request(), &partials).unwrap();
    check_ecdsa(&key, &prehash, &sig);
    for d in &dirs {
        let mut pool = open::<Gg20>(d);
        assert!(pool.is_consumed(&id));
        assert!(pool.partial_sign(&id, &key, &seen).is_err());
        drop(pool);
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_pool_is_open_once_even_within_one_process() {
    let d = fresh_dir("pool-lock");
    let store = Arc::new(SealedStore::open(&d, Arc::new(KeyFileKek::from_bytes([9; 32]))).unwrap());
    let first = DurablePool::<Cggmp21>::open(store.clone(), "key-1", 0, 0).unwrap();
    assert!(matches!(
        DurablePool::<Cggmp21>::open(store.clone(), "key-1", 0, 0),
        Err(mpc_node::error::NodeError::Locked { .. })
    ));
    drop(first);
    DurablePool::<Cggmp21>::open(store, "key-1", 0, 0).unwrap();
    let _ = std::fs::remove_dir_all(&d);
}
