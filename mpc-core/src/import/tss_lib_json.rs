//! Reading tss-lib's JSON: arbitrary-precision integers and `{"Curve", "Coords"}` points,
//! every error naming the field.

use std::collections::BTreeMap;

use cggmp21::paillier_zk::rug::Integer;
use serde_json::value::RawValue;

use crate::error::Error;

pub(crate) type Obj = BTreeMap<String, Box<RawValue>>;

/// An error naming a field of a tss-lib file.
pub(crate) fn bad(field: &str, reason: impl core::fmt::Display) -> Error {
    Error::Invalid {
        what: "tss-lib key file",
        reason: format!("field `{field}`: {reason}"),
    }
}

pub(crate) fn object(raw: &RawValue, field: &str) -> Result<Obj, Error> {
    serde_json::from_str(raw.get()).map_err(|_| bad(field, "is not a JSON object"))
}

pub(crate) fn get<'a>(obj: &'a Obj, field: &str, path: &str) -> Result<&'a RawValue, Error> {
    obj.get(field)
        .map(|b| &**b)
        .ok_or_else(|| bad(path, "is missing"))
}

pub(crate) fn list(raw: &RawValue, field: &str) -> Result<Vec<Box<RawValue>>, Error> {
    serde_json::from_str(raw.get()).map_err(|_| bad(field, "is not a JSON array"))
}

/// A non-negative decimal integer of at most 1300 digits (4096-bit values and then some).
pub(crate) fn int(raw: &RawValue, field: &str) -> Result<Integer, Error> {
    let text = raw.get().trim();
    if text.is_empty() || text.len() > 1300 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(field, "is not a non-negative integer"));
    }
    Integer::from_str_radix(text, 10).map_err(|_| bad(field, "is not a non-negative integer"))
}

pub(crate) fn int_field(obj: &Obj, field: &str, path: &str) -> Result<Integer, Error> {
    int(get(obj, field, path)?, path)
}

pub(crate) fn int_list(obj: &Obj, field: &str) -> Result<Vec<Integer>, Error> {
    list(get(obj, field, field)?, field)?
        .iter()
        .enumerate()
        .map(|(i, v)| int(v, &format!("{field}[{i}]")))
        .collect()
}

/// A point `{"Curve": curve, "Coords": [x, y]}`; `Curve` may be absent (older tss-lib).
pub(crate) fn point(raw: &RawValue, field: &str, curve: &str) -> Result<(Integer, Integer), Error> {
    let obj = object(raw, field)?;
    if let Some(c) = obj.get("Curve") {
        let name: String = serde_json::from_str(c.get())
            .map_err(|_| bad(&format!("{field}.Curve"), "is not a string"))?;
        if name != curve {
            return Err(bad(
                &format!("{field}.Curve"),
                format!("is {name:?}, expected {curve:?}"),
            ));
        }
    }
    let coords_path = format!("{field}.Coords");
    let coords = list(get(&obj, "Coords", &coords_path)?, &coords_path)?;
    let [x, y] = coords.as_slice() else {
        return Err(bad(&coords_path, "must hold exactly two coordinates"));
    };
    Ok((
        int(x, &format!("{coords_path}[0]"))?,
        int(y, &format!("{coords_path}[1]"))?,
    ))
}

pub(crate) fn point_list(
    obj: &Obj,
    field: &str,
    curve: &str,
) -> Result<Vec<(Integer, Integer)>, Error> {
    list(get(obj, field, field)?, field)?
        .iter()
        .enumerate()
        .map(|(i, v)| point(v, &format!("{field}[{i}]"), curve))
        .collect()
}

/// Big-endian bytes of `x`, left-padded to `len` (None if it does not fit).
pub(crate) fn be_bytes(x: &Integer, len: usize) -> Option<Vec<u8>> {
    let digits = x.to_digits::<u8>(cggmp21::paillier_zk::rug::integer::Order::Msf);
    if digits.len() > len {
        return None;
    }
    let mut out = vec![0u8; len - digits.len()];
    out.extend_from_slice(&digits);
    Some(out)
}
