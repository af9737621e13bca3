//! The board hardware layer against hw-sys's host SDK: the vendor's rules
//! (separate packs, one stream out, memory unmapped at release, pollable
//! descriptor, run-time bit rate, IDR on request) and the zero-copy path
//! from encoder memory to the publisher's gather list.

use board::camera::{Camera, CameraConfig, Exposure, WhiteBalance};
use board::sys::Sys;
use board::venc::{Codec, Venc, VencConfig};
use rtmp_core::flv::avc::AvcPackager;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Event, Publisher, PublisherConfig, Server, ServerConfig, ServerEvent};
use rtmp_core::time::{Instant, RtmpTimestamp};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// The SDK has one camera: tests that open it take turns.
static CAMERA: Mutex<()> = Mutex::new(());

fn small() -> CameraConfig {
    CameraConfig { width: 320, height: 240, fps: 60, depth: 2 }
}

/// Encodes `n` camera frames, leaving the streams queued (at most 4).
fn feed(cam: &Camera, venc: &Venc, n: usize) {
    for _ in 0..n {
        let f = cam.frame(Some(Duration::from_secs(1))).unwrap().unwrap();
        venc.send_frame(&f, Duration::ZERO).unwrap();
    }
}

#[test]
fn packs_are_separate_annexb_nal_units_with_their_types() {
    packs_apart(Codec::H264, &[7, 8, 5]);
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "the cross-built host SDK has no libx265 (the board's encoder does H.265)"
)]
fn h265_packs_are_vps_sps_pps_and_idr_apart() {
    packs_apart(Codec::H265, &[32, 33, 34, 19]);
}

fn packs_apart(codec: Codec, first: &[u32]) {
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, small()).unwrap();
    let mut venc = Venc::create(&sys, VencConfig::h264(320, 240, 60, 500_000).with_codec(codec)).unwrap();
    feed(&cam, &venc, 2);
    let s = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
    let types: Vec<u32> = s.packs().map(|p| p.nal_type).collect();
    assert_eq!(types, first, "parameter sets and IDR apart");
    for (i, p) in s.packs().enumerate() {
        assert!(p.data.starts_with(&[0, 0, 0, 1]) || p.data.starts_with(&[0, 0, 1]));
        let header = p.data[if p.data[2] == 1 { 3 } else { 4 }];
        // The vendor's H.265 pack types have one IDR (19) for both IDR kinds.
        let t = if codec == Codec::H265 {
            match (header >> 1) & 0x3F {
                20 => 19,
                t => t,
            }
        } else {
            header & 0x1F
        };
        assert_eq!(u32::from(t), p.nal_type);
        assert_eq!(p.frame_end, i + 1 == first.len());
    }
    assert!(s.is_keyframe());
    let seq0 = s.seq();
    drop(s);
    let s = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
    assert_eq!(s.packs().map(|p| p.nal_type).collect::<Vec<_>>(), [1]);
    assert_eq!(s.seq(), seq0 + 1);
}

/// A publisher and a server in memory, until the publisher publishes.
fn publishing<'a>(prx: &'a mut [u8], srx: &'a mut [u8]) -> (Publisher<'a>, Server<'a>) {
    let cfg = PublisherConfig::new("live", "cam", "rtmp://127.0.0.1/live");
    let mut p = Publisher::new(cfg, prx, Instant::ZERO, &[1; RANDOM_LEN]);
    let mut s = Server::new(ServerConfig::default(), srx, Instant::ZERO, &[2; RANDOM_LEN]);
    let (mut to_s, mut to_p) = (Vec::new(), Vec::new());
    for _ in 0..50 {
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
    panic!("publisher did not start");
}

#[test]
fn frames_reach_the_gather_list_from_encoder_memory() {
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, small()).unwrap();
    let mut venc = Venc::create(&sys, VencConfig::h264(320, 240, 60, 2_000_000)).unwrap();
    let (mut prx, mut srx) = (vec![0u8; 8192], vec![0u8; 1 << 20]);
    let (mut publisher, _server) = publishing(&mut prx, &mut srx);
    let mut packager = AvcPackager::new();
    feed(&cam, &venc, 3);
    for _ in 0..3 {
        let stream = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
        let ranges: Vec<std::ops::Range<usize>> =
            stream.packs().map(|p| p.data.as_ptr() as usize..p.data.as_ptr() as usize + p.data.len()).collect();
        // As the pipeline does: one NAL unit per pack, start codes stripped.
        let (_config, frame) =
            packager.package_nal_units::<16>(stream.packs().filter_map(|p| p.nal_unit()), 0).unwrap();
        let mut slots: [&[u8]; 33] = [&[]; 33];
        let parts = frame.parts(&mut slots).unwrap();
        let msg = publisher.send_video(RtmpTimestamp(0), parts).unwrap();
        // Every slice of slice-size payload the socket would be given lies in
        // a pack the encoder mapped; only headers come from elsewhere.
        let mut from_packs = 0;
        let mut bytes_from_packs = 0;
        for s in msg.slices() {
            let at = s.as_ptr() as usize;
            if ranges.iter().any(|r| r.contains(&at) && at + s.len() <= r.end) {
                from_packs += 1;
                bytes_from_packs += s.len();
            } else {
                assert!(s.len() <= 18, "a {}-byte slice that is not in the encoder's memory", s.len());
            }
        }
        assert!(from_packs >= 1);
        let slice_bytes: usize = ranges.iter().map(|r| r.len()).sum();
        // All NAL bytes but the start codes (and SPS/PPS, sent in the sequence header).
        assert!(bytes_from_packs + 4 * ranges.len() >= slice_bytes - 64, "{bytes_from_packs} of {slice_bytes}");
        assert!(bytes_from_packs > 1000, "the slice data ({bytes_from_packs} bytes) comes from the packs");
    }
}

#[test]
fn pack_memory_is_unmapped_at_release() {
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, small()).unwrap();
    let mut venc = Venc::create(&sys, VencConfig::h264(320, 240, 60, 500_000)).unwrap();
    feed(&cam, &venc, 1);
    let stream = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
    let ptr = stream.packs().next().unwrap().data.as_ptr();
    // SAFETY: reading a pack while its stream is held is fine.
    assert_eq!(unsafe { std::ptr::read_volatile(ptr) }, 0, "a start code");
    drop(stream); // ReleaseStream unmaps the packs
                  // A forked child touches the stale pointer; it must die of SIGSEGV, as
                  // on the board. (Fork, not exec: this also runs under qemu-user.)
                  // SAFETY: the child only reads one byte and exits; it takes no locks.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: deliberately wrong: this must fault.
        let byte = unsafe { std::ptr::read_volatile(ptr) };
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(i32::from(byte) + 1) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSEGV, "child status {status:#x}");
}

#[test]
fn sdk_rules_one_stream_out_sized_packs_pollable_fd() {
    use hw_sys as ffi;
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, small()).unwrap();
    let venc = Venc::create(&sys, VencConfig::h264(320, 240, 60, 500_000)).unwrap();
    let fd = venc.fd().unwrap();
    let readable = |fd: &std::os::fd::BorrowedFd<'_>| {
        let mut fds = [rustix::event::PollFd::new(fd, rustix::event::PollFlags::IN)];
        rustix::event::poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 })).unwrap() == 1
    };
    assert!(!readable(&fd), "nothing encoded yet");
    feed(&cam, &venc, 2);
    assert!(readable(&fd));
    assert_eq!(venc.queued().unwrap(), 2);
    // The raw API: find the channel, then break the rules on purpose.
    let chn = (0..4)
        .find(|&c| {
            let mut st = ffi::VENC_CHN_STATUS_S::default();
            // SAFETY: querying a channel writes `st` only.
            unsafe { ffi::CVI_VENC_QueryStatus(c, &mut st) == 0 && st.u32LeftStreamFrames == 2 }
        })
        .unwrap();
    let mut packs = vec![ffi::VENC_PACK_S::default(); 3];
    let mut st = ffi::VENC_STREAM_S { pstPack: packs.as_mut_ptr(), u32PackCount: 1, ..Default::default() };
    // SAFETY: `pstPack` points at `u32PackCount` (or more) descriptors we own.
    unsafe {
        assert_eq!(ffi::CVI_VENC_GetStream(chn, &mut st, 0), hw_sys::err::CVI_ERR_VENC_ILLEGAL_PARAM, "too few packs");
        st.u32PackCount = 3;
        assert_eq!(ffi::CVI_VENC_GetStream(chn, &mut st, 0), 0);
        let mut second = ffi::VENC_STREAM_S { pstPack: packs.as_mut_ptr(), u32PackCount: 3, ..Default::default() };
        assert_eq!(ffi::CVI_VENC_GetStream(chn, &mut second, 0), hw_sys::err::CVI_ERR_VENC_BUSY, "one stream out");
        assert_eq!(ffi::CVI_VENC_ReleaseStream(chn, &mut st), 0);
    }
    assert!(readable(&fd), "one more is ready");
    assert_eq!(venc.queued().unwrap(), 1);
    // A full queue refuses frames instead of blocking the camera.
    feed(&cam, &venc, 3);
    let f = cam.frame(Some(Duration::from_secs(1))).unwrap().unwrap();
    assert_eq!(venc.send_frame(&f, Duration::ZERO).unwrap_err().code, hw_sys::err::CVI_ERR_VENC_BUF_FULL);
}

#[test]
fn bitrate_changes_at_run_time_and_idr_comes_on_request() {
    bitrate_and_idr(Codec::H264);
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "the cross-built host SDK has no libx265 (the board's encoder does H.265)"
)]
fn h265_bitrate_changes_at_run_time_and_idr_comes_on_request() {
    bitrate_and_idr(Codec::H265);
}

fn bitrate_and_idr(codec: Codec) {
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, CameraConfig { fps: 120, ..small() }).unwrap();
    let mut cfg = VencConfig::h264(320, 240, 30, 3_000_000).with_codec(codec);
    cfg.gop = 10_000;
    let mut venc = Venc::create(&sys, cfg).unwrap();
    let sizes = |venc: &mut Venc, n: usize| -> (usize, Vec<bool>) {
        let (mut bytes, mut keys) = (0, Vec::new());
        for _ in 0..n {
            feed(&cam, venc, 1);
            let s = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
            bytes += s.packs().map(|p| p.data.len()).sum::<usize>();
            keys.push(s.is_keyframe());
        }
        (bytes, keys)
    };
    let (_, keys) = sizes(&mut venc, 5);
    assert_eq!(keys, [true, false, false, false, false]);
    let (high, _) = sizes(&mut venc, 40);
    venc.set_bitrate(150_000).unwrap();
    assert_eq!(venc.config().bitrate, 150_000);
    let _ = sizes(&mut venc, 20); // rate control settles
    let (low, keys) = sizes(&mut venc, 40);
    assert!(keys.iter().all(|k| !k), "{keys:?}");
    assert!(high > 3 * low, "{high} bytes at 3 Mbit/s, {low} at 150 kbit/s");
    venc.request_idr().unwrap();
    let (_, keys) = sizes(&mut venc, 2);
    assert_eq!(keys, [true, false]);
}

#[test]
fn exposure_and_white_balance_change_the_picture() {
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, small()).unwrap();
    let mean = |cam: &Camera| {
        let f = cam.frame(Some(Duration::from_secs(1))).unwrap().unwrap();
        let luma = f.map_luma().unwrap();
        luma.as_slice().iter().map(|&v| u64::from(v)).sum::<u64>() / luma.as_slice().len() as u64
    };
    cam.set_exposure(Exposure::Manual { time_us: 2_000, gain: 1024 }).unwrap();
    let dark = mean(&cam);
    cam.set_exposure(Exposure::Manual { time_us: 20_000, gain: 1024 }).unwrap();
    let bright = mean(&cam);
    assert!(bright > dark * 3, "{dark} -> {bright}");
    cam.set_exposure(Exposure::Auto).unwrap();
    cam.set_white_balance(WhiteBalance::Manual { r: 2048, g: 1024, b: 1024 }).unwrap();
    assert!(cam.set_white_balance(WhiteBalance::Manual { r: 0, g: 1024, b: 1024 }).is_err(), "zero gain refused");
    // Frames keep coming and are numbered in time order.
    let a = cam.frame(None).unwrap().unwrap().pts_us();
    let b = cam.frame(None).unwrap().unwrap().pts_us();
    assert!(b > a && b - a < 100_000);
}

/// A server that accepts a publish, then stops reading its socket for
/// `stall` (the network is down) before reading on.
fn stalling_server(stall: Duration) -> (u16, std::thread::JoinHandle<u64>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // A small receive window, so the stall shows at the sender quickly.
    rustix::net::sockopt::set_socket_recv_buffer_size(&listener, 8192).unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut rx = vec![0u8; 1 << 22];
        let mut s = Server::new(ServerConfig::default(), &mut rx, Instant::ZERO, &[9; RANDOM_LEN]);
        let (mut buf, mut len) = (vec![0u8; 1 << 16], 0usize);
        let mut published = None;
        let mut media = 0u64;
        let mut stalled = false;
        sock.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Some(at) = published {
                if !stalled && std::time::Instant::now().duration_since(at) > Duration::from_millis(500) {
                    stalled = true;
                    std::thread::sleep(stall);
                }
            }
            match sock.read(&mut buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(_) => {}
            }
            loop {
                let n = s.handle_input(Instant::ZERO, &buf[..len]).unwrap_or(0);
                buf.copy_within(n..len, 0);
                len -= n;
                let mut accept = None;
                let mut any = false;
                while let Some(e) = s.poll_event() {
                    any = true;
                    match e {
                        ServerEvent::PublishRequest { stream_id, .. } => accept = Some(stream_id),
                        ServerEvent::Media { .. } => media += 1,
                        ServerEvent::Closed(_) => return media,
                        _ => {}
                    }
                }
                if let Some(id) = accept {
                    s.accept_publish(id).unwrap();
                    published = Some(std::time::Instant::now());
                }
                while let Some(b) = s.poll_transmit() {
                    let k = b.len();
                    sock.write_all(b).unwrap();
                    s.transmitted(k);
                }
                if n == 0 && !any {
                    break;
                }
            }
        }
        media
    });
    (port, t)
}

#[test]
fn a_stalled_network_never_blocks_the_camera() {
    use board::pipeline::Rtmp;
    let _one = CAMERA.lock().unwrap_or_else(|e| e.into_inner());
    let (port, server) = stalling_server(Duration::from_secs(3));
    let sys = Sys::get().unwrap();
    let fps = 30;
    let mut rtmp = Rtmp::new("127.0.0.1", port, "live", "stall", 3_000_000).unwrap();
    rtmp.bind_camera(Camera::open(&sys, CameraConfig { width: 640, height: 480, fps, depth: 2 }).unwrap()).unwrap();
    rtmp.start().unwrap();
    // 3 s stalled, then 3 s to send again; 5 s under qemu-riscv64, where
    // the host encoder makes about 12 frames a second and a new
    // connection also waits for a requested IDR (3 s sent 29 frames there).
    let after = if cfg!(target_arch = "riscv64") { 5 } else { 3 };
    std::thread::sleep(Duration::from_secs(3 + after));
    let s = rtmp.stop().unwrap();
    let media = server.join().unwrap();
    // Every camera frame of the 6 s was taken: sent, queued or dropped and counted.
    let taken = s.video_frames + s.dropped_frames;
    assert!(taken >= u64::from(fps) * 9 / 2, "{s:?}");
    assert!(s.dropped_frames >= u64::from(fps), "frames were dropped while the network stalled: {s:?}");
    assert!(s.video_frames >= u64::from(fps), "and sent when it came back: {s:?}");
    assert!(media >= s.video_frames, "the server got {media} media messages, {} video frames sent", s.video_frames);
}

#[test]
fn vb_pool_blocks_are_physical_memory_reached_by_mapping() {
    let sys = Sys::get().unwrap();
    let pool = board::sys::VbPool::new(&sys, 64 * 1024, 3).unwrap();
    let mut blocks: Vec<_> = (0..3).map(|_| pool.block().expect("three blocks")).collect();
    assert!(pool.block().is_none(), "the pool holds three");
    let phys: HashSet<u64> = blocks.iter().map(|b| b.phys()).collect();
    assert_eq!(phys.len(), 3);
    for (i, b) in blocks.iter_mut().enumerate() {
        let mut m = b.map().unwrap();
        assert!(m.as_slice().iter().all(|&v| v == 0), "fresh blocks read as zero");
        m.as_mut_slice()[..4].copy_from_slice(&[i as u8; 4]);
    }
    // A second mapping of the same block sees what the first wrote.
    let again = blocks[2].map().unwrap();
    assert_eq!(&again.as_slice()[..4], &[2; 4]);
    drop(again);
    blocks.pop();
    assert!(pool.block().is_some(), "a released block comes back");
}

#[test]
fn microphone_frames_encode_to_aac() {
    use board::audio::{AacEncoder, AudioConfig, AudioIn};
    let sys = Sys::get().unwrap();
    let mut ai = AudioIn::open(&sys, AudioConfig::default()).unwrap();
    let mut enc = AacEncoder::new(48_000, 1, 64_000).unwrap();
    let (mut stamps, mut aac) = (Vec::new(), Vec::new());
    for _ in 0..12 {
        let f = ai.read(Some(Duration::from_secs(1))).unwrap().unwrap();
        assert_eq!(f.samples().len(), 1024);
        assert!(f.samples().iter().any(|&s| s.abs() > 1000), "a tone, not silence");
        stamps.push(f.timestamp_us());
        enc.encode(f.samples(), |cfg, raw| aac.push((cfg, raw.len()))).unwrap();
    }
    // Frames come in real time: 1024 samples at 48 kHz apart.
    for w in stamps.windows(2) {
        assert!((21_333..=21_334).contains(&(w[1] - w[0])), "{stamps:?}");
    }
    assert!(aac.len() >= 8, "{} AAC frames from 12 inputs (the encoder holds a few back)", aac.len());
    let cfg = aac[0].0;
    assert_eq!((cfg.object_type, cfg.sample_rate(), cfg.channels), (2, 48_000, 1));
    assert!(aac.iter().all(|&(_, n)| n > 0 && n < 1024));
}
