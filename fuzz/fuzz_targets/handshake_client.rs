//! `ClientHandshake::handle_input` with an arbitrary server: no panic, and
//! consumption never exceeds the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::{ClientHandshake, HandshakeMode, RANDOM_LEN};

fuzz_target!(|data: &[u8]| {
    let mode = if data.first().is_some_and(|b| b & 1 == 1) { HandshakeMode::Simple } else { HandshakeMode::Digest };
    let mut hs = ClientHandshake::new(mode, 0, &[7; RANDOM_LEN]);
    let mut rest = data;
    for _ in 0..4 {
        while let Some(out) = hs.poll_transmit() {
            let n = out.len();
            hs.transmitted(n);
        }
        match hs.handle_input(rest) {
            Ok(n) => {
                assert!(n <= rest.len());
                rest = &rest[n..];
            }
            Err(_) => return,
        }
    }
    let _ = hs.outcome();
});
