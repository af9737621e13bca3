//! `rtmp_flv_reader`: an FLV file or stream read tag by tag, sans-IO.

use crate::{guard, RTMP_ERR_FLV, RTMP_ERR_INTERNAL, RTMP_ERR_INVALID_ARGUMENT};
use core::ffi::c_int;
use core::mem::{align_of, size_of};
use rtmp_core::flv::{FlvItem, FlvReader};

/// The reader's state (caller-owned storage); start it with
/// [`rtmp_flv_reader_init`].
#[repr(C)]
pub struct rtmp_flv_reader {
    _opaque: [u64; 8],
}

const _: () = assert!(
    size_of::<FlvReader>() <= size_of::<rtmp_flv_reader>() && align_of::<FlvReader>() <= align_of::<rtmp_flv_reader>()
);

/// The file header was read.
pub const RTMP_FLV_HEADER: c_int = 1;
/// A tag was read (`tag_type`, `timestamp`, `data`, `len`).
pub const RTMP_FLV_TAG: c_int = 2;
/// More input is needed: after dropping the consumed bytes, give at least
/// `need` bytes.
pub const RTMP_FLV_NEED_MORE: c_int = 3;

/// What [`rtmp_flv_read`] found.
#[repr(C)]
pub struct rtmp_flv_item {
    /// One of `RTMP_FLV_*`.
    pub kind: c_int,
    /// 8 audio, 9 video, 18 script (`RTMP_FLV_TAG`).
    pub tag_type: u8,
    /// Milliseconds (`RTMP_FLV_TAG`).
    pub timestamp: u32,
    /// The tag's body, inside the input (`RTMP_FLV_TAG`).
    pub data: *const u8,
    /// Its length.
    pub len: usize,
    /// Bytes needed (`RTMP_FLV_NEED_MORE`).
    pub need: usize,
}

/// Starts reading a file.
///
/// # Safety
/// `r` writable.
#[no_mangle]
pub unsafe extern "C" fn rtmp_flv_reader_init(r: *mut rtmp_flv_reader) -> c_int {
    guard(RTMP_ERR_INTERNAL, || {
        if r.is_null() {
            return RTMP_ERR_INVALID_ARGUMENT;
        }
        // SAFETY: `r` is writable storage of the right size and alignment (asserted).
        unsafe { r.cast::<FlvReader>().write(FlvReader::new()) };
        0
    })
}

/// Reads the next item from `buf` (`len` bytes): returns the bytes consumed
/// (drop them) and fills `*item`, or a negative error (`RTMP_ERR_FLV`).
///
/// # Safety
/// `r` initialised by `rtmp_flv_reader_init`; `buf` readable for `len`
/// bytes; `item` writable. `item->data` points into `buf`.
#[no_mangle]
pub unsafe extern "C" fn rtmp_flv_read(
    r: *mut rtmp_flv_reader,
    buf: *const u8,
    len: usize,
    item: *mut rtmp_flv_item,
) -> isize {
    guard(RTMP_ERR_INTERNAL as isize, || {
        if r.is_null() || item.is_null() || (buf.is_null() && len > 0) {
            return RTMP_ERR_INVALID_ARGUMENT as isize;
        }
        // SAFETY: `r` was initialised by `rtmp_flv_reader_init` (contract).
        let reader = unsafe { &mut *r.cast::<FlvReader>() };
        let input: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `buf` is readable for `len` bytes (contract).
            unsafe { core::slice::from_raw_parts(buf, len) }
        };
        let Ok((n, found)) = reader.read(input) else { return RTMP_ERR_FLV as isize };
        let mut out = rtmp_flv_item { kind: 0, tag_type: 0, timestamp: 0, data: core::ptr::null(), len: 0, need: 0 };
        match found {
            FlvItem::Header(_) => out.kind = RTMP_FLV_HEADER,
            FlvItem::Tag(t) => {
                out = rtmp_flv_item {
                    kind: RTMP_FLV_TAG,
                    tag_type: t.kind.to_byte(),
                    timestamp: t.timestamp,
                    data: t.data.as_ptr(),
                    len: t.data.len(),
                    need: 0,
                }
            }
            FlvItem::NeedMore(need) => (out.kind, out.need) = (RTMP_FLV_NEED_MORE, need),
        }
        // SAFETY: `item` is writable (contract).
        unsafe { item.write(out) };
        n as isize
    })
}
