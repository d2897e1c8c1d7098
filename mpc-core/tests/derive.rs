//! The coordinator's public derivation (`mpc_core::derive`) gives the same child key as each
//! engine's own derivation from its share, and BIP-32 CKDpub (computed independently) for
//! secp256k1.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use mpc_core::derive::child_public_key;
use mpc_core::*;

const PATH: [u32; 3] = [0, 7, 2_147_483_647];

#[test]
fn public_derivation_matches_every_engine() {
    let ed = keygen::<FrostEd25519>(3, 2, |_| ());
    let code = FrostEd25519::chain_code(&ed[0]).unwrap();
    assert_eq!(
        child_public_key(SchemeId::FrostEd25519, &ed[0].public_key(), code, &PATH).unwrap(),
        FrostEd25519::signing_key(&ed[1], Some(&PATH)).unwrap()
    );

    let tr = keygen::<FrostTaproot>(3, 2, |_| ());
    let code = FrostTaproot::chain_code(&tr[0]).unwrap();
    let child = child_public_key(SchemeId::FrostSecp256k1Tr, &tr[0].public_key(), code, &PATH);
    assert_eq!(
        child.unwrap(),
        FrostTaproot::signing_key(&tr[2], Some(&PATH)).unwrap()
    );

    let ec = keygen::<Cggmp21>(3, 2, |_| Cggmp21KeygenConfig::default());
    let code = Cggmp21::chain_code(&ec[0]).unwrap();
    let child = child_public_key(SchemeId::Cggmp21Secp256k1, &ec[0].public_key(), code, &PATH);
    assert_eq!(
        child.unwrap(),
        Cggmp21::signing_key(&ec[1], Some(&PATH)).unwrap()
    );
    assert_eq!(
        child_public_key(SchemeId::Cggmp21Secp256k1, &ec[0].public_key(), code, &PATH).unwrap(),
        bip32_derive(&ec[0].public_key(), code, &PATH)
    );
}

#[test]
fn hardened_paths_and_gg20_are_refused() {
    let ed = keygen::<FrostEd25519>(2, 2, |_| ());
    let pk = ed[0].public_key();
    assert!(matches!(
        child_public_key(SchemeId::FrostEd25519, &pk, [1; 32], &[0x8000_0000]),
        Err(Error::Derivation(_))
    ));
    assert!(matches!(
        child_public_key(SchemeId::Gg20Secp256k1, &pk, [1; 32], &[1]),
        Err(Error::Derivation(_))
    ));
    assert_eq!(
        child_public_key(SchemeId::FrostEd25519, &pk, [1; 32], &[]).unwrap(),
        pk
    );
}
