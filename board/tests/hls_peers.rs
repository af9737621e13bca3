//! `rtmp-serve --hls` against real peers: ffmpeg and `rtmp-push` publish,
//! the playlist is read by the `m3u8` package (PyPI) and checked against
//! RFC 8216, every segment starts with PAT, PMT and a keyframe, segment
//! durations stay within a GOP of the target, `#EXT-X-ENDLIST` follows the
//! unpublish, and ffmpeg decoding the playlist gives every frame of the
//! source, md5 for md5.
//!
//! Ignored by default (needs ffmpeg and python3 with m3u8 in
//! target/peers/py): run by scripts/test.sh.

mod common;

use common::{make_source, run, scratch, start_serve};
use std::path::Path;
use std::process::Command;

/// md5s of the decoded frames of stream `s` ("v" or "a").
fn decoded(path: &Path, s: &str) -> Vec<String> {
    common::decoded_md5s(Path::new("ffmpeg"), path.as_os_str(), s)
}

/// The playlist as the `m3u8` package reads it: (target duration,
/// media sequence, segment (uri, duration) list, ended).
fn parse_m3u8(path: &Path) -> (f64, u64, Vec<(String, f64)>, bool) {
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
fn packet_info(p: &[u8]) -> (u16, bool, bool) {
    assert_eq!(p[0], 0x47);
    let ra = p[3] & 0x20 != 0 && p[4] > 0 && p[5] & 0x40 != 0;
    (u16::from_be_bytes([p[1] & 0x1F, p[2]]), p[1] & 0x40 != 0, ra)
}

/// Checks a finished HLS directory against the source: RFC 8216 rules,
/// segment starts, durations, and decoded frames.
fn check_hls(dir: &Path, src: &Path, target: f64, gop: f64, streams: &[&str]) {
    let playlist = dir.join("playlist.m3u8");
    let (target_duration, sequence, segs, ended) = parse_m3u8(&playlist);
    assert!(ended, "EXT-X-ENDLIST after the unpublish");
    assert_eq!(sequence, 0);
    assert!(segs.len() >= 3, "{segs:?}");
    for (i, (uri, d)) in segs.iter().enumerate() {
        assert!(d.round() <= target_duration, "{uri}: {d} s rounds above the target {target_duration}");
        if i + 1 < segs.len() {
            assert!(*d >= target - 0.01 && *d <= target + gop + 0.01, "{uri}: {d} s, target {target} s, GOP {gop} s");
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
        let (want, got) = (decoded(src, s), decoded(&playlist, s));
        assert_eq!(got.len(), want.len(), "{s}: every frame of the source");
        assert_eq!(got, want, "{s}: decoded frames identical");
    }
    eprintln!("{}: {} segments, target {target_duration} s, {streams:?} identical", playlist.display(), segs.len());
}

#[test]
#[ignore = "needs ffmpeg and m3u8 (PyPI); run by scripts/test.sh"]
fn ffmpeg_and_rtmp_push_publish_and_the_hls_decodes_identically() {
    let hls = scratch("hls-out");
    let serve =
        start_serve("hls-serve", &["--hls", hls.to_str().unwrap(), "--hls-fragment", "2", "--hls-window", "15"]);
    let dir = scratch("hls-src");
    // 8 s at 25 fps, a keyframe every second.
    let src = make_source(&dir, "av", "high", true, 8);
    let url = serve.url("live/ff");
    common::ffmpeg(&["-re", "-i", src.to_str().unwrap(), "-c", "copy", "-f", "flv", &url]);
    wait_complete(&serve, "live/ff");
    check_hls(&hls.join("live/ff"), &src, 2.0, 1.0, &["v", "a"]);
    let video = make_source(&dir, "video", "baseline", false, 8);
    let out = run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).arg(&video).arg(serve.url("live/ours")).arg("-q"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_complete(&serve, "live/ours");
    check_hls(&hls.join("live/ours"), &video, 2.0, 1.0, &["v"]);
    let _ = std::fs::remove_dir_all(&hls);
}

fn wait_complete(serve: &common::Serve, key: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !serve.log().contains(&format!("{key}/playlist.m3u8 complete")) {
        assert!(std::time::Instant::now() < deadline, "HLS for {key} not complete:\n{}", serve.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// One raw HTTP request; returns (status line, head, body).
fn http_get(addr: &str, request: &str) -> (String, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&all[..at]).to_string();
    (head.lines().next().unwrap_or("").to_string(), head, all[at + 4..].to_vec())
}

#[test]
#[ignore = "needs ffmpeg and m3u8 (PyPI); run by scripts/test.sh"]
fn hls_over_http_plays_in_ffmpeg_and_nothing_outside_is_served() {
    use std::io::{BufRead, BufReader};
    let hls = scratch("hls-http");
    std::fs::write(hls.parent().unwrap().join(format!("outside-{}", std::process::id())), "secret").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtmp-serve"))
        .args(["--listen", "127.0.0.1:0", "--hls", hls.to_str().unwrap(), "--hls-fragment", "1", "--hls-window", "15"])
        .args(["--http", "127.0.0.1:0", "-q"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let rtmp = lines.next().unwrap().unwrap().rsplit('/').next().unwrap().to_string();
    let http = lines.next().unwrap().unwrap();
    let http = http.strip_prefix("rtmp-serve: serving HLS on http://").expect(&http).to_string();
    let dir = scratch("hls-http-src");
    let src = make_source(&dir, "av", "high", true, 4);
    common::ffmpeg(&[
        "-re",
        "-i",
        src.to_str().unwrap(),
        "-c",
        "copy",
        "-f",
        "flv",
        &format!("rtmp://{rtmp}/live/cam"),
    ]);
    let playlist = hls.join("live/cam/playlist.m3u8");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(&playlist).is_ok_and(|p| p.contains("#EXT-X-ENDLIST")) {
        assert!(std::time::Instant::now() < deadline, "no finished playlist");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (status, head, body) = http_get(&http, "GET /live/cam/playlist.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(head.contains("Content-Type: application/vnd.apple.mpegurl"), "{head}");
    assert!(head.contains("Access-Control-Allow-Origin: *"), "{head}");
    assert_eq!(body, std::fs::read(&playlist).unwrap());
    let (status, head, _) = http_get(&http, "HEAD /live/cam/0.ts HTTP/1.1\r\n\r\n");
    assert!(status.ends_with("200 OK") && head.contains("Content-Type: video/mp2t"), "{head}");
    for bad in ["/../outside", "/%2e%2e/outside", "/live/cam/../../../outside", "/live/cam/nothing.ts"] {
        let (status, _, body) = http_get(&http, &format!("GET {bad} HTTP/1.1\r\n\r\n"));
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{bad}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }
    let (status, _, _) = http_get(&http, "DELETE /live/cam/0.ts HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    // ffmpeg plays the stream over HTTP: every frame, identical.
    let url = format!("http://{http}/live/cam/playlist.m3u8");
    for s in ["v", "a"] {
        assert_eq!(decoded_url(&url, s), decoded(&src, s), "{s} over HTTP");
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn decoded_url(url: &str, s: &str) -> Vec<String> {
    common::decoded_md5s(Path::new("ffmpeg"), std::ffi::OsStr::new(url), s)
}
