//! Enhanced RTMP v2 `NetConnection.Connect.ReconnectRequest`: the camera
//! pipeline finishes its GOP, then moves to the `tcUrl` the server gave,
//! keeping its stream name and key. Two in-process servers answer with
//! nginx-rtmp's recorded replies; the first asks the camera to move.

use board::camera::{Camera, CameraConfig};
use board::pipeline::{LinkState, Rtmp};
use board::sys::Sys;
mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Serves one publisher: nginx's recorded answers, then reads until the
/// client closes (counting bytes), sending `request` after 1.5 s.
fn fake_server(request: Option<String>) -> (u16, Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(AtomicU64::new(0));
    let counted = got.clone();
    let t = std::thread::spawn(move || {
        let mut s = common::accept_recorded_publish(&listener);
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let start = Instant::now();
        let mut request = request;
        let mut buf = [0u8; 65536];
        while start.elapsed() < Duration::from_secs(40) {
            match s.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    counted.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
            if start.elapsed() > Duration::from_millis(1500) {
                if let Some(tc_url) = request.take() {
                    let mut body = [0u8; 512];
                    let n = rtmp_core::amf0::encode(&mut body, |w| {
                        w.string("onStatus").number(0.0).null().object_start();
                        w.key("level").string("status");
                        w.key("code").string("NetConnection.Connect.ReconnectRequest");
                        w.key("description").string("moving");
                        w.key("tcUrl").string(&tc_url);
                        w.object_end();
                    })
                    .unwrap();
                    let mut msg = vec![0x03, 0, 0, 0, 0, (n >> 8) as u8, n as u8, 20, 0, 0, 0, 0];
                    msg.extend_from_slice(&body[..n]);
                    s.write_all(&msg).unwrap();
                }
            }
        }
    });
    (port, got, t)
}

#[test]
fn camera_moves_to_the_servers_new_address_at_a_keyframe() {
    let (port_b, got_b, b) = fake_server(None);
    let (port_a, got_a, a) = fake_server(Some(format!("rtmp://127.0.0.1:{port_b}/live")));
    let sys = Sys::get().unwrap();
    let mut r = Rtmp::from_url(&format!("rtmp://127.0.0.1:{port_a}/live/cap?key=1")).unwrap();
    r.bind_camera(Camera::open(&sys, CameraConfig { width: 320, height: 240, ..CameraConfig::default() }).unwrap())
        .unwrap();
    r.start().unwrap();
    let t0 = Instant::now();
    while !(r.stats().reconnects == 1 && r.stats().state == LinkState::Live) {
        assert!(t0.elapsed() < Duration::from_secs(25), "did not move: {:?} {:?}", r.stats(), r.last_error());
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first server saw our unpublish and close; the second gets the stream.
    a.join().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let stats = r.stop().unwrap();
    b.join().unwrap();
    let (sent_a, sent_b) = (got_a.load(Ordering::Relaxed), got_b.load(Ordering::Relaxed));
    assert!(sent_a > 10_000 && sent_b > 10_000, "{sent_a} then {sent_b} bytes");
    assert_eq!(stats.reconnects, 1);
    // The move costs at most the keyframe that starts the new connection.
    assert!(stats.drops.disconnected <= 1, "{:?}", stats.drops);
    assert!(r.last_error().is_none(), "a planned move is not a failure: {:?}", r.last_error());
}
