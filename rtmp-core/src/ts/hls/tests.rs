//! Tests of the HLS segmenter and playlist (a test module, so std is allowed here).
#![cfg(test)]

extern crate std;
use super::*;
use std::string::String;
use std::vec::Vec;

fn playlist<const C: usize>(s: &Segmenter<C>) -> String {
    let mut buf = [0u8; 4096];
    let n = s.write_playlist(&mut buf, |seq, w| write!(w, "{seq}.ts")).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// RFC 8216 rules a playlist must keep: header first, target duration at
/// least every segment's rounded duration, one URI per EXTINF.
fn check_rfc8216(p: &str) -> (u64, Vec<(u32, bool, String)>, bool) {
    let mut lines = p.lines();
    assert_eq!(lines.next(), Some("#EXTM3U"));
    let (mut target, mut sequence, mut segs, mut ended) = (None, None, Vec::new(), false);
    let mut pending: Option<(u32, bool)> = None;
    let mut disc = false;
    for l in lines {
        if let Some(v) = l.strip_prefix("#EXT-X-TARGETDURATION:") {
            target = Some(v.parse::<u32>().unwrap());
        } else if let Some(v) = l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            sequence = Some(v.parse::<u64>().unwrap());
        } else if l == "#EXT-X-DISCONTINUITY" {
            disc = true;
        } else if let Some(v) = l.strip_prefix("#EXTINF:") {
            let (s, ms) = v.trim_end_matches(',').split_once('.').unwrap();
            pending = Some((s.parse::<u32>().unwrap() * 1000 + ms.parse::<u32>().unwrap(), disc));
            disc = false;
        } else if l == "#EXT-X-ENDLIST" {
            ended = true;
        } else if !l.starts_with('#') {
            let (d, di) = pending.take().expect("a URI after its EXTINF");
            segs.push((d, di, String::from(l)));
        }
    }
    let target = target.expect("EXT-X-TARGETDURATION");
    for (d, _, uri) in &segs {
        assert!((d + 500) / 1000 <= target, "{uri}: {d} ms rounds above the target {target} s");
    }
    (sequence.expect("EXT-X-MEDIA-SEQUENCE"), segs, ended)
}

#[test]
fn cuts_at_the_first_keyframe_after_the_target() {
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 2000, ..HlsConfig::default() });
    let mut starts = Vec::new();
    // 25 fps video with a keyframe every 30 frames (1.2 s), audio every 23 ms.
    for i in 0..300u32 {
        let d = s.frame(i * 40, i % 30 == 0, true, true);
        if let Some(seq) = d.start {
            starts.push((seq, i * 40));
        }
        s.frame(i * 40 + 5, false, false, true);
    }
    // Keyframes at 0, 1.2, 2.4, 3.6, 4.8 ... s: cuts at 2.4, 4.8, 7.2 ... (the first past 2 s).
    assert_eq!(&starts[..4], &[(0, 0), (1, 2400), (2, 4800), (3, 7200)]);
    let p = playlist(&s);
    let (seq, segs, ended) = check_rfc8216(&p);
    assert_eq!((seq, segs.len(), ended), (1, 3, false), "{p}");
    assert!(segs.iter().all(|s| s.0 == 2400), "{p}");
    assert!(p.contains("#EXT-X-TARGETDURATION:2\n"), "{p}");
}

#[test]
fn window_slides_and_old_files_are_deleted_a_window_later() {
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 1000, window: 3, ..HlsConfig::default() });
    let mut deleted = Vec::new();
    for i in 0..=20u32 {
        let d = s.frame(i * 1000, true, true, true);
        deleted.extend(d.delete);
    }
    // 20 closed segments (0..=19); listed 17, 18, 19; 14, 15, 16 still on disk.
    let (seq, segs, _) = check_rfc8216(&playlist(&s));
    assert_eq!(seq, 17);
    assert_eq!(segs.iter().map(|s| s.2.as_str()).collect::<Vec<_>>(), ["17.ts", "18.ts", "19.ts"]);
    assert_eq!(deleted, (0..=13).collect::<Vec<u64>>());
    let end = s.end();
    // The last segment holds one frame: it lasts one frame interval.
    assert_eq!(end.closed.map(|c| (c.sequence, c.duration_ms)), Some((20, 1000)));
    let (_, _, ended) = check_rfc8216(&playlist(&s));
    assert!(ended, "ENDLIST after the stream ends");
}

#[test]
fn a_keyframe_a_little_early_still_cuts() {
    // 30 fps with the GOP equal to the 1 s target, keyframes stamped 2 ms early.
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 1000, ..HlsConfig::default() });
    let mut starts = Vec::new();
    for i in 0..120u32 {
        let ts = i * 1000 / 30 - u32::from(i % 30 == 0 && i > 0) * 2;
        starts.extend(s.frame(ts, i % 30 == 0, true, true).start.map(|_| ts));
    }
    assert_eq!(starts, [0, 998, 1998, 2998]);
    // Fifteen frames (half a second) early is a different GOP: no cut.
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 1000, ..HlsConfig::default() });
    let cuts =
        (0..60u32).filter(|i| s.frame(i * 1000 / 30, i % 15 == 0 && *i != 30, true, true).start.is_some()).count();
    assert_eq!(cuts, 2, "0 s and 1.5 s");
}

#[test]
fn forced_cuts_raise_the_target_duration_and_it_never_goes_down() {
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 2000, max_ms: 6000, ..HlsConfig::default() });
    // A keyframe only every 10 s: cuts are forced at 6 s.
    for i in 0..100u32 {
        s.frame(i * 200, i % 50 == 0, true, true);
    }
    let p = playlist(&s);
    let (_, segs, _) = check_rfc8216(&p);
    assert!(segs.iter().any(|s| s.0 == 6000), "{p}");
    assert!(p.contains("#EXT-X-TARGETDURATION:6\n"), "{p}");
    // Shorter segments later do not lower it.
    for i in 100..200u32 {
        s.frame(i * 200, i % 10 == 0, true, true);
    }
    assert!(playlist(&s).contains("#EXT-X-TARGETDURATION:6\n"));
}

#[test]
fn a_timestamp_jump_starts_a_discontinuity() {
    let mut s: Segmenter<16> = Segmenter::new(HlsConfig { target_ms: 1000, window: 2, ..HlsConfig::default() });
    for i in 0..30u32 {
        s.frame(i * 100, i % 10 == 0, true, true);
    }
    // The publisher reconnects and starts again from 0: audio first, left
    // out until the keyframe.
    let d = s.frame(0, false, false, true);
    assert_eq!((d.start, d.skip), (None, true));
    assert_eq!(d.closed.map(|c| c.duration_ms), Some(1000), "closed after the last frame before the jump");
    let d = s.frame(5, true, true, true);
    assert_eq!((d.start, d.skip), (Some(3), false));
    for i in 1..30u32 {
        s.frame(i * 100, i % 10 == 0, true, true);
    }
    let p = playlist(&s);
    let (_, segs, _) = check_rfc8216(&p);
    assert_eq!(segs.iter().filter(|s| s.1).count(), 1, "{p}");
    // Out of order audio by a few ms is not a jump; a wrap of the 32-bit clock is not either.
    let mut t: Segmenter<16> = Segmenter::new(HlsConfig::default());
    t.frame(u32::MAX - 10, true, true, true);
    assert_eq!(t.frame(u32::MAX - 30, false, false, true).start, None);
    assert_eq!(t.frame(20, false, true, true).start, None);
    // Discontinuities that leave the window are counted.
    for i in 30..80u32 {
        s.frame(i * 100, i % 10 == 0, true, true);
    }
    assert!(playlist(&s).contains("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), "{}", playlist(&s));
}

#[test]
fn video_streams_start_at_a_keyframe() {
    let mut s: Segmenter<8> = Segmenter::new(HlsConfig::default());
    assert!(s.frame(0, false, false, true).skip, "audio before the first keyframe");
    assert!(s.frame(10, false, true, true).skip, "a P-frame before it");
    let d = s.frame(40, true, true, true);
    assert_eq!((d.start, d.skip, d.closed), (Some(0), false, None));
    assert!(!s.frame(45, false, false, true).skip);
}

#[test]
fn audio_only_cuts_at_any_frame_and_small_buffers_are_errors() {
    let mut s: Segmenter<8> = Segmenter::new(HlsConfig { target_ms: 1000, ..HlsConfig::default() });
    let mut starts = 0;
    for i in 0..200u32 {
        starts += usize::from(s.frame(i * 23, false, false, false).start.is_some());
    }
    assert_eq!(starts, 5, "a segment per second of audio");
    let mut small = [0u8; 40];
    assert_eq!(s.write_playlist(&mut small, |q, w| write!(w, "{q}.ts")), Err(PlaylistTooLarge));
    // A window larger than the ring holds is clamped.
    let t: Segmenter<8> = Segmenter::new(HlsConfig { window: 10, ..HlsConfig::default() });
    assert_eq!(t.config().window, 3);
}
