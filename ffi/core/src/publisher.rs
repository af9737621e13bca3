//! `rtmp_publisher`: rtmp-core's [`Publisher`] in memory the caller gives.

use crate::{guard, CText, RTMP_ERR_BUFFER_TOO_SMALL, RTMP_ERR_CLOSED, RTMP_ERR_HANDSHAKE, RTMP_ERR_INTERNAL};
use crate::{RTMP_ERR_INVALID_ARGUMENT, RTMP_ERR_PROTOCOL, RTMP_OK};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::Write as _;
use core::mem::{align_of, size_of};
use core::ptr::addr_of_mut;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{CloseReason, Event, InputError, Publisher, PublisherConfig};
use rtmp_core::time::Instant;

/// Bytes for app, stream (with its query) and tcUrl together.
const STRINGS: usize = 1536;
/// Room for the last event's code and description, each NUL-terminated.
const TEXT: usize = 64 + 1 + 192 + 1;
/// The smallest reassembly buffer accepted (a server's control messages).
pub const RTMP_MIN_RECV_BUFFER: usize = 4096;
/// Bytes of randomness `rtmp_publisher_init` takes (the handshake's C1).
pub const RTMP_RANDOM_LEN: usize = 1528;
const _: () = assert!(RTMP_RANDOM_LEN == RANDOM_LEN);

/// A publishing session (opaque). It lives in the memory given to
/// [`rtmp_publisher_init`], which must stay put (not be moved or copied)
/// and be used from one thread at a time; it holds no other resources, so
/// the memory may be reused after the last call.
pub struct rtmp_publisher {
    strings: [u8; STRINGS],
    /// The last event's code, then its description.
    text: [u8; TEXT],
    session: Publisher<'static>,
}

/// `connect` succeeded.
pub const RTMP_EVENT_CONNECTED: c_int = 1;
/// `NetStream.Publish.Start`: media may be sent (`stream_id` is set).
pub const RTMP_EVENT_PUBLISH_STARTED: c_int = 2;
/// Another status from the server (`code`, `description`).
pub const RTMP_EVENT_STATUS: c_int = 3;
/// The server asks to reconnect (Enhanced RTMP v2).
pub const RTMP_EVENT_RECONNECT_REQUEST: c_int = 4;
/// The session closed (`close_reason`; `code` and `description` for a refusal).
pub const RTMP_EVENT_CLOSED: c_int = 5;

/// `rtmp_publisher_close` was called.
pub const RTMP_CLOSE_LOCAL: c_int = 1;
/// The server refused (`code` such as `NetStream.Publish.BadName`).
pub const RTMP_CLOSE_REFUSED: c_int = 2;
/// The server did not answer a step in time (`description` names it).
pub const RTMP_CLOSE_TIMEOUT: c_int = 3;
/// The handshake failed.
pub const RTMP_CLOSE_HANDSHAKE: c_int = 4;
/// The server sent something malformed.
pub const RTMP_CLOSE_PROTOCOL: c_int = 5;
/// The server closed the connection.
pub const RTMP_CLOSE_PEER_CLOSED: c_int = 6;
/// A command does not fit the control buffer (a very long stream name).
pub const RTMP_CLOSE_COMMAND_TOO_LARGE: c_int = 7;

/// An event from [`rtmp_publisher_poll_event`]. `code` and `description`
/// are NUL-terminated (empty when not set) and valid until the next call
/// on the publisher.
#[repr(C)]
pub struct rtmp_event {
    /// One of `RTMP_EVENT_*`.
    pub kind: c_int,
    /// The message stream id (`RTMP_EVENT_PUBLISH_STARTED`).
    pub stream_id: u32,
    /// One of `RTMP_CLOSE_*` (`RTMP_EVENT_CLOSED`).
    pub close_reason: c_int,
    /// The server's status code.
    pub code: *const c_char,
    /// The server's description, or what went wrong.
    pub description: *const c_char,
}

/// The bytes to give [`rtmp_publisher_init`] for a reassembly buffer of
/// `recv_buffer` bytes (the largest message the server may send; 16384 is
/// plenty, at least `RTMP_MIN_RECV_BUFFER`).
#[no_mangle]
pub extern "C" fn rtmp_publisher_size(recv_buffer: usize) -> usize {
    size_of::<rtmp_publisher>() + recv_buffer.max(RTMP_MIN_RECV_BUFFER)
}

/// Bytes of a publisher's state on this target, without its receive
/// buffer (what `rtmp_publisher_size(0)` adds to it); a symbol so that
/// footprint tools can read it from a cross-built binary.
#[no_mangle]
pub static RTMP_PUBLISHER_STATE_SIZE: usize = size_of::<rtmp_publisher>();

/// The alignment the memory given to [`rtmp_publisher_init`] needs.
#[no_mangle]
pub extern "C" fn rtmp_publisher_align() -> usize {
    align_of::<rtmp_publisher>()
}

fn cstr<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated string (checked non-null),
    // read only during the call.
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}

/// Starts a publisher in `mem` (`len` bytes, aligned to
/// [`rtmp_publisher_align`]; what follows the session is its reassembly
/// buffer): the handshake is queued at once. `app`, `stream` (stream key,
/// query included) and `tc_url` are copied (1.5 KiB together at most);
/// `random` is `RTMP_RANDOM_LEN` random bytes; `now_us` is the caller's
/// monotonic clock in microseconds. On success `*out` is the publisher
/// (it points into `mem`).
///
/// # Safety
/// `mem` must be valid for `len` bytes and untouched by anything else while
/// the publisher is used; strings NUL-terminated; `random` readable for
/// `RTMP_RANDOM_LEN` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_init(
    mem: *mut c_void,
    len: usize,
    app: *const c_char,
    stream: *const c_char,
    tc_url: *const c_char,
    now_us: u64,
    random: *const u8,
    out: *mut *mut rtmp_publisher,
) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        if mem.is_null() || random.is_null() || out.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        if len < rtmp_publisher_size(0) || mem as usize % align_of::<rtmp_publisher>() != 0 {
            return RTMP_ERR_BUFFER_TOO_SMALL;
        }
        let (Some(app), Some(stream), Some(tc_url)) = (cstr(app), cstr(stream), cstr(tc_url)) else {
            return RTMP_ERR_INVALID_ARGUMENT;
        };
        if app.len() + stream.len() + tc_url.len() > STRINGS {
            return RTMP_ERR_BUFFER_TOO_SMALL;
        }
        let blk = mem.cast::<rtmp_publisher>();
        // SAFETY: `mem` is valid for `len >= size_of::<rtmp_publisher>() +
        // RTMP_MIN_RECV_BUFFER` bytes and aligned (checked above); the
        // strings and text fields are plain bytes, written before any
        // reference to them is made.
        let strings: &'static mut [u8; STRINGS] = unsafe {
            addr_of_mut!((*blk).strings).write([0; STRINGS]);
            addr_of_mut!((*blk).text).write([0; TEXT]);
            &mut *addr_of_mut!((*blk).strings)
        };
        let (a, rest) = strings.split_at_mut(app.len());
        let (s, rest) = rest.split_at_mut(stream.len());
        let t = &mut rest[..tc_url.len()];
        a.copy_from_slice(app.as_bytes());
        s.copy_from_slice(stream.as_bytes());
        t.copy_from_slice(tc_url.as_bytes());
        // Copies of valid UTF-8 are valid UTF-8.
        let (Ok(a), Ok(s), Ok(t)) = (core::str::from_utf8(a), core::str::from_utf8(s), core::str::from_utf8(t)) else {
            return RTMP_ERR_INTERNAL;
        };
        // SAFETY: the reassembly buffer is the rest of `mem` (in bounds by
        // the length check); no other reference to it exists.
        let recv: &'static mut [u8] = unsafe {
            core::slice::from_raw_parts_mut(
                mem.cast::<u8>().add(size_of::<rtmp_publisher>()),
                len - size_of::<rtmp_publisher>(),
            )
        };
        // SAFETY: `random` is readable for RTMP_RANDOM_LEN bytes (contract).
        let random: &[u8; RANDOM_LEN] = unsafe { &*random.cast::<[u8; RANDOM_LEN]>() };
        let session = Publisher::new(PublisherConfig::new(a, s, t), recv, Instant::from_micros(now_us), random);
        // SAFETY: `blk` is valid and aligned; the session field is written
        // once here, before the publisher is handed out; `out` is writable.
        unsafe {
            addr_of_mut!((*blk).session).write(session);
            *out = blk;
        }
        RTMP_OK
    })
}

/// The session behind a handle, or `None` for a null handle. Only the
/// `session` field is borrowed: it holds shared borrows of the `strings`
/// field (and the buffer after the struct), which a mutable borrow of the
/// whole block would invalidate.
pub(crate) fn session<'a>(p: *mut rtmp_publisher) -> Option<&'a mut Publisher<'static>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null handle comes from `rtmp_publisher_init` (the field
    // is initialised) and is used from one thread at a time (the contract
    // on every function).
    Some(unsafe { &mut *addr_of_mut!((*p).session) })
}

fn input_error(e: InputError) -> c_int {
    match e {
        InputError::Handshake(_) => RTMP_ERR_HANDSHAKE,
        InputError::Closed => RTMP_ERR_CLOSED,
        _ => RTMP_ERR_PROTOCOL,
    }
}

/// Feeds `len` bytes received from the server at `now_us`; returns how many
/// were consumed (keep the rest and give them again with more), or a
/// negative error (the session is then closed; poll its event).
///
/// # Safety
/// `p` from `rtmp_publisher_init`; `buf` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_recv(p: *mut rtmp_publisher, buf: *const u8, len: usize, now_us: u64) -> isize {
    guard(RTMP_ERR_INTERNAL as isize, || {
        let Some(session) = session(p) else { return RTMP_ERR_INVALID_ARGUMENT as isize };
        if buf.is_null() && len > 0 {
            return RTMP_ERR_INVALID_ARGUMENT as isize;
        }
        let input: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `buf` is readable for `len` bytes (contract).
            unsafe { core::slice::from_raw_parts(buf, len) }
        };
        match session.handle_input(Instant::from_micros(now_us), input) {
            Ok(n) => n as isize,
            Err(e) => input_error(e) as isize,
        }
    })
}

/// Control bytes to send: sets `*data` and returns their length (0: none).
/// Report what was sent with [`rtmp_publisher_transmitted`].
///
/// # Safety
/// `p` from `rtmp_publisher_init`; `data` writable. The bytes stay valid
/// until the next call on the publisher.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_poll_transmit(p: *mut rtmp_publisher, data: *mut *const u8) -> usize {
    guard(0, || {
        let (Some(session), false) = (session(p), data.is_null()) else { return 0 };
        let bytes = session.poll_transmit().unwrap_or(&[]);
        // SAFETY: `data` is writable (checked non-null).
        unsafe { *data = bytes.as_ptr() };
        bytes.len()
    })
}

/// `n` bytes of the control bytes were sent.
///
/// # Safety
/// `p` from `rtmp_publisher_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_transmitted(p: *mut rtmp_publisher, n: usize) {
    guard((), || {
        if let Some(session) = session(p) {
            session.transmitted(n);
        }
    })
}

/// When the publisher next needs [`rtmp_publisher_on_timeout`]: returns 1
/// and sets `*at_us`, or 0 when it needs no timer.
///
/// # Safety
/// `p` from `rtmp_publisher_init`; `at_us` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_timeout(p: *mut rtmp_publisher, at_us: *mut u64) -> c_int {
    guard(0, || {
        let (Some(session), false) = (session(p), at_us.is_null()) else { return 0 };
        match session.poll_timeout() {
            Some(t) => {
                // SAFETY: `at_us` is writable (checked non-null).
                unsafe { *at_us = t.as_micros() };
                1
            }
            None => 0,
        }
    })
}

/// The time is `now_us`: harmless when early or repeated.
///
/// # Safety
/// `p` from `rtmp_publisher_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_on_timeout(p: *mut rtmp_publisher, now_us: u64) {
    guard((), || {
        if let Some(session) = session(p) {
            session.handle_timeout(Instant::from_micros(now_us));
        }
    })
}

/// The server closed the connection (read returned 0).
///
/// # Safety
/// `p` from `rtmp_publisher_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_peer_closed(p: *mut rtmp_publisher) {
    guard((), || {
        if let Some(session) = session(p) {
            session.handle_peer_closed();
        }
    })
}

/// Ends the session: `FCUnpublish` and `deleteStream` are queued when
/// publishing (send them, then close the socket); reported as a
/// `RTMP_EVENT_CLOSED` with `RTMP_CLOSE_LOCAL`.
///
/// # Safety
/// `p` from `rtmp_publisher_init`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_close(p: *mut rtmp_publisher) {
    guard((), || {
        if let Some(session) = session(p) {
            session.close();
        }
    })
}

/// The next event: returns 1 and fills `*ev`, or 0 when there is none.
///
/// # Safety
/// `p` from `rtmp_publisher_init`; `ev` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_publisher_poll_event(p: *mut rtmp_publisher, ev: *mut rtmp_event) -> c_int {
    guard(0, || {
        let (Some(session), false) = (session(p), ev.is_null()) else { return 0 };
        let Some(event) = session.poll_event() else { return 0 };
        // SAFETY: `p` is a live handle (checked by `session`); only the
        // `text` field is borrowed, which nothing else refers to.
        let text = unsafe { &mut *addr_of_mut!((*p).text) };
        let (code, desc) = text.split_at_mut(65);
        let (mut code, mut desc) = (CText { buf: code, len: 0 }, CText { buf: desc, len: 0 });
        let _ = code.write_str("");
        let _ = desc.write_str("");
        let (mut kind, mut stream_id, mut close_reason) = (0, 0, 0);
        match &event {
            Event::Connected => kind = RTMP_EVENT_CONNECTED,
            Event::PublishStarted { stream_id: id } => (kind, stream_id) = (RTMP_EVENT_PUBLISH_STARTED, *id),
            Event::Status { code: c, description: d } => {
                kind = RTMP_EVENT_STATUS;
                let _ = code.write_str(c.as_str());
                let _ = desc.write_str(d.as_str());
            }
            Event::ReconnectRequest => kind = RTMP_EVENT_RECONNECT_REQUEST,
            Event::Closed(reason) => {
                kind = RTMP_EVENT_CLOSED;
                // Plain strings, not `Display`: formatting machinery would
                // cost firmware several KiB of flash.
                let (reason_code, what) = match reason {
                    CloseReason::Local => (RTMP_CLOSE_LOCAL, "closed by the application"),
                    CloseReason::Refused { code: c, description: d } => {
                        let _ = code.write_str(c.as_str());
                        (RTMP_CLOSE_REFUSED, d.as_str())
                    }
                    CloseReason::Timeout(step) => (RTMP_CLOSE_TIMEOUT, *step),
                    CloseReason::Handshake(_) => (RTMP_CLOSE_HANDSHAKE, "handshake failed"),
                    CloseReason::PeerClosed => (RTMP_CLOSE_PEER_CLOSED, "server closed the connection"),
                    CloseReason::CommandTooLarge => (RTMP_CLOSE_COMMAND_TOO_LARGE, "command too large"),
                    _ => (RTMP_CLOSE_PROTOCOL, "malformed data from the server"),
                };
                close_reason = reason_code;
                let _ = desc.write_str(what);
            }
            _ => {}
        }
        let text = text.as_ptr();
        // SAFETY: `ev` is writable (checked non-null); the strings point into
        // the publisher, valid until its next call.
        unsafe {
            ev.write(rtmp_event { kind, stream_id, close_reason, code: text.cast(), description: text.add(65).cast() })
        };
        1
    })
}
