//! `rtmp_push`: the lower level, for firmware that runs its own encoder
//! loop (`CVI_VENC_GetStream` ... `CVI_VENC_ReleaseStream`) and wants only
//! the sending: a connection, and each `VENC_STREAM_S` written to the
//! socket from the encoder's memory (the packs are never copied).

use crate::{RTMP_BOARD_ERR_INTERNAL, RTMP_BOARD_ERR_INVALID_ARGUMENT, RTMP_BOARD_ERR_RTMP, RTMP_BOARD_OK};
use board::pipeline::{send_stream, SendStreamError};
use board::push::{PushBuffers, PushOptions, RtmpPush};
use board::venc::{Codec, Packs};
use rtmp_core::flv::aac::AacPackager;
use rtmp_core::flv::video::VideoPackager;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// H.264 (`PT_H264` channels).
pub const RTMP_CODEC_H264: c_int = 0;
/// H.265, sent as Enhanced RTMP `hvc1` (the server must take it: YouTube,
/// SRS 6, Node-Media-Server 4; not nginx-rtmp).
pub const RTMP_CODEC_H265: c_int = 1;
/// The stream or audio frame is not one the packager can read (no SPS/PPS
/// before the first frame, malformed ADTS, more than 16 NAL units).
pub const RTMP_BOARD_ERR_MEDIA: c_int = -8;

/// A publishing connection (opaque; from `rtmp_push_connect`, ended by
/// `rtmp_push_close`). Use from one thread at a time.
pub struct rtmp_push {
    /// Borrows `bufs` and `url`: dropped first (see `Drop`).
    push: Option<RtmpPush<'static>>,
    bufs: *mut PushBuffers,
    url: *mut str,
    video: VideoPackager,
    codec: Codec,
    audio: AacPackager,
    /// The first timestamp given (µs): the stream's zero.
    epoch_us: Option<u64>,
    video_frames: u64,
    audio_frames: u64,
    last_error: CString,
}

impl Drop for rtmp_push {
    fn drop(&mut self) {
        self.push = None;
        // SAFETY: both came from `Box::into_raw` in `rtmp_push_connect`,
        // and the connection that borrowed them is gone.
        unsafe {
            drop(Box::from_raw(self.bufs));
            drop(Box::from_raw(self.url));
        }
    }
}

/// Counters of a connection.
#[repr(C)]
pub struct rtmp_push_stats {
    /// Video frames sent.
    pub video_frames: u64,
    /// Audio frames sent.
    pub audio_frames: u64,
    /// Bytes written to the socket.
    pub bytes_sent: u64,
}

impl rtmp_push {
    fn fail(&mut self, code: c_int, message: &str) -> c_int {
        self.last_error = CString::new(message.replace('\0', " ")).unwrap_or_default();
        code
    }

    /// Milliseconds since the first timestamp given.
    fn ms(&mut self, us: u64) -> u32 {
        let epoch = *self.epoch_us.get_or_insert(us);
        (us.saturating_sub(epoch) / 1000) as u32
    }

    fn stats(&self) -> rtmp_push_stats {
        rtmp_push_stats {
            video_frames: self.video_frames,
            audio_frames: self.audio_frames,
            bytes_sent: self.push.as_ref().map_or(0, |p| p.stats().bytes_sent),
        }
    }
}

fn handle<'a>(p: *mut rtmp_push) -> Option<&'a mut rtmp_push> {
    // SAFETY: a non-null handle comes from `rtmp_push_connect` and is used
    // from one thread at a time (the contract on every function).
    unsafe { p.as_mut() }
}

fn write_error(out: *mut c_char, len: usize, message: &str) {
    if out.is_null() || len == 0 {
        return;
    }
    let n = message.len().min(len - 1);
    // SAFETY: `out` is writable for `len` bytes (contract); n + 1 <= len.
    unsafe {
        std::ptr::copy_nonoverlapping(message.as_ptr(), out.cast::<u8>(), n);
        *out.add(n) = 0;
    }
}

/// Connects to `url` (`rtmp://` or `rtmps://`, stream key and query
/// included) and publishes; returns once the server has accepted, or NULL
/// with the reason (server, step and cause, in one line, without the stream
/// key) in `error` (`error_len` bytes, may be NULL). `codec` is
/// `RTMP_CODEC_H264` or `RTMP_CODEC_H265`. It does not reconnect: when a
/// send fails, close it and connect again (and request an IDR from the
/// encoder so that the new connection starts at a keyframe).
///
/// # Safety
/// `url` is NUL-terminated; `error` is NULL or writable for `error_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_connect(
    url: *const c_char,
    codec: c_int,
    error: *mut c_char,
    error_len: usize,
) -> *mut rtmp_push {
    let made = catch_unwind(AssertUnwindSafe(|| {
        let codec = match codec {
            RTMP_CODEC_H264 => Codec::H264,
            RTMP_CODEC_H265 => Codec::H265,
            _ => return Err(String::from("codec: RTMP_CODEC_H264 or RTMP_CODEC_H265")),
        };
        let Some(url) = crate::cstr(url) else { return Err(String::from("url: NULL or not UTF-8")) };
        let url: *mut str = Box::into_raw(Box::<str>::from(url));
        let bufs = Box::into_raw(Box::new(PushBuffers::new()));
        let opts = PushOptions { four_cc_list: codec.four_cc_list(), ..PushOptions::default() };
        // SAFETY: `url` and `bufs` live until the handle is dropped, after
        // the connection that borrows them (`Drop for rtmp_push`); nothing
        // else refers to them.
        let connected = unsafe { RtmpPush::connect(&*url, &mut *bufs, opts) };
        let mut handle = Box::new(rtmp_push {
            push: None,
            bufs,
            url,
            video: VideoPackager::new(codec),
            codec,
            audio: AacPackager::new(),
            epoch_us: None,
            video_frames: 0,
            audio_frames: 0,
            last_error: CString::default(),
        });
        match connected {
            Ok(push) => {
                handle.push = Some(push);
                Ok(handle)
            }
            // Dropping `handle` frees the URL and buffers.
            Err(e) => Err(e.to_string()),
        }
    }));
    match made {
        Ok(Ok(p)) => Box::into_raw(p),
        Ok(Err(message)) => {
            write_error(error, error_len, &message);
            std::ptr::null_mut()
        }
        Err(_) => {
            write_error(error, error_len, "internal error");
            std::ptr::null_mut()
        }
    }
}

/// Sends one encoded frame: the packs of `stream`, as `CVI_VENC_GetStream`
/// filled it (on a channel of the codec given to `rtmp_push_connect`),
/// written to the socket from the encoder's memory before this returns, so
/// release the stream after it. The sequence header goes first at the first
/// IDR and whenever the parameter sets change. The timestamp is the packs'
/// `u64PTS` (µs), counted from the first one given. Blocks while the socket
/// is full. Returns `RTMP_BOARD_OK`, `RTMP_BOARD_ERR_MEDIA` (this frame was
/// not sent; the connection is fine) or `RTMP_BOARD_ERR_RTMP` (the
/// connection failed; see `rtmp_push_last_error`).
///
/// # Safety
/// `p` from `rtmp_push_connect`; `stream` filled by `CVI_VENC_GetStream`
/// and not yet released (its `pstPack` array and the packs' memory valid).
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_venc_stream(p: *mut rtmp_push, stream: *const hw_sys::VENC_STREAM_S) -> c_int {
    crate::guard(RTMP_BOARD_ERR_INTERNAL, || {
        // SAFETY: `stream` is NULL or a filled stream (contract).
        let (Some(p), Some(raw)) = (handle(p), unsafe { stream.as_ref() }) else {
            return RTMP_BOARD_ERR_INVALID_ARGUMENT;
        };
        // SAFETY: the packs and their memory are valid until the caller
        // releases the stream, after this call (contract).
        let Some(packs) = (unsafe { Packs::from_raw(raw, p.codec) }).filter(|k| !k.is_empty()) else {
            return p.fail(RTMP_BOARD_ERR_INVALID_ARGUMENT, "stream: no packs");
        };
        let ts = p.ms(packs.pts_us());
        let Some(push) = p.push.as_mut() else { return RTMP_BOARD_ERR_RTMP };
        match send_stream(push, packs, &mut p.video, ts) {
            Ok(_) => {
                p.video_frames += 1;
                RTMP_BOARD_OK
            }
            Err(SendStreamError::Package(e)) => p.fail(RTMP_BOARD_ERR_MEDIA, &e.to_string()),
            Err(SendStreamError::Rtmp(e)) => {
                p.push = None;
                p.fail(RTMP_BOARD_ERR_RTMP, &e.to_string())
            }
        }
    })
}

/// Sends AAC audio: the ADTS frames in `adts` (`len` bytes; one or more,
/// as an AENC channel gives them), the first at `pts_us` (the same clock as
/// the video's `u64PTS`), each next one 1024 samples later. The AAC
/// sequence header goes first. Returns as `rtmp_push_venc_stream`.
///
/// # Safety
/// `p` from `rtmp_push_connect`; `adts` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_aac(p: *mut rtmp_push, adts: *const u8, len: usize, pts_us: u64) -> c_int {
    crate::guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(p) = handle(p) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        if adts.is_null() || len == 0 {
            return p.fail(RTMP_BOARD_ERR_INVALID_ARGUMENT, "adts: NULL or empty");
        }
        // SAFETY: `adts` is readable for `len` bytes (contract).
        let mut input = unsafe { std::slice::from_raw_parts(adts, len) };
        let mut us = pts_us;
        while !input.is_empty() {
            let (config, body, rest) = match p.audio.package_adts(input) {
                Ok(r) => r,
                Err(e) => return p.fail(RTMP_BOARD_ERR_MEDIA, &format!("ADTS: {e}")),
            };
            let rate = p.audio.config().map_or(48_000, |c| c.sample_rate()).max(1);
            let ts = p.ms(us);
            let Some(push) = p.push.as_mut() else { return RTMP_BOARD_ERR_RTMP };
            let sent = match config {
                Some(c) => push.send(8, ts, &[&c]),
                None => Ok(()),
            }
            .and_then(|()| push.send(8, ts, &body));
            if let Err(e) = sent {
                p.push = None;
                return p.fail(RTMP_BOARD_ERR_RTMP, &e.to_string());
            }
            p.audio_frames += 1;
            us += 1024 * 1_000_000 / u64::from(rate);
            input = rest;
        }
        RTMP_BOARD_OK
    })
}

/// Fills `*out` with the counters so far.
///
/// # Safety
/// `p` from `rtmp_push_connect`; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_stats(p: *mut rtmp_push, out: *mut rtmp_push_stats) -> c_int {
    crate::guard(RTMP_BOARD_ERR_INTERNAL, || {
        // SAFETY: `out` is writable when non-null (contract).
        let (Some(p), Some(out)) = (handle(p), unsafe { out.as_mut() }) else {
            return RTMP_BOARD_ERR_INVALID_ARGUMENT;
        };
        *out = p.stats();
        RTMP_BOARD_OK
    })
}

/// The last failure in one line (empty if none); valid until the next call.
///
/// # Safety
/// `p` from `rtmp_push_connect`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_last_error(p: *mut rtmp_push) -> *const c_char {
    handle(p).map_or(c"invalid handle".as_ptr(), |p| p.last_error.as_ptr())
}

/// Ends the stream cleanly (`FCUnpublish`, `deleteStream`, the server's
/// close awaited briefly) and frees the handle, failed or not; `*out` (if
/// not NULL) gets the final counters. Returns `RTMP_BOARD_OK`, or
/// `RTMP_BOARD_ERR_RTMP` when the connection had failed or failed now.
///
/// # Safety
/// `p` from `rtmp_push_connect` (or NULL), not used afterwards; `out` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_push_close(p: *mut rtmp_push, out: *mut rtmp_push_stats) -> c_int {
    if p.is_null() {
        return RTMP_BOARD_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: `p` came from `Box::into_raw` in `rtmp_push_connect` and is
    // not used after this (contract).
    let mut b = unsafe { Box::from_raw(p) };
    catch_unwind(AssertUnwindSafe(|| {
        let mut stats = b.stats();
        let code = match b.push.take() {
            Some(push) => match push.close() {
                Ok(s) => {
                    stats.bytes_sent = s.bytes_sent;
                    RTMP_BOARD_OK
                }
                Err(_) => RTMP_BOARD_ERR_RTMP,
            },
            None => RTMP_BOARD_ERR_RTMP,
        };
        // SAFETY: `out` is NULL or writable (contract).
        if let Some(out) = unsafe { out.as_mut() } {
            *out = stats;
        }
        code
    }))
    .unwrap_or(RTMP_BOARD_ERR_INTERNAL)
}
