//! RUSTSEC-2025-0127: a presignature signs only a digest its party derived itself, for both
//! presigning engines (CGGMP21, GG20). A bare digest is refused through the public API (the
//! engine's online step and a presignature store) and leaves the presignature ready; the
//! same digest derived from the chain payload it came from (a toy chain whose encoder
//! hashes a memo), or hashed from its message, signs. Signatures are checked with
//! libsecp256k1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use mpc_core::chain::{derive_request, ChainEncoder};
use mpc_core::local::run_local;
use mpc_core::*;

/// A chain whose transaction is a memo, signed with ECDSA over its SHA-256.
struct MemoChain;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct MemoError(&'static str);

impl ChainEncoder for MemoChain {
    type Unsigned = String;
    type Signed = ();
    type Error = MemoError;
    fn chain(&self) -> &'static str {
        "memo-ecdsa"
    }
    fn encode_unsigned(&self, memo: &String) -> Result<Vec<u8>, MemoError> {
        Ok(memo.as_bytes().to_vec())
    }
    fn decode_unsigned(&self, bytes: &[u8]) -> Result<String, MemoError> {
        String::from_utf8(bytes.to_vec()).map_err(|_| MemoError("not UTF-8"))
    }
    fn requests(&self, memo: &String, _key: &PublicKey) -> Result<Vec<SignRequest>, MemoError> {
        let mut r = SignRequest::ecdsa(MessageHash::Sha256.digest(memo.as_bytes()));
        r.chain_payload = Some(ChainPayload {
            chain: self.chain().into(),
            bytes: memo.as_bytes().to_vec(),
            item: 0,
        });
        Ok(vec![r])
    }
    fn finalize(&self, _: String, _: &[(PublicKey, Vec<Signature>)]) -> Result<(), MemoError> {
        Ok(())
    }
    fn address(&self, _key: &PublicKey) -> Result<String, MemoError> {
        Ok("memo".into())
    }
}

fn presign<S: Presigning>(shares: &[KeyShare<S::Data>], signers: &[u16]) -> Vec<S::Presignature> {
    let s = sid("presign");
    let runs = signers
        .iter()
        .map(|&i| {
            let ctx = SessionCtx::new(s, S::ID, i, signers).unwrap();
            S::presign(&ctx, &shares[usize::from(i)], None).unwrap()
        })
        .collect();
    run_local(runs).unwrap()
}

fn presignature_signs_only_what_its_party_saw<S: Presigning>(shares: &[KeyShare<S::Data>]) {
    let pk = S::public_key(&shares[0]);
    let signers = [0u16, 2];
    // What a coordinator sends: the digest, with the payload it was made from.
    let sent = MemoChain
        .requests(&"pay bob 5".into(), &pk)
        .unwrap()
        .remove(0);
    let SignPayload::EcdsaPrehash { prehash } = sent.payload else {
        panic!("the memo chain signs ECDSA digests");
    };

    // The engine's online step refuses the digest taken on trust.
    let bare = SeenRequest::unchecked(SignRequest::ecdsa(prehash));
    for p in presign::<S>(shares, &signers) {
        assert!(matches!(
            S::partial_sign(p, &bare),
            Err(Error::UnseenDigest)
        ));
    }

    // So does a store, and the presignature stays ready.
    let mut stores: Vec<_> = presign::<S>(shares, &signers)
        .into_iter()
        .map(|p| {
            let mut s = MemoryPresignatures::<S>::new();
            s.insert(p).unwrap();
            s
        })
        .collect();
    let id = stores[0].entries()[0].id;
    for s in &mut stores {
        assert!(matches!(
            s.partial_sign(&id, &pk, &bare),
            Err(Error::UnseenDigest)
        ));
        assert_eq!(s.len(), 1, "a refused bare digest burned the presignature");
    }

    // The same request, derived by each party from its payload, signs.
    let partials: Vec<_> = stores
        .iter_mut()
        .map(|s| {
            let seen = derive_request(&MemoChain, &pk, &sent, |_| Ok(())).unwrap();
            assert_eq!(seen.request().payload, sent.payload);
            s.partial_sign(&id, &pk, &seen).unwrap()
        })
        .collect();
    let sig = S::combine(&pk, &sent, &partials).unwrap();
    check_ecdsa(&pk, &prehash, &sig);

    // A digest with the message it is the hash of, hashed by the party, signs too.
    let message = SignRequest::hashed_message(MessageHash::Keccak256, b"approve 7");
    let seen = SeenRequest::from_preimage(&message).unwrap();
    let partials: Vec<_> = presign::<S>(shares, &signers)
        .into_iter()
        .map(|p| S::partial_sign(p, &seen).unwrap())
        .collect();
    let sig = S::combine(&pk, &message, &partials).unwrap();
    let SignPayload::EcdsaPrehash { prehash } = message.payload else {
        panic!("a hashed message is an ECDSA digest");
    };
    check_ecdsa(&pk, &prehash, &sig);
}

#[test]
fn cggmp21_presignature_signs_only_what_its_party_saw() {
    let shares = test_only_key::<Cggmp21>(2, 3);
    presignature_signs_only_what_its_party_saw::<Cggmp21>(&shares);
}

#[test]
fn gg20_presignature_signs_only_what_its_party_saw() {
    let shares = test_only_key::<Gg20>(2, 3);
    presignature_signs_only_what_its_party_saw::<Gg20>(&shares);
}
