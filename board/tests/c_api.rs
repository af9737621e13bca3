//! The C API from C: `ffi/examples/publish.c`, compiled with `cc` against
//! the `rtmp-ffi` static library (`make -C ffi/examples`, run by
//! scripts/test.sh before this), pushes the three sample profiles to
//! nginx-rtmp paced to real time; nginx's recordings equal the sources
//! packet for packet (ffmpeg framemd5), and a refusal is printed from C
//! with the server's status code. `camera.c` streams the host camera through
//! the pipeline's C API (and its riscv64 build under qemu); `venc.c` runs
//! its own VENC loop in C and sends each `VENC_STREAM_S` with
//! `rtmp_push_venc_stream` (H.264 to nginx, H.265 to Node-Media-Server),
//! with AAC from an ADTS file beside it: every frame arrives in order.
//!
//! Ignored by default (needs nginx, ffmpeg and the built example).

mod common;

use common::nms::{Nms, NmsOptions};
use common::{framemd5, make_source, packets, run, scratch, start_nginx};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn publish_bin() -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi/examples/publish"));
    assert!(path.exists(), "{} missing: run make -C ffi/examples", path.display());
    path
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp, ffmpeg and make -C ffi/examples; run by scripts/test.sh"]
fn publish_c_pushes_three_profiles_identically() {
    let nginx = start_nginx("c-api");
    let dir = scratch("c-api-src");
    for (name, profile, audio) in
        [("high_aac", "high", true), ("baseline", "baseline", true), ("video_only", "high", false)]
    {
        let src = make_source(&dir, name, profile, audio, 3);
        let started = Instant::now();
        let out = run(Command::new(publish_bin()).arg(&src).arg(nginx.url(&format!("rec/{name}"))));
        let took = started.elapsed();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        // Paced: a 3 s file takes about 3 s.
        assert!(took > Duration::from_millis(2700) && took < Duration::from_secs(6), "{name}: {took:?}");
        let (ours, source) = (framemd5(&nginx.recording(name)), framemd5(&src));
        assert!(source.len() > 60, "{name}: {} packets", source.len());
        assert_eq!(packets(&ours), packets(&source), "{name}: recording differs from the source");
        eprintln!("{name}: {} packets identical, {took:.1?}", source.len());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp, ffmpeg and make -C ffi/examples; run by scripts/test.sh"]
fn publish_c_prints_the_servers_refusal() {
    let nginx = start_nginx("c-api-busy");
    let dir = scratch("c-api-busy-src");
    let src = make_source(&dir, "long", "baseline", false, 6);
    let mut first = Command::new(publish_bin()).arg(&src).arg(nginx.url("live/busy")).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !nginx.log().contains("publish: name='busy'") {
        assert!(Instant::now() < deadline, "the first publisher did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = run(Command::new(publish_bin()).arg(&src).arg(nginx.url("live/busy")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("server refused: NetStream.Publish.BadName"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{}", nginx.port)), "{stderr}");
    assert!(first.wait().unwrap().success());
    eprintln!("{}", stderr.trim());
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the C `camera` example (`cmd` is the program, or qemu and the
/// program) to nginx for 6 s; returns (video frames sent, dropped) from its
/// summary line, after checking nginx's recording: H.264 640x480 and AAC,
/// every frame decoding without an error.
fn camera_to_nginx(name: &str, cmd: &[&str]) -> (u64, u64) {
    let nginx = start_nginx(name);
    let out = run(Command::new(cmd[0]).args(&cmd[1..]).arg(nginx.url(&format!("rec/{name}"))).arg("6"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let field = |after: &str| -> u64 {
        stdout
            .split(after)
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect(&stdout)
    };
    let (sent, dropped) = (field("sent "), field("reconnects, "));
    let rec = nginx.recording(name);
    let probe = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0"])
        .arg(&rec));
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert!(streams.contains("h264,640,480") && streams.contains("aac"), "{streams}");
    let frames = common::decoded_frames(&rec).len() as u64;
    assert_eq!(frames, sent, "every frame sent is recorded and decodes");
    eprintln!("{name}: {stdout}");
    (sent, dropped)
}

#[test]
#[ignore = "needs nginx, ffmpeg and make -C ffi/examples; run by scripts/test.sh"]
fn camera_c_streams_the_host_camera_to_nginx() {
    let bin = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi/examples/camera"));
    assert!(bin.exists(), "{} missing: run make -C ffi/examples", bin.display());
    let (sent, dropped) = camera_to_nginx("c-camera", &[bin.to_str().unwrap()]);
    // 6 s at 30 fps: about 180 frames; what CI's two cores could not encode is counted.
    assert!(sent >= 150 && sent + dropped >= 170, "sent {sent}, dropped {dropped}");
}

#[test]
#[ignore = "needs qemu-riscv64 and the riscv64 build of ffi/examples; run by scripts/test.sh"]
fn camera_c_riscv64_build_runs_under_qemu() {
    let bin = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi/examples/riscv64gc-unknown-linux-gnu/camera"));
    assert!(bin.exists(), "{} missing: make -C ffi/examples TARGET=riscv64gc-unknown-linux-gnu", bin.display());
    let (sent, dropped) =
        camera_to_nginx("c-camera-rv64", &["qemu-riscv64", "-L", "/usr/riscv64-linux-gnu", bin.to_str().unwrap()]);
    // The encoder is emulated (OpenH264 under qemu: 56-103 frames got out in
    // 6 s in CI runs, with CI's load deciding): what does not get out is
    // counted, and what does decodes.
    assert!(sent >= 10 && sent + dropped >= 150, "sent {sent}, dropped {dropped}");
}

/// Runs `venc URL 4 CODEC tone.aac` (an ADTS file ffmpeg makes), checks
/// its summary (120 frames sent, paced, audio beside them) and returns it.
fn run_venc(url: &str, codec: &str) -> String {
    let bin = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi/examples/venc"));
    assert!(bin.exists(), "{} missing: run make -C ffi/examples", bin.display());
    let dir = scratch(&format!("c-venc-src-{codec}"));
    let aac = dir.join("tone.aac");
    common::ffmpeg(
        &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5"]
            .into_iter()
            .chain(["-c:a", "aac", "-f", "adts", aac.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let started = Instant::now();
    let out = run(Command::new(&bin).arg(url).arg("4").arg(codec).arg(&aac));
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    // 4 s at 30 fps, paced; the audio up to the last frame (48 kHz, 1024
    // samples a frame: about 187).
    assert!(stdout.contains("sent 120 video and 18") && stdout.contains(", 0 not sent"), "{stdout}");
    assert!(took > Duration::from_millis(3800) && took < Duration::from_secs(9), "{took:?}");
    eprintln!("venc {codec}: {}, {took:.1?}", stdout.trim());
    let _ = std::fs::remove_dir_all(dir);
    stdout
}

/// The recording holds every frame venc.c sent, decoding, in order (the
/// counters drawn into the pictures read back as 0, 1, ... 119), and the
/// AAC frames it sent.
fn check_venc_recording(ffmpeg: &Path, rec: &Path, video: &str, stdout: &str) {
    let audio_sent: usize = stdout.split("video and ").nth(1).and_then(|s| s.split(' ').next()?.parse().ok()).unwrap();
    let streams = run(Command::new(ffmpeg).args(["-nostdin", "-hide_banner", "-i"]).arg(rec));
    let streams = String::from_utf8_lossy(&streams.stderr);
    assert!(streams.contains(video) && streams.contains("640x480") && streams.contains("Audio: aac"), "{streams}");
    assert_eq!(common::drawn_counters(ffmpeg, rec, 640, 480), (0..120).collect::<Vec<u32>>());
    let audio = common::decoded_md5s(ffmpeg, rec.as_os_str(), "a");
    assert_eq!(audio.len(), audio_sent, "audio frames recorded");
}

#[test]
#[ignore = "needs nginx, ffmpeg and make -C ffi/examples; run by scripts/test.sh"]
fn venc_c_sends_its_own_h264_encoder_loop_to_nginx() {
    let nginx = start_nginx("c-venc");
    let stdout = run_venc(&nginx.url("rec/venc"), "h264");
    check_venc_recording(Path::new("ffmpeg"), &nginx.recording("venc"), "Video: h264", &stdout);
}

#[test]
#[ignore = "needs Node-Media-Server 4, libx265, ffmpeg 9 and make -C ffi/examples; run by scripts/test.sh"]
fn venc_c_sends_its_own_h265_encoder_loop_to_node_media_server() {
    let nms = Nms::start("c-venc-nms", NmsOptions { record: true, ..NmsOptions::default() });
    let stdout = run_venc(&nms.url("live/venc"), "h265");
    check_venc_recording(&common::ffmpeg9(), &nms.recording("live/venc"), "Video: hevc", &stdout);
}

#[test]
#[ignore = "needs nginx, ffmpeg and make -C ffi/examples SANITIZE=1 PROFILE=debug asan/publish asan/venc; run by scripts/test.sh"]
fn the_c_examples_run_clean_under_address_sanitizer() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ffi/examples/asan"));
    let (publish, venc) = (dir.join("publish"), dir.join("venc"));
    assert!(
        publish.exists() && venc.exists(),
        "run make -C ffi/examples SANITIZE=1 PROFILE=debug asan/publish asan/venc"
    );
    let nginx = start_nginx("c-asan");
    let src_dir = scratch("c-asan-src");
    let src = make_source(&src_dir, "asan", "high", true, 2);
    let aac = src_dir.join("tone.aac");
    common::ffmpeg(
        &["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3"]
            .into_iter()
            .chain(["-c:a", "aac", "-f", "adts", aac.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    // ASan and UBSan stop the program with a report on the first error;
    // leaks are reported at exit.
    let runs = [
        run(Command::new(&publish).env("ASAN_OPTIONS", "detect_leaks=1").arg(&src).arg(nginx.url("rec/asan_publish"))),
        run(Command::new(&venc)
            .env("ASAN_OPTIONS", "detect_leaks=1")
            .arg(nginx.url("rec/asan_venc"))
            .arg("2")
            .arg("h264")
            .arg(&aac)),
    ];
    for (name, out) in ["publish", "venc"].into_iter().zip(&runs) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} under ASan: {stderr}");
        assert!(!stderr.contains("Sanitizer") && !stderr.contains("runtime error"), "{name}: {stderr}");
    }
    let (ours, source) = (framemd5(&nginx.recording("asan_publish")), framemd5(&src));
    assert_eq!(packets(&ours), packets(&source), "publish under ASan: the recording equals the source");
    eprintln!(
        "publish and venc under AddressSanitizer + UBSan: no report; {}",
        String::from_utf8_lossy(&runs[1].stdout).trim()
    );
    let _ = std::fs::remove_dir_all(src_dir);
}
