//! The MPEG-TS muxer over arbitrary media messages (type, timestamp, tag
//! body; configurations included): no panic, and every frame comes out as
//! whole 188-byte packets starting with the sync byte, whose payload adds
//! up to what the frame said it would carry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::video::Codec;
use rtmp_core::ts::{Muxed, TsMuxer, MAX_PARTS, PACKET_LEN};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else { return };
    let video = match mode % 3 {
        0 => None,
        1 => Some(Codec::H264),
        _ => Some(Codec::H265),
    };
    let mut mux = TsMuxer::new(video, mode & 4 != 0);
    let mut tables = [0u8; 2 * PACKET_LEN];
    assert_eq!(mux.tables(&mut tables).len(), 2 * PACKET_LEN);
    // Messages: [type][timestamp: 4][length: 2][body].
    while let [kind, t0, t1, t2, t3, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        let ts = u32::from_be_bytes([*t0, *t1, *t2, *t3]);
        if let Ok(Muxed::Frame(mut frame)) = mux.mux(8 + (kind & 1), body, ts) {
            let mut payload = frame.remaining();
            let mut first = true;
            while let Some(packet) = frame.next_packet() {
                let mut slots: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
                let parts = packet.parts(&mut slots);
                assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), PACKET_LEN);
                assert_eq!(parts[0][0], 0x47);
                assert_eq!(parts[0][1] & 0x40 != 0, first, "payload unit start only on the first");
                first = false;
                payload -= packet.payload().iter().map(|p| p.len()).sum::<usize>();
            }
            assert_eq!(payload, 0);
        }
    }
});
