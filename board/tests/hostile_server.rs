//! `rtmp-push` must not report success for a stream the server did not
//! take: a server that accepts the publish, then announces a huge chunk
//! size and a 16 MiB message and trickles its bytes, makes the push fail.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn hostile_server(trickle: bool, done: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut s = common::accept_recorded_publish(&listener);
        // Set Chunk Size 2^31 - 1, then a command message announced at 16 MiB - 1.
        let mut hostile = vec![0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
        hostile.extend_from_slice(&[0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0]);
        hostile.extend_from_slice(&[0x02; 64]);
        let _ = s.set_nonblocking(true);
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut sink = [0u8; 65536];
        let mut at = 0;
        while Instant::now() < deadline && !done.load(Ordering::Relaxed) {
            // Read whatever the pusher sends; never close, even after its FIN.
            match s.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
            if at < hostile.len() {
                let n = if trickle { 1 } else { hostile.len() - at };
                if s.write_all(&hostile[at..at + n]).is_ok() {
                    at += n;
                }
            }
        }
    });
    (port, server)
}

/// A short FLV: header, one AVC sequence header and two frames.
#[cfg(not(target_arch = "riscv64"))]
fn small_flv(dir: &std::path::Path) -> std::path::PathBuf {
    let mut f = b"FLV\x01\x01\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    let mut tag = |ts: u32, body: &[u8]| {
        let len = body.len() as u32;
        f.extend_from_slice(&[9, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
        f.extend_from_slice(&[(ts >> 16) as u8, (ts >> 8) as u8, ts as u8, (ts >> 24) as u8, 0, 0, 0]);
        f.extend_from_slice(body);
        f.extend_from_slice(&(len + 11).to_be_bytes());
    };
    tag(0, &[0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 2, 0x68, 0xce]);
    tag(0, &[0x17, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, 0x84]);
    tag(33, &[0x27, 1, 0, 0, 0, 0, 0, 0, 3, 0x41, 0x9a, 0x02]);
    let path = dir.join("small.flv");
    std::fs::write(&path, f).unwrap();
    path
}

/// The library: `RtmpPush::close` reports the broken stream.
#[test]
fn close_fails_when_the_server_breaks_the_protocol_after_publish() {
    use board::push::{PushBuffers, PushOptions, RtmpPush};
    for trickle in [false, true] {
        let done = Arc::new(AtomicBool::new(false));
        let (port, server) = hostile_server(trickle, done.clone());
        let url = format!("rtmp://127.0.0.1:{port}/live/cam");
        let mut bufs = PushBuffers::new();
        let mut push = RtmpPush::connect(&url, &mut bufs, PushOptions::default()).unwrap();
        let frame = [0x17u8, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, 0x84];
        // The server's bytes may arrive while sending or only while closing.
        let sent = (0..3).try_for_each(|i| push.send(9, i * 33, &[&frame]));
        let result = sent.and_then(|()| push.close().map(|_| ()));
        done.store(true, Ordering::Relaxed);
        let err = result.expect_err("a stream the server broke is not reported as sent");
        assert!(err.to_string().contains("bad chunk stream"), "trickle {trickle}: {err}");
        server.join().unwrap();
    }
}

/// The program: `rtmp-push --fast` exits non-zero. (Not under qemu-user,
/// which cannot start the cross-built program from the test.)
#[cfg(not(target_arch = "riscv64"))]
#[test]
fn push_fails_when_the_server_breaks_the_protocol_after_publish() {
    let dir = std::env::temp_dir().join(format!("hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let flv = small_flv(&dir);
    for trickle in [false, true] {
        let done = Arc::new(AtomicBool::new(false));
        let (port, server) = hostile_server(trickle, done.clone());
        let out = Command::new(env!("CARGO_BIN_EXE_rtmp-push"))
            .args(["--fast", "-q"])
            .arg(&flv)
            .arg(format!("rtmp://127.0.0.1:{port}/live/cam"))
            .output()
            .unwrap();
        done.store(true, Ordering::Relaxed);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "exit 0 for a stream the server broke (trickle {trickle}): {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}")) && err.contains("bad chunk stream"), "{err}");
        server.join().unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}
