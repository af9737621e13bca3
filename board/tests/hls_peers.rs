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

use common::hls::{check_hls, decoded, wait_complete};
use common::{make_source, run, scratch, start_serve};
use std::path::Path;
use std::process::Command;

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
    wait_complete(&serve, "live/ff/playlist.m3u8");
    check_hls(&hls.join("live/ff/playlist.m3u8"), &src, 2.0, 1.0, &["v", "a"]);
    let video = make_source(&dir, "video", "baseline", false, 8);
    let out = run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).arg(&video).arg(serve.url("live/ours")).arg("-q"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_complete(&serve, "live/ours/playlist.m3u8");
    check_hls(&hls.join("live/ours/playlist.m3u8"), &video, 2.0, 1.0, &["v"]);
    let _ = std::fs::remove_dir_all(&hls);
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

#[test]
#[ignore = "needs ffmpeg and m3u8 (PyPI); run by scripts/test.sh"]
fn camera_to_rtmp_serve_hls_and_camera_recording_hls_locally() {
    // The camera (host SDK, H.264 + AAC, a keyframe a second) pushed to
    // rtmp-serve --hls: the HLS decodes identically to the server's FLV
    // recording of the same publish.
    let hls = scratch("hls-camera");
    let serve =
        start_serve("hls-camera-serve", &["--hls", hls.to_str().unwrap(), "--hls-fragment", "2", "--hls-window", "15"]);
    let push = env!("CARGO_BIN_EXE_rtmp-push");
    let out = run(Command::new(push).args([
        "camera",
        &serve.url("live/cam"),
        "--audio",
        "--gop",
        "1",
        "--duration",
        "7",
        "-q",
    ]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_complete(&serve, "live/cam/playlist.m3u8");
    let flv = serve.recording("live", "cam");
    check_hls(&hls.join("live/cam/playlist.m3u8"), &flv, 2.0, 1.0, &["v", "a"]);

    // Without a URL, --hls DIR records HLS through the embedded server:
    // every segment kept and listed (an EVENT playlist), ENDLIST at the end.
    let dir = scratch("hls-camera-local");
    let out = run(Command::new(push).current_dir(&dir).args([
        "camera",
        "--hls",
        "rec",
        "--hls-fragment",
        "2",
        "--gop",
        "1",
        "--audio",
        "--duration",
        "7",
    ]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim(), "rec/live/camera/playlist.m3u8");
    let playlist = dir.join(printed.trim());
    let text = std::fs::read_to_string(&playlist).unwrap();
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n") && text.ends_with("#EXT-X-ENDLIST\n"), "{text}");
    let (_, sequence, segs, ended) = common::hls::parse_m3u8(&playlist);
    assert!(ended && sequence == 0 && segs.len() >= 3, "{text}");
    for (i, (uri, _)) in segs.iter().enumerate() {
        assert_eq!(uri, &format!("{i}.ts"), "every segment listed, from the first");
    }
    // The camera's summary line says how many video frames it sent.
    let err = String::from_utf8_lossy(&out.stderr);
    let sent: usize =
        err.split("sent ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).expect(&err);
    let frames = decoded(&playlist, "v").len();
    assert!(frames == sent && frames >= 150, "decoded {frames} of {sent} frames sent");
    eprintln!("camera: {} local segments, {frames} frames decoded of {sent} sent", segs.len());
}
