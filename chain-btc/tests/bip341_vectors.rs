//! BIP-341 wallet vectors: for every key-path-capable vector, the output key from our tweak
//! (mpc-core, k256), the scriptPubKey and the address (rust-bitcoin) match the vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use bitcoin::Network;
use mpc_core::PublicKey;

#[test]
fn bip341_script_pubkey_vectors() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-vectors/bip341/wallet-test-vectors.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let cases = v["scriptPubKey"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let internal: [u8; 32] = hex::decode(case["given"]["internalPubkey"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let root = case["intermediary"]["merkleRoot"]
            .as_str()
            .map(|h| <[u8; 32]>::try_from(hex::decode(h).unwrap()).unwrap());
        let expected_q =
            hex::decode(case["intermediary"]["tweakedPubkey"].as_str().unwrap()).unwrap();
        // An x-only internal key as a compressed key with even y.
        let mut compressed = [2u8; 33];
        compressed[1..].copy_from_slice(&internal);
        let key = PublicKey::secp256k1(&compressed).unwrap();
        let (q, _) = key.taproot_output_key(root).unwrap();
        assert_eq!(q.to_vec(), expected_q);
        let addr = chain_btc::p2tr_address(&key, root, Network::Bitcoin).unwrap();
        assert_eq!(
            hex::encode(addr.script_pubkey().as_bytes()),
            case["expected"]["scriptPubKey"].as_str().unwrap()
        );
        assert_eq!(
            addr.to_string(),
            case["expected"]["bip350Address"].as_str().unwrap()
        );
    }
}
