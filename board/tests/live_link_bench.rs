//! The live-link benchmark behind `benches/live_link.sh`: the camera and
//! `ffmpeg -re -c copy` (same H.264 + AAC, recorded from the camera first,
//! no adaptation of its own) each push through a fault proxy throttled to
//! half the camera's bitrate for 30 s, at the same time, to nginx-rtmp. A
//! player per stream on nginx measures how far the stream at the server
//! lags real time, sampled each second: the growth of (arrival time since
//! the first frame) minus (timestamp since the first frame). Then nginx is
//! killed and restarted, and the camera's time back on it is printed.
//!
//! Run with `--ignored --nocapture`; it prints its table and fails if the
//! camera's lag reaches 1 s.

mod common;

use board::audio::{AudioConfig, AudioIn};
use board::camera::{Camera, CameraConfig};
use board::pipeline::{LinkOptions, LinkState, Rtmp};
use board::pull::FrameKind;
use board::sys::Sys;
use common::fault_proxy::FaultProxy;
use common::start_nginx;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BITRATE: u32 = 1_000_000;

fn camera(url: &str) -> Rtmp {
    let sys = Sys::get().unwrap();
    let mut r = Rtmp::from_url(url).unwrap();
    r.set_bitrate(BITRATE);
    r.set_link_options(LinkOptions { link_timeout: Duration::from_secs(3), ..LinkOptions::default() }).unwrap();
    r.bind_camera(Camera::open(&sys, CameraConfig::default()).unwrap()).unwrap();
    r.bind_audio_recorder(AudioIn::open(&sys, AudioConfig::default()).unwrap()).unwrap();
    r.start().unwrap();
    r
}

/// Plays `url` and keeps the stream's current lag behind real time (µs).
fn lag_meter(url: &str) -> Arc<AtomicU64> {
    let lag = Arc::new(AtomicU64::new(0));
    let (out, url) = (lag.clone(), url.to_string());
    std::thread::spawn(move || {
        let mut first: Option<(Instant, u32)> = None;
        common::play_with_retry(&url, Duration::from_secs(20), Duration::from_secs(20), |f| {
            if f.kind == FrameKind::Video && f.config.is_none() {
                let (a0, t0) = *first.get_or_insert((Instant::now(), f.timestamp));
                let arrived = a0.elapsed().as_micros() as i64;
                let media = i64::from(f.timestamp.wrapping_sub(t0)) * 1000;
                out.store((arrived - media).max(0) as u64, Ordering::Relaxed);
            }
            true
        })
    });
    lag
}

#[test]
#[ignore = "benchmark: benches/live_link.sh runs it"]
fn live_link_against_ffmpeg() {
    let mut nginx = start_nginx("live-link-bench");
    let secs = 30;

    // The source for ffmpeg: the camera's own stream, recorded by nginx.
    eprintln!("recording {} s of the camera (640x480, 1 Mbit/s, AAC) for ffmpeg's input...", secs + 8);
    let mut r = camera(&nginx.url("rec/source"));
    std::thread::sleep(Duration::from_secs(secs + 8));
    r.stop().unwrap();
    drop(r);
    let source = nginx.recording("source");

    let ours = FaultProxy::start(nginx.addr());
    let theirs = FaultProxy::start(nginx.addr());
    let ours_lag = lag_meter(&nginx.url("live/ours"));
    let theirs_lag = lag_meter(&nginx.url("live/ffmpeg"));
    let mut r = camera(&ours.url("live/ours"));
    let mut ffmpeg = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-re", "-i"])
        .arg(&source)
        .args(["-c", "copy", "-f", "flv", &theirs.url("live/ffmpeg")])
        .stdin(Stdio::null())
        .spawn()
        .expect("ffmpeg");
    std::thread::sleep(Duration::from_secs(3));
    ours.throttle(Some(u64::from(BITRATE / 2)));
    theirs.throttle(Some(u64::from(BITRATE / 2)));
    println!("both links throttled to {} kbit/s (half the camera's bitrate) for {secs} s", BITRATE / 2000);
    println!("{:>4}  {:>12}  {:>12}  {:>10}  {:>8}", "t s", "ours lag s", "ffmpeg lag s", "ours kbit/s", "ours enc");
    let (mut ours_max, mut theirs_max, mut theirs_last) = (0f64, 0f64, 0f64);
    for t in 1..=secs {
        std::thread::sleep(Duration::from_secs(1));
        let o = ours_lag.load(Ordering::Relaxed) as f64 / 1e6;
        let f = theirs_lag.load(Ordering::Relaxed) as f64 / 1e6;
        let s = r.stats();
        println!("{t:4}  {o:12.2}  {f:12.2}  {:10.0}  {:8}", s.bitrate_now / 1000.0, s.encoder_bitrate / 1000);
        ours_max = ours_max.max(o);
        theirs_max = theirs_max.max(f);
        theirs_last = f;
    }
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    println!(
        "lag at the server over {secs} s throttled: ours max {ours_max:.2} s (target < 1 s), \
         ffmpeg max {theirs_max:.2} s (last {theirs_last:.2} s, growing)"
    );

    // Reconnect time after a server restart (direct link, nginx down 5 s).
    ours.throttle(None);
    let _ = r.stop();
    drop(r); // gives the camera back
    let mut r = camera(&nginx.url("live/restart"));
    std::thread::sleep(Duration::from_secs(3));
    nginx.kill();
    let t0 = Instant::now();
    while r.stats().state == LinkState::Live && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(5));
    nginx.restart();
    let up = Instant::now();
    while !(r.stats().state == LinkState::Live && r.stats().reconnects == 1) {
        assert!(up.elapsed() < Duration::from_secs(15), "not back: {:?}", r.last_error());
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "reconnect after an nginx restart (down 5 s): publishing again {:.2} s after nginx listened \
         (ffmpeg exits instead)",
        up.elapsed().as_secs_f64()
    );
    let _ = r.stop();
    assert!(ours_max < 1.0, "the camera's lag reached {ours_max:.2} s");
}
