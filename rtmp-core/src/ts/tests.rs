//! Tests of the MPEG-TS muxer (a test module, so std is allowed here).
#![cfg(test)]

extern crate std;
use super::*;
use crate::flv::aac::split_adts;
use std::vec::Vec;

// nginx-rtmp's fixed PAT and PMT sections (H.264 on 0x100, AAC on 0x101).
const NGINX_PAT: &[u8] = &[0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x01];
const NGINX_PMT: &[u8] = &[
    0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1,
    0x01, 0xf0, 0x00,
];
// ffmpeg's AVC sequence header for x264's 160x120 High 1.0.
const AVC_SEQUENCE_HEADER: &[u8] = &[
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9,
    0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x05, 0x03, 0xc4, 0x89, 0x65, 0x80,
    0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
];

#[test]
fn crc_of_nginx_tables() {
    assert_eq!(crc32(NGINX_PAT), 0x2E70_1905);
    assert_eq!(crc32(NGINX_PMT), 0x2F44_B99B);
}

fn packets(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    assert_eq!(bytes.len() % PACKET_LEN, 0);
    bytes.chunks(PACKET_LEN)
}

#[test]
fn tables_are_nginx_rtmps_and_list_only_present_streams() {
    let mut out = [0u8; 2 * PACKET_LEN];
    let mut m = TsMuxer::new(Some(Codec::H264), true);
    let t = m.tables(&mut out).to_vec();
    let (pat, pmt) = t.split_at(PACKET_LEN);
    assert_eq!(&pat[..5], &[0x47, 0x40, 0x00, 0x10, 0x00]);
    assert_eq!(&pat[5..17], NGINX_PAT);
    assert_eq!(&pat[17..21], &0x2E70_1905u32.to_be_bytes());
    assert!(pat[21..].iter().all(|&b| b == 0xFF));
    assert_eq!(&pmt[..5], &[0x47, 0x50, 0x01, 0x10, 0x00]);
    assert_eq!(&pmt[5..27], NGINX_PMT);
    assert_eq!(&pmt[27..31], &0x2F44_B99Bu32.to_be_bytes());
    // The next segment's tables count on.
    let t2 = m.tables(&mut out).to_vec();
    assert_eq!((t2[3], t2[PACKET_LEN + 3]), (0x11, 0x11));
    // Video only: one stream, PCR on video. Audio only: PCR on audio. H.265: 0x24.
    for (video, audio, pcr, streams) in [
        (Some(Codec::H264), false, VIDEO_PID, &[0x1Bu8][..]),
        (None, true, AUDIO_PID, &[0x0F][..]),
        (Some(Codec::H265), true, VIDEO_PID, &[0x24, 0x0F][..]),
    ] {
        let mut m = TsMuxer::new(video, audio);
        let t = m.tables(&mut out).to_vec();
        let pmt = &t[PACKET_LEN + 5..];
        let len = usize::from(pmt[2]);
        assert_eq!(u16::from_be_bytes([pmt[8] & 0x1F, pmt[9]]), pcr);
        let kinds: Vec<u8> = pmt[12..3 + len - 4].chunks(5).map(|s| s[0]).collect();
        assert_eq!(kinds, streams);
        assert_eq!(crc32(&pmt[..3 + len - 4]).to_be_bytes(), pmt[3 + len - 4..3 + len]);
    }
}

/// Writes a frame's packets into one buffer; returns it and the parts.
fn write_all<'a>(frame: &mut TsFrame<'a>, parts_seen: &mut Vec<*const u8>) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(packet) = frame.next_packet() {
        let before = out.len();
        let mut slots: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
        for p in packet.parts(&mut slots) {
            out.extend_from_slice(p);
        }
        parts_seen.extend(packet.payload().iter().map(|p| p.as_ptr()));
        assert_eq!(out.len() - before, PACKET_LEN, "every packet is 188 bytes");
    }
    out
}

/// Per TS packet: random access indicator, PCR.
type PacketMeta = Vec<(bool, Option<u64>)>;

/// The PES packet a run of TS packets carries: (PES header, payload, per-packet meta).
fn pes(ts: &[u8], pid: u16) -> (Vec<u8>, Vec<u8>, PacketMeta) {
    let mut bytes = Vec::new();
    let mut meta = Vec::new();
    let mut cc = None;
    for p in packets(ts) {
        assert_eq!(p[0], 0x47);
        assert_eq!(u16::from_be_bytes([p[1] & 0x1F, p[2]]), pid);
        let c = p[3] & 0x0F;
        if let Some(prev) = cc {
            assert_eq!(c, (prev + 1) & 0x0F, "continuity counter");
        }
        cc = Some(c);
        let mut at = 4;
        let (mut ra, mut pcr) = (false, None);
        if p[3] & 0x20 != 0 {
            let len = usize::from(p[4]);
            if len > 0 {
                ra = p[5] & 0x40 != 0;
                if p[5] & 0x10 != 0 {
                    let b = &p[6..12];
                    pcr = Some(
                        u64::from(b[0]) << 25
                            | u64::from(b[1]) << 17
                            | u64::from(b[2]) << 9
                            | u64::from(b[3]) << 1
                            | u64::from(b[4] >> 7),
                    );
                }
            }
            at = 5 + len;
        }
        meta.push((ra, pcr));
        bytes.extend_from_slice(&p[at..]);
    }
    assert_eq!(&bytes[..3], &[0, 0, 1]);
    let header_len = 9 + usize::from(bytes[8]);
    (bytes[..header_len].to_vec(), bytes[header_len..].to_vec(), meta)
}

fn read_ts(b: &[u8]) -> u64 {
    u64::from(b[0] >> 1 & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

#[test]
fn h264_keyframe_becomes_aud_parameter_sets_and_start_codes_without_copying() {
    let mut m = TsMuxer::new(Some(Codec::H264), true);
    assert!(matches!(m.mux(9, AVC_SEQUENCE_HEADER, 0), Ok(Muxed::Config)));
    // A keyframe of two NAL units (SEI and a 5000-byte IDR slice), cts 80 ms.
    let idr: Vec<u8> = [0x65u8].into_iter().chain((0..4999u32).map(|i| (i * 7 + 1) as u8)).collect();
    let sei = [0x06u8, 0x05, 0x01, 0x80];
    let mut body = std::vec![0x17, 0x01, 0x00, 0x00, 80];
    body.extend_from_slice(&(sei.len() as u32).to_be_bytes());
    body.extend_from_slice(&sei);
    body.extend_from_slice(&(idr.len() as u32).to_be_bytes());
    body.extend_from_slice(&idr);
    let mut seen = Vec::new();
    let ts = match m.mux(9, &body, 1000).unwrap() {
        Muxed::Frame(mut f) => write_all(&mut f, &mut seen),
        _ => panic!("a frame"),
    };
    let (header, payload, meta) = pes(&ts, VIDEO_PID);
    assert_eq!(header[3], 0xE0);
    let (pts, dts) = (read_ts(&header[9..14]), read_ts(&header[14..19]));
    assert_eq!((dts, pts), (90_000 + PCR_DELAY_90KHZ, 90_000 + 80 * 90 + PCR_DELAY_90KHZ));
    assert_eq!(meta[0], (true, Some(90_000)), "random access and PCR in the first packet");
    assert!(meta[1..].iter().all(|m| *m == (false, None)));
    let mut want = std::vec![0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1];
    want.extend_from_slice(&AVC_SEQUENCE_HEADER[13..38]); // SPS
    want.extend_from_slice(&[0, 0, 0, 1]);
    want.extend_from_slice(&AVC_SEQUENCE_HEADER[41..47]); // PPS
    for nal in [&sei[..], &idr[..]] {
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(nal);
    }
    assert_eq!(payload, want);
    assert!(seen.contains(&body[17..].as_ptr()), "the IDR slice goes out from the caller's frame");
    let frame_range = body.as_ptr_range();
    let from_frame = seen.iter().filter(|p| frame_range.contains(p)).count();
    assert!(from_frame >= 5000 / 184, "every packet of the slice points into the frame ({from_frame})");
    // A P-frame: no parameter sets, no random access; the counter continues.
    let p = [0x27u8, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a];
    let ts2 = match m.mux(9, &p, 1033).unwrap() {
        Muxed::Frame(mut f) => write_all(&mut f, &mut seen),
        _ => panic!(),
    };
    assert_eq!(ts2[3] & 0x0F, (ts[ts.len() - PACKET_LEN + 3] + 1) & 0x0F);
    let (header, payload, meta) = pes(&ts2, VIDEO_PID);
    assert_eq!(header[7], 0x80, "PTS only: DTS equals it");
    assert_eq!(payload, [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x9a]);
    assert_eq!(meta[0], (false, Some(1033 * 90)));
}

#[test]
fn aac_frames_get_adts_headers_from_the_config() {
    let mut m = TsMuxer::new(None, true);
    let cfg = AacConfig { object_type: 2, frequency_index: 3, channels: 2 };
    assert!(matches!(m.mux(8, &cfg.sequence_header(), 0), Ok(Muxed::Config)));
    for len in [0usize, 1, 150, 170, 171, 176, 177, 400] {
        let mut body = std::vec![0xAF, 0x01];
        body.extend((0..len).map(|i| i as u8));
        let mut seen = Vec::new();
        let ts = match m.mux(8, &body, 500).unwrap() {
            Muxed::Frame(mut f) => write_all(&mut f, &mut seen),
            _ => panic!(),
        };
        let (header, payload, meta) = pes(&ts, AUDIO_PID);
        assert_eq!(header[3], 0xC0);
        assert_eq!(usize::from(u16::from_be_bytes([header[4], header[5]])), 3 + 5 + 7 + len, "PES length");
        assert_eq!(meta[0].1, Some(500 * 90), "PCR on audio when there is no video");
        let (got, raw, rest) = split_adts(&payload).unwrap();
        assert_eq!((got, raw, rest.len()), (cfg, &body[2..], 0), "{len}");
    }
    // Audio before its config, MP3, video the muxer was not set up for.
    let mut m = TsMuxer::new(None, true);
    assert_eq!(m.mux(8, &[0xAF, 0x01, 1], 0).err(), Some(TsError::MissingConfig));
    assert_eq!(m.mux(8, &[0x2F, 1, 2], 0).err(), Some(TsError::Unsupported));
    assert_eq!(m.mux(9, AVC_SEQUENCE_HEADER, 0).err(), Some(TsError::Unsupported));
}

#[test]
fn hostile_frames_are_errors() {
    let mut m = TsMuxer::new(Some(Codec::H264), false);
    assert_eq!(m.mux(9, &[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65], 0).err(), Some(TsError::MissingConfig));
    m.mux(9, AVC_SEQUENCE_HEADER, 0).unwrap();
    assert_eq!(m.mux(9, &[0x17, 1, 0, 0, 0, 0, 0, 0, 9, 0x65], 0).err(), Some(TsError::BadNalLength));
    assert_eq!(m.mux(9, &[0x17, 1, 0, 0, 0, 0, 0], 0).err(), Some(TsError::BadNalLength));
    let mut many = std::vec![0x27u8, 1, 0, 0, 0];
    for _ in 0..=MAX_NAL_UNITS {
        many.extend_from_slice(&[0, 0, 0, 1, 0x41]);
    }
    assert_eq!(m.mux(9, &many, 0).err(), Some(TsError::TooManyNalUnits));
    assert_eq!(m.mux(9, &[], 0).err(), Some(TsError::BadTag));
    assert_eq!(m.mux(18, &[1], 0).err(), Some(TsError::Unsupported));
    assert!(matches!(m.mux(9, &crate::flv::avc::END_OF_SEQUENCE, 0), Ok(Muxed::EndOfSequence)));
    // Timestamps past 2^33 / 90 ms wrap in 33 bits instead of overflowing.
    let mut seen = Vec::new();
    let ts = match m.mux(9, &[0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41], u32::MAX).unwrap() {
        Muxed::Frame(mut f) => write_all(&mut f, &mut seen),
        _ => panic!(),
    };
    let (header, _, _) = pes(&ts, VIDEO_PID);
    assert_eq!(read_ts(&header[9..14]), (u64::from(u32::MAX) * 90 + PCR_DELAY_90KHZ) & 0x1_FFFF_FFFF);
}
