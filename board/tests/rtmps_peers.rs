//! RTMPS against real peers, with a test CA made by `openssl` and
//! `SSL_CERT_FILE` pointing at it: `rtmp-push` to Node-Media-Server 4's
//! RTMPS port and to nginx-rtmp behind nginx's TLS termination (stream
//! module), recordings identical to the source; a wrong host name and an
//! untrusted CA refused in one line naming the problem and the host;
//! `rtmp-serve --tls-listen` with ffmpeg 9 publishing and playing over
//! `rtmps://`; servers that stall or send garbage in the TLS handshake.
//!
//! Ignored by default (needs nginx's stream module, openssl, Node.js and
//! ffmpeg 9): scripts/test.sh runs them.

mod common;

use common::nms::{Nms, NmsOptions};
use common::tls::TestCa;
use common::{contiguous_run, framemd5, framemd5_9, make_source, packets, scratch, start_nginx_tls};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `rtmp-push` trusting only `ca` (a machine-wide SSL_CERT_DIR would add
/// the system's roots).
fn push(src: &Path, url: &str, ca: &Path, extra: &[&str]) -> Output {
    common::run(
        Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
            .env("SSL_CERT_FILE", ca)
            .env_remove("SSL_CERT_DIR")
            .arg(src)
            .arg(url)
            .args(extra),
    )
}

#[test]
#[ignore = "needs Node.js, node-media-server@4, nginx's stream module and openssl; run by scripts/test.sh"]
fn rtmps_push_to_node_media_server_and_to_nginx_behind_tls() {
    let ca = TestCa::new("rtmps-ca", &["localhost", "127.0.0.1"]);
    let dir = scratch("rtmps-src");
    let src = make_source(&dir, "source", "high", true, 4);
    let want = framemd5(&src);

    let nms = Nms::start("rtmps-nms", NmsOptions { record: true, tls: Some((ca.cert.clone(), ca.key.clone())) });
    let out = push(&src, &format!("rtmps://localhost:{}/live/s", nms.rtmps_port), &ca.ca, &["--fast", "-q"]);
    assert!(out.status.success(), "rtmp-push to NMS over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let got = framemd5_9(&nms.recording("live/s"));
    let (matched, to_end) = contiguous_run(&got, &framemd5_9(&src)).unwrap();
    assert_eq!((matched, to_end), (want.len(), true), "NMS: every packet identical");

    let (nginx, tls_port) = start_nginx_tls("rtmps-nginx", &ca.cert, &ca.key);
    // Paced, as a camera sends: also exercises the TLS path while waiting.
    let out = push(&src, &format!("rtmps://localhost:{tls_port}/rec/s"), &ca.ca, &["-q"]);
    assert!(out.status.success(), "rtmp-push to nginx over TLS: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(packets(&framemd5(&nginx.recording("s"))), packets(&want), "nginx: recording differs from the source");
    eprintln!("NMS and nginx over TLS: {} packets identical", want.len());
}

#[test]
#[ignore = "needs Node.js, node-media-server@4 and openssl; run by scripts/test.sh"]
fn wrong_host_and_untrusted_ca_fail_in_one_line() {
    let dir = scratch("rtmps-refused");
    let src = make_source(&dir, "source", "baseline", false, 1);
    // A certificate for another name, from the CA we trust.
    let other = TestCa::new("rtmps-other-name", &["rtmp.example"]);
    let nms =
        Nms::start("rtmps-wrong", NmsOptions { record: false, tls: Some((other.cert.clone(), other.key.clone())) });
    let url = format!("rtmps://localhost:{}/live/s", nms.rtmps_port);
    let t = Instant::now();
    let out = push(&src, &url, &other.ca, &["--fast", "--timeout", "5", "--max-retries", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("not valid for the host name \"localhost\""), "{err}");
    // The right name, but a CA we do not trust (the system's roots).
    let good = TestCa::new("rtmps-untrusted", &["localhost"]);
    drop(nms);
    let nms = Nms::start(
        "rtmps-untrusted-nms",
        NmsOptions { record: false, tls: Some((good.cert.clone(), good.key.clone())) },
    );
    let url = format!("rtmps://localhost:{}/live/s", nms.rtmps_port);
    let out = push(&src, &url, &other.ca, &["--fast", "--timeout", "5", "--max-retries", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("localhost") && err.contains("unknown authority"), "{err}");
    eprintln!("refusals: {}", err.trim());
    // Roots named in SSL_CERT_FILE that do not load: said so, no quiet fallback.
    let missing = dir.join("no-such-ca.pem");
    let out = push(&src, &url, &missing, &["--fast", "--timeout", "5", "--max-retries", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("no CA certificate loaded from SSL_CERT_FILE="), "{err}");
    eprintln!("bad SSL_CERT_FILE: {}", err.trim());
}

/// A server that accepts TCP, then does `behave` with the connection.
fn hostile(behave: fn(std::net::TcpStream)) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        while let Ok((s, _)) = l.accept() {
            std::thread::spawn(move || behave(s));
        }
    });
    port
}

#[test]
#[ignore = "needs openssl; run by scripts/test.sh"]
fn servers_that_stall_or_send_garbage_in_the_handshake_fail_cleanly() {
    let ca = TestCa::new("rtmps-hostile", &["localhost"]);
    let dir = scratch("rtmps-hostile-src");
    let src = make_source(&dir, "source", "baseline", false, 1);
    let stall = hostile(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf); // the ClientHello, never answered
        std::thread::sleep(Duration::from_secs(30));
    });
    let garbage = hostile(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS at all");
        std::thread::sleep(Duration::from_secs(5));
    });
    let closer = hostile(|mut s| {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
    });
    for (port, want) in [(stall, "did not finish within"), (garbage, "failed"), (closer, "closed the connection")] {
        let t = Instant::now();
        let url = format!("rtmps://localhost:{port}/live/s");
        let out = push(&src, &url, &ca.ca, &["--fast", "--timeout", "3", "--max-retries", "0"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(t.elapsed() < Duration::from_secs(5), "{want}: took {:?}", t.elapsed());
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(want) && err.contains("localhost"), "{want}: {err}");
        eprintln!("{:?}: {}", t.elapsed(), err.trim());
    }
}

#[test]
#[ignore = "needs ffmpeg 9 and openssl; run by scripts/test.sh"]
fn rtmp_serve_over_tls_takes_ffmpeg9_publishing_and_playing() {
    let ca = TestCa::new("rtmps-serve", &["localhost", "127.0.0.1"]);
    let dir = scratch("rtmps-serve-src");
    let src = make_source(&dir, "source", "high", true, 4);
    let want = framemd5(&src);
    let rec = dir.join("rec");
    let (mut serve, addr) = serve_tls(&ca, &dir);
    let url = format!("rtmps://{addr}/live/ff");
    let played = dir.join("played.flv");
    // ffmpeg 9 (OpenSSL) verifies the certificate too: against the test CA.
    let player = Command::new(common::ffmpeg9())
        .env("SSL_CERT_FILE", &ca.ca)
        .args(["-nostdin", "-loglevel", "error", "-y", "-rw_timeout", "15000000", "-i", &url, "-c", "copy"])
        .arg(&played)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // rtmp-pull plays it over TLS too, by name (the certificate says localhost).
    let pulled = dir.join("pulled.flv");
    let pull = common::start_pull(&url.replace("127.0.0.1", "localhost"), &pulled, Some(&ca.ca));
    let out = common::run(Command::new(common::ffmpeg9()).env("SSL_CERT_FILE", &ca.ca).args([
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-i",
        src.to_str().unwrap(),
        "-c",
        "copy",
        "-f",
        "flv",
        &url,
    ]));
    assert!(out.status.success(), "ffmpeg 9 publishing over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let out = player.wait_with_output().unwrap();
    assert!(played.exists(), "ffmpeg 9 played nothing over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let out = pull.wait_with_output().unwrap();
    assert!(out.status.success(), "rtmp-pull over TLS: {}", String::from_utf8_lossy(&out.stderr));
    let recorded = rec.join("live").join("ff.flv");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !recorded.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = serve.kill();
    let _ = serve.wait();
    for (path, name) in [(&recorded, "recorded"), (&played, "played"), (&pulled, "pulled")] {
        let (matched, to_end) = contiguous_run(&framemd5(path), &want).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(to_end, "{name}: to the end");
        assert!(matched * 10 >= want.len() * 9, "{name}: {matched} of {} packets", want.len());
        eprintln!("{name} over TLS: {matched} of {} packets identical", want.len());
    }
}

/// `rtmp-serve` with RTMP and RTMPS, recording under `dir/rec`; returns the
/// child and the RTMPS address.
fn serve_tls(ca: &TestCa, dir: &Path) -> (std::process::Child, String) {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_rtmp-serve"))
        .args(["--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "-q", "--record"])
        .arg(dir.join("rec"))
        .arg("--tls-cert")
        .arg(&ca.cert)
        .arg("--tls-key")
        .arg(&ca.key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let _plain = lines.next().unwrap().unwrap();
    let tls_line = lines.next().unwrap().unwrap();
    let addr = tls_line.strip_prefix("rtmp-serve: listening on rtmps://").expect(&tls_line).to_string();
    (serve, addr)
}

#[test]
#[ignore = "needs openssl and ffmpeg; run by scripts/test.sh"]
fn the_camera_over_tls_reconnects_and_detects_a_dead_link() {
    use board::audio::{AudioConfig, AudioIn};
    use board::camera::{Camera, CameraConfig};
    use board::pipeline::{LinkOptions, LinkState, Rtmp};
    use board::sys::Sys;
    let ca = TestCa::new("rtmps-link", &["localhost"]);
    // nginx-rtmp behind TLS termination: its `link` application drops a
    // publisher idle for 6 s (the stale connection a black hole leaves).
    let (_nginx, tls_port) = start_nginx_tls("rtmps-link-nginx", &ca.cert, &ca.key);
    let proxy = common::fault_proxy::FaultProxy::start(([127, 0, 0, 1], tls_port).into());
    // The process's own roots: the camera's TLS trusts the test CA.
    std::env::set_var("SSL_CERT_FILE", &ca.ca);
    let url = format!("rtmps://localhost:{}/link/cam", proxy.addr.port());
    let sys = Sys::get().unwrap();
    let mut r = Rtmp::from_url(&url).unwrap();
    r.set_link_options(LinkOptions {
        link_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(3),
        ..LinkOptions::default()
    })
    .unwrap();
    r.bind_camera(Camera::open(&sys, CameraConfig::default()).unwrap()).unwrap();
    r.bind_audio_recorder(AudioIn::open(&sys, AudioConfig::default()).unwrap()).unwrap();
    r.start().unwrap();
    let wait = |what: &str, limit: Duration, f: &dyn Fn(&board::pipeline::Stats) -> bool| {
        let t0 = Instant::now();
        loop {
            let s = r.stats();
            if f(&s) {
                return t0.elapsed();
            }
            assert!(t0.elapsed() < limit, "{what} not within {limit:?}: {s:?} ({:?})", r.last_error());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("live over TLS", Duration::from_secs(5), &|s| s.state == LinkState::Live && s.video_frames > 30);
    // Connections reset: back over a new TLS session.
    proxy.reset_all();
    wait("reconnected", Duration::from_secs(8), &|s| s.reconnects >= 1 && s.state == LinkState::Live);
    // A black hole: nothing moves, no FIN. The link watch notices within
    // its timeout, then the camera comes back once the path heals.
    std::thread::sleep(Duration::from_secs(2));
    proxy.blackhole(true, true);
    let detected = wait("dead link noticed", Duration::from_secs(8), &|s| s.state == LinkState::Reconnecting);
    proxy.blackhole(false, false);
    proxy.heal_new();
    let back = wait("live again", Duration::from_secs(15), &|s| s.reconnects >= 2 && s.state == LinkState::Live);
    std::thread::sleep(Duration::from_secs(2));
    let stats = r.stop().unwrap();
    eprintln!("over TLS: dead link noticed after {detected:?}, live again {back:?} after healing; {stats:?}");
    assert!(stats.reconnects >= 2 && stats.video_frames > 200, "{stats:?}");
}
