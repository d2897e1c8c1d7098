//! A sealed store file as an attacker with the disk leaves it: arbitrary bytes, or a valid
//! sealed file with bytes flipped, cut or appended. Opening it yields the plaintext only if
//! the file is the one sealed, otherwise an error; never a panic.
//!
//! Byte 0 even: the rest is the file. Odd: the rest is a list of edits (offset, xor byte)
//! applied to a valid file, its last byte the length to cut it to (as a fraction).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mpc_core::SchemeId;
use mpc_node::seal::{open, seal, KeyFileKek, Label, SecretKind};

const PLAINTEXT: &[u8] = b"fuzz: a key share's bytes";

fn kek() -> KeyFileKek {
    KeyFileKek::from_bytes([7; 32])
}

fn label() -> Label {
    Label::new(
        SecretKind::KeyShare,
        Some(SchemeId::FrostEd25519),
        "key-1",
        0,
        0,
    )
}

fn valid() -> &'static [u8] {
    static V: OnceLock<Vec<u8>> = OnceLock::new();
    V.get_or_init(|| seal(&kek(), &label(), PLAINTEXT).expect("sealing works"))
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut f = valid().to_vec();
        let (cut, edits) = rest.split_last().unwrap_or((&255, &[]));
        for e in edits.chunks_exact(3) {
            let at = usize::from(u16::from_be_bytes([e[0], e[1]])) % f.len().max(1);
            if let Some(b) = f.get_mut(at) {
                *b ^= e[2];
            }
        }
        let keep = f.len() * usize::from(*cut) / 255;
        f.truncate(keep);
        f
    };
    match open(&kek(), &label(), &file, Path::new("fuzz")) {
        Ok(plain) => assert_eq!(plain.as_slice(), PLAINTEXT, "a changed file opened"),
        Err(_) => {}
    }
});
