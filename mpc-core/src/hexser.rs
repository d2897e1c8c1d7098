//! Serde helpers: byte strings as lowercase hex.

use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

/// Encodes bytes as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (either case, optional `0x`); `None` on odd length or a non-hex digit.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}

/// Serializes a byte slice as hex.
pub fn serialize<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(v.as_ref()))
}

/// Deserializes a fixed-size array from hex.
pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    let v = from_hex(&s).ok_or_else(|| D::Error::custom("invalid hex"))?;
    v.try_into()
        .map_err(|_| D::Error::custom(format!("expected {N} bytes")))
}

/// Serde helpers for `Vec<u8>` as hex.
pub mod vec {
    use super::*;

    /// Serializes.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(v))
    }
    /// Deserializes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        from_hex(&s).ok_or_else(|| D::Error::custom("invalid hex"))
    }
}
