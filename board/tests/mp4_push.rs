//! `rtmp-push FILE.mp4`: MP4 files made by ffmpeg (H.264 High with
//! B-frames + AAC, baseline video only, MOV, fragmented MP4, and H.265 +
//! AAC by ffmpeg 9) pushed
//! to nginx-rtmp (H.264) or Node-Media-Server (H.265); the recordings hold
//! the MP4's packets (payload md5, size, dts and pts in ms, up to one
//! constant shift), a paced push of a 10 s file takes about 10 s, `--loop`
//! continues the timestamps, and files that are not pushable say why.
//!
//! Ignored by default (needs nginx, ffmpeg, ffmpeg 9, Node-Media-Server).

mod common;

use common::nms::{Nms, NmsOptions};
use common::{ffmpeg, ffmpeg9, ffmpeg9_run, run, scratch, start_nginx};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One packet as `ffmpeg -f framemd5` reports it, times in ms (rounded
/// from the stream's time base, as a muxer to FLV rounds them).
#[derive(Debug, PartialEq, Eq, Clone)]
struct Packet {
    stream: u32,
    dts: i64,
    pts: i64,
    size: u64,
    md5: String,
}

/// The packets of the video and audio streams of `path` (video first),
/// read by `ffmpeg` with `-c copy`.
fn packets_ms(ffmpeg: &Path, path: &Path) -> Vec<Packet> {
    let out = run(Command::new(ffmpeg)
        .args(["-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-"]));
    assert!(out.status.success(), "framemd5 {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut tb = std::collections::HashMap::new();
    let mut packets = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#tb ") {
            let (stream, frac) = rest.split_once(": ").unwrap();
            let (num, den) = frac.split_once('/').unwrap();
            tb.insert(stream.parse::<u32>().unwrap(), (num.parse::<i64>().unwrap(), den.parse::<i64>().unwrap()));
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let stream: u32 = f[0].parse().unwrap();
        let (num, den) = tb[&stream];
        let ms = |v: &str| {
            let n = i128::from(v.parse::<i64>().unwrap()) * i128::from(num) * 1000;
            let d = i128::from(den);
            (if n >= 0 { (n + d / 2) / d } else { -((-n + d / 2) / d) }) as i64
        };
        packets.push(Packet {
            stream,
            dts: ms(f[1]),
            pts: ms(f[2]),
            size: f[4].parse().unwrap(),
            md5: f[5].to_string(),
        });
    }
    packets
}

/// `got` equals `want`, stream by stream, up to one shift of every
/// timestamp (the interleaving of the streams may differ: the recording
/// has them in the order they were sent, by decode time).
fn assert_same_packets(name: &str, got: &[Packet], want: &[Packet]) {
    assert!(!want.is_empty(), "{name}: no packets in the source");
    let of = |all: &[Packet], s: u32| all.iter().filter(|p| p.stream == s).cloned().collect::<Vec<_>>();
    let shift = of(got, 0)[0].dts - of(want, 0)[0].dts;
    for stream in 0..2 {
        let (g, w) = (of(got, stream), of(want, stream));
        assert_eq!(g.len(), w.len(), "{name}: stream {stream}: packet count");
        for (i, (g, w)) in g.iter().zip(&w).enumerate() {
            let moved = Packet { dts: w.dts + shift, pts: w.pts + shift, ..w.clone() };
            assert_eq!(g, &moved, "{name}: stream {stream}: packet {i} differs (shift {shift} ms)");
        }
    }
}

fn make_mp4(dir: &Path, name: &str, video: &[&str], audio: bool, secs: u32, ffmpeg9: bool) -> PathBuf {
    let path = dir.join(format!("{name}.mp4"));
    let t = secs.to_string();
    let mut args = vec!["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-c:a", "aac", "-b:a", "64k"]);
    }
    args.extend(["-t", &t, "-pix_fmt", "yuv420p"]);
    args.extend(video);
    args.push(path.to_str().unwrap());
    if ffmpeg9 {
        ffmpeg9_run(&args);
    } else {
        ffmpeg(&args);
    }
    path
}

fn push(file: &Path, url: &str, extra: &[&str]) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).args(extra).arg(file).arg(url).arg("-q"));
    (out, started.elapsed())
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn h264_mp4_files_reach_nginx_packet_for_packet() {
    let nginx = start_nginx("mp4-push");
    let dir = scratch("mp4-push-src");
    let high: &[&str] = &["-c:v", "libx264", "-profile:v", "high", "-bf", "2", "-g", "25"];
    let baseline: &[&str] = &["-c:v", "libx264", "-profile:v", "baseline", "-g", "25"];
    let fragmented: &[&str] = &[
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-bf",
        "2",
        "-g",
        "25",
        "-movflags",
        "frag_keyframe+empty_moov+default_base_moof",
    ];
    for (name, video, audio, secs, fast) in [
        ("high_aac", high, true, 10, false),
        ("baseline", baseline, false, 4, true),
        // MOV: the same boxes, QuickTime's brand.
        ("high_mov", high, true, 4, true),
        // Fragmented (moof/trun), as for streaming and CMAF.
        ("fragmented", fragmented, true, 4, true),
    ] {
        let mut file = make_mp4(&dir, name, video, audio, secs, false);
        if name.ends_with("mov") {
            let mov = file.with_extension("mov");
            ffmpeg(&["-i", file.to_str().unwrap(), "-c", "copy", mov.to_str().unwrap()]);
            file = mov;
        }
        let (out, took) = push(&file, &nginx.url(&format!("rec/{name}")), if fast { &["--fast"] } else { &[] });
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        if !fast {
            // Paced: a 10 s file takes about 10 s.
            assert!(took > Duration::from_millis(9600) && took < Duration::from_secs(13), "{name}: {took:?}");
        }
        let want = packets_ms(Path::new("ffmpeg"), &file);
        let got = packets_ms(Path::new("ffmpeg"), &nginx.recording(name));
        assert_same_packets(name, &got, &want);
        let video = want.iter().filter(|p| p.stream == 0).count();
        eprintln!("{name}: {} packets ({video} video) identical, {took:.1?}", want.len());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs Node-Media-Server 4 and ffmpeg 9 (libx265); run by scripts/test.sh"]
fn h265_mp4_reaches_node_media_server_packet_for_packet() {
    let nms = Nms::start("mp4-push-nms", NmsOptions { record: true, ..NmsOptions::default() });
    let dir = scratch("mp4-push-hevc");
    let x265 = ["-c:v", "libx265", "-x265-params", "log-level=error:keyint=25:bframes=2"];
    // hev1 (ffmpeg's default tag) and hvc1 (Apple's).
    for (name, tag) in [("hev1", None), ("hvc1", Some("hvc1"))] {
        let mut video: Vec<&str> = x265.to_vec();
        if let Some(t) = tag {
            video.extend(["-tag:v", t]);
        }
        let file = make_mp4(&dir, name, &video, true, 4, true);
        let (out, took) = push(&file, &nms.url(&format!("live/{name}")), &["--fast"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let want = packets_ms(&ffmpeg9(), &file);
        let got = packets_ms(&ffmpeg9(), &nms.recording(&format!("live/{name}")));
        assert_same_packets(name, &got, &want);
        eprintln!("{name}: {} packets identical, {took:.1?}", want.len());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn loop_continues_the_timestamps() {
    let nginx = start_nginx("mp4-loop");
    let dir = scratch("mp4-loop-src");
    let file = make_mp4(&dir, "loop", &["-c:v", "libx264", "-profile:v", "baseline", "-g", "25"], true, 2, false);
    // Paced and looped for 5 s: two passes and a half, then stopped.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
        .args(["--loop", "-q"])
        .arg(&file)
        .arg(nginx.url("rec/loop"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    child.kill().unwrap();
    child.wait().unwrap();
    let got = packets_ms(Path::new("ffmpeg"), &nginx.recording("loop"));
    let one = packets_ms(Path::new("ffmpeg"), &file);
    let video: Vec<&Packet> = got.iter().filter(|p| p.stream == 0).collect();
    let per_pass = one.iter().filter(|p| p.stream == 0).count();
    assert!(video.len() > per_pass * 2, "{} video packets, {per_pass} a pass", video.len());
    // 25 fps: every next frame 40 ms later; at a join the next pass starts
    // where the longer track (AAC, its priming and last frame) ended.
    for (i, w) in video.windows(2).enumerate() {
        let step = w[1].dts - w[0].dts;
        if (i + 1) % per_pass == 0 {
            assert!((40..=140).contains(&step), "join after frame {i}: {:?} then {:?}", w[0], w[1]);
        } else {
            assert_eq!(step, 40, "{:?} then {:?}", w[0], w[1]);
        }
    }
    let audio: Vec<i64> = got.iter().filter(|p| p.stream == 1).map(|p| p.dts).collect();
    assert!(audio.windows(2).all(|w| w[1] > w[0]), "audio timestamps increase across the joins");
    // The second pass is the first one again.
    let first: Vec<&String> = one.iter().filter(|p| p.stream == 0).map(|p| &p.md5).collect();
    let second: Vec<&String> = video[per_pass..2 * per_pass].iter().map(|p| &p.md5).collect();
    assert_eq!(second, first);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "runs the rtmp-push binary (not under the riscv64 emulator); run by scripts/test.sh"]
fn files_that_cannot_be_pushed_say_why() {
    let dir = scratch("mp4-bad");
    let cases: [(&str, &[u8], &str); 3] = [
        ("truncated.mp4", b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41\0\0\x10\0mdat", "no moov"),
        ("empty.mp4", b"\0\0\0\x08ftyp", "no moov"),
        ("garbage.mp4", b"\0\0\0\x10moovgarbage!", "malformed MP4"),
    ];
    for (name, bytes, want) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        // The file is refused before any connection is made.
        let (out, _) = push(&path, "rtmp://127.0.0.1:1/live/x", &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(name) && stderr.contains(want), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
