//! Tests of the H.265 packaging (a test module, so std is allowed here).
#![cfg(test)]

use super::*;

// x265's parameter sets for 176x144 Main (ffmpeg 9.0 with libx265 4.3,
// yuv420p), and the sequence header ffmpeg's FLV muxer wrote for them.
const VPS: &[u8] = &[
    0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03,
    0x00, 0x1e, 0x95, 0x98, 0x09,
];
const SPS: &[u8] = &[
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0,
    0x16, 0x20, 0x24, 0x59, 0x65, 0x66, 0x92, 0x4c, 0xaf, 0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00,
    0x03, 0x00, 0x50, 0x40,
];
const PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];
const FFMPEG_SEQUENCE_START: &[u8] = &[
    0x90, 0x68, 0x76, 0x63, 0x31, 0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0,
    0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff,
    0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0x95, 0x98, 0x09,
    0x21, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00,
    0x00, 0x03, 0x00, 0x1e, 0xa0, 0x16, 0x20, 0x24, 0x59, 0x65, 0x66, 0x92, 0x4c, 0xaf, 0x01, 0x68, 0x08, 0x00, 0x00,
    0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0x50, 0x40, 0x22, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4,
    0x62, 0x40,
];

#[test]
fn parses_x265_sps() {
    let i = parse_sps(SPS).unwrap();
    assert_eq!((i.profile, i.tier, i.level, i.width, i.height, i.chroma_format), (1, 0, 30, 176, 144, 1));
    assert_eq!((i.compatibility, i.constraints, i.sub_layers), (0x6000_0000, [0x90, 0, 0, 0, 0, 0], 1));
}

#[test]
fn sequence_header_matches_ffmpeg() {
    let mut out = [0u8; 256];
    let n = write_sequence_header(&mut out, VPS, SPS, PPS).unwrap();
    assert_eq!(&out[..n], FFMPEG_SEQUENCE_START);
    assert_eq!(write_sequence_header(&mut out[..40], VPS, SPS, PPS), Err(HevcError::ConfigTooLarge(40)));
    let rec = HevcDecoderConfig::parse(&FFMPEG_SEQUENCE_START[5..]).unwrap();
    assert_eq!((rec.vps, rec.sps, rec.pps), (Some(VPS), SPS, Some(PPS)));
    assert_eq!((rec.profile, rec.tier, rec.level, rec.nal_length_size), (1, 0, 30, 4));
}

#[test]
fn packs_package_without_copying_and_config_is_resent_on_change() {
    extern crate std;
    use std::vec::Vec;
    let with_start = |nal: &[u8]| -> Vec<u8> { [&[0, 0, 0, 1][..], nal].concat() };
    let (vps, sps, pps) = (with_start(VPS), with_start(SPS), with_start(PPS));
    let idr = with_start(&[0x26, 0x01, 0xaf, 0x11]); // IDR_W_RADL
    let mut p = HevcPackager::new();
    let (config, frame) = p.package_parts::<4>([&vps[..], &sps[..], &pps[..], &idr[..]], 0).unwrap();
    assert_eq!(config, Some(FFMPEG_SEQUENCE_START));
    assert!(frame.is_keyframe());
    let mut slots: [&[u8]; 9] = [&[]; 9];
    let parts = frame.parts(&mut slots).unwrap();
    assert_eq!(parts.len(), 3, "header, length, slice: parameter sets travel in the config");
    assert_eq!(parts[0], &[0x93, b'h', b'v', b'c', b'1'], "CodedFramesX, keyframe");
    assert_eq!(parts[1], &[0, 0, 0, 4]);
    assert_eq!(parts[2].as_ptr(), idr[4..].as_ptr(), "the NAL unit stays where the encoder put it");
    assert_eq!(frame.len(), 5 + 4 + 4);
    // The same parameter sets again: no config; a P-frame with a composition offset.
    let (config, _) = p.package_parts::<4>([&vps[..], &sps[..], &pps[..], &idr[..]], 0).unwrap();
    assert_eq!(config, None);
    let trail = [0u8, 0, 1, 0x02, 0x01, 0xd0];
    let (config, frame) = p.package::<4>(&trail, -40).unwrap();
    assert!(config.is_none() && !frame.is_keyframe());
    let mut slots: [&[u8]; 9] = [&[]; 9];
    assert_eq!(frame.parts(&mut slots).unwrap()[0], &[0xA1, b'h', b'v', b'c', b'1', 0xFF, 0xFF, 0xD8]);
    assert_eq!(frame.len(), 8 + 4 + 3);
    // A new connection: the config goes before the next IRAP only.
    p.resend_config();
    assert_eq!(p.package::<4>(&trail, 0).unwrap().0, None);
    assert!(p.package_nal_units::<4>([&idr[4..]], 0).unwrap().0.is_some());
    // A changed PPS resends at once.
    let pps2 = with_start(&[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x41]);
    let (config, _) = p.package_parts::<4>([&vps[..], &sps[..], &pps2[..], &trail[..]], 0).unwrap();
    assert_eq!(config.map(|c| c[c.len() - 1]), Some(0x41));
    assert_eq!(p.info().map(|i| (i.width, i.height)), Some((176, 144)));
}

#[test]
fn frames_before_parameter_sets_and_oversized_frames_are_errors() {
    let mut p = HevcPackager::new();
    assert_eq!(p.package::<4>(&[0, 0, 1, 0x26, 0x01, 0xaf], 0).err(), Some(HevcError::MissingParameterSets));
    let many = [0u8, 0, 1, 0x02, 0x01, 0, 0, 1, 0x02, 0x01, 0, 0, 1, 0x02, 0x01];
    assert_eq!(p.package::<2>(&many, 0).err(), Some(HevcError::TooManyNalUnits(2)));
}

#[test]
fn keyframes_are_irap() {
    for t in [16, 19, 20, 21, 23] {
        assert!(is_irap(t), "{t}");
    }
    for t in [0, 1, 9, 15, 24, 32, 39] {
        assert!(!is_irap(t), "{t}");
    }
    assert_eq!(nal_type(&[0x26, 0x01]), nal::IDR_W_RADL);
    assert_eq!(nal_type(&[0x2a, 0x01]), nal::CRA);
}

#[test]
fn hostile_sps_and_records_are_errors_not_panics() {
    assert_eq!(parse_sps(&[0x42]), Err(HevcError::BadSps));
    assert_eq!(parse_sps(&SPS[..12]), Err(HevcError::BadSps));
    assert_eq!(parse_sps(&[0x40, 0x01, 0x0c]), Err(HevcError::BadSps), "a VPS is not an SPS");
    let rec = &FFMPEG_SEQUENCE_START[5..];
    for cut in 0..rec.len() {
        // Every truncation either fails cleanly or (past the SPS) parses.
        let _ = HevcDecoderConfig::parse(&rec[..cut]);
    }
    assert_eq!(HevcDecoderConfig::parse(&rec[..22]), Err(HevcError::BadConfig));
    let mut bad_version = [0u8; 23];
    bad_version.copy_from_slice(&rec[..23]);
    bad_version[0] = 0;
    assert_eq!(HevcDecoderConfig::parse(&bad_version), Err(HevcError::BadConfig));
    // An array that claims more NAL units than the record holds.
    let mut short = [0u8; 26];
    short[..23].copy_from_slice(&rec[..23]);
    short[23..].copy_from_slice(&[0x21, 0xFF, 0xFF]);
    assert_eq!(HevcDecoderConfig::parse(&short), Err(HevcError::BadConfig));
}

#[test]
fn players_decode_the_sequence_start() {
    use crate::flv::media::{CodecConfig, MediaError, VideoCodec, VideoPacket, VideoTag};
    let tag = VideoTag::parse(FFMPEG_SEQUENCE_START).unwrap();
    assert_eq!((tag.codec, tag.packet, tag.frame_type), (VideoCodec::Hevc, VideoPacket::SequenceHeader, 1));
    match CodecConfig::from_message(9, FFMPEG_SEQUENCE_START).unwrap() {
        Some(CodecConfig::Hevc { nal_length_size, sps }) => {
            assert_eq!((nal_length_size, sps.width, sps.height, sps.profile), (4, 176, 144, 1))
        }
        other => panic!("{other:?}"),
    }
    let truncated = &FFMPEG_SEQUENCE_START[..30];
    assert_eq!(CodecConfig::from_message(9, truncated), Err(MediaError::BadHevcConfig));
    assert_eq!(METADATA_CODEC_ID, 1_752_589_105.0, "the number ffmpeg writes as videocodecid");
}
