//! Arbitrary bytes as a serialized key share of every engine, and as the public setup of a
//! resharing: refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_core::engines::frost::FrostData;
use mpc_core::{Cggmp21Share, Gg20Share, KeyShare, SchemeId};

fuzz_target!(|data: &[u8]| {
    let _ =
        KeyShare::<FrostData<givre::ciphersuite::Ed25519>>::from_json(data, SchemeId::FrostEd25519);
    let _ = KeyShare::<FrostData<givre::ciphersuite::Bitcoin>>::from_json(
        data,
        SchemeId::FrostSecp256k1Tr,
    );
    let _ = Cggmp21Share::from_json(data, SchemeId::Cggmp21Secp256k1);
    let _ = Gg20Share::from_json(data, SchemeId::Gg20Secp256k1);
    let _ = serde_json::from_slice::<mpc_core::reshare::SetupRecord>(data);
});
