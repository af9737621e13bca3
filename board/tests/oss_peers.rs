//! Aliyun OSS LiveChannel signing and ingest against the oss2 SDK (PyPI):
//! `rtmp-oss sign` prints oss2's `sign_rtmp_url` byte for byte; URLs oss2
//! signs are accepted by `rtmp-serve --oss-bucket` (ffmpeg publishing) and
//! refused with OSS's codes when expired, forged or unsigned; `rtmp-push
//! --oss-*` signs by itself, and again at a reconnect after the first
//! signature expired; other audio than AAC is dropped and counted; H.265 is
//! refused; one publisher per channel; the HLS dump decodes identically.
//!
//! Ignored by default (needs ffmpeg, ffmpeg 9 and python3 with oss2 and
//! m3u8 in target/peers/py): run by scripts/test.sh.

mod common;

use common::fault_proxy::FaultProxy;
use common::hls::{check_hls, parse_m3u8, wait_complete};
use common::{make_source, run, scratch, start_serve, Serve};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const KEY_ID: &str = "LTAI5tLocalTest";
const SECRET: &str = "oss-local-secret/+=";
const BUCKET: &str = "cam-bucket";

/// One signing: endpoint, bucket, channel, playlist, security token,
/// Expires (absolute), AccessKey id, secret.
type Inputs<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>, u64, &'a str, &'a str);

/// The URLs oss2 signs for `cases`, with `time.time` patched to 0 so that
/// its relative `expires` is the absolute `Expires` given.
fn oss2_sign(cases: &[Inputs<'_>]) -> Vec<String> {
    let script = r#"
import json, sys, oss2, oss2.auth
oss2.auth.time.time = lambda: 0
for endpoint, bucket, channel, playlist, token, expires, kid, secret in json.load(sys.stdin):
    auth = oss2.StsAuth(kid, secret, token) if token else oss2.Auth(kid, secret)
    print(oss2.Bucket(auth, endpoint, bucket).sign_rtmp_url(channel, playlist, expires))
"#;
    let json = |s: Option<&str>| s.map_or("null".to_string(), |s| format!("{s:?}"));
    let cases: Vec<String> = cases
        .iter()
        .map(|(e, b, c, p, t, x, k, s)| format!("[{e:?},{b:?},{c:?},{},{},{x},{k:?},{s:?}]", json(*p), json(*t)))
        .collect();
    let py = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/peers/py");
    let mut child = Command::new("python3")
        .env("PYTHONPATH", py)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("[{}]", cases.join(",")).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "oss2: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect()
}

fn secret_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    // A trailing newline, as an editor leaves it: not part of the secret.
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    path
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
#[ignore = "needs python3 with oss2 (PyPI); run by scripts/test.sh"]
fn rtmp_oss_sign_prints_what_oss2_signs() {
    let dir = scratch("oss-sign");
    let cases: Vec<Inputs<'_>> = vec![
        ("oss-cn-hangzhou.aliyuncs.com", "cam-bucket", "door", None, None, 1_800_000_000, "LTAI5tExample", "s3cr3t"),
        (
            "https://OSS-cn-Beijing.aliyuncs.com",
            "b-12",
            "yard",
            Some("live.m3u8"),
            None,
            1_700_000_000,
            "AK id/+=",
            "k e y+/=",
        ),
        // Characters that need quoting, and a security token (StsAuth).
        (
            "http://oss-cn-shanghai.aliyuncs.com",
            "bkt",
            "c1",
            Some("play list&x=1+ü.m3u8"),
            Some("CAIS tok/en+=="),
            4_102_444_800,
            "STS.NTx",
            "sec",
        ),
        ("oss-ap-southeast-1.aliyuncs.com", "x9z", "ch_1.a-b~c", None, Some("t%k#n?&="), 1, "id", "秘密 secret"),
        // IP and localhost endpoints: path-style URLs.
        ("127.0.0.1:1935", "cam", "ch_1", Some("p.m3u8"), None, 99, "id", "secret"),
        ("localhost", "cam", "ch.2", None, Some("tok"), 0, "id", "secret"),
        ("http://10.0.0.7:8080", "cam-0", "gate", Some("a.m3u8"), Some("T"), 2_000_000_000, "LTAI", "S"),
    ];
    let want = oss2_sign(&cases);
    assert_eq!(want.len(), cases.len());
    for (i, ((endpoint, bucket, channel, playlist, token, expires, id, secret), want)) in
        cases.iter().zip(&want).enumerate()
    {
        let file = secret_file(&dir, &format!("secret{i}"), secret);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtmp-oss"));
        cmd.args(["sign", "--bucket", bucket, "--endpoint", endpoint, "--channel", channel]);
        cmd.args(["--expires", &expires.to_string(), "--key-id", id, "--key-secret-file"]).arg(&file);
        if let Some(p) = playlist {
            cmd.args(["--playlist", p]);
        }
        if let Some(t) = token {
            cmd.args(["--security-token", t]);
        }
        let out = run(&mut cmd);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), want, "case {i}");
    }
    eprintln!("{} URLs identical to oss2's", cases.len());
}

/// `rtmp-serve` as an OSS LiveChannel ingest for `BUCKET` with `KEY_ID`.
fn start_ingest(name: &str, hls: &Path, secret: &Path) -> Serve {
    let args = [
        "--oss-bucket",
        BUCKET,
        "--oss-key-id",
        KEY_ID,
        "--oss-key-secret-file",
        secret.to_str().unwrap(),
        "--hls",
        hls.to_str().unwrap(),
        "--hls-fragment",
        "2",
        "--hls-window",
        "15",
        "--hls-playlist",
        "chan.m3u8",
    ];
    start_serve(name, &args)
}

/// Stops the server with SIGTERM and returns its log, final counters included.
fn stop(mut serve: Serve) -> String {
    // SAFETY: kill(2) with a child's pid and SIGTERM has no memory effects.
    unsafe { libc::kill(serve.pid() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while serve.alive() {
        assert!(Instant::now() < deadline, "rtmp-serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(100));
    serve.log()
}

fn push(args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_rtmp-push")).args(args))
}

#[test]
#[ignore = "needs ffmpeg, ffmpeg 9, m3u8 and oss2 (PyPI); run by scripts/test.sh"]
fn ingest_takes_oss2_urls_refuses_bad_ones_and_dumps_hls() {
    let dir = scratch("oss-ingest");
    let hls = dir.join("hls");
    let secret = secret_file(&dir, "secret", SECRET);
    let serve = start_ingest("oss-ingest-serve", &hls, &secret);
    let endpoint = format!("127.0.0.1:{}", serve.port);
    let later = now() + 3600;
    let src = make_source(&dir, "av", "high", true, 8);

    // ffmpeg publishes to oss2's URL (path-style for an IP endpoint, with a
    // playlistName): the HLS dump decodes identically.
    let url = &oss2_sign(&[(&endpoint, BUCKET, "ff", Some("ff.m3u8"), None, later, KEY_ID, SECRET)])[0];
    assert!(url.starts_with(&format!("rtmp://{endpoint}/{BUCKET}/live/ff?playlistName=ff.m3u8&")), "{url}");
    common::ffmpeg(&["-re", "-i", src.to_str().unwrap(), "-c", "copy", "-f", "flv", url]);
    wait_complete(&serve, "ff/ff.m3u8");
    check_hls(&hls.join("ff/ff.m3u8"), &src, 2.0, 1.0, &["v", "a"]);

    // rtmp-push signs by itself; the server's playlist name applies.
    let video = make_source(&dir, "video", "baseline", false, 6);
    let out = push(&[
        "--oss-key-id",
        KEY_ID,
        "--oss-key-secret-file",
        secret.to_str().unwrap(),
        "--oss-bucket",
        BUCKET,
        "-q",
        video.to_str().unwrap(),
        &serve.url("live/ours"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_complete(&serve, "ours/chan.m3u8");
    check_hls(&hls.join("ours/chan.m3u8"), &video, 2.0, 1.0, &["v"]);

    // Refusals, each with its status and OSS code, named by rtmp-push.
    let sign = |channel, expires, id, secret| {
        oss2_sign(&[(&endpoint, BUCKET, channel, None, None, expires, id, secret)]).remove(0)
    };
    let refusals = [
        (sign("old", 1000, KEY_ID, SECRET), "NetStream.Publish.Denied", "AccessDenied"),
        (sign("forged", later, KEY_ID, "not-the-secret"), "NetStream.Publish.Denied", "SignatureDoesNotMatch"),
        (sign("stranger", later, "LTAI5tOther", SECRET), "NetStream.Publish.Denied", "InvalidAccessKeyId"),
        (serve.url("live/unsigned"), "NetStream.Publish.BadName", "InvalidArgument"),
        (
            sign("ff", later, KEY_ID, SECRET).replace("/live/ff?", "/live/gg?"),
            "NetStream.Publish.Denied",
            "SignatureDoesNotMatch",
        ),
    ];
    for (url, status, code) in &refusals {
        let out = push(&["--fast", "-q", video.to_str().unwrap(), url]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(status) && err.contains(code), "{code}: {err}");
        assert!(!err.contains("Signature="), "the signed query stays out of messages: {err}");
    }

    // Audio other than AAC (MP3 here) is dropped and counted; the video plays.
    let mp3 = dir.join("mp3.flv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "6",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "64k",
        mp3.to_str().unwrap(),
    ]);
    let url = sign("mp3", later, KEY_ID, SECRET);
    common::ffmpeg(&["-re", "-i", mp3.to_str().unwrap(), "-c", "copy", "-f", "flv", &url]);
    wait_complete(&serve, "mp3/chan.m3u8");
    check_hls(&hls.join("mp3/chan.m3u8"), &mp3, 2.0, 1.0, &["v"]);
    let probe = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0"])
        .arg(hls.join("mp3/chan.m3u8")));
    let streams = String::from_utf8_lossy(&probe.stdout);
    assert!(streams.contains("video") && !streams.contains("audio"), "no audio stream in the dump: {streams}");

    // H.265 is refused (the connection is closed at its first video tag).
    let hevc = common::make_hevc_source(&dir, "hevc", 3);
    let url = sign("hevc", later, KEY_ID, SECRET);
    let _ = run(Command::new(common::ffmpeg9())
        .args(["-v", "error", "-re", "-i"])
        .arg(&hevc)
        .args(["-c", "copy", "-f", "flv", &url]));
    assert!(serve.log().contains("OSS LiveChannel takes H.264 video only"), "{}", serve.log());

    // One publisher per channel.
    let long = make_source(&dir, "long", "baseline", false, 6);
    let mut first = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
        .args(["-q", long.to_str().unwrap(), &sign("dup", later, KEY_ID, SECRET)])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !serve.log().contains("publishing live/dup") {
        assert!(Instant::now() < deadline, "{}", serve.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = push(&["--fast", "-q", video.to_str().unwrap(), &sign("dup", later, KEY_ID, SECRET)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("NetStream.Publish.BadName"), "{err}");
    assert!(first.wait().unwrap().success());

    let log = stop(serve);
    let last = log.lines().rev().find(|l| l.contains(" filtered")).unwrap_or_else(|| panic!("{log}"));
    let filtered: u64 = last.rsplit(' ').nth(1).unwrap().parse().unwrap();
    let (_, _, segs, _) = parse_m3u8(&hls.join("mp3/chan.m3u8"));
    // Six seconds of MP3 at 44.1 kHz: about 230 frames, none kept.
    assert!(filtered >= 200, "{last}");
    assert!(!log.contains("Signature=") && !log.contains(SECRET), "no signature or secret in the log");
    eprintln!("{last}; mp3 dump: {} segments", segs.len());
}

#[test]
#[ignore = "needs ffmpeg and oss2 (PyPI); run by scripts/test.sh"]
fn rtmp_push_signs_again_when_it_reconnects() {
    let dir = scratch("oss-resign");
    let hls = dir.join("hls");
    let secret = secret_file(&dir, "secret", SECRET);
    let serve = start_ingest("oss-resign-serve", &hls, &secret);
    let proxy = FaultProxy::start(format!("127.0.0.1:{}", serve.port).parse().unwrap());
    let src = make_source(&dir, "long", "baseline", false, 12);
    let args = |url: &str| -> Vec<String> { vec!["-q".into(), src.to_str().unwrap().into(), url.into()] };

    // A URL signed once, valid 2 s: the reconnect after the reset is refused.
    let fixed = oss2_sign(&[(
        &format!("127.0.0.1:{}", proxy.addr.port()),
        BUCKET,
        "fixed",
        None,
        None,
        now() + 2,
        KEY_ID,
        SECRET,
    )])
    .remove(0);
    let once = Command::new(env!("CARGO_BIN_EXE_rtmp-push")).args(args(&fixed)).stderr(Stdio::piped()).spawn().unwrap();
    // rtmp-push signing itself, each signature valid 2 s.
    let resign = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
        .args(["--oss-key-id", KEY_ID, "--oss-key-secret-file", secret.to_str().unwrap(), "--oss-bucket", BUCKET])
        .args(["--oss-expires-in", "2"])
        .args(args(&proxy.url("live/resign")))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        serve.log().contains("publishing live/fixed") && serve.log().contains("publishing live/resign"),
        "{}",
        serve.log()
    );
    proxy.reset_all();

    let once = once.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&once.stderr);
    assert!(!once.status.success() && err.contains("AccessDenied"), "a fixed signature expires: {err}");
    let resign = resign.wait_with_output().unwrap();
    assert!(resign.status.success(), "{}", String::from_utf8_lossy(&resign.stderr));
    let log = stop(serve);
    assert_eq!(log.matches(": publishing live/resign").count(), 2, "{log}");
    assert!(!log.lines().any(|l| l.contains("live/resign refused")), "{log}");
    eprintln!("re-signed at the reconnect; the fixed URL was refused AccessDenied");
}
