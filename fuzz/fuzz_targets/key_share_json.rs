//! Arbitrary bytes as a serialized key share: must be refused with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_core::engines::frost::FrostData;
use mpc_core::{Cggmp21Share, KeyShare, SchemeId};

fuzz_target!(|data: &[u8]| {
    let _ = KeyShare::<FrostData<givre::ciphersuite::Ed25519>>::from_json(data, SchemeId::FrostEd25519);
    let _ = Cggmp21Share::from_json(data, SchemeId::Cggmp21Secp256k1);
});
