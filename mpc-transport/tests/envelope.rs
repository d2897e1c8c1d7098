//! Envelope codec: round trip, and arbitrary bytes never panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mpc_core::{Message, SchemeId, SessionId};
use mpc_transport::*;
use rand_core::RngCore;

#[test]
fn round_trip_and_size_cap() {
    for to in [None, Some(4)] {
        let env = Envelope {
            scheme: SchemeId::FrostSecp256k1Tr,
            message: Message {
                session: SessionId([7; 32]),
                round: 0x0102,
                from: 3,
                to,
                payload: b"payload".to_vec(),
            },
        };
        let frame = env.encode(1024).unwrap();
        assert_eq!(frame.len(), HEADER_LEN + 7);
        assert_eq!(Envelope::decode(&frame, 1024).unwrap(), env);
        assert!(matches!(
            env.encode(HEADER_LEN + 6),
            Err(TransportError::FrameTooLarge { .. })
        ));
        assert!(matches!(
            Envelope::decode(&frame, HEADER_LEN + 6),
            Err(TransportError::FrameTooLarge { .. })
        ));
        let mut bad = frame.clone();
        bad[0] = 9;
        assert!(matches!(
            Envelope::decode(&bad, 1024),
            Err(TransportError::Unsupported(_))
        ));
        let mut bad = frame.clone();
        bad[1] = 200;
        assert!(matches!(
            Envelope::decode(&bad, 1024),
            Err(TransportError::Unsupported(_))
        ));
        assert!(matches!(
            Envelope::decode(&frame[..frame.len() - 1], 1024),
            Err(TransportError::Truncated(_))
        ));
    }
}

#[test]
fn random_and_mutated_frames_never_panic() {
    let mut rng = rand_core::OsRng;
    let env = Envelope {
        scheme: SchemeId::Cggmp21Secp256k1,
        message: Message {
            session: SessionId([1; 32]),
            round: 1,
            from: 0,
            to: Some(1),
            payload: vec![1, 2, 3],
        },
    };
    let frame = env.encode(1 << 20).unwrap();
    for _ in 0..20_000 {
        let mut f = frame.clone();
        let i = (rng.next_u32() as usize) % f.len();
        f[i] = rng.next_u32() as u8;
        f.truncate((rng.next_u32() as usize) % (f.len() + 1));
        let _ = Envelope::decode(&f, 1 << 20);
        let mut junk = vec![0u8; (rng.next_u32() % 80) as usize];
        rng.fill_bytes(&mut junk);
        let _ = Envelope::decode(&junk, 1 << 20);
    }
}
