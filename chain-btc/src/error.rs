//! Errors of the Bitcoin encoder.

/// What can go wrong encoding, signing or finalizing a Bitcoin transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BtcError {
    /// The PSBT does not parse or is inconsistent.
    #[error("invalid psbt: {0}")]
    InvalidPsbt(String),
    /// An input has no spent output (`witness_utxo`); sighashes cannot be computed.
    #[error("input {input} has no spent output (witness_utxo); segwit and taproot sighashes need its amount and script")]
    MissingSpentOutput {
        /// Input index.
        input: usize,
    },
    /// The number of spent outputs given does not match the inputs.
    #[error("{inputs} inputs but {prevouts} spent outputs")]
    PrevoutCount {
        /// Inputs of the transaction.
        inputs: usize,
        /// Spent outputs given.
        prevouts: usize,
    },
    /// The key is not a secp256k1 key.
    #[error("bitcoin keys are secp256k1 keys")]
    WrongCurve,
    /// The key owns no input of the transaction.
    #[error("the key owns no input of this transaction")]
    NothingToSign,
    /// A sighash could not be computed.
    #[error("input {input}: {reason}")]
    Sighash {
        /// Input index.
        input: usize,
        /// Why.
        reason: String,
    },
    /// A signature is missing, of the wrong kind, or does not verify.
    #[error("input {input}: bad signature: {reason}")]
    BadSignature {
        /// Input index.
        input: usize,
        /// Why.
        reason: String,
    },
    /// After placing every signature some input is still unsigned.
    #[error("input {input} is not signed")]
    NotFinalized {
        /// Input index.
        input: usize,
    },
    /// Extracting the transaction failed (for example an absurd fee rate).
    #[error("cannot extract transaction: {0}")]
    Extract(String),
}
