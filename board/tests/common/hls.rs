//! Checking HLS output: the playlist through the `m3u8` package (PyPI),
//! RFC 8216 rules, segment starts, and decoded frames against the source.

use super::run;
use std::path::Path;
use std::process::Command;

/// md5s of the decoded frames of stream `s` ("v" or "a").
pub fn decoded(path: &Path, s: &str) -> Vec<String> {
    super::decoded_md5s(Path::new("ffmpeg"), path.as_os_str(), s)
}

/// The playlist as the `m3u8` package reads it: (target duration,
/// media sequence, segment (uri, duration) list, ended).
pub fn parse_m3u8(path: &Path) -> (f64, u64, Vec<(String, f64)>, bool) {
    let script = r#"
import sys, m3u8
p = m3u8.load(sys.argv[1])
print(p.target_duration, p.media_sequence, int(p.is_endlist))
for s in p.segments:
    print(s.uri, s.duration)
"#;
    let py = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/peers/py");
    let out = run(Command::new("python3").env("PYTHONPATH", py).args(["-c", script]).arg(path));
    assert!(out.status.success(), "m3u8: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let segs = lines
        .map(|l| {
            let (uri, d) = l.split_once(' ').unwrap();
            (uri.to_string(), d.parse().unwrap())
        })
        .collect();
    (head[0].parse().unwrap(), head[1].parse().unwrap(), segs, head[2] == "1")
}

/// PID, payload-unit-start, random-access of a TS packet.
pub fn packet_info(p: &[u8]) -> (u16, bool, bool) {
    assert_eq!(p[0], 0x47);
    let ra = p[3] & 0x20 != 0 && p[4] > 0 && p[5] & 0x40 != 0;
    (u16::from_be_bytes([p[1] & 0x1F, p[2]]), p[1] & 0x40 != 0, ra)
}

/// Checks a finished HLS directory against the source: RFC 8216 rules,
/// segment starts, durations, and decoded frames.
pub fn check_hls(playlist: &Path, src: &Path, target: f64, gop: f64, streams: &[&str]) {
    let dir = playlist.parent().unwrap();
    let (target_duration, sequence, segs, ended) = parse_m3u8(playlist);
    assert!(ended, "EXT-X-ENDLIST after the unpublish");
    assert_eq!(sequence, 0);
    assert!(segs.len() >= 3, "{segs:?}");
    for (i, (uri, d)) in segs.iter().enumerate() {
        assert!(d.round() <= target_duration, "{uri}: {d} s rounds above the target {target_duration}");
        if i + 1 < segs.len() {
            // Half a frame early is on time (a camera's keyframes jitter by a few ms).
            assert!(*d >= target - 0.05 && *d <= target + gop + 0.05, "{uri}: {d} s, target {target} s, GOP {gop} s");
        }
        let bytes = std::fs::read(dir.join(uri)).unwrap();
        assert_eq!(bytes.len() % 188, 0, "{uri}: whole packets");
        let first: Vec<_> = bytes.chunks(188).take(3).map(packet_info).collect();
        assert_eq!((first[0].0, first[1].0), (0, 0x1001), "{uri}: PAT, then PMT");
        if streams.contains(&"v") {
            assert_eq!(first[2], (0x100, true, true), "{uri}: then a video keyframe");
        }
    }
    for s in streams {
        let (want, got) = (decoded(src, s), decoded(playlist, s));
        assert_eq!(got.len(), want.len(), "{s}: every frame of the source");
        assert_eq!(got, want, "{s}: decoded frames identical");
    }
    eprintln!("{}: {} segments, target {target_duration} s, {streams:?} identical", playlist.display(), segs.len());
}

/// Waits for the server to log that the HLS playlist `path` (ending as given) is complete.
pub fn wait_complete(serve: &super::Serve, path: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !serve.log().contains(&format!("{path} complete")) {
        assert!(std::time::Instant::now() < deadline, "HLS {path} not complete:\n{}", serve.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
