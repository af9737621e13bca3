//! Per-frame CPU of the board pipeline's network side, excluding the
//! encoder: for each encoded 640x480 H.264 frame (host SDK camera and
//! OpenH264, encoding untimed), the thread CPU time of
//!
//! * `GetStream`: `QueryStatus` + `GetStream` (maps the stream),
//! * `package+chunk`: the board's own work: packaging the packs (no copy)
//!   and chunking through a publishing session, then one `writev` of the
//!   gather list to `/dev/null` (so the kernel's TCP cost stays out),
//! * `send (TCP)`: the same through `RtmpPush::send` to a loopback TCP
//!   socket read by an `RtmpServer` thread (the kernel's TCP send included),
//! * `ReleaseStream` (unmaps it).
//!
//! Not criterion: each frame needs a camera frame and an encode (ms) that
//! must stay out of the measurement, so the harness times the three steps
//! itself with `CLOCK_THREAD_CPUTIME_ID` over 600 frames (30 with
//! `--test`) and prints mean and median per step. Target: the board's own
//! work (`package+chunk`) under 5 µs a frame.

use board::camera::{Camera, CameraConfig};
use board::net::write_gathered;
use board::pipeline::send_stream;
use board::push::{PushBuffers, PushOptions, RtmpPush};
use board::serve::{RtmpServer, ServeOptions};
use board::sys::Sys;
use board::venc::{Venc, VencConfig};
use rtmp_core::flv::avc::AvcPackager;
use rtmp_core::flv::video::{Codec, VideoPackager};
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Event, Publisher, PublisherConfig, Server, ServerConfig, ServerEvent};
use rtmp_core::time::{Instant, RtmpTimestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

fn stats(name: &str, mut ns: Vec<u64>) -> f64 {
    ns.sort_unstable();
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0;
    let median = ns[ns.len() / 2] as f64 / 1000.0;
    let p90 = ns[ns.len() * 9 / 10] as f64 / 1000.0;
    println!("{name:<14} mean {mean:7.2} µs   median {median:7.2} µs   p90 {p90:7.2} µs");
    median
}

/// A publisher and a server in memory, until the publisher publishes.
fn publishing<'a>(prx: &'a mut [u8], srx: &'a mut [u8]) -> (Publisher<'a>, Server<'a>) {
    let cfg = PublisherConfig::new("live", "cam", "rtmp://127.0.0.1/live");
    let mut p = Publisher::new(cfg, prx, Instant::ZERO, &[1; RANDOM_LEN]);
    let mut s = Server::new(ServerConfig::default(), srx, Instant::ZERO, &[2; RANDOM_LEN]);
    let (mut to_s, mut to_p) = (Vec::new(), Vec::new());
    loop {
        while let Some(b) = p.poll_transmit() {
            let n = b.len();
            to_s.extend_from_slice(b);
            p.transmitted(n);
        }
        let n = s.handle_input(Instant::ZERO, &to_s).unwrap();
        to_s.drain(..n);
        let mut accept = None;
        while let Some(e) = s.poll_event() {
            if let ServerEvent::PublishRequest { stream_id, .. } = e {
                accept = Some(stream_id);
            }
        }
        if let Some(id) = accept {
            s.accept_publish(id).unwrap();
        }
        while let Some(b) = s.poll_transmit() {
            let n = b.len();
            to_p.extend_from_slice(b);
            s.transmitted(n);
        }
        let n = p.handle_input(Instant::ZERO, &to_p).unwrap();
        to_p.drain(..n);
        while let Some(e) = p.poll_event() {
            if matches!(e, Event::PublishStarted { .. }) {
                while let Some(b) = p.poll_transmit() {
                    let n = b.len();
                    p.transmitted(n);
                }
                return (p, s);
            }
        }
    }
}

fn main() {
    let test = std::env::args().any(|a| a == "--test");
    let frames = if test { 30 } else { 600 };

    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let flag = stop.clone();
    let server = std::thread::spawn(move || {
        let opts = ServeOptions { listen: "127.0.0.1:0".parse().unwrap(), log: false, ..ServeOptions::default() };
        let mut s = RtmpServer::bind(opts).unwrap();
        tx.send(s.local_addr().unwrap()).unwrap();
        s.run(&flag).unwrap();
    });
    let url = format!("rtmp://{}/live/bench", rx.recv().unwrap());
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(&url, &mut bufs, PushOptions::default()).unwrap();

    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, CameraConfig { width: 640, height: 480, fps: 120, depth: 2 }).unwrap();
    let mut venc = Venc::create(&sys, VencConfig::h264(640, 480, 30, 1_000_000)).unwrap();
    let mut packager = VideoPackager::new(Codec::H264);
    let mut own_packager = AvcPackager::new();
    let (mut prx, mut srx) = (vec![0u8; 8192], vec![0u8; 1 << 20]);
    let (mut publisher, _server) = publishing(&mut prx, &mut srx);
    let mut null = std::fs::OpenOptions::new().write(true).open("/dev/null").unwrap();
    let (mut get, mut own, mut send, mut release, mut bytes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), 0usize);
    for i in 0..frames {
        let f = cam.frame(Some(Duration::from_secs(1))).unwrap().unwrap();
        venc.send_frame(&f, Duration::ZERO).unwrap();
        drop(f);
        let t0 = thread_cpu_ns();
        let stream = venc.stream(Some(Duration::ZERO)).unwrap().expect("a stream after SendFrame");
        let t1 = thread_cpu_ns();
        {
            let (config, frame) =
                own_packager.package_nal_units::<16>(stream.packs().filter_map(|p| p.nal_unit()), 0).unwrap();
            if let Some(seq) = config {
                let seq = [seq];
                let msg = publisher.send_video(RtmpTimestamp(i * 33), &seq).unwrap();
                let _ = write_gathered(&mut null, [&msg]);
            }
            let mut slots: [&[u8]; 33] = [&[]; 33];
            let parts = frame.parts(&mut slots).unwrap();
            let msg = publisher.send_video(RtmpTimestamp(i * 33), parts).unwrap();
            let _ = write_gathered(&mut null, [&msg]);
        }
        let t2 = thread_cpu_ns();
        bytes += send_stream(&mut push, stream.as_packs(), &mut packager, i * 33).unwrap();
        let t3 = thread_cpu_ns();
        drop(stream);
        let t4 = thread_cpu_ns();
        get.push(t1 - t0);
        own.push(t2 - t1);
        send.push(t3 - t2);
        release.push(t4 - t3);
    }
    push.close().unwrap();
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();

    println!(
        "board pipeline, network side, {frames} frames of 640x480 H.264 ({} bytes each on average):",
        bytes / frames as usize
    );
    let board = stats("package+chunk", own);
    let tcp = stats("send (TCP)", send);
    let g = stats("GetStream", get);
    let r = stats("ReleaseStream", release);
    println!(
        "board work per frame (median): {board:.2} µs (target < 5 µs); through loopback TCP {tcp:.2} µs; \
         plus the host SDK's GetStream/ReleaseStream {:.2} µs",
        g + r
    );
}
