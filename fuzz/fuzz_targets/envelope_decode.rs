//! Arbitrary bytes as an envelope frame: must return an error, never panic, and a decoded
//! envelope must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_transport::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::decode(data, 1 << 20) {
        assert_eq!(env.encode(1 << 20).ok().as_deref(), Some(data));
    }
});
