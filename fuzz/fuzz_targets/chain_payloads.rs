//! Arbitrary bytes as the unsigned chain payload a signing request carries, decoded by the
//! encoder a party uses to derive what it signs: a PSBT (Bitcoin), an EIP-2718 typed
//! transaction (EVM) and a versioned transaction (Solana). Each decode, request derivation
//! and address computation ends in a value or an error, never a panic.
//!
//! Byte 0 picks the chain; the rest is the payload.
#![no_main]

use chain_btc::bitcoin::Network;
use chain_btc::{AddressKind, BtcEncoder};
use chain_evm::EvmEncoder;
use chain_sol::SolEncoder;
use libfuzzer_sys::fuzz_target;
use mpc_core::chain::ChainEncoder;
use mpc_core::PublicKey;

/// The secp256k1 generator and the Ed25519 base point: valid keys whose secret is public.
const SECP_G: [u8; 33] = [
    0x02, 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b,
    0x07, 0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17,
    0x98,
];
const ED_B: [u8; 32] = [
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
];

fn exercise<C: ChainEncoder>(enc: &C, key: &PublicKey, bytes: &[u8]) {
    let _ = enc.address(key);
    if let Ok(unsigned) = enc.decode_unsigned(bytes) {
        let _ = enc.requests(&unsigned, key);
        let _ = enc.encode_unsigned(&unsigned);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((which, bytes)) = data.split_first() else {
        return;
    };
    let secp = PublicKey::Secp256k1(SECP_G);
    let ed = PublicKey::Ed25519(ED_B);
    match which % 4 {
        0 => exercise(
            &BtcEncoder::new(Network::Bitcoin, AddressKind::P2wpkh),
            &secp,
            bytes,
        ),
        1 => exercise(
            &BtcEncoder::new(Network::Testnet, AddressKind::P2tr),
            &secp,
            bytes,
        ),
        2 => exercise(&EvmEncoder::new(1), &secp, bytes),
        _ => exercise(&SolEncoder::new(), &ed, bytes),
    }
});
