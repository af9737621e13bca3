//! Pictures made by the program (not the camera) going to the hardware
//! encoder: a [`Picture`] is NV21 (the camera's layout) or I420 bytes in
//! the caller's memory; a [`PictureInput`] copies it into a block of the
//! media system's memory (VB), which is what `CVI_VENC_SendFrame` reads,
//! converting I420 to NV21 on the way. That copy is the one the hardware
//! needs (the encoder reads physical memory, not the program's heap).

use crate::sys::{MpiError, Sys, VbPool};
use crate::venc::VencInput;
use hw_sys as ffi;
use std::fmt;
use std::time::Duration;

/// The clock camera frames and pictures are stamped with (the monotonic
/// clock, in microseconds), read now.
pub fn clock_us() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000 + t.tv_nsec as u64 / 1000
}

/// [`clock_us`] at `at` (an `Instant`, also the monotonic clock).
pub fn clock_us_at(at: std::time::Instant) -> u64 {
    let now = std::time::Instant::now();
    let us = clock_us();
    match at.checked_duration_since(now) {
        Some(ahead) => us + ahead.as_micros() as u64,
        None => us.saturating_sub(now.duration_since(at).as_micros() as u64),
    }
}

/// How a picture's bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// Y plane, then V and U interleaved at half resolution (the camera's).
    Nv21,
    /// Y plane, then the U plane, then the V plane, both at half resolution
    /// (`ffmpeg -pix_fmt yuv420p -f rawvideo`).
    I420,
}

impl PixelFormat {
    /// Bytes of a `width` x `height` picture (both even).
    pub fn frame_len(self, width: u32, height: u32) -> usize {
        width as usize * height as usize * 3 / 2
    }
}

/// Why a picture was not taken.
#[derive(Debug)]
pub enum PictureError {
    /// The bytes do not make a picture of the size given (or the size is odd).
    Size {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The picture is not the size the encoder was set up for.
    Mismatch {
        /// The encoder's size.
        expected: (u32, u32),
        /// The picture's.
        got: (u32, u32),
    },
    /// A size or rate that cannot be encoded (odd or zero dimensions, 0 fps).
    Config(&'static str),
    /// The media system failed.
    Mpi(MpiError),
}

impl fmt::Display for PictureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PictureError::Size { expected, got } => {
                write!(f, "a picture of that size is {expected} bytes (width and height even), not {got}")
            }
            PictureError::Mismatch { expected, got } => {
                write!(f, "the picture is {}x{}, the stream {}x{}", got.0, got.1, expected.0, expected.1)
            }
            PictureError::Config(what) => f.write_str(what),
            PictureError::Mpi(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PictureError {}

impl From<MpiError> for PictureError {
    fn from(e: MpiError) -> Self {
        PictureError::Mpi(e)
    }
}

/// A picture in the caller's memory.
#[derive(Clone, Copy)]
pub struct Picture<'a> {
    format: PixelFormat,
    width: u32,
    height: u32,
    data: &'a [u8],
    pts_us: Option<u64>,
}

impl fmt::Debug for Picture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Picture")
            .field("format", &self.format)
            .field("size", &(self.width, self.height))
            .field("pts_us", &self.pts_us)
            .finish()
    }
}

impl<'a> Picture<'a> {
    /// `data` as a `width` x `height` picture in `format`: exactly
    /// [`PixelFormat::frame_len`] bytes, width and height even.
    pub fn new(format: PixelFormat, width: u32, height: u32, data: &'a [u8]) -> Result<Self, PictureError> {
        let expected = format.frame_len(width, height);
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 || data.len() != expected {
            return Err(PictureError::Size { expected, got: data.len() });
        }
        Ok(Picture { format, width, height, data, pts_us: None })
    }

    /// The same picture stamped `pts_us` (the monotonic clock's
    /// microseconds, as the camera stamps its frames); unstamped pictures
    /// are stamped when they are pushed.
    pub fn with_pts_us(self, pts_us: u64) -> Self {
        Picture { pts_us: Some(pts_us), ..self }
    }

    /// Its layout.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Width and height.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The timestamp given, if any.
    pub fn pts_us(&self) -> Option<u64> {
        self.pts_us
    }
}

/// Writes `pic` into `out` (NV21 of the same size).
fn to_nv21(pic: &Picture<'_>, out: &mut [u8]) {
    let (w, h) = (pic.width as usize, pic.height as usize);
    let (luma, chroma) = (w * h, w * h / 4);
    out[..luma].copy_from_slice(&pic.data[..luma]);
    match pic.format {
        PixelFormat::Nv21 => out[luma..luma + 2 * chroma].copy_from_slice(&pic.data[luma..luma + 2 * chroma]),
        PixelFormat::I420 => {
            let (u, v) = pic.data[luma..].split_at(chroma);
            for ((pair, &u), &v) in out[luma..luma + 2 * chroma].chunks_exact_mut(2).zip(u).zip(v) {
                pair[0] = v;
                pair[1] = u;
            }
        }
    }
}

/// Pictures into an encoder: a small pool of NV21 blocks, each filled,
/// given to the encoder, and returned to the pool (the encoder keeps its
/// own reference while it reads, as the vendor's samples rely on).
pub struct PictureInput {
    pool: VbPool,
    input: VencInput,
    width: u32,
    height: u32,
}

impl fmt::Debug for PictureInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PictureInput").field("size", &(self.width, self.height)).finish()
    }
}

/// What became of a picture given to the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Encoding.
    Queued,
    /// Dropped: the encoder's queue (or the block pool) was full.
    Dropped,
}

impl PictureInput {
    /// Pictures of `width` x `height` for the encoder behind `input`.
    pub fn new(sys: &Sys, input: VencInput, width: u32, height: u32) -> Result<Self, MpiError> {
        let len = u32::try_from(PixelFormat::Nv21.frame_len(width, height))
            .map_err(|_| MpiError { call: "CVI_VB_CreatePool", code: -1 })?;
        Ok(PictureInput { pool: VbPool::new(sys, len, 3)?, input, width, height })
    }

    /// Copies `pic` into a block and gives it to the encoder, stamped with
    /// its timestamp or `now_us`. A full encoder queue drops it
    /// ([`Pushed::Dropped`]; the caller counts it), as for camera frames.
    pub fn push(&self, pic: &Picture<'_>, now_us: u64) -> Result<Pushed, PictureError> {
        if pic.size() != (self.width, self.height) {
            return Err(PictureError::Mismatch { expected: (self.width, self.height), got: pic.size() });
        }
        let Some(mut block) = self.pool.block() else { return Ok(Pushed::Dropped) };
        let phys = block.phys();
        {
            let mut map = block.map()?;
            to_nv21(pic, map.as_mut_slice());
        }
        let (w, h) = (self.width, self.height);
        let mut info = ffi::VIDEO_FRAME_INFO_S::default();
        let f = &mut info.stVFrame;
        f.u32Width = w;
        f.u32Height = h;
        f.enPixelFormat = ffi::PIXEL_FORMAT_NV21;
        f.u32Stride = [w, w, 0];
        f.u64PhyAddr = [phys, phys + u64::from(w * h), 0];
        f.u32Length = [w * h, w * h / 2, 0];
        f.u64PTS = pic.pts_us.unwrap_or(now_us);
        info.u32PoolId = self.pool.id();
        match self.input.send_raw(&info, Duration::ZERO) {
            Ok(()) => Ok(Pushed::Queued),
            Err(e) if e.code == hw_sys::err::CVI_ERR_VENC_BUF_FULL || e.code == hw_sys::err::CVI_ERR_VENC_BUSY => {
                Ok(Pushed::Dropped)
            }
            Err(e) => Err(e.into()),
        }
        // The block returns to the pool here; the encoder holds its own
        // reference until it has read it.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i420_becomes_nv21_and_sizes_are_checked() {
        // 2x2: Y 1 2 3 4, U 5, V 6.
        let pic = Picture::new(PixelFormat::I420, 2, 2, &[1, 2, 3, 4, 5, 6]).unwrap();
        let mut out = [0u8; 6];
        to_nv21(&pic, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 6, 5]);
        let nv21 = Picture::new(PixelFormat::Nv21, 2, 2, &[1, 2, 3, 4, 6, 5]).unwrap();
        to_nv21(&nv21, &mut out);
        assert_eq!(out, [1, 2, 3, 4, 6, 5]);
        assert!(matches!(
            Picture::new(PixelFormat::I420, 2, 2, &[0; 5]),
            Err(PictureError::Size { expected: 6, got: 5 })
        ));
        assert!(Picture::new(PixelFormat::Nv21, 3, 2, &[0; 9]).is_err(), "odd width");
    }
}
