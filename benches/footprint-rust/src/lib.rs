//! What a Rust firmware links to push, called without the C boundary: the
//! same set of operations as rtmp-ffi's publisher entry points in
//! `benches/footprint.sh` (publisher with the digest handshake, zero-copy
//! sends and their gather lists, H.264 packaging), each kept by an
//! unmangled Rust-ABI function that takes and returns rtmp-core's own
//! types. Built like the C library (thumbv7em, `ffi` profile, LTO,
//! --gc-sections), the difference between the two is what the C API costs.
#![cfg_attr(not(feature = "std"), no_std)]

use core::mem::MaybeUninit;
use rtmp_core::chunk::ChunkedMessage;
use rtmp_core::flv::avc::{AvcError, AvcFrame, AvcPackager};
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{Event, InputError, Publisher, PublisherConfig, SendError};
use rtmp_core::time::{Instant, RtmpTimestamp};

/// NAL units per frame, as in the C API.
const NALS: usize = 16;

/// What packaging gives: a sequence header to send first, and the frame.
type Packaged<'a> = Result<(Option<&'a [u8]>, AvcFrame<'static, NALS>), AvcError>;

#[no_mangle]
pub fn fp_publisher_new(
    slot: &mut MaybeUninit<Publisher<'static>>,
    strings: [&'static str; 3],
    recv: &'static mut [u8],
    now_us: u64,
    random: &[u8; RANDOM_LEN],
) {
    let [app, stream, tc_url] = strings;
    let cfg = PublisherConfig::new(app, stream, tc_url);
    slot.write(Publisher::new(cfg, recv, Instant::from_micros(now_us), random));
}

#[no_mangle]
pub fn fp_recv(p: &mut Publisher<'static>, input: &[u8], now_us: u64) -> Result<usize, InputError> {
    p.handle_input(Instant::from_micros(now_us), input)
}

#[no_mangle]
pub fn fp_poll_transmit<'a>(p: &'a Publisher<'static>) -> Option<&'a [u8]> {
    p.poll_transmit()
}

#[no_mangle]
pub fn fp_transmitted(p: &mut Publisher<'static>, n: usize) {
    p.transmitted(n)
}

#[no_mangle]
pub fn fp_timeout(p: &Publisher<'static>) -> Option<u64> {
    p.poll_timeout().map(|t| t.as_micros())
}

#[no_mangle]
pub fn fp_on_timeout(p: &mut Publisher<'static>, now_us: u64) {
    p.handle_timeout(Instant::from_micros(now_us))
}

#[no_mangle]
pub fn fp_peer_closed(p: &mut Publisher<'static>) {
    p.handle_peer_closed()
}

#[no_mangle]
pub fn fp_poll_event(p: &mut Publisher<'static>, out: &mut MaybeUninit<Option<Event>>) {
    out.write(p.poll_event());
}

#[no_mangle]
pub fn fp_close(p: &mut Publisher<'static>) {
    p.close()
}

#[no_mangle]
pub fn fp_send(
    p: &mut Publisher<'static>,
    kind: u8,
    timestamp_ms: u32,
    body: &'static [&'static [u8]],
    out: &mut MaybeUninit<Result<ChunkedMessage<'static>, SendError>>,
) {
    let ts = RtmpTimestamp(timestamp_ms);
    out.write(match kind {
        8 => p.send_audio(ts, body),
        9 => p.send_video(ts, body),
        _ => p.send_data(ts, body),
    });
}

#[no_mangle]
pub fn fp_message_iov(m: &mut ChunkedMessage<'static>, out: &mut [(*const u8, usize)]) -> usize {
    m.fill_with(out, |s| (s.as_ptr(), s.len()))
}

#[no_mangle]
pub fn fp_message_advance(m: &mut ChunkedMessage<'static>, n: usize) {
    m.advance(n)
}

#[no_mangle]
pub fn fp_message_remaining(m: &ChunkedMessage<'static>) -> usize {
    m.remaining()
}

#[no_mangle]
pub fn fp_avc_packager_new(slot: &mut MaybeUninit<AvcPackager>) {
    slot.write(AvcPackager::new());
}

#[no_mangle]
pub fn fp_avc_resend_config(pk: &mut AvcPackager) {
    pk.resend_config()
}

#[no_mangle]
pub fn fp_avc_package<'a>(
    pk: &'a mut AvcPackager,
    annexb: &'static [u8],
    composition_ms: i32,
    out: &mut MaybeUninit<Packaged<'a>>,
) {
    out.write(pk.package::<NALS>(annexb, composition_ms));
}

#[no_mangle]
pub fn fp_video_frame_parts<'s>(f: &'s AvcFrame<'static, NALS>, slots: &'s mut [&'s [u8]]) -> usize {
    f.parts(slots).map_or(0, |p| p.len())
}

#[no_mangle]
pub fn fp_video_frame_is_keyframe(f: &AvcFrame<'static, NALS>) -> bool {
    f.is_keyframe()
}

/// Bare metal: a panic (a bug) stops here, as in rtmp-ffi.
#[cfg(not(feature = "std"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
