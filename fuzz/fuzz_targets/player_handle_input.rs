//! `Player::handle_input` with an arbitrary server, fed in pieces and driven
//! like a real driver (transmit, events, timeouts, a ping): no panic,
//! consumption never exceeds the input, media borrows the receive buffer,
//! and a closed session is reported exactly once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Player, PlayerConfig, PlayerEvent, PlayerState};
use rtmp_core::time::Instant;

fuzz_target!(|data: &[u8]| {
    let mut recv = [0u8; 4096];
    let range = recv.as_ptr_range();
    let range = range.start as usize..range.end as usize;
    let cfg = PlayerConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    let mut p = Player::new(cfg, &mut recv, Instant::ZERO, &[3; RANDOM_LEN]);
    let mut closed = 0;
    let mut pending: Vec<u8> = Vec::new();
    for (i, piece) in data.chunks(997).enumerate() {
        pending.extend_from_slice(piece);
        for _ in 0..8 {
            while let Some(b) = p.poll_transmit() {
                let n = b.len();
                p.transmitted(n);
            }
            let r = p.handle_input(Instant::from_millis(i as u64), &pending);
            while let Some(e) = p.poll_event() {
                match e {
                    PlayerEvent::Closed(_) => closed += 1,
                    PlayerEvent::Media(m) => {
                        assert!(m.payload.is_empty() || range.contains(&(m.payload.as_ptr() as usize)));
                        let _ = (m.video(), m.audio(), m.is_keyframe(), m.is_sequence_header());
                    }
                    _ => {}
                }
            }
            match r {
                Ok(n) => {
                    assert!(n <= pending.len());
                    pending.drain(..n);
                    if n == 0 {
                        break;
                    }
                }
                Err(_) => {
                    assert_eq!(p.state(), PlayerState::Closed);
                    break;
                }
            }
        }
        if i == 3 {
            let _ = p.ping(7);
        }
        p.handle_timeout(Instant::from_millis(i as u64 * 1000));
        while let Some(e) = p.poll_event() {
            closed += matches!(e, PlayerEvent::Closed(_)) as usize;
        }
    }
    assert!(closed <= 1);
    assert_eq!(closed == 1, p.state() == PlayerState::Closed);
});
