//! rtmp-core's MPEG-TS muxer against ffmpeg: FLV files made by ffmpeg
//! (H.264 High with B-frames + AAC, H.264 alone, H.265 + AAC by ffmpeg 9)
//! muxed tag by tag into one .ts (tables first), written with vectored
//! writes of the muxer's parts; ffmpeg decodes every video and audio frame
//! of it, and their md5s equal the source's.
//!
//! Ignored by default (needs ffmpeg, and ffmpeg 9 for H.265): run by
//! scripts/test.sh.

mod common;

use common::{decoded_md5s, make_hevc_source, make_source, scratch};
use rtmp_core::flv::video::Codec;
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use rtmp_core::ts::{Muxed, TsMuxer, MAX_PARTS, PACKET_LEN};
use std::io::{IoSlice, Write};
use std::path::{Path, PathBuf};

/// Muxes an FLV file into `out` (.ts); returns (frames muxed, configs taken).
fn mux_file(src: &Path, out: &Path, video: Option<Codec>, audio: bool) -> (usize, usize) {
    let data = std::fs::read(src).unwrap();
    let mut file = std::fs::File::create(out).unwrap();
    let mut mux = TsMuxer::new(video, audio);
    let mut tables = [0u8; 2 * PACKET_LEN];
    file.write_all(mux.tables(&mut tables)).unwrap();
    let mut reader = FlvReader::new();
    let (mut at, mut frames, mut configs) = (0, 0, 0);
    loop {
        let (n, item) = reader.read(&data[at..]).unwrap();
        at += n;
        let tag = match item {
            FlvItem::Tag(t) => t,
            FlvItem::Header(_) => continue,
            FlvItem::NeedMore(_) => break,
        };
        if !matches!(tag.kind, TagType::Audio | TagType::Video) {
            continue;
        }
        match mux.mux(tag.kind.to_byte(), tag.data, tag.timestamp).unwrap() {
            Muxed::Config => configs += 1,
            Muxed::EndOfSequence | Muxed::Skipped => {}
            Muxed::Frame(mut f) => {
                frames += 1;
                while let Some(packet) = f.next_packet() {
                    let mut slots: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
                    let parts = packet.parts(&mut slots);
                    let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
                    let mut left: usize = parts.iter().map(|p| p.len()).sum();
                    assert_eq!(left, PACKET_LEN);
                    let mut bufs = &mut slices[..];
                    while left > 0 {
                        let w = file.write_vectored(bufs).unwrap();
                        left -= w;
                        IoSlice::advance_slices(&mut bufs, w);
                    }
                }
            }
        }
    }
    (frames, configs)
}

fn check(ffmpeg: &Path, src: &Path, ts: &Path, streams: &[&str]) {
    for s in streams {
        let (want, got) = (decoded_md5s(ffmpeg, src.as_os_str(), s), decoded_md5s(ffmpeg, ts.as_os_str(), s));
        assert!(!want.is_empty());
        assert_eq!(got.len(), want.len(), "{s}: frames decoded from the .ts");
        assert_eq!(got, want, "{s}: decoded frames identical");
        eprintln!("{}: {} {s} frames decoded identical", ts.display(), got.len());
    }
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn h264_and_aac_mux_to_ts_that_ffmpeg_decodes_identically() {
    let dir = scratch("ts-h264");
    let ffmpeg = PathBuf::from("ffmpeg");
    let src = make_source(&dir, "high", "high", true, 4);
    let ts = dir.join("high.ts");
    let (frames, configs) = mux_file(&src, &ts, Some(Codec::H264), true);
    assert_eq!(configs, 2);
    assert!(frames > 250, "{frames}");
    check(&ffmpeg, &src, &ts, &["v", "a"]);
    let src = make_source(&dir, "video-only", "baseline", false, 2);
    let ts = dir.join("video-only.ts");
    mux_file(&src, &ts, Some(Codec::H264), false);
    check(&ffmpeg, &src, &ts, &["v"]);
}

#[test]
#[ignore = "needs ffmpeg 9; run by scripts/test.sh"]
fn h265_and_aac_mux_to_ts_that_ffmpeg9_decodes_identically() {
    let dir = scratch("ts-h265");
    let src = make_hevc_source(&dir, "hevc", 3);
    let ts = dir.join("hevc.ts");
    mux_file(&src, &ts, Some(Codec::H265), true);
    check(&common::ffmpeg9(), &src, &ts, &["v", "a"]);
}
