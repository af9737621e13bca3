//! The server, pull and push libraries against each other in one process,
//! over real sockets on 127.0.0.1: no external peer needed.

use board::pull::{FrameKind, PullBuffers, PullOptions, RtmpPull};
use board::push::{PushBuffers, PushOptions, RtmpPush};
use board::serve::{RtmpServer, ServeOptions, ServeStats};
use rtmp_core::flv::media::CodecConfig;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// ffmpeg's AVC sequence header for x264 160x120 High 1.0.
const AVC_SEQUENCE_HEADER: &[u8] = &[
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9,
    0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x05, 0x03, 0xc4, 0x89, 0x65, 0x80,
    0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
];

struct Running {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<ServeStats>,
}

fn serve(opts: ServeOptions) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut server =
            RtmpServer::bind(ServeOptions { listen: "127.0.0.1:0".parse().unwrap(), log: false, ..opts }).unwrap();
        tx.send(server.local_addr().unwrap()).unwrap();
        server.run(&flag).unwrap();
        server.stats()
    });
    Running { addr: rx.recv().unwrap(), stop, thread }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("rtmp://{}/{path}", self.addr)
    }
    fn finish(self) -> ServeStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Frame `i` of a synthetic stream: a keyframe every 25, distinct bytes.
fn video(i: u32, len: usize) -> Vec<u8> {
    let mut body = vec![if i % 25 == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
    body.extend((0..len).map(|k| (k as u32 ^ i.wrapping_mul(2_654_435_761)) as u8));
    body
}

#[test]
fn push_serve_pull_in_process() {
    let server = serve(ServeOptions::default());
    let url = server.url("live/cam?token=abc");
    // The player comes first and waits for the publisher.
    let puller = {
        let url = url.clone();
        std::thread::spawn(move || {
            let mut bufs = PullBuffers::new();
            let pull = RtmpPull::connect(&url, &mut bufs, PullOptions::default()).unwrap();
            pull.into_frames().collect::<Result<Vec<_>, _>>().unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(&url, &mut bufs, PushOptions::default()).unwrap();
    let aac = [0xAF, 0, 0x12, 0x10];
    push.send(9, 0, &[AVC_SEQUENCE_HEADER]).unwrap();
    push.send(8, 0, &[&aac]).unwrap();
    let mut sent = Vec::new();
    for i in 0..100u32 {
        let body = video(i, 1000 + (i as usize * 997) % 20_000);
        // Sent in two parts, as the packager does.
        push.send(9, i * 40, &[&body[..5], &body[5..]]).unwrap();
        sent.push(body);
    }
    push.close().unwrap();
    let frames = puller.join().unwrap();
    let stats = server.finish();

    assert!(matches!(frames[0].config, Some(CodecConfig::Avc { sps, .. }) if (sps.width, sps.height) == (160, 120)));
    assert!(matches!(frames[1].config, Some(CodecConfig::Aac(c)) if c.sample_rate() == 44100));
    let media: Vec<_> = frames[2..].iter().collect();
    assert_eq!(media.len(), sent.len(), "every frame arrives, then the stream ends");
    for (i, (got, want)) in media.iter().zip(&sent).enumerate() {
        assert_eq!((got.kind, got.timestamp, got.keyframe), (FrameKind::Video, i as u32 * 40, i % 25 == 0));
        assert!(got.payload == want[..], "frame {i} differs");
    }
    assert_eq!((stats.publishes, stats.messages_in, stats.dropped), (1, 102, 0));
}

#[test]
fn a_player_that_stops_reading_costs_bounded_memory_and_skips_to_keyframes() {
    let server = serve(ServeOptions { player_queue: 256 * 1024, ..ServeOptions::default() });
    let url = server.url("live/slow");
    let mut pbufs = PullBuffers::new();
    // Connected and playing, then never reads again.
    let stalled = RtmpPull::connect(&url, &mut pbufs, PullOptions::default()).unwrap();
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(&url, &mut bufs, PushOptions::default()).unwrap();
    push.send(9, 0, &[AVC_SEQUENCE_HEADER]).unwrap();
    let started = Instant::now();
    // 40 MB: far more than the socket buffers and the player's queue hold.
    for i in 0..1000u32 {
        let body = video(i, 40_000);
        push.send(9, i * 40, &[&body]).unwrap();
    }
    push.close().unwrap();
    // The publisher was never held up by the stalled player.
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    drop(stalled);
    let stats = server.finish();
    assert_eq!(stats.messages_in, 1001);
    assert!(stats.dropped > 500, "{stats:?}");
}

#[test]
fn second_publisher_and_unsafe_names_are_refused() {
    let server =
        serve(ServeOptions { record: Some(std::env::temp_dir().join("serve-inproc-rec")), ..Default::default() });
    let url = server.url("live/once");
    let (mut b1, mut b2) = (PushBuffers::new(), PushBuffers::new());
    let first = RtmpPush::connect(&url, &mut b1, PushOptions::default()).unwrap();
    let err = RtmpPush::connect(&url, &mut b2, PushOptions::default()).err().unwrap();
    assert_eq!(err.refusal().map(|r| r.0), Some("NetStream.Publish.BadName"));
    first.close().unwrap();
    for bad in ["live/..", "live/a\\b", "live/%2e%2e"] {
        let mut b = PushBuffers::new();
        let url = server.url(bad);
        match RtmpPush::connect(&url, &mut b, PushOptions::default()) {
            Err(e) => assert_eq!(e.refusal().map(|r| r.0), Some("NetStream.Publish.BadName"), "{bad}: {e}"),
            // Percent signs are ordinary characters in a file name.
            Ok(p) if bad.contains('%') => drop(p.close()),
            Ok(_) => panic!("{bad} accepted"),
        }
    }
    let stats = server.finish();
    assert_eq!(stats.publishes, 2);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("serve-inproc-rec"));
}

#[test]
fn a_silent_publisher_is_dropped_and_its_name_freed() {
    let server = serve(ServeOptions { publisher_timeout: std::time::Duration::from_millis(800), ..Default::default() });
    let url = server.url("live/stale");
    let mut b1 = PushBuffers::new();
    // A publisher whose link went into a black hole: connected, silent.
    let stale = RtmpPush::connect(&url, &mut b1, PushOptions::default()).unwrap();
    let t = std::time::Instant::now();
    let waited = loop {
        let mut b2 = PushBuffers::new();
        match RtmpPush::connect(&url, &mut b2, PushOptions::default()) {
            Ok(fresh) => {
                let waited = t.elapsed();
                fresh.close().unwrap();
                break waited;
            }
            Err(e) => {
                assert_eq!(e.refusal().map(|r| r.0), Some("NetStream.Publish.BadName"), "{e}");
                assert!(t.elapsed() < std::time::Duration::from_secs(5), "still refused after {:?}", t.elapsed());
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    };
    assert!(waited >= std::time::Duration::from_millis(700), "refused while the first was live ({waited:?})");
    drop(stale);
    assert_eq!(server.finish().publishes, 2);
}

#[test]
fn send_paced_keeps_to_real_time_and_ahead_of_real_time_says_by_how_much() {
    let server = serve(ServeOptions::default());
    let url = server.url("live/paced");
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(&url, &mut bufs, PushOptions::default()).unwrap();
    assert_eq!(push.ahead_of_real_time(), Duration::ZERO, "nothing sent yet");
    push.send(9, 0, &[AVC_SEQUENCE_HEADER]).unwrap();
    let start = Instant::now();
    for i in 0..10u32 {
        push.send_paced(9, i * 100, &[&video(i, 500)]).unwrap();
        assert!(push.ahead_of_real_time() < Duration::from_millis(50), "paced: not ahead");
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_millis(1500), "{took:?}");
    // Unpaced, two more seconds of frames at once: about 2 s ahead.
    for i in 10..30u32 {
        push.send(9, i * 100, &[&video(i, 500)]).unwrap();
    }
    let ahead = push.ahead_of_real_time();
    assert!(ahead > Duration::from_millis(1700) && ahead <= Duration::from_millis(2000), "{ahead:?}");
    // A late frame (its time has passed) goes at once.
    let t = Instant::now();
    push.send_paced(9, 500, &[&video(30, 500)]).unwrap();
    assert!(t.elapsed() < Duration::from_millis(100));
    push.close().unwrap();
    server.finish();
}
