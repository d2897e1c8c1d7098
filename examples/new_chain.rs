//! A fourth chain, added without changing any existing crate: a toy Ed25519 chain whose
//! encoder implements only `mpc_core::chain::ChainEncoder`.
//!
//! ```text
//! cargo run --release --example new_chain
//! ```
//!
//! It makes a 2-of-3 FROST Ed25519 key, builds a toy transfer, has each signer derive the
//! digest from the transfer itself (what you see is what you sign), signs it with parties 0
//! and 2, and checks the signed transfer with ed25519-dalek.

use mpc_core::chain::{derive_request, ChainEncoder};
use mpc_core::{ChainPayload, FrostEd25519, PublicKey, SignRequest, Signature};
use mpc_transport::{keygen_all, sign_all, DriveOptions};
use sha2::{Digest, Sha256};

/// The toy chain's unsigned transfer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Transfer {
    from: String,
    to: String,
    amount: u64,
    nonce: u64,
}

/// A signed transfer: the transfer and the sender's signature.
#[derive(Debug, serde::Serialize)]
struct SignedTransfer {
    transfer: Transfer,
    signature_hex: String,
}

#[derive(Debug, thiserror::Error)]
enum ToyError {
    #[error("toy chain uses Ed25519 keys")]
    WrongCurve,
    #[error("bad transfer: {0}")]
    Bad(String),
}

/// The whole encoder: about forty lines, nothing in `mpc-core` changed.
struct ToyChain;

impl ToyChain {
    /// The bytes a signature covers: a domain tag and the canonical JSON of the transfer.
    fn signing_bytes(t: &Transfer) -> Result<Vec<u8>, ToyError> {
        let mut out = b"toychain/transfer/v1:".to_vec();
        out.extend(serde_json::to_vec(t).map_err(|e| ToyError::Bad(e.to_string()))?);
        Ok(out)
    }
}

impl ChainEncoder for ToyChain {
    type Unsigned = Transfer;
    type Signed = SignedTransfer;
    type Error = ToyError;

    fn chain(&self) -> &'static str {
        "toy"
    }
    fn encode_unsigned(&self, t: &Transfer) -> Result<Vec<u8>, ToyError> {
        serde_json::to_vec(t).map_err(|e| ToyError::Bad(e.to_string()))
    }
    fn decode_unsigned(&self, bytes: &[u8]) -> Result<Transfer, ToyError> {
        serde_json::from_slice(bytes).map_err(|e| ToyError::Bad(e.to_string()))
    }
    fn requests(&self, t: &Transfer, key: &PublicKey) -> Result<Vec<SignRequest>, ToyError> {
        if t.from != self.address(key)? {
            return Err(ToyError::Bad("the key is not the sender".into()));
        }
        let mut req = SignRequest::ed25519(Self::signing_bytes(t)?);
        req.chain_payload = Some(ChainPayload {
            chain: "toy".into(),
            bytes: self.encode_unsigned(t)?,
            item: 0,
        });
        Ok(vec![req])
    }
    fn finalize(
        &self,
        t: Transfer,
        sigs: &[(PublicKey, Vec<Signature>)],
    ) -> Result<SignedTransfer, ToyError> {
        let [(key, sigs)] = sigs else {
            return Err(ToyError::Bad("one signer expected".into()));
        };
        let [sig] = sigs.as_slice() else {
            return Err(ToyError::Bad("one signature expected".into()));
        };
        let payload = mpc_core::SignPayload::Ed25519 {
            message: Self::signing_bytes(&t)?,
        };
        mpc_core::verify::verify(key, &payload, sig).map_err(|e| ToyError::Bad(e.to_string()))?;
        Ok(SignedTransfer {
            transfer: t,
            signature_hex: hex::encode(sig.to_bytes()),
        })
    }
    fn address(&self, key: &PublicKey) -> Result<String, ToyError> {
        match key {
            PublicKey::Ed25519(pk) => {
                let h = Sha256::digest(pk);
                Ok(format!(
                    "toy1{}",
                    hex::encode(h.get(..20).unwrap_or_default())
                ))
            }
            PublicKey::Secp256k1(_) => Err(ToyError::WrongCurve),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = DriveOptions::default();
    let shares = keygen_all::<FrostEd25519>(2, vec![(); 3], &opts)?;
    let key = shares.first().ok_or("no shares")?.public_key();
    let chain = ToyChain;
    let transfer = Transfer {
        from: chain.address(&key)?,
        to: "toy1recipient".into(),
        amount: 42,
        nonce: 7,
    };
    let request = chain.requests(&transfer, &key)?.remove(0);
    // Each party derives the digest from the transfer itself before it signs.
    let derived = derive_request(&chain, &key, &request, |t: &Transfer| {
        if t.amount > 1_000 {
            Err(ToyError::Bad("policy: amount over limit".into()))
        } else {
            Ok(())
        }
    })?;
    let signature = sign_all::<FrostEd25519>(&shares, &[0, 2], derived.request(), &opts)?;
    let signed = chain.finalize(transfer, &[(key, vec![signature])])?;
    // Independent check with ed25519-dalek.
    let PublicKey::Ed25519(pk) = key else {
        return Err("not an Ed25519 key".into());
    };
    let sig_bytes: [u8; 64] = hex::decode(&signed.signature_hex)?
        .try_into()
        .map_err(|_| "signature length")?;
    ed25519_dalek::VerifyingKey::from_bytes(&pk)?.verify_strict(
        &ToyChain::signing_bytes(&signed.transfer)?,
        &ed25519_dalek::Signature::from_bytes(&sig_bytes),
    )?;
    println!("{}", serde_json::to_string_pretty(&signed)?);
    println!(
        "verified with ed25519-dalek; sender address {}",
        chain.address(&key)?
    );
    Ok(())
}
