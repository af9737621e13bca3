//! Zero heap allocations per frame in steady state: the core has none, and
//! the driver must not add any. A counting allocator (counting on the test
//! thread only) wraps `RtmpPush::send` while a server thread on 127.0.0.1
//! replays nginx-rtmp's recorded answers and reads what we send. Over TLS
//! the figure per frame is measured and bounded (rustls's buffered API
//! allocates each record it encrypts).

mod common;

use board::push::{PushBuffers, PushOptions, RtmpPush};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards every call unchanged to the system allocator; counting
// touches only an atomic and a const-initialised thread-local (which does
// not allocate).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Answers a publisher with nginx's recorded replies to ffmpeg (the same
/// transaction ids as ours) on `s`, then reads until it closes; returns the
/// bytes received.
fn answer_and_drain(mut s: impl Read + Write) -> u64 {
    let answers =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../rtmp-core/tests/data/ffmpeg-publish-s2c.bin")).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < 1537 {
        got += s.read(&mut buf[got..]).unwrap();
    }
    s.write_all(&answers).unwrap();
    let mut total = got as u64;
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += n as u64,
        }
    }
}

/// Connects to `url`, warms up with 10 video and audio messages, then
/// sends 300 more of each (a 50 kB frame, a small audio frame) counting
/// this thread's allocations; closes. Returns the allocations and the stats.
fn send_counted(url: &str) -> (usize, board::push::PushStats) {
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(url, &mut bufs, PushOptions::default()).unwrap();
    let header = [0x27u8, 1, 0, 0, 0];
    let frame = vec![0x41u8; 50_000];
    let audio = [0xAFu8, 1, 0x21, 0x10, 0x04];
    // Warm up: the first messages set up chunk stream state.
    for i in 0..10u32 {
        push.send(9, i * 33, &[&header, &frame]).unwrap();
        push.send(8, i * 23, &[&audio]).unwrap();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    for i in 10..10 + FRAMES {
        push.send(9, i * 33, &[&header, &frame]).unwrap();
        push.send(8, i * 23, &[&audio]).unwrap();
        push.idle_until(std::time::Instant::now()).unwrap();
    }
    COUNT_HERE.with(|c| c.set(false));
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    (allocations, push.close().unwrap())
}

/// Video (and audio) messages counted by [`send_counted`].
const FRAMES: u32 = 300;

#[test]
fn steady_state_sends_allocate_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || answer_and_drain(listener.accept().unwrap().0));
    let (allocations, stats) = send_counted(&format!("rtmp://127.0.0.1:{port}/live/cap"));
    let received = server.join().unwrap();
    assert_eq!(allocations, 0, "allocations while sending 600 messages");
    assert!(stats.messages_sent == 620 && received >= stats.bytes_sent, "{stats:?}, server got {received}");
}

#[test]
fn steady_state_sends_over_tls_allocate_per_record_only() {
    let ca = common::tls::TestCa::new("no-alloc-tls", &["localhost"]);
    let config = board::tls::server_config(&ca.cert, &ca.key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let conn = rustls::ServerConnection::new(config).unwrap();
        answer_and_drain(rustls::StreamOwned::new(conn, listener.accept().unwrap().0))
    });
    // This process trusts the test CA.
    std::env::set_var("SSL_CERT_FILE", &ca.ca);
    let (allocations, stats) = send_counted(&format!("rtmps://localhost:{port}/live/cap"));
    let received = server.join().unwrap();
    let frames = FRAMES;
    // A 50 kB frame is 4 TLS records of at most 16 kB, its audio one more;
    // with a 16 KiB TLS buffer each write takes at most a record, so the
    // chunk boundaries cut more records (10 allocations a frame measured).
    let per_frame = allocations as f64 / f64::from(frames);
    eprintln!(
        "over TLS: {allocations} allocations for {frames} video + {frames} audio messages: {per_frame:.1} per frame"
    );
    assert!(per_frame <= 16.0, "{per_frame} allocations per frame over TLS");
    assert!(stats.messages_sent == 620 && received >= 620 * 5, "{stats:?}, server got {received}");
}
