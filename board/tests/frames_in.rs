//! Pictures the program makes, through the hardware encoder (the host
//! SDK's) to nginx-rtmp: `rtmp-push raw` reading raw I420 frames from a
//! pipe, and `Rtmp::push_frame` from a program. Each picture carries its
//! number drawn as squares; ffmpeg decodes nginx's recording and the numbers
//! read back in order, every frame sent is there, and what was not sent is
//! counted as dropped.
//!
//! Ignored by default (needs nginx with libnginx-mod-rtmp and ffmpeg).

mod common;

use board::picture::{Picture, PixelFormat};
use board::pipeline::Rtmp;
use common::{draw_counter, drawn_counters, run, start_nginx};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const W: usize = 640;
const H: usize = 480;

/// Picture `n`: a picture tinted blue-green (U = 100), a bar that moves,
/// and the number drawn, in `format`.
fn picture(n: u32, format: PixelFormat) -> Vec<u8> {
    let mut p = vec![128u8; W * H * 3 / 2];
    p[..W * H].fill(96);
    let x0 = (n as usize * 8) % (W - 32);
    for row in 120..360 {
        p[row * W + x0..row * W + x0 + 32].fill(200);
    }
    draw_counter(&mut p[..W * H], W, n);
    // A tint in one chroma plane, so that NV21 and I420 differ.
    match format {
        PixelFormat::I420 => p[W * H..W * H + W * H / 4].fill(100),
        PixelFormat::Nv21 => p[W * H..].iter_mut().skip(1).step_by(2).for_each(|u| *u = 100),
    }
    p
}

/// The mean U and V of the first picture of `rec` as ffmpeg decodes it
/// (the tint survived the layout conversion: U = 100, V = 128).
fn first_uv(rec: &Path) -> (f64, f64) {
    let out = run(Command::new("ffmpeg").args(["-nostdin", "-v", "error", "-i"]).arg(rec).args([
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-",
    ]));
    assert!(out.status.success() && out.stdout.len() == W * H * 3 / 2);
    let mean = |p: &[u8]| p.iter().map(|&b| f64::from(b)).sum::<f64>() / p.len() as f64;
    let (u, v) = out.stdout[W * H..].split_at(W * H / 4);
    (mean(u), mean(v))
}

fn assert_tint(rec: &Path) {
    let (u, v) = first_uv(rec);
    assert!((u - 100.0).abs() < 6.0 && (v - 128.0).abs() < 6.0, "U {u:.1}, V {v:.1}: chroma planes swapped?");
}

/// The numbers read back are the ones sent, in order, with gaps only where
/// frames were dropped: returns how many.
fn check_in_order(read: &[u32], sent: u64, offered: u32) -> usize {
    assert_eq!(read.len() as u64, sent, "every frame sent is recorded and decodes");
    assert!(read.windows(2).all(|w| w[1] > w[0]), "in order: {read:?}");
    assert!(read.iter().all(|&n| n < offered), "{read:?}");
    read.len()
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn rtmp_push_raw_encodes_piped_pictures() {
    let nginx = start_nginx("raw-push");
    let frames = 90u32; // 3 s at 30 fps
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
        .args(["raw", "--size", "640x480", "--fps", "30", "-", &nginx.url("rec/raw")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    {
        let mut stdin = child.stdin.take().unwrap();
        for n in 0..frames {
            stdin.write_all(&picture(n, PixelFormat::I420)).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Paced: 90 frames at 30 fps take about 3 s.
    assert!(took > Duration::from_millis(2800) && took < Duration::from_secs(8), "{took:?}");
    let field = |after: &str| -> u64 {
        stderr.split(after).nth(1).and_then(|s| s.split_whitespace().next()?.parse().ok()).expect(&stderr)
    };
    let (sent, dropped) = (field("sent "), field("reconnects, "));
    let read = drawn_counters(Path::new("ffmpeg"), &nginx.recording("raw"), W, H);
    let got = check_in_order(&read, sent, frames);
    assert_eq!(sent + dropped, u64::from(frames), "every picture sent or counted: {stderr}");
    assert!(got >= 80, "{got} of {frames} got through");
    assert_tint(&nginx.recording("raw"));
    eprintln!("rtmp-push raw: {got} of {frames} pictures in order, {dropped} dropped, {took:.1?}");
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn push_frame_sends_the_programs_pictures() {
    let nginx = start_nginx("push-frame");
    let mut rtmp = Rtmp::from_url(&nginx.url("rec/frames")).unwrap();
    rtmp.bind_frames(W as u32, H as u32, 25).unwrap();
    // Before start there is nowhere to push to.
    let early = picture(0, PixelFormat::Nv21);
    assert!(rtmp.push_frame(&Picture::new(PixelFormat::Nv21, W as u32, H as u32, &early).unwrap()).is_err());
    rtmp.start().unwrap();
    let frames = 75u32; // 3 s at 25 fps, NV21 (the camera's layout), stamped by the clock
    let started = Instant::now();
    for n in 0..frames {
        let due = started + Duration::from_millis(40 * u64::from(n));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let p = picture(n, PixelFormat::Nv21);
        rtmp.push_frame(&Picture::new(PixelFormat::Nv21, W as u32, H as u32, &p).unwrap()).unwrap();
    }
    // A picture of another size is refused, not sent.
    let small = vec![0u8; 320 * 240 * 3 / 2];
    let e = rtmp.push_frame(&Picture::new(PixelFormat::I420, 320, 240, &small).unwrap()).unwrap_err();
    assert!(e.to_string().contains("320x240"), "{e}");
    std::thread::sleep(Duration::from_millis(300));
    let stats = rtmp.stop().unwrap();
    let read = drawn_counters(Path::new("ffmpeg"), &nginx.recording("frames"), W, H);
    let got = check_in_order(&read, stats.video_frames, frames);
    assert_eq!(stats.video_frames + stats.dropped_frames, u64::from(frames), "{stats:?}");
    assert_eq!(stats.frames_captured, u64::from(frames), "the refused picture is not counted: {stats:?}");
    assert!(got >= 65, "{got} of {frames} got through: {stats:?}");
    let probe = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0"])
        .arg(nginx.recording("frames")));
    assert!(String::from_utf8_lossy(&probe.stdout).contains("h264,640,480"));
    assert_tint(&nginx.recording("frames"));
    eprintln!("push_frame: {got} of {frames} pictures in order, {} dropped", stats.dropped_frames);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn the_overlay_example_streams_the_camera_with_a_box_drawn() {
    // Built by `cargo test` with the other examples, next to the test binaries.
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().parent().unwrap().join("examples/overlay");
    assert!(example.exists(), "{} missing (cargo test builds the examples)", example.display());
    let nginx = start_nginx("overlay");
    let out = run(Command::new(&example).arg(nginx.url("rec/overlay")).arg("3"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let rec = nginx.recording("overlay");
    // Gray frames as ffmpeg decodes them: the box's top edge (rows 192..196)
    // is white where it is drawn, and it moves from frame to frame.
    let frames = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&rec)
        .args(["-map", "0:v", "-f", "rawvideo", "-pix_fmt", "gray", "-"]));
    assert!(frames.status.success());
    let lefts: Vec<usize> = frames
        .stdout
        .chunks_exact(W * H)
        .filter_map(|y| (0..W - 96).find(|&x| y[194 * W + x..194 * W + x + 96].iter().all(|&v| v > 200)))
        .collect();
    let count = frames.stdout.len() / (W * H);
    assert!(count >= 60, "{count} frames: {stdout}");
    assert!(lefts.len() >= count * 9 / 10, "the box is in {} of {count} frames", lefts.len());
    assert!(lefts.windows(2).filter(|w| w[1] != w[0]).count() > lefts.len() / 2, "the box moves: {lefts:?}");
    eprintln!("overlay: {count} frames, the box found in {}: {}", lefts.len(), stdout.trim());
}
