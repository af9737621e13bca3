//! H.265 over Enhanced RTMP against real peers: the camera's hardware
//! encoder (host SDK: libx265) through `rtmp-push camera --codec h265` to
//! Node-Media-Server 4 and to `rtmp-serve` with an ffmpeg 9 player; HEVC
//! FLV files made by ffmpeg 9 pushed unchanged; ffmpeg 9 publishing HEVC to
//! `rtmp-serve` and `rtmp-pull` taking it back. ffmpeg 9 (imageio-ffmpeg)
//! reads and decodes every result.
//!
//! Ignored by default (needs Node.js, node-media-server@4 and ffmpeg 9):
//! scripts/test.sh runs them.

mod common;

use common::nms::{Nms, NmsOptions};
use common::{contiguous_run, framemd5_9, make_hevc_source, probe9, scratch, start_serve};
use std::process::{Command, Stdio};
use std::time::Duration;

fn push_camera_h265(url: &str) {
    let out = common::run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).args([
        "camera",
        url,
        "--codec",
        "h265",
        "--audio",
        "--duration",
        "6",
        "-q",
    ]));
    assert!(out.status.success(), "rtmp-push camera: {}", String::from_utf8_lossy(&out.stderr));
}

/// A camera recording: HEVC 640x480 and AAC, about 180 frames (6 s at 30
/// fps), decoded without errors, and moving (frames differ).
fn check_camera_recording(path: &std::path::Path) {
    let (streams, frames) = probe9(path);
    let video = streams.iter().find(|s| s.contains("Video:")).unwrap_or_else(|| panic!("no video: {streams:?}"));
    assert!(video.contains("hevc") && video.contains("640x480"), "{video}");
    assert!(streams.iter().any(|s| s.contains("Audio: aac")), "{streams:?}");
    // 30 fps for 6 s; a camera drops (and counts) frames when the machine
    // is short of CPU, as CI's two cores are with x265 and ffmpeg running.
    assert!((160..=190).contains(&frames.len()), "{} frames decoded", frames.len());
    let distinct: std::collections::HashSet<&String> = frames.iter().collect();
    assert!(
        distinct.len() > frames.len() * 9 / 10,
        "the picture moves: {} distinct of {}",
        distinct.len(),
        frames.len()
    );
    eprintln!("{}: {video}; {} frames, {} distinct", path.display(), frames.len(), distinct.len());
}

#[test]
#[ignore = "needs Node.js, node-media-server@4 and ffmpeg 9; run by scripts/test.sh"]
fn camera_h265_to_node_media_server() {
    let nms = Nms::start("hevc-cam-nms", NmsOptions { record: true, ..NmsOptions::default() });
    push_camera_h265(&nms.url("live/cam"));
    check_camera_recording(&nms.recording("live/cam"));
}

#[test]
#[ignore = "needs ffmpeg 9; run by scripts/test.sh"]
fn camera_h265_through_rtmp_serve_to_an_ffmpeg9_player() {
    let serve = start_serve("hevc-cam-serve", &[]);
    let dir = scratch("hevc-cam-play");
    let played = dir.join("played.flv");
    let url = serve.url("live/cam");
    // The player connects first and waits for the stream (it retries until
    // the publisher is there, as a viewer would).
    let player = Command::new(common::ffmpeg9())
        .args(["-nostdin", "-loglevel", "error", "-y", "-rw_timeout", "15000000", "-i", &url, "-c", "copy"])
        .arg(&played)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    push_camera_h265(&url);
    let out = player.wait_with_output().unwrap();
    assert!(played.exists(), "ffmpeg 9 played nothing: {}", String::from_utf8_lossy(&out.stderr));
    // A player that joins after the start gets the stream from a keyframe.
    let (streams, frames) = probe9(&played);
    assert!(streams.iter().any(|s| s.contains("hevc") && s.contains("640x480")), "{streams:?}");
    assert!(frames.len() >= 150, "{} frames played", frames.len());
    check_camera_recording(&serve.recording("live", "cam"));
}

#[test]
#[ignore = "needs Node.js, node-media-server@4 and ffmpeg 9; run by scripts/test.sh"]
fn hevc_file_pushed_unchanged_to_node_media_server_and_rtmp_serve() {
    let dir = scratch("hevc-file");
    let source = make_hevc_source(&dir, "source", 4);
    let want = framemd5_9(&source);
    let nms = Nms::start("hevc-file-nms", NmsOptions { record: true, ..NmsOptions::default() });
    let serve = start_serve("hevc-file-serve", &[]);
    for (url, name) in [(nms.url("live/file"), "nms"), (serve.url("live/file"), "rtmp-serve")] {
        let out = common::run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).arg(&source).arg(&url).arg("-q"));
        assert!(out.status.success(), "rtmp-push to {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for (path, name) in [(nms.recording("live/file"), "nms"), (serve.recording("live", "file"), "rtmp-serve")] {
        let got = framemd5_9(&path);
        let (matched, to_end) = contiguous_run(&got, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((matched, to_end), (want.len(), true), "{name}: every packet, identical");
        eprintln!("{name}: {matched} packets identical to the source");
    }
}

#[test]
#[ignore = "needs ffmpeg 9; run by scripts/test.sh"]
fn ffmpeg9_publishes_hevc_to_rtmp_serve_and_rtmp_pull_takes_it() {
    let dir = scratch("hevc-ffmpeg9");
    let source = make_hevc_source(&dir, "source", 4);
    let want = framemd5_9(&source);
    let serve = start_serve("hevc-ffmpeg9-serve", &[]);
    let url = serve.url("live/ff");
    let pulled = dir.join("pulled.flv");
    let pull = common::start_pull(&url, &pulled, None);
    common::ffmpeg9_run(&["-re", "-i", source.to_str().unwrap(), "-c", "copy", "-f", "flv", &url]);
    let out = pull.wait_with_output().unwrap();
    assert!(out.status.success(), "rtmp-pull: {}", String::from_utf8_lossy(&out.stderr));
    for (path, name) in [(serve.recording("live", "ff"), "recorded"), (pulled, "pulled")] {
        let got = framemd5_9(&path);
        let (matched, to_end) = contiguous_run(&got, &want).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(to_end, "{name}: reaches the end");
        assert_eq!(matched, want.len(), "{name}: every packet, identical");
        eprintln!("{name}: {matched} packets identical to ffmpeg 9's source");
    }
}

#[test]
#[ignore = "needs ffmpeg 9; run by scripts/test.sh"]
fn av1_opus_and_vp9_files_are_relayed_and_recorded_untouched() {
    let dir = scratch("fourcc-files");
    let sources = [
        ("av1", &["-c:v", "libaom-av1", "-cpu-used", "8", "-c:a", "libopus"][..], true),
        ("vp9", &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"][..], false),
    ];
    let serve = start_serve("fourcc-serve", &[]);
    for (name, codec, audio) in sources {
        let source = dir.join(format!("{name}.flv"));
        let mut args = vec!["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
        if audio {
            args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
        }
        args.extend(["-t", "3", "-g", "25"]);
        args.extend(codec);
        args.push(source.to_str().unwrap());
        common::ffmpeg9_run(&args);
        let want = framemd5_9(&source);
        let url = serve.url(&format!("live/{name}"));
        let pulled = dir.join(format!("{name}-pulled.flv"));
        let pull = common::start_pull(&url, &pulled, None);
        let out = common::run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).arg(&source).arg(&url).arg("-q"));
        assert!(out.status.success(), "rtmp-push {name}: {}", String::from_utf8_lossy(&out.stderr));
        let out = pull.wait_with_output().unwrap();
        assert!(out.status.success(), "rtmp-pull {name}: {}", String::from_utf8_lossy(&out.stderr));
        for (path, how) in [(serve.recording("live", name), "recorded"), (pulled, "pulled")] {
            let got = framemd5_9(&path);
            let (matched, to_end) = contiguous_run(&got, &want).unwrap_or_else(|e| panic!("{name} {how}: {e}"));
            assert_eq!((matched, to_end), (want.len(), true), "{name} {how}: every packet, identical");
            eprintln!("{name} {how}: {matched} packets identical to ffmpeg 9's file");
        }
    }
}
