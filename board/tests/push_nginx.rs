//! `rtmp-push` against real peers: nginx with libnginx-mod-rtmp records what
//! it receives, ffmpeg generates the sources, pushes the same files for
//! comparison and plays. Everything listens on 127.0.0.1 only.
//!
//! These need nginx-light, libnginx-mod-rtmp and ffmpeg; `scripts/test.sh`
//! installs them and runs these with `--ignored`.

mod common;

use common::{ffmpeg, framemd5, make_source, packets, run, scratch, start_nginx};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PUSH: &str = env!("CARGO_BIN_EXE_rtmp-push");

fn push(args: &[&str]) -> Output {
    run(Command::new(PUSH).args(args))
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn recordings_match_the_source_and_ffmpeg_packet_by_packet() {
    let nginx = start_nginx("record");
    let dir = scratch("record-src");
    for (name, profile, audio) in
        [("high_aac", "high", true), ("baseline", "baseline", true), ("video_only", "high", false)]
    {
        let src = make_source(&dir, name, profile, audio, 2);
        let out = push(&["--fast", src.to_str().unwrap(), &nginx.url(&format!("rec/{name}"))]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let ours = framemd5(&nginx.recording(name));
        // The same file pushed by ffmpeg, for comparison.
        ffmpeg(&["-re", "-i", src.to_str().unwrap(), "-c", "copy", "-f", "flv", &nginx.url(&format!("rec/{name}_ff"))]);
        let theirs = framemd5(&nginx.recording(&format!("{name}_ff")));
        assert_eq!(ours, theirs, "{name}: our recording differs from ffmpeg's");
        let source = framemd5(&src);
        assert_eq!(packets(&ours), packets(&source), "{name}: recording differs from the source");
        assert!(source.len() > 40, "{name}: {} packets", source.len());
        if profile == "high" {
            // B-frames: some packets have pts != dts (composition offsets survived).
            assert!(source.iter().any(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                f[0] == "0" && f[1] != f[2]
            }));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn second_publisher_is_refused_with_badname() {
    let nginx = start_nginx("busy");
    let dir = scratch("busy-src");
    let src = make_source(&dir, "long", "baseline", false, 2);
    // ffmpeg keeps `live/busy` published (looping the file) while we try.
    let mut first = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-stream_loop",
            "-1",
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-f",
            "flv",
        ])
        .arg(nginx.url("live/busy"))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !nginx.log().contains("publish: name='busy'") {
        assert!(Instant::now() < deadline, "ffmpeg did not start publishing");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = push(&["--fast", src.to_str().unwrap(), &nginx.url("live/busy")]);
    let _ = first.kill();
    let _ = first.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("NetStream.Publish.BadName"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{}", nginx.port)), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

/// nginx's `connect:` and `publish:` log lines for a session, without the
/// client-specific parts (flashver, codecs, connection numbers).
fn logged_names(log: &str, marker: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            let at = l.find(marker)?;
            let rest = &l[at..];
            let rest = &rest[..rest.find(", client:").unwrap_or(rest.len())];
            Some(match marker {
                "connect: " => {
                    let app = rest.split("app='").nth(1)?.split('\'').next()?;
                    let tc = rest.split("tc_url='").nth(1)?.split('\'').next()?;
                    format!("app={app} tc_url={tc}")
                }
                _ => rest.split(" type=").next()?.to_string(),
            })
        })
        .collect()
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn signed_urls_reach_nginx_as_ffmpegs_do() {
    let nginx = start_nginx("urls");
    let dir = scratch("urls-src");
    let src = make_source(&dir, "short", "baseline", false, 1);
    let urls = [
        nginx.url("live-bvc/?streamname=live_12345_67890&key=0123456789abcdef&schedule=rtmp&pflag=1"),
        nginx.url("live/channel1?OSSAccessKeyId=LTAI5tExample&Expires=1900000000&Signature=ab%2Fcd%2Bef%3D"),
        nginx.url("live/plain_name"),
    ];
    for url in &urls {
        let before = nginx.log().len();
        let out = push(&["--fast", src.to_str().unwrap(), url]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(300));
        let ours = nginx.log()[before..].to_string();
        let before = nginx.log().len();
        ffmpeg(&["-i", src.to_str().unwrap(), "-c", "copy", "-f", "flv", url]);
        std::thread::sleep(Duration::from_millis(300));
        let theirs = nginx.log()[before..].to_string();
        for marker in ["connect: ", "publish: "] {
            let (a, b) = (logged_names(&ours, marker), logged_names(&theirs, marker));
            assert!(!a.is_empty(), "no {marker} line for ours:\n{ours}");
            assert_eq!(a, b, "{marker}");
        }
        // The key never appears in what rtmp-push prints.
        assert!(!String::from_utf8_lossy(&out.stderr).contains("0123456789abcdef"));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn paced_push_takes_real_time_and_plays_while_pushing() {
    let nginx = start_nginx("paced");
    let dir = scratch("paced-src");
    let src = make_source(&dir, "ten", "baseline", true, 10);
    let started = Instant::now();
    let mut pusher = Command::new(PUSH).args([src.to_str().unwrap(), &nginx.url("live/paced")]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    // A player joins while the push is going on.
    let played = dir.join("played.flv");
    // 2.5 s: the player's video starts at the next keyframe (GOP 1 s), up to 1 s in.
    ffmpeg(&["-i", &nginx.url("live/paced"), "-t", "2.5", "-c", "copy", played.to_str().unwrap()]);
    let status = pusher.wait().unwrap();
    let took = started.elapsed();
    assert!(status.success());
    assert!(took >= Duration::from_millis(9700) && took < Duration::from_secs(13), "a 10 s file took {took:?}");
    let got = framemd5(&played);
    let video = got.iter().filter(|l| l.starts_with("0,")).count();
    assert!(video >= 20, "player got {video} video packets");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn flv_on_stdin() {
    let nginx = start_nginx("stdin");
    let dir = scratch("stdin-src");
    let src = make_source(&dir, "piped", "high", true, 2);
    let out = Command::new(PUSH)
        .args(["--fast", "-", &nginx.url("rec/piped")])
        .stdin(std::fs::File::open(&src).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(packets(&framemd5(&nginx.recording("piped"))), packets(&framemd5(&src)));
    // Not an FLV: a clear error, not a hang.
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "this is not a video\n").unwrap();
    let out = Command::new(PUSH)
        .args(["--fast", "-", &nginx.url("rec/junk")])
        .stdin(std::fs::File::open(&junk).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an FLV file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn paced_push_reconnects_and_resumes_at_a_keyframe() {
    let nginx = start_nginx("file-reconnect");
    let proxy = common::fault_proxy::FaultProxy::start(([127, 0, 0, 1], nginx.port).into());
    let dir = scratch("file-reconnect-src");
    let src = make_source(&dir, "six", "high", true, 6);
    let started = Instant::now();
    let child = Command::new(PUSH)
        .args(["--link-timeout", "3", src.to_str().unwrap(), &proxy.url("link/file")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    proxy.reset_all();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("reconnecting"), "{err}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(9), "a 6 s file with one reconnect took {took:?}");
    // Two publishes, two recordings; the second starts at a keyframe with
    // its sequence headers and decodes cleanly.
    let log = nginx.log();
    assert_eq!(log.matches("publish: name='file'").count(), 2, "{log}");
    std::thread::sleep(Duration::from_millis(500));
    let mut recs: Vec<_> = std::fs::read_dir(nginx.dir.join("rec"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("file-"))
        .collect();
    recs.sort();
    assert_eq!(recs.len(), 2, "{recs:?}");
    let out =
        run(Command::new("ffmpeg").args(["-nostdin", "-v", "error", "-i"]).arg(&recs[1]).args(["-f", "null", "-"]));
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = framemd5(&recs[1]);
    let video = got.iter().filter(|l| l.starts_with("0,")).count();
    assert!(video >= 50, "{video} video frames after the reconnect");
    let _ = std::fs::remove_dir_all(dir);
}
