//! `ServerHandshake::handle_input` with an arbitrary client: no panic, and a
//! completed C0+C1 always produces exactly S0+S1+S2.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::{ServerHandshake, PACKET_LEN, RANDOM_LEN};

fuzz_target!(|data: &[u8]| {
    let mut hs = ServerHandshake::new(0, &[9; RANDOM_LEN]);
    let mut rest = data;
    for _ in 0..3 {
        match hs.handle_input(rest) {
            Ok(n) => {
                assert!(n <= rest.len());
                if n == 1 + PACKET_LEN {
                    assert_eq!(hs.poll_transmit().map(|b| b.len()), Some(1 + 2 * PACKET_LEN));
                }
                rest = &rest[n..];
            }
            Err(_) => return,
        }
    }
});
