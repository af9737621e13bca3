//! `rtmp_url_parse`: an RTMP URL split as ffmpeg splits it.

use crate::{
    guard, write_c_str, RTMP_ERR_BUFFER_TOO_SMALL, RTMP_ERR_INTERNAL, RTMP_ERR_INVALID_ARGUMENT, RTMP_ERR_URL, RTMP_OK,
};
use core::ffi::{c_char, c_int, CStr};
use rtmp_core::url::{RtmpUrl, Scheme};

/// A parsed URL: NUL-terminated strings in the buffer given to
/// [`rtmp_url_parse`]. `stream` is the stream key with its query: a
/// secret; print [`rtmp_url::redacted`] instead of the URL.
#[repr(C)]
pub struct rtmp_url {
    /// 1 for `rtmps://` (TLS), 0 for `rtmp://`.
    pub tls: c_int,
    /// The port (1935, or 443 for rtmps, when the URL has none).
    pub port: u16,
    /// The host name or address (IPv6 without brackets).
    pub host: *const c_char,
    /// The application (`live`, or `app/instance`).
    pub app: *const c_char,
    /// The stream name with its query (the stream key).
    pub stream: *const c_char,
    /// The `tcUrl` to connect with.
    pub tc_url: *const c_char,
    /// The URL with the stream name replaced by `<redacted>`, for logs.
    pub redacted: *const c_char,
}

/// Parses `url` (`rtmp[s]://host[:port]/app[/instance]/stream[?query]`)
/// into `*out`, its strings copied into `buf` (`len` bytes; twice the URL's
/// length plus 64 is always enough).
///
/// # Safety
/// `url` NUL-terminated; `buf` writable for `len` bytes and kept while
/// `*out` is used; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_url_parse(url: *const c_char, buf: *mut c_char, len: usize, out: *mut rtmp_url) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        if url.is_null() || buf.is_null() || out.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        // SAFETY: `url` is NUL-terminated (contract).
        let Ok(text) = unsafe { CStr::from_ptr(url) }.to_str() else { return RTMP_ERR_INVALID_ARGUMENT };
        let Ok(u) = RtmpUrl::parse(text) else { return RTMP_ERR_URL };
        // SAFETY: `buf` is writable for `len` bytes (contract); no other
        // reference to it exists during the call.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        let mut at = 0;
        let mut offsets = [0usize; 5];
        for (i, s) in [u.host(), u.app(), u.stream()].into_iter().enumerate() {
            let Some(n) = write_c_str(&mut buf[at..], s.as_bytes()) else { return RTMP_ERR_BUFFER_TOO_SMALL };
            offsets[i] = at;
            at += n + 1;
        }
        offsets[3] = at;
        let Ok(tc) = u.write_tc_url(&mut buf[at..]) else { return RTMP_ERR_BUFFER_TOO_SMALL };
        at += tc.len();
        let Some(nul) = buf.get_mut(at) else { return RTMP_ERR_BUFFER_TOO_SMALL };
        *nul = 0;
        at += 1;
        offsets[4] = at;
        let base = text.len() - u.stream().len();
        let Some(n) = write_c_str(&mut buf[at..], &text.as_bytes()[..base]) else { return RTMP_ERR_BUFFER_TOO_SMALL };
        let Some(_) = write_c_str(&mut buf[at + n..], b"<redacted>") else { return RTMP_ERR_BUFFER_TOO_SMALL };
        let p = buf.as_ptr().cast::<c_char>();
        // SAFETY: the offsets are inside `buf`; `out` is writable (contract).
        unsafe {
            out.write(rtmp_url {
                tls: c_int::from(u.scheme() == Scheme::Rtmps),
                port: u.port(),
                host: p.add(offsets[0]),
                app: p.add(offsets[1]),
                stream: p.add(offsets[2]),
                tc_url: p.add(offsets[3]),
                redacted: p.add(offsets[4]),
            })
        };
        RTMP_OK
    })
}
