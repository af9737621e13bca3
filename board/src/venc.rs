//! The hardware video encoder (VENC): frames in, H.264 or H.265 streams
//! out, read in place from the encoder's memory.

// C enum types are `u32` or `i32` depending on the compiler and headers (host
// or vendor SDK), so casts that are no-ops here are kept.
#![allow(clippy::unnecessary_cast)]

use crate::camera::Frame;
use crate::sys::{check, MpiError, Sys};
use hw_sys as ffi;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// Channels in use (bit per channel), so each `Venc` gets its own.
static CHANNELS: AtomicU8 = AtomicU8::new(0);
const MAX_CHANNELS: u32 = 4;

/// The codec (the packaging side's: H.264 goes out as legacy FLV, H.265
/// as Enhanced RTMP). The host SDK encodes H.265 with libx265 when it is
/// installed.
pub use rtmp_core::flv::video::Codec;

/// Rate control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateControl {
    /// Constant bit rate.
    Cbr,
    /// Variable bit rate, `bitrate` as the maximum.
    Vbr,
}

/// What the encoder makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VencConfig {
    /// The codec.
    pub codec: Codec,
    /// Width in pixels (the camera's).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Bits per second (the SDK counts kbit/s; rounded up).
    pub bitrate: u32,
    /// Frames from one IDR to the next.
    pub gop: u32,
    /// Rate control.
    pub rate_control: RateControl,
}

impl VencConfig {
    /// H.264 CBR for a camera of `width` x `height` at `fps`, with an IDR
    /// every second (players that join wait at most that long).
    pub fn h264(width: u32, height: u32, fps: u32, bitrate: u32) -> Self {
        VencConfig { codec: Codec::H264, width, height, fps, bitrate, gop: fps, rate_control: RateControl::Cbr }
    }

    /// H.265 (Main) CBR, otherwise as [`h264`](Self::h264): about half the
    /// bit rate for the same picture.
    pub fn h265(width: u32, height: u32, fps: u32, bitrate: u32) -> Self {
        VencConfig { codec: Codec::H265, ..Self::h264(width, height, fps, bitrate) }
    }

    /// The same settings with another codec.
    pub fn with_codec(self, codec: Codec) -> Self {
        VencConfig { codec, ..self }
    }

    fn attr(&self) -> ffi::VENC_CHN_ATTR_S {
        let mut a = ffi::VENC_CHN_ATTR_S::default();
        let v = &mut a.stVencAttr;
        v.enType = match self.codec {
            Codec::H264 => ffi::PT_H264,
            Codec::H265 => ffi::PT_H265,
        };
        v.u32MaxPicWidth = self.width;
        v.u32MaxPicHeight = self.height;
        v.u32PicWidth = self.width;
        v.u32PicHeight = self.height;
        v.u32BufSize = (self.width * self.height * 3 / 2).max(1 << 20);
        v.u32Profile = 0;
        v.bByFrame = true;
        let kbps = self.bitrate.div_ceil(1000).max(1);
        let rc = &mut a.stRcAttr;
        rc.enRcMode = match (self.codec, self.rate_control) {
            (Codec::H264, RateControl::Cbr) => ffi::VENC_RC_MODE_H264CBR,
            (Codec::H264, RateControl::Vbr) => ffi::VENC_RC_MODE_H264VBR,
            (Codec::H265, RateControl::Cbr) => ffi::VENC_RC_MODE_H265CBR,
            (Codec::H265, RateControl::Vbr) => ffi::VENC_RC_MODE_H265VBR,
        };
        // CBR and VBR share the layout (gop, stat time, rates, bit rate).
        // SAFETY: writing plain integers into a union of same-shaped structs.
        unsafe {
            let cbr = &mut rc.__bindgen_anon_1.stH264Cbr;
            cbr.u32Gop = self.gop.max(1);
            cbr.u32StatTime = 2;
            cbr.u32SrcFrameRate = self.fps;
            cbr.fr32DstFrameRate = self.fps;
            cbr.u32BitRate = kbps;
        }
        a.stGopAttr.enGopMode = ffi::VENC_GOPMODE_NORMALP;
        a
    }
}

/// The channel, shared by the encoder's input and output sides; destroyed
/// when both are gone.
struct Channel {
    chn: i32,
    cfg: std::sync::Mutex<VencConfig>,
    _sys: Sys,
}

impl Drop for Channel {
    fn drop(&mut self) {
        // SAFETY: both sides are gone, so no stream is out and no frame is
        // being sent; the channel was created by `Venc::create`, destroyed once.
        unsafe {
            ffi::CVI_VENC_StopRecvFrame(self.chn);
            ffi::CVI_VENC_DestroyChn(self.chn);
        }
        CHANNELS.fetch_and(!(1u8 << self.chn), Ordering::AcqRel);
    }
}

/// An encoder channel. Encoded streams come out with [`stream`](Self::stream),
/// read in place; frames go in with [`send_frame`](Self::send_frame), or
/// from another thread through an [`input`](Self::input) handle, so that
/// capture never waits on whoever is sending the streams.
pub struct Venc {
    input: VencInput,
    /// Pack descriptors the SDK fills; sized from `QueryStatus`.
    packs: Vec<ffi::VENC_PACK_S>,
    codec: Codec,
}

/// The input side of an encoder: frames in, bit rate and IDR requests.
/// Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct VencInput {
    channel: std::sync::Arc<Channel>,
}

impl std::fmt::Debug for VencInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VencInput").field("chn", &self.channel.chn).finish()
    }
}

// SAFETY: `packs` holds raw pointers only while a `Stream` (which borrows
// the `Venc` mutably) is alive, and they point into the SDK's stream
// memory, not into thread-local state; the SDK's VENC calls may come from
// any thread.
unsafe impl Send for Venc {}

impl std::fmt::Debug for Venc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Venc").field("chn", &self.input.channel.chn).field("cfg", &self.config()).finish()
    }
}

impl Venc {
    /// Creates an encoder channel and starts it receiving frames.
    pub fn create(sys: &Sys, cfg: VencConfig) -> Result<Venc, MpiError> {
        let chn = loop {
            let used = CHANNELS.load(Ordering::Acquire);
            let Some(free) = (0..MAX_CHANNELS).find(|i| used & (1 << i) == 0) else {
                return Err(MpiError { call: "CVI_VENC_CreateChn", code: hw_sys::err::CVI_ERR_VENC_EXIST });
            };
            if CHANNELS.compare_exchange(used, used | 1 << free, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                break free as i32;
            }
        };
        let attr = cfg.attr();
        let recv = ffi::VENC_RECV_PIC_PARAM_S { s32RecvPicNum: -1 };
        // SAFETY: `attr` and `recv` are initialised and outlive the calls.
        let started = unsafe {
            check("CVI_VENC_CreateChn", ffi::CVI_VENC_CreateChn(chn, &attr)).and_then(|()| {
                check("CVI_VENC_StartRecvFrame", ffi::CVI_VENC_StartRecvFrame(chn, &recv)).inspect_err(|_| {
                    ffi::CVI_VENC_DestroyChn(chn);
                })
            })
        };
        if let Err(e) = started {
            CHANNELS.fetch_and(!(1 << chn), Ordering::AcqRel);
            return Err(e);
        }
        let channel = std::sync::Arc::new(Channel { chn, cfg: std::sync::Mutex::new(cfg), _sys: sys.clone() });
        Ok(Venc { input: VencInput { channel }, packs: Vec::new(), codec: cfg.codec })
    }

    fn chn(&self) -> i32 {
        self.input.channel.chn
    }

    /// A handle for sending frames (and changing bit rate) from another thread.
    pub fn input(&self) -> VencInput {
        self.input.clone()
    }

    /// The configuration (with any run-time bit rate change).
    pub fn config(&self) -> VencConfig {
        self.input.config()
    }

    /// Encodes a camera frame (see [`VencInput::send_frame`]).
    pub fn send_frame(&self, frame: &Frame<'_>, timeout: Duration) -> Result<(), MpiError> {
        self.input.send_frame(frame, timeout)
    }

    /// Changes the bit rate while encoding.
    pub fn set_bitrate(&self, bitrate: u32) -> Result<(), MpiError> {
        self.input.set_bitrate(bitrate)
    }

    /// Makes the next frame an IDR.
    pub fn request_idr(&self) -> Result<(), MpiError> {
        self.input.request_idr()
    }

    /// A descriptor that polls readable while a stream is ready.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, MpiError> {
        // SAFETY: the descriptor belongs to the channel, which outlives the borrow.
        let fd = unsafe { ffi::CVI_VENC_GetFd(self.chn()) };
        if fd < 0 {
            return Err(MpiError { call: "CVI_VENC_GetFd", code: fd });
        }
        // SAFETY: a valid open descriptor, not closed while the channel lives.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Frames encoded and waiting to be taken.
    pub fn queued(&self) -> Result<u32, MpiError> {
        let mut st = ffi::VENC_CHN_STATUS_S::default();
        // SAFETY: `st` is written by the call.
        check("CVI_VENC_QueryStatus", unsafe { ffi::CVI_VENC_QueryStatus(self.chn(), &mut st) })?;
        Ok(st.u32LeftStreamFrames)
    }

    /// The next encoded stream, waiting up to `timeout`; `Ok(None)` when
    /// none is ready. The stream's packs point into the encoder's memory
    /// and stay valid until the [`Stream`] is dropped (`ReleaseStream`).
    pub fn stream(&mut self, timeout: Option<Duration>) -> Result<Option<Stream<'_>>, MpiError> {
        if timeout != Some(Duration::ZERO) {
            let fd = self.fd()?;
            let ts =
                timeout.map(|d| rustix::event::Timespec { tv_sec: d.as_secs() as _, tv_nsec: d.subsec_nanos() as _ });
            let mut fds = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
            match rustix::event::poll(&mut fds, ts.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(MpiError { call: "poll(CVI_VENC_GetFd)", code: -e.raw_os_error() }),
            }
        }
        let mut st = ffi::VENC_CHN_STATUS_S::default();
        // SAFETY: `st` is written by the call.
        check("CVI_VENC_QueryStatus", unsafe { ffi::CVI_VENC_QueryStatus(self.chn(), &mut st) })?;
        if st.u32LeftStreamFrames == 0 {
            return Ok(None);
        }
        let want = st.u32CurPacks.max(1) as usize;
        if self.packs.len() < want {
            self.packs.resize_with(want, Default::default);
        }
        let mut raw = ffi::VENC_STREAM_S {
            pstPack: self.packs.as_mut_ptr(),
            u32PackCount: self.packs.len() as u32,
            ..Default::default()
        };
        // SAFETY: `pstPack` points at `u32PackCount` descriptors we own.
        let ret = unsafe { ffi::CVI_VENC_GetStream(self.chn(), &mut raw, 0) };
        if ret == hw_sys::err::CVI_ERR_VENC_BUF_EMPTY {
            return Ok(None);
        }
        check("CVI_VENC_GetStream", ret)?;
        Ok(Some(Stream { raw, venc: self }))
    }
}

impl VencInput {
    /// The configuration (with any run-time bit rate change).
    pub fn config(&self) -> VencConfig {
        *self.channel.cfg.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Encodes a camera frame. A full stream queue (nobody is taking the
    /// streams) is `CVI_ERR_VENC_BUF_FULL`: the frame is not encoded.
    pub fn send_frame(&self, frame: &Frame<'_>, timeout: Duration) -> Result<(), MpiError> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the frame is held (not released) for the whole call.
        check("CVI_VENC_SendFrame", unsafe { ffi::CVI_VENC_SendFrame(self.channel.chn, frame.raw(), ms) })
    }

    /// Encodes a frame the SDK describes (a picture in a VB block).
    pub(crate) fn send_raw(&self, frame: &ffi::VIDEO_FRAME_INFO_S, timeout: Duration) -> Result<(), MpiError> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the frame's planes are held by the caller for the call.
        check("CVI_VENC_SendFrame", unsafe { ffi::CVI_VENC_SendFrame(self.channel.chn, frame, ms) })
    }

    /// Changes the bit rate while encoding.
    pub fn set_bitrate(&self, bitrate: u32) -> Result<(), MpiError> {
        let mut cfg = self.channel.cfg.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = *cfg;
        next.bitrate = bitrate;
        let attr = next.attr();
        // SAFETY: `attr` is initialised and outlives the call.
        check("CVI_VENC_SetChnAttr", unsafe { ffi::CVI_VENC_SetChnAttr(self.channel.chn, &attr) })?;
        *cfg = next;
        Ok(())
    }

    /// Makes the next frame an IDR (for a player that just joined).
    pub fn request_idr(&self) -> Result<(), MpiError> {
        // SAFETY: plain call on a live channel.
        check("CVI_VENC_RequestIDR", unsafe { ffi::CVI_VENC_RequestIDR(self.channel.chn, true) })
    }
}

/// One encoded frame, in the encoder's memory until dropped
/// (`CVI_VENC_ReleaseStream`). Its packs borrow it, so pack memory cannot
/// be used after the release:
///
/// ```compile_fail,E0505
/// # fn f(venc: &mut board::venc::Venc) {
/// let stream = venc.stream(None).unwrap().unwrap();
/// let data = stream.packs().next().unwrap().data;
/// drop(stream); // ReleaseStream
/// println!("{}", data.len()); // error: `stream` is dropped while borrowed
/// # }
/// ```
pub struct Stream<'v> {
    raw: ffi::VENC_STREAM_S,
    venc: &'v mut Venc,
}

impl std::fmt::Debug for Stream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("seq", &self.raw.u32Seq).field("packs", &self.raw.u32PackCount).finish()
    }
}

/// One pack of a stream: a NAL unit with its Annex-B start code.
#[derive(Clone, Copy, Debug)]
pub struct Pack<'s> {
    /// The bytes, in the encoder's memory.
    pub data: &'s [u8],
    /// The NAL unit type the encoder reports (H.264: 7 SPS, 8 PPS, 5 IDR,
    /// 1 P; H.265: 32 VPS, 33 SPS, 34 PPS, 19 IDR, 1 P).
    pub nal_type: u32,
    /// Presentation time in microseconds.
    pub pts_us: u64,
    /// The last pack of the frame.
    pub frame_end: bool,
}

impl<'s> Pack<'s> {
    /// The NAL unit without its start code, found from the first four
    /// bytes only (the rest of the pack is not read). `None` when the pack
    /// does not start with a start code.
    pub fn nal_unit(&self) -> Option<&'s [u8]> {
        match self.data {
            [0, 0, 0, 1, rest @ ..] | [0, 0, 1, rest @ ..] => Some(rest),
            _ => None,
        }
    }
}

impl<'s> Stream<'s> {
    /// The packs, in order.
    pub fn packs(&self) -> impl Iterator<Item = Pack<'_>> + '_ {
        self.as_packs().iter()
    }

    /// The packs as a borrowed view (what [`send_stream`](crate::pipeline::send_stream) takes).
    pub fn as_packs(&self) -> Packs<'_> {
        let n = (self.raw.u32PackCount as usize).min(self.venc.packs.len());
        Packs { packs: &self.venc.packs[..n], codec: self.venc.codec }
    }

    /// The stream's sequence number (counts frames; gaps are frames lost).
    pub fn seq(&self) -> u32 {
        self.raw.u32Seq
    }

    /// Presentation time in microseconds.
    pub fn pts_us(&self) -> u64 {
        self.as_packs().pts_us()
    }

    /// Whether other frames refer to this one (see [`Packs::is_reference`]).
    pub fn is_reference(&self) -> bool {
        self.as_packs().is_reference()
    }

    /// Whether this is an IDR frame.
    pub fn is_keyframe(&self) -> bool {
        self.as_packs().is_keyframe()
    }

    /// The encoder's codec.
    pub fn codec(&self) -> Codec {
        self.venc.codec
    }
}

/// The packs of one encoded frame, borrowed: a [`Stream`]'s, or those of a
/// `VENC_STREAM_S` that the application took from `CVI_VENC_GetStream`
/// itself (firmware that runs its own encoder loop and releases the stream
/// after sending it).
#[derive(Clone, Copy)]
pub struct Packs<'s> {
    packs: &'s [ffi::VENC_PACK_S],
    codec: Codec,
}

impl std::fmt::Debug for Packs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packs").field("count", &self.packs.len()).field("codec", &self.codec).finish()
    }
}

impl<'s> Packs<'s> {
    /// The packs of a stream filled by `CVI_VENC_GetStream` on a `codec`
    /// channel; `None` when it has packs but no descriptor array.
    ///
    /// # Safety
    /// `raw.pstPack` points at `raw.u32PackCount` descriptors, and each
    /// descriptor's `pu8Addr` (when not null) at `u32Len` readable bytes,
    /// all unchanged for `'s` (until `CVI_VENC_ReleaseStream`).
    pub unsafe fn from_raw(raw: &'s ffi::VENC_STREAM_S, codec: Codec) -> Option<Packs<'s>> {
        let n = raw.u32PackCount as usize;
        if n == 0 {
            return Some(Packs { packs: &[], codec });
        }
        if raw.pstPack.is_null() {
            return None;
        }
        // SAFETY: `pstPack` points at `u32PackCount` descriptors valid for
        // `'s` (the caller's contract).
        let packs = unsafe { std::slice::from_raw_parts(raw.pstPack, n) };
        Some(Packs { packs, codec })
    }

    /// The packs, in order.
    pub fn iter(self) -> impl Iterator<Item = Pack<'s>> + 's {
        self.packs.iter().map(|p| {
            let off = (p.u32Offset as usize).min(p.u32Len as usize);
            let data = if p.pu8Addr.is_null() {
                &[][..]
            } else {
                // SAFETY: the SDK maps `u32Len` bytes at `pu8Addr` from
                // GetStream until ReleaseStream, which comes after `'s`
                // (a `Stream` releases when dropped, and borrows for `'s`;
                // `from_raw`'s caller promises the same).
                unsafe { std::slice::from_raw_parts(p.pu8Addr.add(off), p.u32Len as usize - off) }
            };
            // SAFETY: reading the H.264 member of a union of enums of the
            // same size (the H.265 one holds the H.265 types).
            let nal_type = unsafe { p.DataType.enH264EType } as u32;
            Pack { data, nal_type, pts_us: p.u64PTS, frame_end: p.bFrameEnd }
        })
    }

    /// How many packs.
    pub fn len(self) -> usize {
        self.packs.len()
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.packs.is_empty()
    }

    /// The codec the packs are in.
    pub fn codec(self) -> Codec {
        self.codec
    }

    /// Presentation time in microseconds (the first pack's).
    pub fn pts_us(self) -> u64 {
        self.iter().next().map_or(0, |p| p.pts_us)
    }

    /// Whether other frames refer to this one, read from the NAL header
    /// byte only: some slice has a non-zero `nal_ref_idc` (H.264 7.4.1), or
    /// is not a sub-layer non-reference picture (H.265 7.4.2.2: the even
    /// VCL types below 16). A frame the drop policy may drop alone when it
    /// is not.
    pub fn is_reference(self) -> bool {
        let hevc = self.codec == Codec::H265;
        let mut slices = 0;
        for nal in self.iter().filter_map(|p| p.nal_unit()) {
            let Some(&b) = nal.first() else { continue };
            if hevc {
                let t = (b >> 1) & 0x3F;
                if t <= 21 {
                    slices += 1;
                    if t >= 16 || t % 2 == 1 {
                        return true;
                    }
                }
            } else if (1..=5).contains(&(b & 0x1f)) {
                slices += 1;
                if b & 0x60 != 0 {
                    return true;
                }
            }
        }
        // Packs we cannot read count as reference: never dropped alone.
        slices == 0
    }

    /// Whether this is an IDR frame (by the types the encoder reports).
    pub fn is_keyframe(self) -> bool {
        let idr = match self.codec {
            Codec::H264 => ffi::H264E_NALU_IDRSLICE as u32,
            Codec::H265 => ffi::H265E_NALU_IDRSLICE as u32,
        };
        self.iter().any(|p| p.nal_type == idr)
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        // SAFETY: the stream came from GetStream on this channel and is
        // released once; nothing borrows its packs any more.
        unsafe {
            ffi::CVI_VENC_ReleaseStream(self.venc.chn(), &mut self.raw);
        }
    }
}
