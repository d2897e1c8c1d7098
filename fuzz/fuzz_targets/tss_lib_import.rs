//! Arbitrary bytes as a tss-lib `LocalPartySaveData` file: the import refuses it with an
//! error or yields a key whose conversions fail cleanly, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_core::import::TssLibKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = TssLibKey::from_json(data) {
        let _ = key.public_key();
        let _ = key.to_gg20();
        let _ = key.to_cggmp21();
        let _ = key.to_frost_ed25519();
    }
});
