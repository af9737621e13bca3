//! `rtmp-push camera` (host SDK camera, OpenH264, AAC) against nginx-rtmp
//! and its own embedded server, checked with ffprobe and ffmpeg.
//!
//! Needs nginx with libnginx-mod-rtmp and ffmpeg; `scripts/test.sh`
//! installs them and runs these with `--ignored`.

mod common;

use common::{decoded_frames, run, scratch, start_nginx};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

const PUSH: &str = env!("CARGO_BIN_EXE_rtmp-push");

fn probe(path: &Path, what: &str) -> String {
    let out = run(Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_entries", what, "-of", "csv=p=0"])
        .arg(path));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn camera_with_audio_to_nginx_for_6_seconds() {
    let nginx = start_nginx("camera");
    let out = run(Command::new(PUSH).args(["camera", &nginx.url("rec/cam"), "--audio", "--duration", "6", "-q"]));
    assert!(out.status.success(), "rtmp-push camera: {}", String::from_utf8_lossy(&out.stderr));
    let rec = nginx.recording("cam");
    let streams = probe(&rec, "stream=codec_type,codec_name,width,height,nb_read_frames");
    let lines: Vec<&str> = streams.lines().collect();
    let video = lines.iter().find(|l| l.contains("video")).unwrap_or_else(|| panic!("{streams}"));
    let audio = lines.iter().find(|l| l.contains("audio")).unwrap_or_else(|| panic!("{streams}"));
    assert!(video.starts_with("h264,video,640,480,"), "{video}");
    assert!(audio.starts_with("aac,audio,"), "{audio}");
    let frames: u32 = video.rsplit(',').next().unwrap().trim().parse().unwrap();
    assert!((170..=185).contains(&frames), "{frames} video frames in 6 s at 30 fps");
    let audio_frames: u32 = audio.rsplit(',').next().unwrap().trim().parse().unwrap();
    assert!((260..=290).contains(&audio_frames), "{audio_frames} AAC frames in 6 s at 48 kHz");
    // The picture moves: (nearly) every decoded frame differs.
    let md5s = decoded_frames(&rec);
    assert_eq!(md5s.len() as u32, frames);
    let distinct: HashSet<&String> = md5s.iter().collect();
    assert!(distinct.len() as u32 >= frames - 2, "{} distinct of {frames}", distinct.len());
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn camera_without_url_records_locally() {
    let dir = scratch("camera-local");
    let out = run(Command::new(PUSH).current_dir(&dir).args(["camera", "--duration", "3", "-q"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim(), "recordings/live/camera.flv");
    let rec = dir.join(printed.trim());
    let streams = probe(&rec, "stream=codec_name,width,height,nb_read_frames");
    let frames: u32 = streams.trim().rsplit(',').next().unwrap().parse().unwrap();
    assert!(streams.starts_with("h264,640,480,"), "{streams}");
    assert!((85..=93).contains(&frames), "{frames} frames in 3 s");
    assert_eq!(decoded_frames(&rec).len() as u32, frames);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn camera_stats_json_lines() {
    let dir = scratch("camera-json");
    let out = run(Command::new(PUSH).current_dir(&dir).args(["camera", "--duration", "3.5", "-q", "--stats-json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // A JSON object a second, then the recording's path.
    assert_eq!(lines.last(), Some(&"recordings/live/camera.flv"), "{stdout}");
    let json: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with('{')).collect();
    assert!((3..=4).contains(&json.len()), "{stdout}");
    for l in &json {
        assert!(l.ends_with("}}") && l.contains("\"state\":\"live\"") && l.contains("\"drops\":{"), "{l}");
    }
    let fps: f64 = json[2].split("\"fps\":").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    assert!((25.0..=35.0).contains(&fps), "{fps} fps in {}", json[2]);
    let _ = std::fs::remove_dir_all(dir);
}
