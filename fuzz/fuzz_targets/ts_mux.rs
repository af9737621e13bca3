//! The MPEG-TS muxer and the HLS segmenter over arbitrary media messages
//! (type, timestamp, tag body; configurations included) with hostile
//! timestamps: no panic; every frame comes out as whole 188-byte packets
//! starting with the sync byte, whose payload adds up to what the frame
//! said it would carry; every playlist keeps RFC 8216's target duration rule.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::video::Codec;
use rtmp_core::ts::hls::{HlsConfig, Segmenter};
use rtmp_core::ts::{Muxed, TsMuxer, MAX_PARTS, PACKET_LEN};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else { return };
    let video = match mode % 3 {
        0 => None,
        1 => Some(Codec::H264),
        _ => Some(Codec::H265),
    };
    let mut mux = TsMuxer::new(video, mode & 4 != 0);
    let mut seg: Segmenter<16> =
        Segmenter::new(HlsConfig { target_ms: 1 + u32::from(mode >> 3) * 400, max_ms: 3000, window: 3, jump_ms: 1000 });
    let mut tables = [0u8; 2 * PACKET_LEN];
    assert_eq!(mux.tables(&mut tables).len(), 2 * PACKET_LEN);
    // Messages: [type][timestamp: 4][length: 2][body].
    while let [kind, t0, t1, t2, t3, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        let ts = u32::from_be_bytes([*t0, *t1, *t2, *t3]);
        let is_video = kind & 1 == 1;
        let keyframe = body.first().is_some_and(|b| (b >> 4) & 7 == 1);
        let d = seg.frame(ts, keyframe, is_video, video.is_some());
        if d.start.is_some() {
            check_playlist(&seg);
        }
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

/// RFC 8216: no segment's rounded duration above the target duration.
fn check_playlist(seg: &Segmenter<16>) {
    let mut buf = [0u8; 8192];
    let n = seg.write_playlist(&mut buf, |q, w| write!(w, "{q}.ts")).expect("fits");
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    let target: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:"))
        .and_then(|v| v.parse().ok())
        .expect("a target duration");
    for s in seg.listed() {
        assert!((u64::from(s.duration_ms) + 500) / 1000 <= target, "{text}");
    }
}
