//! `rtmp_message`: a media message being sent, as a gather list of chunk
//! headers and slices of the caller's frame (never copied).

use crate::publisher::{rtmp_publisher, session};
use crate::{guard, RTMP_ERR_CLOSED, RTMP_ERR_INTERNAL, RTMP_ERR_INVALID_ARGUMENT, RTMP_ERR_NOT_PUBLISHING};
use crate::{RTMP_ERR_BUFFER_TOO_SMALL, RTMP_ERR_TOO_LARGE, RTMP_ERR_TRANSMIT_PENDING, RTMP_OK};
use core::ffi::c_int;
use core::mem::{align_of, size_of};
use core::ptr::{addr_of, addr_of_mut};
use rtmp_core::chunk::ChunkedMessage;
use rtmp_core::message::SET_DATA_FRAME;
use rtmp_core::session::SendError;
use rtmp_core::time::RtmpTimestamp;

/// Parts a message may have (its body's pieces, in order).
pub const RTMP_MAX_PARTS: usize = 16;

/// Bytes of memory: `{ pointer, length }`, the layout of POSIX `struct
/// iovec`, so an array of them can be given to `writev` as it is.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rtmp_slice {
    /// The first byte.
    pub ptr: *const u8,
    /// How many.
    pub len: usize,
}

/// A message being sent (caller-owned storage, e.g. on the stack). Filled
/// by `rtmp_publisher_send_*`; it refers to the parts given there, which
/// must stay valid and unchanged until [`rtmp_message_remaining`] is 0, and
/// to itself, so it must not be moved or copied while in use.
#[repr(C)]
pub struct rtmp_message {
    _opaque: [u64; 56],
}

struct Inner {
    parts: [&'static [u8]; RTMP_MAX_PARTS + 1],
    msg: Option<ChunkedMessage<'static>>,
}

const _: () =
    assert!(size_of::<Inner>() <= size_of::<rtmp_message>() && align_of::<Inner>() <= align_of::<rtmp_message>());

/// The chunked message in a handle filled by `rtmp_publisher_send`. Only
/// the `msg` field is borrowed mutably: the parts it refers to are never
/// under a mutable reference once sent.
fn chunked<'a>(m: *mut rtmp_message) -> Option<&'a mut ChunkedMessage<'static>> {
    if m.is_null() {
        return None;
    }
    // SAFETY: a non-null handle points to storage of the right size and
    // alignment (asserted above) that `rtmp_publisher_send` initialised
    // (contract); used from one thread at a time.
    unsafe { (*addr_of_mut!((*m.cast::<Inner>()).msg)).as_mut() }
}

fn send_error(e: SendError) -> c_int {
    match e {
        SendError::NotPublishing => RTMP_ERR_NOT_PUBLISHING,
        SendError::TransmitPending => RTMP_ERR_TRANSMIT_PENDING,
        SendError::Chunk(_) => RTMP_ERR_TOO_LARGE,
        SendError::ControlBufferFull { .. } => RTMP_ERR_BUFFER_TOO_SMALL,
        _ => RTMP_ERR_CLOSED,
    }
}

/// Message type ids for [`rtmp_publisher_send`].
pub const RTMP_AUDIO: u8 = 8;
/// Video (an FLV video tag body).
pub const RTMP_VIDEO: u8 = 9;
/// Data (an FLV script tag body such as `onMetaData`; `@setDataFrame` is
/// put in front unless it is there).
pub const RTMP_DATA: u8 = 18;

/// Sends one message of `kind` (`RTMP_AUDIO`, `RTMP_VIDEO`, `RTMP_DATA`:
/// an FLV tag body, as `nparts` pieces) at `timestamp_ms`, into `msg`:
/// write it out with [`rtmp_message_iov`] and [`rtmp_message_advance`]
/// until [`rtmp_message_remaining`] is 0, before anything else is sent.
/// Control bytes from `rtmp_publisher_poll_transmit` go first (else
/// `RTMP_ERR_TRANSMIT_PENDING`).
///
/// # Safety
/// `p` from `rtmp_publisher_init`; `parts` readable for `nparts` slices,
/// each readable and unchanged until the message is sent; `msg` writable
/// and not moved until then.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_send(
    p: *mut rtmp_publisher,
    kind: u8,
    timestamp_ms: u32,
    parts: *const rtmp_slice,
    nparts: usize,
    msg: *mut rtmp_message,
) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        let Some(session) = session(p) else { return RTMP_ERR_INVALID_ARGUMENT };
        if msg.is_null() || (parts.is_null() && nparts > 0) || !matches!(kind, RTMP_AUDIO | RTMP_VIDEO | RTMP_DATA) {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        if nparts > RTMP_MAX_PARTS {
            return RTMP_ERR_TOO_LARGE;
        }
        let given: &[rtmp_slice] = if nparts == 0 {
            &[]
        } else {
            // SAFETY: `parts` is readable for `nparts` slices (contract).
            unsafe { core::slice::from_raw_parts(parts, nparts) }
        };
        let ip = msg.cast::<Inner>();
        // SAFETY: `msg` is writable storage of the right size and alignment
        // (asserted at compile time); it is initialised here before use.
        unsafe { ip.write(Inner { parts: [&[]; RTMP_MAX_PARTS + 1], msg: None }) };
        let mut n = 0;
        if kind == RTMP_DATA && !starts_with(given, SET_DATA_FRAME) {
            // SAFETY: `ip` was initialised above; n < RTMP_MAX_PARTS + 1.
            unsafe { (*ip).parts[0] = SET_DATA_FRAME };
            n = 1;
        }
        for s in given {
            if s.ptr.is_null() && s.len > 0 {
                return RTMP_ERR_INVALID_ARGUMENT;
            }
            let part: &'static [u8] = if s.len == 0 {
                &[]
            } else {
                // SAFETY: each part is readable for its length and stays
                // valid and unchanged until the message is sent (contract).
                unsafe { core::slice::from_raw_parts(s.ptr, s.len) }
            };
            // SAFETY: `ip` is initialised; n <= RTMP_MAX_PARTS (checked).
            unsafe { (*ip).parts[n] = part };
            n += 1;
        }
        // SAFETY: the parts array lives in `msg`, which is not moved while
        // the message is in use (contract), so the borrow stays valid.
        let body: &'static [&'static [u8]] =
            unsafe { core::slice::from_raw_parts(addr_of!((*ip).parts).cast::<&'static [u8]>(), n) };
        let ts = RtmpTimestamp(timestamp_ms);
        let sent = match kind {
            RTMP_AUDIO => session.send_audio(ts, body),
            RTMP_VIDEO => session.send_video(ts, body),
            _ => session.send_data(ts, body),
        };
        match sent {
            Ok(m) => {
                // SAFETY: only the `msg` field is written; `body` borrows `parts`.
                unsafe { *addr_of_mut!((*ip).msg) = Some(m) };
                RTMP_OK
            }
            Err(e) => send_error(e),
        }
    })
}

/// `rtmp_publisher_send` of an `RTMP_VIDEO` message (an FLV video tag
/// body, such as `rtmp_video_frame_parts` gives).
///
/// # Safety
/// As `rtmp_publisher_send`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_send_video(
    p: *mut rtmp_publisher,
    timestamp_ms: u32,
    parts: *const rtmp_slice,
    nparts: usize,
    msg: *mut rtmp_message,
) -> c_int {
    // SAFETY: the same contract.
    unsafe { rtmp_publisher_send(p, RTMP_VIDEO, timestamp_ms, parts, nparts, msg) }
}

/// `rtmp_publisher_send` of an `RTMP_AUDIO` message (an FLV audio tag
/// body, such as `rtmp_aac_package_adts` gives).
///
/// # Safety
/// As `rtmp_publisher_send`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_send_audio(
    p: *mut rtmp_publisher,
    timestamp_ms: u32,
    parts: *const rtmp_slice,
    nparts: usize,
    msg: *mut rtmp_message,
) -> c_int {
    // SAFETY: the same contract.
    unsafe { rtmp_publisher_send(p, RTMP_AUDIO, timestamp_ms, parts, nparts, msg) }
}

fn starts_with(parts: &[rtmp_slice], prefix: &[u8]) -> bool {
    parts.first().is_some_and(|s| {
        // SAFETY: the first part is readable for its length (contract of
        // `rtmp_publisher_send`), and only `prefix.len()` bytes are read.
        s.len >= prefix.len()
            && !s.ptr.is_null()
            && unsafe { core::slice::from_raw_parts(s.ptr, prefix.len()) } == prefix
    })
}

/// Fills `iov` (room for `cap` slices) with the next part of the message
/// in wire order (chunk headers and slices of the caller's parts); returns
/// how many were filled. Give them to `writev` as an `iovec` array, then
/// report the bytes written with [`rtmp_message_advance`]; the slices are
/// valid until that call (headers point into the message).
///
/// # Safety
/// `msg` filled by `rtmp_publisher_send`; `iov` writable for `cap` slices.
#[no_mangle]
pub unsafe extern "C" fn rtmp_message_iov(msg: *mut rtmp_message, iov: *mut rtmp_slice, cap: usize) -> usize {
    guard(0, || {
        let (Some(m), false) = (chunked(msg), iov.is_null()) else { return 0 };
        // SAFETY: `iov` is writable for `cap` slices; they are set to empty
        // slices before a reference to them is made.
        let out = unsafe {
            for i in 0..cap {
                iov.add(i).write(rtmp_slice { ptr: core::ptr::null(), len: 0 });
            }
            core::slice::from_raw_parts_mut(iov, cap)
        };
        m.fill_with(out, |s| rtmp_slice { ptr: s.as_ptr(), len: s.len() })
    })
}

/// `n` bytes of the message were written.
///
/// # Safety
/// `msg` filled by `rtmp_publisher_send`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_message_advance(msg: *mut rtmp_message, n: usize) {
    guard((), || {
        if let Some(m) = chunked(msg) {
            m.advance(n);
        }
    })
}

/// Bytes of the message still to write (0: done; the parts may be reused).
///
/// # Safety
/// `msg` filled by `rtmp_publisher_send`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_message_remaining(msg: *mut rtmp_message) -> usize {
    guard(0, || chunked(msg).map_or(0, |m| m.remaining()))
}
