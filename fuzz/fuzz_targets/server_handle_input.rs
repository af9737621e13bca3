//! `Server::handle_input` with an arbitrary client, fed in pieces and driven
//! like a real server (accept publishers, accept players, send media): no
//! panic, consumption never exceeds the input, Closed is reported once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Server, ServerConfig, ServerEvent};
use rtmp_core::time::{Instant, RtmpTimestamp};

fuzz_target!(|data: &[u8]| {
    let mut recv = [0u8; 4096];
    let mut s = Server::new(ServerConfig::default(), &mut recv, Instant::ZERO, &[3; RANDOM_LEN]);
    let mut pending: Vec<u8> = Vec::new();
    let mut closed = 0;
    let frame = [0x17u8, 1, 0, 0, 0, 0x65];
    let parts = [&frame[..]];
    let mut playing = Vec::new();
    for (i, piece) in data.chunks(1009).enumerate() {
        pending.extend_from_slice(piece);
        for _ in 0..64 {
            let n = s.handle_input(Instant::from_millis(i as u64), &pending).unwrap_or_default();
            assert!(n <= pending.len());
            pending.drain(..n);
            let mut answer = None;
            while let Some(e) = s.poll_event() {
                match e {
                    ServerEvent::PublishRequest { stream_id, .. } => answer = Some((stream_id, true)),
                    ServerEvent::PlayRequest { stream_id, .. } => answer = Some((stream_id, false)),
                    ServerEvent::Closed(_) => closed += 1,
                    _ => {}
                }
            }
            match answer {
                Some((id, true)) => drop(s.accept_publish(id)),
                Some((id, false)) if s.accept_play(id).is_ok() => playing.push(id),
                _ => {}
            }
            while let Some(b) = s.poll_transmit() {
                let k = b.len();
                s.transmitted(k);
            }
            for &id in &playing {
                if let Ok(mut m) = s.send_media(id, 9, RtmpTimestamp(i as u32), &parts) {
                    let k = m.remaining();
                    m.advance(k);
                }
            }
            if n == 0 {
                break;
            }
        }
        s.handle_timeout(Instant::from_millis(i as u64 * 3000));
    }
    while let Some(e) = s.poll_event() {
        if matches!(e, ServerEvent::Closed(_)) {
            closed += 1;
        }
    }
    assert!(closed <= 1);
    assert_eq!(closed == 1, s.is_closed());
});
