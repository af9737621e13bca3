//! H.264 and AAC packaging: an encoder's Annex-B access unit or ADTS frame
//! turned into FLV tag bodies, as parts that point into the encoder's
//! buffer (the few bytes of headers and NAL lengths live in the caller's
//! `rtmp_video_frame`).

use crate::message::rtmp_slice;
use crate::{guard, RTMP_ERR_INTERNAL, RTMP_ERR_INVALID_ARGUMENT, RTMP_ERR_TOO_LARGE, RTMP_OK};
use core::ffi::c_int;
use core::mem::{align_of, size_of};
use rtmp_core::flv::aac::AacPackager;
use rtmp_core::flv::avc::{AvcError, AvcFrame, AvcPackager};
use rtmp_core::flv::hevc::{HevcError, HevcPackager};

/// NAL units a video frame may carry.
pub const RTMP_MAX_NAL_UNITS: usize = 16;
/// Parts of a packaged video frame: a header, then a length and a NAL unit each.
pub const RTMP_VIDEO_PARTS: usize = 2 * RTMP_MAX_NAL_UNITS + 1;
/// The frame has no SPS/PPS yet: the packager needs an IDR with them first.
pub const RTMP_ERR_NO_PARAMETER_SETS: c_int = -20;
/// The SPS is malformed, or the ADTS header is.
pub const RTMP_ERR_BAD_MEDIA: c_int = -21;

/// The H.264 packager's state (caller storage; start it with
/// [`rtmp_avc_packager_init`]): the latest sequence header and whether
/// this connection has had it.
#[repr(C)]
pub struct rtmp_avc_packager {
    _opaque: [u64; 72],
}

/// A packaged video frame (caller storage): headers and NAL lengths, with
/// pointers to the NAL units in the input.
#[repr(C)]
pub struct rtmp_video_frame {
    _opaque: [u64; 48],
}

/// The H.265 packager's state (caller storage; start it with
/// [`rtmp_hevc_packager_init`]). Its frames are Enhanced RTMP (`hvc1`):
/// the server must take them (YouTube, SRS 6, Node-Media-Server 4).
#[repr(C)]
pub struct rtmp_hevc_packager {
    _opaque: [u64; 136],
}

/// The AAC packager's state (caller storage).
#[repr(C)]
pub struct rtmp_aac_packager {
    _opaque: [u64; 2],
}

type Frame = AvcFrame<'static, RTMP_MAX_NAL_UNITS>;

const _: () = {
    assert!(size_of::<AvcPackager>() <= size_of::<rtmp_avc_packager>());
    assert!(align_of::<AvcPackager>() <= align_of::<rtmp_avc_packager>());
    assert!(size_of::<Frame>() <= size_of::<rtmp_video_frame>());
    assert!(align_of::<Frame>() <= align_of::<rtmp_video_frame>());
    assert!(size_of::<HevcPackager>() <= size_of::<rtmp_hevc_packager>());
    assert!(align_of::<HevcPackager>() <= align_of::<rtmp_hevc_packager>());
    assert!(size_of::<AacPackager>() <= size_of::<rtmp_aac_packager>());
    assert!(align_of::<AacPackager>() <= align_of::<rtmp_aac_packager>());
};

/// Starts an H.264 packager.
///
/// # Safety
/// `pk` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_avc_packager_init(pk: *mut rtmp_avc_packager) -> c_int {
    if pk.is_null() {
        return RTMP_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: storage of the right size and alignment (asserted), writable.
    unsafe { pk.cast::<AvcPackager>().write(AvcPackager::new()) };
    RTMP_OK
}

/// A new connection: the sequence header goes out again before the next keyframe.
///
/// # Safety
/// `pk` initialised by `rtmp_avc_packager_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_avc_packager_resend_config(pk: *mut rtmp_avc_packager) {
    // SAFETY: an initialised packager (contract), used by one thread.
    if let Some(pk) = unsafe { pk.cast::<AvcPackager>().as_mut() } {
        pk.resend_config();
    }
}

/// Packages one access unit (`annexb`, `len` bytes, start codes included;
/// `composition_ms` = pts - dts) into `frame`; when a sequence header must
/// go first (the first keyframe, or new parameter sets), `*config` is set
/// to it (valid until the next call on the packager), else to `{NULL, 0}`.
/// Returns the number of parts [`rtmp_video_frame_parts`] gives, or an error.
/// Send the config (as a one-part `RTMP_VIDEO` message) before the frame.
///
/// # Safety
/// `pk` initialised; `annexb` readable for `len` bytes and unchanged while
/// the frame is used; `frame` and `config` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_avc_package(
    pk: *mut rtmp_avc_packager,
    annexb: *const u8,
    len: usize,
    composition_ms: i32,
    frame: *mut rtmp_video_frame,
    config: *mut rtmp_slice,
) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        if pk.is_null() || annexb.is_null() || frame.is_null() || config.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        // SAFETY: an initialised packager (contract).
        let pk = unsafe { &mut *pk.cast::<AvcPackager>() };
        // SAFETY: `annexb` is readable for `len` bytes and outlives the
        // frame's use (contract).
        let input: &'static [u8] = unsafe { core::slice::from_raw_parts(annexb, len) };
        let packaged = pk.package::<RTMP_MAX_NAL_UNITS>(input, composition_ms).map_err(|e| match e {
            AvcError::MissingParameterSets => RTMP_ERR_NO_PARAMETER_SETS,
            AvcError::TooManyNalUnits(_) | AvcError::TooLarge | AvcError::ConfigTooLarge(_) => RTMP_ERR_TOO_LARGE,
            _ => RTMP_ERR_BAD_MEDIA,
        });
        // SAFETY: `frame` and `config` are writable (contract, checked non-null).
        unsafe { store(packaged, frame, config) }
    })
}

/// Writes a packager's result into the caller's `frame` and `config`;
/// returns the frame's part count or the error code. Shared by H.264 and H.265.
///
/// # Safety
/// `frame` and `config` writable.
unsafe fn store(
    packaged: Result<(Option<&[u8]>, Frame), c_int>,
    frame: *mut rtmp_video_frame,
    config: *mut rtmp_slice,
) -> c_int {
    match packaged {
        Ok((cfg, f)) => {
            let parts = 2 * f.nal_count() + 1;
            let c = cfg.map_or(rtmp_slice { ptr: core::ptr::null(), len: 0 }, |c| rtmp_slice {
                ptr: c.as_ptr(),
                len: c.len(),
            });
            // SAFETY: `frame` and `config` are writable storage of the right
            // size and alignment (asserted; contract).
            unsafe {
                frame.cast::<Frame>().write(f);
                config.write(c);
            }
            parts as c_int
        }
        Err(code) => code,
    }
}

/// Starts an H.265 packager.
///
/// # Safety
/// `pk` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_hevc_packager_init(pk: *mut rtmp_hevc_packager) -> c_int {
    if pk.is_null() {
        return RTMP_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: storage of the right size and alignment (asserted), writable.
    unsafe { pk.cast::<HevcPackager>().write(HevcPackager::new()) };
    RTMP_OK
}

/// A new connection: the sequence header goes out again before the next IRAP.
///
/// # Safety
/// `pk` initialised by `rtmp_hevc_packager_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_hevc_packager_resend_config(pk: *mut rtmp_hevc_packager) {
    // SAFETY: an initialised packager (contract), used by one thread.
    if let Some(pk) = unsafe { pk.cast::<HevcPackager>().as_mut() } {
        pk.resend_config();
    }
}

/// [`rtmp_avc_package`] for H.265: VPS, SPS and PPS go into the sequence
/// header (`*config`), the frame into `frame` (`CodedFrames` /
/// `CodedFramesX` tag bodies).
///
/// # Safety
/// As `rtmp_avc_package`, with an initialised H.265 packager.
#[no_mangle]
pub unsafe extern "C" fn rtmp_hevc_package(
    pk: *mut rtmp_hevc_packager,
    annexb: *const u8,
    len: usize,
    composition_ms: i32,
    frame: *mut rtmp_video_frame,
    config: *mut rtmp_slice,
) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        if pk.is_null() || annexb.is_null() || frame.is_null() || config.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        // SAFETY: an initialised packager (contract).
        let pk = unsafe { &mut *pk.cast::<HevcPackager>() };
        // SAFETY: `annexb` is readable for `len` bytes and outlives the
        // frame's use (contract).
        let input: &'static [u8] = unsafe { core::slice::from_raw_parts(annexb, len) };
        let packaged = pk.package::<RTMP_MAX_NAL_UNITS>(input, composition_ms).map_err(|e| match e {
            HevcError::MissingParameterSets => RTMP_ERR_NO_PARAMETER_SETS,
            HevcError::TooManyNalUnits(_) | HevcError::TooLarge | HevcError::ConfigTooLarge(_) => RTMP_ERR_TOO_LARGE,
            _ => RTMP_ERR_BAD_MEDIA,
        });
        // SAFETY: `frame` and `config` are writable (contract, checked non-null).
        unsafe { store(packaged, frame, config) }
    })
}

/// Fills `parts` (room for `cap`, at least what `rtmp_avc_package`
/// returned) with the frame's tag body; returns how many, 0 if `cap` is
/// short. Give them to `rtmp_publisher_send` as an `RTMP_VIDEO` message.
///
/// # Safety
/// `frame` filled by `rtmp_avc_package` and not moved since; `parts`
/// writable for `cap` slices.
#[no_mangle]
pub unsafe extern "C" fn rtmp_video_frame_parts(
    frame: *const rtmp_video_frame,
    parts: *mut rtmp_slice,
    cap: usize,
) -> usize {
    guard(0, || {
        if frame.is_null() || parts.is_null() {
            return 0;
        }
        // SAFETY: a frame filled by `rtmp_avc_package` (contract).
        let f = unsafe { &*frame.cast::<Frame>() };
        let mut slots: [&[u8]; RTMP_VIDEO_PARTS] = [&[]; RTMP_VIDEO_PARTS];
        let Some(body) = f.parts(&mut slots) else { return 0 };
        if body.len() > cap {
            return 0;
        }
        for (i, b) in body.iter().enumerate() {
            // SAFETY: `parts` is writable for `cap >= body.len()` slices.
            unsafe { parts.add(i).write(rtmp_slice { ptr: b.as_ptr(), len: b.len() }) };
        }
        body.len()
    })
}

/// Whether the frame is a keyframe (IDR).
///
/// # Safety
/// `frame` filled by `rtmp_avc_package`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_video_frame_is_keyframe(frame: *const rtmp_video_frame) -> c_int {
    // SAFETY: a frame filled by `rtmp_avc_package` (contract).
    unsafe { frame.cast::<Frame>().as_ref() }.map_or(0, |f| c_int::from(f.is_keyframe()))
}

/// Starts an AAC packager.
///
/// # Safety
/// `pk` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_aac_packager_init(pk: *mut rtmp_aac_packager) -> c_int {
    if pk.is_null() {
        return RTMP_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: storage of the right size and alignment (asserted), writable.
    unsafe { pk.cast::<AacPackager>().write(AacPackager::new()) };
    RTMP_OK
}

/// Packages the first ADTS frame in `adts` (`len` bytes): `parts[0..2]`
/// become the tag body (`AF 01` and the raw frame inside `adts`), and when
/// the AAC sequence header must go first, its 4 bytes are written to
/// `config` and `*has_config` is 1. Returns the bytes of `adts` used (the
/// next frame starts there), or an error.
///
/// # Safety
/// `pk` initialised; `adts` readable for `len` bytes; `parts` writable for
/// 2 slices, `config` for 4 bytes, `has_config` for one int.
#[no_mangle]
pub unsafe extern "C" fn rtmp_aac_package_adts(
    pk: *mut rtmp_aac_packager,
    adts: *const u8,
    len: usize,
    parts: *mut rtmp_slice,
    config: *mut u8,
    has_config: *mut c_int,
) -> isize {
    guard(RTMP_ERR_INTERNAL as isize, || {
        if pk.is_null() || adts.is_null() || parts.is_null() || config.is_null() || has_config.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT as isize;
        }
        // SAFETY: an initialised packager; `adts` readable (contract).
        let (pk, input) = unsafe { (&mut *pk.cast::<AacPackager>(), core::slice::from_raw_parts(adts, len)) };
        match pk.package_adts(input) {
            Ok((cfg, body, rest)) => {
                // SAFETY: the outputs are writable for what is written (contract).
                unsafe {
                    for (i, b) in body.iter().enumerate() {
                        parts.add(i).write(rtmp_slice { ptr: b.as_ptr(), len: b.len() });
                    }
                    *has_config = c_int::from(cfg.is_some());
                    if let Some(c) = cfg {
                        core::ptr::copy_nonoverlapping(c.as_ptr(), config, 4);
                    }
                }
                (len - rest.len()) as isize
            }
            Err(_) => RTMP_ERR_BAD_MEDIA as isize,
        }
    })
}
