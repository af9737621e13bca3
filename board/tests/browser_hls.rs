//! A real browser plays the camera: `rtmp-push camera` streams to
//! `rtmp-serve --hls --http`, and Chromium (Debian's `chromium`, driven by
//! `playwright-core` from npm) plays `http://127.0.0.1:<port>/live/cam/playlist.m3u8`
//! with `hls.js` (npm). Playback must advance more than 5 s with no fatal
//! hls.js error; a screenshot of the playing page is saved to
//! `target/test-output/hls-browser.png`.
//!
//! Ignored by default (needs chromium and the npm packages in
//! target/peers/node_modules): run by scripts/test.sh.

mod common;

use common::scratch;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The number after `"key":` in a one-line JSON object.
fn number(json: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(&format!("\"{key}\":"))? + key.len() + 3..];
    rest[..rest.find([',', '}'])?].parse().ok()
}

#[test]
#[ignore = "needs chromium, playwright-core and hls.js (npm); run by scripts/test.sh"]
fn chromium_with_hls_js_plays_the_camera() {
    let hls = scratch("browser-hls");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_rtmp-serve"))
        .args(["--listen", "127.0.0.1:0", "--hls", hls.to_str().unwrap(), "--hls-fragment", "1", "--hls-window", "6"])
        .args(["--http", "127.0.0.1:0", "-q"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let rtmp = lines.next().unwrap().unwrap().rsplit('/').next().unwrap().to_string();
    let http = lines.next().unwrap().unwrap();
    let http = http.strip_prefix("rtmp-serve: serving HLS on http://").expect(&http).to_string();
    let mut camera = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
        .args(["camera", &format!("rtmp://{rtmp}/live/cam"), "--audio", "--gop", "1", "--duration", "40", "-q"])
        .spawn()
        .unwrap();
    let playlist = hls.join("live/cam/playlist.m3u8");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&playlist).is_ok_and(|p| p.matches(".ts").count() >= 2) {
        assert!(Instant::now() < deadline, "no playlist at {}", playlist.display());
        std::thread::sleep(Duration::from_millis(100));
    }

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out_dir = std::path::Path::new(root).join("target/test-output");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("hls-browser.png");
    let _ = std::fs::remove_file(&shot);
    let url = format!("http://{http}/live/cam/playlist.m3u8");
    let node = Command::new("node")
        .env("NODE_PATH", format!("{root}/target/peers/node_modules"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/play_hls.cjs"))
        .args([url.as_str(), shot.to_str().unwrap(), "5"])
        .output()
        .unwrap();
    let _ = camera.kill();
    let _ = camera.wait();
    let _ = serve.kill();
    let _ = serve.wait();
    let stdout = String::from_utf8_lossy(&node.stdout);
    let stderr = String::from_utf8_lossy(&node.stderr);
    assert!(node.status.success(), "the browser script failed: {stderr}");
    let json = stdout.lines().last().unwrap_or("");
    eprintln!("{json}");
    assert!(json.contains("\"mse\":true"), "Chromium's MSE takes H.264 + AAC: {json}");
    assert!(json.contains("\"fatal\":[]"), "no fatal hls.js error: {json}\n{stderr}");
    let (t, start) = (number(json, "currentTime").unwrap(), number(json, "startTime").unwrap_or(f64::NAN));
    assert!(t > 5.0 && t - start > 5.0, "playback advanced past 5 s (from {start} to {t}): {json}\n{stderr}");
    assert_eq!((number(json, "width"), number(json, "height")), (Some(640.0), Some(480.0)), "{json}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a screenshot of the page");
    eprintln!("played {:.1} s in Chromium; screenshot {}", t - start, shot.display());
}
