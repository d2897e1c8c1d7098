//! Test-only package: `tests/quickstart_json.rs` feeds the quickstart's `--json` object to
//! Bitcoin Core's script interpreter, revm and LiteSVM. It lives apart from
//! `mpc-examples` so that building the examples does not build those engines.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
