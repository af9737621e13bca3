//! `Publisher::handle_input` with an arbitrary server, fed in pieces and
//! driven like a real driver (transmit, events, timeouts, media once
//! publishing): no panic, consumption never exceeds the input, and a closed
//! session is reported exactly once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Event, Publisher, PublisherConfig, PublisherState};
use rtmp_core::time::{Instant, RtmpTimestamp};

fuzz_target!(|data: &[u8]| {
    let mut recv = [0u8; 2048];
    let cfg = PublisherConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    let mut p = Publisher::new(cfg, &mut recv, Instant::ZERO, &[3; RANDOM_LEN]);
    let mut closed = 0;
    let mut pending: Vec<u8> = Vec::new();
    let frame = [0x17u8, 1, 0, 0, 0, 0, 0, 0, 1, 0x65];
    let parts = [&frame[..]];
    for (i, piece) in data.chunks(997).enumerate() {
        pending.extend_from_slice(piece);
        for _ in 0..3 {
            while let Some(b) = p.poll_transmit() {
                let n = b.len();
                p.transmitted(n);
            }
            match p.handle_input(Instant::from_millis(i as u64), &pending) {
                Ok(n) => {
                    assert!(n <= pending.len());
                    pending.drain(..n);
                }
                Err(_) => assert_eq!(p.state(), PublisherState::Closed),
            }
        }
        if p.state() == PublisherState::Publishing {
            if let Ok(mut m) = p.send_video(RtmpTimestamp(i as u32 * 40), &parts) {
                let total = m.remaining();
                m.advance(total);
            }
        }
        p.handle_timeout(Instant::from_millis(i as u64 * 1000));
        while let Some(e) = p.poll_event() {
            if matches!(e, Event::Closed(_)) {
                closed += 1;
            }
        }
    }
    assert!(closed <= 1);
    assert_eq!(closed == 1, p.state() == PublisherState::Closed);
});
