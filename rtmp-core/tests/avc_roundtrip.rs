//! Every H.264 frame ffmpeg sent, rewritten as the Annex-B a hardware encoder
//! emits (SPS and PPS in-band before the keyframe), must package back into
//! ffmpeg's exact FLV video tag bodies, sequence header included.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::flv::avc::AvcPackager;
use rtmp_core::handshake::PACKET_LEN;

fn video_messages() -> Vec<Vec<u8>> {
    let cap = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-publish-c2s.bin")).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut input = &cap[1 + 2 * PACKET_LEN..];
    let mut out = Vec::new();
    while let (n, Some(m)) = r.read(input).unwrap() {
        if m.type_id == 9 {
            out.push(m.payload.to_vec());
        }
        input = &input[n..];
    }
    out
}

/// AVCC NAL units (4-byte lengths) to Annex-B (4-byte start codes).
fn to_annexb(mut avcc: &[u8], out: &mut Vec<u8>) {
    while avcc.len() >= 4 {
        let n = u32::from_be_bytes(avcc[..4].try_into().unwrap()) as usize;
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&avcc[4..4 + n]);
        avcc = &avcc[4 + n..];
    }
}

#[test]
fn ffmpeg_frames_roundtrip_through_annexb() {
    let msgs = video_messages();
    let config = &msgs[0];
    assert_eq!(&config[..2], &[0x17, 0x00]);
    // SPS and PPS out of the configuration record.
    let rec = &config[5..];
    let sps_len = u16::from_be_bytes([rec[6], rec[7]]) as usize;
    let sps = &rec[8..8 + sps_len];
    let pps_len = u16::from_be_bytes([rec[9 + sps_len], rec[10 + sps_len]]) as usize;
    let pps = &rec[11 + sps_len..11 + sps_len + pps_len];

    let mut p = AvcPackager::new();
    let mut checked = 0;
    let (last, frames) = msgs[1..].split_last().unwrap();
    assert_eq!(&last[..], &rtmp_core::flv::avc::END_OF_SEQUENCE);
    for (i, body) in frames.iter().enumerate() {
        let cts = i32::from_be_bytes([0, body[2], body[3], body[4]]) << 8 >> 8;
        let mut au = vec![0, 0, 0, 1, 0x09, 0xF0]; // an access unit delimiter, as encoders emit
        if body[0] >> 4 == 1 {
            for ps in [sps, pps] {
                au.extend_from_slice(&[0, 0, 0, 1]);
                au.extend_from_slice(ps);
            }
        }
        to_annexb(&body[5..], &mut au);
        let (cfg, frame) = p.package::<32>(&au, cts).unwrap();
        if i == 0 {
            assert_eq!(cfg, Some(&config[..]), "sequence header");
        } else {
            assert_eq!(cfg, None, "frame {i}: parameter sets did not change");
        }
        let mut slots: [&[u8]; 65] = [&[]; 65];
        let joined: Vec<u8> = frame.parts(&mut slots).unwrap().concat();
        assert_eq!(&joined, body, "frame {i}");
        checked += 1;
    }
    assert!(checked >= 9);
    let info = p.info().unwrap();
    assert_eq!((info.width, info.height), (160, 120));
}
