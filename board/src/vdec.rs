//! The video decoder (VDEC): H.264 access units in, pictures out, read
//! where the decoder left them. A [`DecodedFrame`] holds the decoder's
//! picture until dropped (`CVI_VDEC_ReleaseFrame`), like the encoder's
//! [`Stream`](crate::venc::Stream).

use crate::picture::PixelFormat;
use crate::sys::{check, Mapping, MpiError, Sys};
use hw_sys as ffi;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

pub use rtmp_core::flv::video::Codec;

/// Channels in use (the SDK has a few; one bit each).
static CHANNELS: AtomicU8 = AtomicU8::new(0);
const MAX_CHN: i32 = 4;

/// A decoder channel.
pub struct Vdec {
    chn: i32,
    codec: Codec,
    _sys: Sys,
}

impl std::fmt::Debug for Vdec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vdec").field("chn", &self.chn).field("codec", &self.codec).finish()
    }
}

/// What became of an access unit given to the decoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fed {
    /// Taken (a picture may have come out).
    Taken,
    /// Not taken: the pictures waiting are at the channel's limit. Take
    /// (or drop) one and give it again.
    Full,
}

impl Vdec {
    /// A channel for `codec` pictures up to `max_width` x `max_height`,
    /// holding at most `queue` decoded pictures for the taker. The host SDK
    /// decodes H.264 only (H.265 is refused with `CVI_ERR_VDEC_NOT_SUPPORT`).
    pub fn create(sys: &Sys, codec: Codec, max_width: u32, max_height: u32, queue: u32) -> Result<Vdec, MpiError> {
        let chn = loop {
            let used = CHANNELS.load(Ordering::Acquire);
            let Some(free) = (0..MAX_CHN).find(|c| used & (1 << c) == 0) else {
                return Err(MpiError { call: "CVI_VDEC_CreateChn", code: ffi::err::CVI_ERR_VDEC_BUSY });
            };
            if CHANNELS.compare_exchange(used, used | 1 << free, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                break free;
            }
        };
        let attr = ffi::VDEC_CHN_ATTR_S {
            enType: match codec {
                Codec::H264 => ffi::PT_H264,
                Codec::H265 => ffi::PT_H265,
            },
            enMode: ffi::VIDEO_MODE_FRAME,
            u32PicWidth: max_width,
            u32PicHeight: max_height,
            u32StreamBufSize: (max_width * max_height * 3 / 2).max(1 << 20),
            u32FrameBufSize: max_width * max_height * 3 / 2,
            u32FrameBufCnt: queue.max(1),
            ..Default::default()
        };
        let release = || CHANNELS.fetch_and(!(1u8 << chn), Ordering::AcqRel);
        // SAFETY: `attr` is initialised and outlives the call.
        if let Err(e) = check("CVI_VDEC_CreateChn", unsafe { ffi::CVI_VDEC_CreateChn(chn, &attr) }) {
            release();
            return Err(e);
        }
        // SAFETY: the channel was just created.
        if let Err(e) = check("CVI_VDEC_StartRecvStream", unsafe { ffi::CVI_VDEC_StartRecvStream(chn) }) {
            // SAFETY: destroying the channel created above, once.
            unsafe { ffi::CVI_VDEC_DestroyChn(chn) };
            release();
            return Err(e);
        }
        Ok(Vdec { chn, codec, _sys: sys.clone() })
    }

    /// The codec it decodes.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Gives one access unit (Annex-B, parameter sets before keyframes) to
    /// the decoder, stamped `pts_us`.
    pub fn feed(&self, annexb: &[u8], pts_us: u64) -> Result<Fed, MpiError> {
        let stream = ffi::VDEC_STREAM_S {
            u32Len: u32::try_from(annexb.len()).map_err(|_| MpiError { call: "CVI_VDEC_SendStream", code: -1 })?,
            u64PTS: pts_us,
            bEndOfFrame: true,
            pu8Addr: annexb.as_ptr().cast_mut(),
            ..Default::default()
        };
        // SAFETY: the stream's bytes are valid for the call; the decoder
        // reads them during it and does not write them.
        let ret = unsafe { ffi::CVI_VDEC_SendStream(self.chn, &stream, -1) };
        if ret == ffi::err::CVI_ERR_VDEC_BUF_FULL {
            return Ok(Fed::Full);
        }
        check("CVI_VDEC_SendStream", ret).map(|()| Fed::Taken)
    }

    /// The end of the stream: the pictures still held for reordering come out.
    pub fn end_of_stream(&self) -> Result<(), MpiError> {
        let stream = ffi::VDEC_STREAM_S { bEndOfStream: true, ..Default::default() };
        // SAFETY: an empty stream: nothing is read.
        check("CVI_VDEC_SendStream", unsafe { ffi::CVI_VDEC_SendStream(self.chn, &stream, -1) })
    }

    /// The next decoded picture, waiting up to `timeout` (`None`: for
    /// ever); `Ok(None)` when there is none.
    pub fn frame(&self, timeout: Option<Duration>) -> Result<Option<DecodedFrame<'_>>, MpiError> {
        let ms = timeout.map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as i32);
        let mut info = ffi::VIDEO_FRAME_INFO_S::default();
        // SAFETY: `info` is written by the call.
        let ret = unsafe { ffi::CVI_VDEC_GetFrame(self.chn, &mut info, ms) };
        if ret == ffi::err::CVI_ERR_VDEC_BUF_EMPTY {
            return Ok(None);
        }
        check("CVI_VDEC_GetFrame", ret)?;
        Ok(Some(DecodedFrame { info, vdec: self }))
    }
}

impl Drop for Vdec {
    fn drop(&mut self) {
        // SAFETY: every DecodedFrame borrows the Vdec, so none is out; the
        // channel is stopped and destroyed once.
        unsafe {
            ffi::CVI_VDEC_StopRecvStream(self.chn);
            ffi::CVI_VDEC_DestroyChn(self.chn);
        }
        CHANNELS.fetch_and(!(1u8 << self.chn), Ordering::AcqRel);
    }
}

/// A decoded picture in the decoder's memory, returned to it when dropped.
pub struct DecodedFrame<'v> {
    info: ffi::VIDEO_FRAME_INFO_S,
    vdec: &'v Vdec,
}

impl std::fmt::Debug for DecodedFrame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedFrame").field("size", &self.size()).field("pts_us", &self.pts_us()).finish()
    }
}

/// A decoded picture's planes, mapped to read (NV21: luma, then V and U
/// interleaved; each row `stride` bytes apart, of which `width` are the
/// picture).
pub struct Planes<'f> {
    luma: Mapping<'f>,
    chroma: Mapping<'f>,
    /// Bytes from one row to the next, luma and chroma.
    pub stride: [usize; 2],
    /// Width and height.
    pub size: (u32, u32),
}

impl Planes<'_> {
    /// The luma plane.
    pub fn luma(&self) -> &[u8] {
        self.luma.as_slice()
    }
    /// The chroma plane (V and U interleaved, NV21).
    pub fn chroma(&self) -> &[u8] {
        self.chroma.as_slice()
    }
}

impl DecodedFrame<'_> {
    /// Width and height.
    pub fn size(&self) -> (u32, u32) {
        (self.info.stVFrame.u32Width, self.info.stVFrame.u32Height)
    }

    /// The timestamp given with the access unit it was decoded from (µs).
    pub fn pts_us(&self) -> u64 {
        self.info.stVFrame.u64PTS
    }

    /// Maps the planes (no copy: the decoder's memory).
    pub fn planes(&self) -> Result<Planes<'_>, MpiError> {
        let f = &self.info.stVFrame;
        if f.enPixelFormat != ffi::PIXEL_FORMAT_NV21 {
            return Err(MpiError { call: "DecodedFrame::planes (not NV21)", code: -1 });
        }
        let (w, h) = (f.u32Width as usize, f.u32Height as usize);
        let stride = [f.u32Stride[0] as usize, f.u32Stride[1] as usize];
        if stride[0] < w || stride[1] < w || (f.u32Length[0] as usize) < stride[0] * h {
            return Err(MpiError { call: "DecodedFrame::planes (layout)", code: -1 });
        }
        let luma = Mapping::new(f.u64PhyAddr[0], f.u32Length[0] as usize)?;
        let chroma = Mapping::new(f.u64PhyAddr[1], f.u32Length[1] as usize)?;
        if chroma.as_slice().len() < stride[1] * (h / 2) {
            return Err(MpiError { call: "DecodedFrame::planes (layout)", code: -1 });
        }
        Ok(Planes { luma, chroma, stride, size: (f.u32Width, f.u32Height) })
    }

    /// Copies the picture into `out`, tightly packed in `format` (I420 is
    /// what `ffmpeg -pix_fmt yuv420p -f rawvideo` writes).
    pub fn copy_to(&self, format: PixelFormat, out: &mut Vec<u8>) -> Result<(), MpiError> {
        let p = self.planes()?;
        let (w, h) = (p.size.0 as usize, p.size.1 as usize);
        out.clear();
        out.reserve(w * h * 3 / 2);
        for r in 0..h {
            out.extend_from_slice(&p.luma()[r * p.stride[0]..r * p.stride[0] + w]);
        }
        let rows = (0..h / 2).map(|r| &p.chroma()[r * p.stride[1]..r * p.stride[1] + w]);
        match format {
            PixelFormat::Nv21 => rows.for_each(|row| out.extend_from_slice(row)),
            PixelFormat::I420 => {
                let at = out.len();
                out.resize(at + w * h / 2, 0);
                let (u, v) = out[at..].split_at_mut(w * h / 4);
                for (r, row) in rows.enumerate() {
                    for (k, vu) in row.chunks_exact(2).enumerate() {
                        v[r * w / 2 + k] = vu[0];
                        u[r * w / 2 + k] = vu[1];
                    }
                }
            }
        }
        Ok(())
    }

    /// The picture as RGB, 3 bytes a pixel (BT.601, limited range, as
    /// cameras and H.264 encoders produce by default), for looking at.
    pub fn to_rgb(&self, out: &mut Vec<u8>) -> Result<(), MpiError> {
        let p = self.planes()?;
        let (w, h) = (p.size.0 as usize, p.size.1 as usize);
        out.clear();
        out.reserve(w * h * 3);
        for r in 0..h {
            let y = &p.luma()[r * p.stride[0]..];
            let vu = &p.chroma()[(r / 2) * p.stride[1]..];
            for x in 0..w {
                let (yy, v, u) = (i32::from(y[x]) - 16, i32::from(vu[x & !1]) - 128, i32::from(vu[x | 1]) - 128);
                let c = 298 * yy + 128;
                let px = [(c + 409 * v) >> 8, (c - 100 * u - 208 * v) >> 8, (c + 516 * u) >> 8];
                out.extend(px.map(|x| x.clamp(0, 255) as u8));
            }
        }
        Ok(())
    }
}

impl Drop for DecodedFrame<'_> {
    fn drop(&mut self) {
        // SAFETY: the picture came from GetFrame on this channel and is
        // released once; its mappings borrow `self` and are gone.
        unsafe {
            ffi::CVI_VDEC_ReleaseFrame(self.vdec.chn, &self.info);
        }
    }
}
