//! Arbitrary bytes as a control-channel frame, read as a party reads a request and as a
//! coordinator reads a response: an error or a value, never a panic; a frame that decodes
//! re-encodes to a frame that decodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_transport::control::{Framed, Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = serde_json::from_slice::<Framed<Request>>(data) {
        let again = serde_json::to_vec(&f).expect("a decoded request encodes");
        let back: Framed<Request> = serde_json::from_slice(&again).expect("and decodes");
        assert_eq!(format!("{:?}", back.body), format!("{:?}", f.body));
    }
    if let Ok(f) = serde_json::from_slice::<Framed<Response>>(data) {
        let again = serde_json::to_vec(&f).expect("a decoded response encodes");
        let back: Framed<Response> = serde_json::from_slice(&again).expect("and decodes");
        assert_eq!(format!("{:?}", back.body), format!("{:?}", f.body));
    }
});
