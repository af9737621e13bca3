//! `rtmp-serve` and `rtmp-pull` against real peers on 127.0.0.1: ffmpeg
//! publishes and plays, nginx-rtmp serves what `rtmp-pull` plays.
//!
//! These need ffmpeg and nginx with libnginx-mod-rtmp; `scripts/test.sh`
//! installs them and runs these with `--ignored`.

mod common;

use common::{contiguous_run, framemd5, make_source, run, scratch, start_nginx, start_serve};
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PUSH: &str = env!("CARGO_BIN_EXE_rtmp-push");
const PULL: &str = env!("CARGO_BIN_EXE_rtmp-pull");

fn ffmpeg_publish(src: &std::path::Path, url: &str, realtime: bool) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    if realtime {
        cmd.arg("-re");
    }
    cmd.arg("-i").arg(src).args(["-c", "copy", "-f", "flv", url]);
    cmd
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn ffmpeg_and_rtmp_push_are_recorded_packet_for_packet() {
    let mut serve = start_serve("serve-record", &[]);
    let dir = scratch("serve-record-src");
    for (name, profile, audio) in
        [("high_aac", "high", true), ("baseline", "baseline", true), ("video_only", "high", false)]
    {
        let src = make_source(&dir, name, profile, audio, 2);
        let source = framemd5(&src);
        assert!(source.len() > 40, "{name}: {} packets", source.len());

        let out = run(&mut ffmpeg_publish(&src, &serve.url(&format!("live/{name}_ff?key=secret")), false));
        assert!(out.status.success(), "{name}: ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
        let ff = framemd5(&serve.recording("live", &format!("{name}_ff")));
        assert_eq!(ff, source, "{name}: ffmpeg's publish, recorded by rtmp-serve, differs from the source");

        let out = run(Command::new(PUSH).args(["--fast", src.to_str().unwrap(), &serve.url(&format!("live/{name}"))]));
        assert!(out.status.success(), "{name}: rtmp-push: {}", String::from_utf8_lossy(&out.stderr));
        let ours = framemd5(&serve.recording("live", name));
        assert_eq!(ours, source, "{name}: rtmp-push's publish, recorded by rtmp-serve, differs from the source");
    }
    assert!(!serve.log().contains("secret"), "query strings are never logged:\n{}", serve.log());
    assert!(serve.alive());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn ffmpeg_plays_while_rtmp_push_publishes() {
    let serve = start_serve("serve-play", &[]);
    let dir = scratch("serve-play-src");
    let src = make_source(&dir, "paced", "high", true, 5);
    let url = serve.url("live/paced");
    let mut push = Command::new(PUSH).args(["-q", src.to_str().unwrap(), &url]).spawn().unwrap();
    // Join late: the player must start at a keyframe with the headers first.
    std::thread::sleep(Duration::from_millis(1300));
    let out = dir.join("played.flv");
    let started = Instant::now();
    let play = run(Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i", &url, "-c", "copy", "-f", "flv", "-y"])
        .arg(&out));
    assert!(play.status.success(), "ffmpeg play: {}", String::from_utf8_lossy(&play.stderr));
    assert!(push.wait().unwrap().success());
    // ffmpeg stopped when the publisher did (UnpublishNotify), not at a timeout.
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
    let played = framemd5(&out);
    let (matched, to_end) = contiguous_run(&played, &framemd5(&src)).unwrap();
    assert!(matched > 80, "{matched} packets played");
    assert!(to_end, "the player got everything up to the publisher's last packet");
    // The first video packet played is a keyframe: ffprobe agrees.
    let probe = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0"])
        .arg(&out));
    let first = String::from_utf8_lossy(&probe.stdout).lines().next().unwrap_or("").to_string();
    assert!(first.starts_with('K'), "first video packet flags {first:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn second_publisher_is_refused_with_badname() {
    let serve = start_serve("serve-busy", &[]);
    let dir = scratch("serve-busy-src");
    let src = make_source(&dir, "busy", "baseline", false, 2);
    let url = serve.url("live/busy");
    let mut first = ffmpeg_publish(&src, &url, true);
    let mut first = first.args(["-stream_loop", "-1"]).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.log().contains("publishing live/busy") {
        assert!(Instant::now() < deadline, "{}", serve.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run(Command::new(PUSH).args(["--fast", src.to_str().unwrap(), &url]));
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NetStream.Publish.BadName"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs ffmpeg; run by scripts/test.sh"]
fn garbage_and_hostile_peers_leave_the_server_serving() {
    let mut serve = start_serve("serve-garbage", &["--idle-timeout", "2"]);
    let dir = scratch("serve-garbage-src");
    let src = make_source(&dir, "after", "baseline", true, 2);
    // 300 KB of random bytes, a connection that stalls mid-handshake, and a
    // client that announces a 16 MiB message after a valid handshake.
    let mut random = vec![0u8; 300 * 1024];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in &mut random {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut junk = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    let _ = junk.write_all(&random);
    let mut stall = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    stall.write_all(&[3; 700]).unwrap();
    let mut big = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    let mut hello = vec![3u8];
    hello.extend_from_slice(&[0; 1536]);
    hello.extend_from_slice(&[0; 1536]);
    hello.extend_from_slice(&[0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x14, 0, 0, 0, 0]);
    hello.extend_from_slice(&random[..100 * 1024]);
    let _ = big.write_all(&hello);

    let out = run(Command::new(PUSH).args(["--fast", src.to_str().unwrap(), &serve.url("live/after")]));
    assert!(out.status.success(), "rtmp-push after garbage: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(framemd5(&serve.recording("live", "after")), framemd5(&src));
    // The stalled connection is dropped by the 2 s setup/idle timeout.
    let stalled = format!("{}: closed: ", stall.local_addr().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.log().lines().any(|l| l.contains(&stalled) && l.contains(" 2 s")) {
        assert!(Instant::now() < deadline, "{}", serve.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(serve.alive());
    let status = std::fs::read_to_string(format!("/proc/{}/status", serve.pid())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap();
    assert!(rss_kb < 64 * 1024, "peak RSS {rss_kb} kB");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn rtmp_pull_from_nginx_gets_a_contiguous_run_and_exits_0() {
    let nginx = start_nginx("pull");
    let dir = scratch("pull-src");
    let src = make_source(&dir, "live", "high", true, 5);
    let url = nginx.url("live/pulled");
    let mut ffmpeg = ffmpeg_publish(&src, &url, true).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let out = dir.join("pulled.flv");
    let pull = run(Command::new(PULL).arg(&url).arg("-o").arg(&out));
    assert!(ffmpeg.wait().unwrap().success());
    assert_eq!(pull.status.code(), Some(0), "rtmp-pull: {}", String::from_utf8_lossy(&pull.stderr));
    let (matched, to_end) = contiguous_run(&framemd5(&out), &framemd5(&src)).unwrap();
    assert!(matched > 60, "{matched} packets");
    assert!(to_end, "rtmp-pull got everything up to ffmpeg's last packet");

    // --duration stops early, with exit 0 too.
    let mut ffmpeg = ffmpeg_publish(&src, &url, true).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let short = run(Command::new(PULL).arg(&url).args(["--duration", "1.5", "-o"]).arg(dir.join("short.flv")));
    assert_eq!(short.status.code(), Some(0), "{}", String::from_utf8_lossy(&short.stderr));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(contiguous_run(&framemd5(&dir.join("short.flv")), &framemd5(&src)).unwrap().0 > 20);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    // Nothing published under that name: a clear error after the timeout.
    let none =
        run(Command::new(PULL).arg(nginx.url("live/nobody")).args(["--timeout", "1", "-o"]).arg(dir.join("x.flv")));
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no data"), "{}", String::from_utf8_lossy(&none.stderr));
    let _ = std::fs::remove_dir_all(dir);
}
