//! A server that stops reading must not hang the pusher: once the socket's
//! buffers are full, a write stalled for the timeout is an error naming the
//! server and the step.

use board::push::{PushBuffers, PushOptions, RtmpPush};
mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn stalled_server_is_an_error_not_a_hang() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let _held = common::accept_recorded_publish(&listener);
        // Read nothing more; hold the connection open until the test is done.
        let _ = stop_rx.recv_timeout(Duration::from_secs(60));
    });
    let url = format!("rtmp://127.0.0.1:{port}/live/cap");
    let mut bufs = PushBuffers::new();
    let opts = PushOptions { link_timeout: Duration::from_secs(1), ..PushOptions::default() };
    let mut push = RtmpPush::connect(&url, &mut bufs, opts).unwrap();
    let frame = vec![0x41u8; 64 * 1024];
    let header = [0x27u8, 1, 0, 0, 0];
    let started = Instant::now();
    let err =
        (0..4000u32).find_map(|i| push.send(9, i * 33, &[&header, &frame]).err()).expect("a stalled write must fail");
    let took = started.elapsed();
    let _ = stop_tx.send(());
    server.join().unwrap();
    assert!(matches!(&err.kind, board::RtmpErrorKind::Dead(rtmp_core::live::DeadLink::Stalled)), "{err}");
    assert_eq!(err.step, "send");
    assert!(err.to_string().starts_with(&format!("127.0.0.1:{port}: send: ")), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::TimedOut);
}
