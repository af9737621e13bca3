//! The C API of the camera pipeline (`board::pipeline::Rtmp`), shaped like
//! MaixPy's `maix.rtmp.Rtmp`, for the board's C applications:
//!
//! ```c
//! struct rtmp *r = rtmp_new_url("rtmp://host/live/cam");
//! rtmp_bind_camera(r, 640, 480, 30);
//! rtmp_bind_audio(r, 48000, 1);
//! if (rtmp_start(r) < 0) fprintf(stderr, "%s\n", rtmp_last_error(r));
//! /* ... */ rtmp_stop(r); rtmp_free(r);
//! ```
//!
//! Every function returns `RTMP_BOARD_OK` (0) or a negative
//! `RTMP_BOARD_ERR_*`; [`rtmp_last_error`] says what failed in one line, and
//! [`rtmp_last_sdk_error`] keeps the media SDK's own code (`0xC00xxxxx`)
//! when the SDK was the cause. Panics are caught at the boundary.
#![allow(non_camel_case_types)]

mod push;
pub use push::*;

use board::audio::{AudioConfig, AudioIn};
use board::camera::{Camera, CameraConfig};
use board::pipeline::{PipelineError, Rtmp};
use board::sys::Sys;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Success.
pub const RTMP_BOARD_OK: c_int = 0;
/// A null pointer, a string that is not UTF-8, or a bad URL or value.
pub const RTMP_BOARD_ERR_INVALID_ARGUMENT: c_int = -1;
/// The media SDK failed (see `rtmp_last_sdk_error`).
pub const RTMP_BOARD_ERR_SDK: c_int = -2;
/// Connecting or publishing failed (the server refused, or the network).
pub const RTMP_BOARD_ERR_RTMP: c_int = -3;
/// Started while running, or stopped while not.
pub const RTMP_BOARD_ERR_STATE: c_int = -4;
/// `rtmp_start` without a camera.
pub const RTMP_BOARD_ERR_NO_CAMERA: c_int = -5;
/// The AAC encoder failed.
pub const RTMP_BOARD_ERR_AUDIO: c_int = -6;
/// A bug: a panic was caught at the boundary.
pub const RTMP_BOARD_ERR_INTERNAL: c_int = -7;

/// A stream from the camera (opaque; from `rtmp_new`/`rtmp_new_url`, freed
/// by `rtmp_free`). Use from one thread at a time.
pub struct rtmp {
    inner: Rtmp,
    sys: Option<Sys>,
    last_error: CString,
    sdk_error: u32,
}

/// The link's state in [`rtmp_stats()`].
pub const RTMP_STATE_IDLE: c_int = 0;
/// The first connection is being made.
pub const RTMP_STATE_CONNECTING: c_int = 1;
/// Publishing.
pub const RTMP_STATE_LIVE: c_int = 2;
/// Reconnecting after a failure.
pub const RTMP_STATE_RECONNECTING: c_int = 3;
/// Stopped.
pub const RTMP_STATE_STOPPED: c_int = 4;

/// Counters of a running (or stopped) stream.
#[repr(C)]
pub struct rtmp_stats {
    /// One of `RTMP_STATE_*`.
    pub state: c_int,
    /// Seconds since start.
    pub seconds: f64,
    /// Video bit rate over the last second, bit/s.
    pub bitrate: f64,
    /// Frames per second over the last second.
    pub fps: f64,
    /// Video frames sent.
    pub video_frames: u64,
    /// Audio frames sent.
    pub audio_frames: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Frames dropped (camera, encoder, link), all counted.
    pub dropped_frames: u64,
    /// Reconnections.
    pub reconnects: u32,
    /// The encoder's current bit rate (adaptive), bit/s.
    pub encoder_bitrate: u32,
}

fn guard(fail: c_int, f: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fail)
}

fn cstr<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated string (checked non-null).
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}

fn handle<'a>(r: *mut rtmp) -> Option<&'a mut rtmp> {
    // SAFETY: a non-null handle comes from `rtmp_new*` and is used from one
    // thread at a time (the contract on every function).
    unsafe { r.as_mut() }
}

impl rtmp {
    /// Records `e` as the last error; returns its code.
    fn fail(&mut self, e: PipelineError) -> c_int {
        let (code, sdk) = match &e {
            PipelineError::Url(_) | PipelineError::Oss(_) | PipelineError::Picture(_) => {
                (RTMP_BOARD_ERR_INVALID_ARGUMENT, 0)
            }
            PipelineError::Rtmp(_) => (RTMP_BOARD_ERR_RTMP, 0),
            PipelineError::Mpi(m) => (RTMP_BOARD_ERR_SDK, m.code as u32),
            PipelineError::Aac(_) => (RTMP_BOARD_ERR_AUDIO, 0),
            PipelineError::NoCamera => (RTMP_BOARD_ERR_NO_CAMERA, 0),
            PipelineError::Running | PipelineError::NotRunning => (RTMP_BOARD_ERR_STATE, 0),
            _ => (RTMP_BOARD_ERR_INTERNAL, 0),
        };
        self.set_error(&e.to_string(), sdk);
        code
    }

    fn set_error(&mut self, message: &str, sdk: u32) {
        self.last_error = CString::new(message.replace('\0', " ")).unwrap_or_default();
        self.sdk_error = sdk;
    }

    fn sys(&mut self) -> Result<Sys, c_int> {
        if let Some(s) = &self.sys {
            return Ok(s.clone());
        }
        match Sys::get() {
            Ok(s) => {
                self.sys = Some(s.clone());
                Ok(s)
            }
            Err(e) => Err(self.fail(PipelineError::Mpi(e))),
        }
    }
}

fn boxed(inner: Rtmp) -> *mut rtmp {
    Box::into_raw(Box::new(rtmp { inner, sys: None, last_error: CString::default(), sdk_error: 0 }))
}

/// A stream to `rtmp://host:port/app/stream` at `bitrate` bit/s; NULL if
/// an argument is invalid.
///
/// # Safety
/// The strings are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn rtmp_new(
    host: *const c_char,
    port: u16,
    app: *const c_char,
    stream: *const c_char,
    bitrate: u32,
) -> *mut rtmp {
    catch_unwind(AssertUnwindSafe(|| match (cstr(host), cstr(app), cstr(stream)) {
        (Some(h), Some(a), Some(s)) => Rtmp::new(h, port, a, s, bitrate).map_or(std::ptr::null_mut(), boxed),
        _ => std::ptr::null_mut(),
    }))
    .unwrap_or(std::ptr::null_mut())
}

/// A stream to `url` (`rtmp://` or `rtmps://`, stream key and query
/// included) at 1 Mbit/s; NULL if it is not a valid URL.
///
/// # Safety
/// `url` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn rtmp_new_url(url: *const c_char) -> *mut rtmp {
    catch_unwind(AssertUnwindSafe(|| {
        cstr(url).and_then(|u| Rtmp::from_url(u).ok()).map_or(std::ptr::null_mut(), boxed)
    }))
    .unwrap_or(std::ptr::null_mut())
}

/// Sets the video bit rate (before `rtmp_start`).
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_set_bitrate(r: *mut rtmp, bitrate: u32) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(r) = handle(r) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        r.inner.set_bitrate(bitrate);
        RTMP_BOARD_OK
    })
}

/// Opens the camera at `width` x `height`, `fps` frames a second, and binds it.
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_bind_camera(r: *mut rtmp, width: u32, height: u32, fps: u32) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(r) = handle(r) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        let sys = match r.sys() {
            Ok(s) => s,
            Err(code) => return code,
        };
        let cfg = CameraConfig { width, height, fps, ..CameraConfig::default() };
        let bound = Camera::open(&sys, cfg).map_err(PipelineError::Mpi).and_then(|c| r.inner.bind_camera(c));
        bound.map_or_else(|e| r.fail(e), |()| RTMP_BOARD_OK)
    })
}

/// Opens the microphone (`sample_rate` Hz, `channels` 1 or 2) and binds it: AAC.
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_bind_audio(r: *mut rtmp, sample_rate: u32, channels: u8) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(r) = handle(r) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        let sys = match r.sys() {
            Ok(s) => s,
            Err(code) => return code,
        };
        let cfg = AudioConfig { sample_rate, channels, ..AudioConfig::default() };
        let bound = AudioIn::open(&sys, cfg).map_err(PipelineError::Mpi).and_then(|a| r.inner.bind_audio_recorder(a));
        bound.map_or_else(|e| r.fail(e), |()| RTMP_BOARD_OK)
    })
}

/// Connects, publishes and starts streaming; returns once the server has
/// accepted (or refused: `RTMP_BOARD_ERR_RTMP`, see `rtmp_last_error`).
/// Afterwards the link reconnects by itself.
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_start(r: *mut rtmp) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(r) = handle(r) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        r.inner.start().map_or_else(|e| r.fail(e), |()| RTMP_BOARD_OK)
    })
}

/// Whether it is streaming (1) or not (0: never started, stopped, or gave up).
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_is_running(r: *mut rtmp) -> c_int {
    guard(0, || handle(r).map_or(0, |r| c_int::from(r.inner.is_running())))
}

fn fill(out: &mut rtmp_stats, s: &board::pipeline::Stats) {
    use board::pipeline::LinkState;
    *out = rtmp_stats {
        state: match s.state {
            LinkState::Idle => RTMP_STATE_IDLE,
            LinkState::Connecting => RTMP_STATE_CONNECTING,
            LinkState::Live => RTMP_STATE_LIVE,
            LinkState::Reconnecting => RTMP_STATE_RECONNECTING,
            _ => RTMP_STATE_STOPPED,
        },
        seconds: s.seconds,
        bitrate: s.bitrate_now,
        fps: s.fps_now,
        video_frames: s.video_frames,
        audio_frames: s.audio_frames,
        bytes_sent: s.bytes_sent,
        dropped_frames: s.dropped_frames,
        reconnects: s.reconnects,
        encoder_bitrate: s.encoder_bitrate,
    };
}

/// Fills `*out` with the counters so far.
///
/// # Safety
/// `r` from `rtmp_new*`; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_stats(r: *mut rtmp, out: *mut rtmp_stats) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        // SAFETY: `out` is writable when non-null (contract).
        let (Some(r), Some(out)) = (handle(r), unsafe { out.as_mut() }) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        fill(out, &r.inner.stats());
        RTMP_BOARD_OK
    })
}

/// Stops: the stream is closed cleanly and the threads joined; `*out`
/// (if not NULL) gets the final counters.
///
/// # Safety
/// `r` from `rtmp_new*`; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_stop(r: *mut rtmp, out: *mut rtmp_stats) -> c_int {
    guard(RTMP_BOARD_ERR_INTERNAL, || {
        let Some(r) = handle(r) else { return RTMP_BOARD_ERR_INVALID_ARGUMENT };
        match r.inner.stop() {
            Ok(s) => {
                // SAFETY: `out` is NULL or writable (contract).
                if let Some(out) = unsafe { out.as_mut() } {
                    fill(out, &s);
                }
                RTMP_BOARD_OK
            }
            Err(e) => r.fail(e),
        }
    })
}

/// The last failure in one line (empty if none); valid until the next call.
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_last_error(r: *mut rtmp) -> *const c_char {
    match handle(r) {
        Some(r) => {
            // A link failure after start is reported by the pipeline.
            if let Some(e) = r.inner.last_error().filter(|_| r.last_error.is_empty()) {
                r.set_error(&e, 0);
            }
            r.last_error.as_ptr()
        }
        None => c"invalid handle".as_ptr(),
    }
}

/// The media SDK's code (`0xC00xxxxx`) of the last failure, or 0 when the
/// SDK was not its cause.
///
/// # Safety
/// `r` from `rtmp_new*`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_last_sdk_error(r: *mut rtmp) -> u32 {
    handle(r).map_or(0, |r| r.sdk_error)
}

/// Stops if running and frees the stream.
///
/// # Safety
/// `r` from `rtmp_new*` (or NULL), not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rtmp_free(r: *mut rtmp) {
    if r.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `r` came from `Box::into_raw` in `rtmp_new*` and is not
        // used after this (contract).
        let mut b = unsafe { Box::from_raw(r) };
        if b.inner.is_running() {
            let _ = b.inner.stop();
        }
    }));
}
