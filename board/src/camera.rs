//! The camera: VI (device, pipe, channel 0) and the ISP, producing NV21
//! frames in VB blocks.

use crate::sys::{check, MpiError, Sys, VbPool};
use hw_sys as ffi;
use std::time::Duration;

const DEV: i32 = 0;
const PIPE: i32 = 0;
const CHN: i32 = 0;

/// What the camera produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CameraConfig {
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Frames the caller may hold at once.
    pub depth: u32,
}

impl Default for CameraConfig {
    /// 640x480 at 30 fps, two frames held at most.
    fn default() -> Self {
        CameraConfig { width: 640, height: 480, fps: 30, depth: 2 }
    }
}

/// Exposure control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// The ISP's auto exposure.
    Auto,
    /// A fixed exposure time and analog gain (1024 = 1x).
    Manual {
        /// Exposure time in microseconds.
        time_us: u32,
        /// Analog gain, 1024 = 1x.
        gain: u32,
    },
}

/// White balance control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhiteBalance {
    /// The ISP's auto white balance.
    Auto,
    /// Fixed gains, 1024 = 1x.
    Manual {
        /// Red gain.
        r: u16,
        /// Green gain.
        g: u16,
        /// Blue gain.
        b: u16,
    },
}

/// Steps of `open` done so far, undone in reverse by `Drop`.
#[derive(Debug, Default)]
struct Opened {
    dev: bool,
    pipe: bool,
    started: bool,
    isp: bool,
    chn: bool,
}

/// The camera (VI pipe 0, channel 0, with the ISP running). Frames are
/// taken with [`frame`](Self::frame) and returned to the camera when dropped.
///
/// On the board, the sensor's device attributes come from its driver
/// configuration; this wrapper configures the pipe and channel (size, rate,
/// NV21) and the ISP.
#[derive(Debug)]
pub struct Camera {
    cfg: CameraConfig,
    opened: Opened,
    pool: Option<VbPool>,
    sys: Sys,
}

impl Camera {
    /// Opens the camera with `cfg`.
    pub fn open(sys: &Sys, cfg: CameraConfig) -> Result<Camera, MpiError> {
        let mut cam = Camera { cfg, opened: Opened::default(), pool: None, sys: sys.clone() };
        cam.start()?;
        Ok(cam)
    }

    /// `width` x `height` at `fps`, on the shared media system (MaixPy's
    /// `camera.Camera(width, height)`).
    pub fn new(width: u32, height: u32, fps: u32) -> Result<Camera, MpiError> {
        Camera::open(&Sys::get()?, CameraConfig { width, height, fps, ..CameraConfig::default() })
    }

    fn start(&mut self) -> Result<(), MpiError> {
        let cfg = self.cfg;
        let dev_attr = ffi::VI_DEV_ATTR_S::default();
        let pipe_attr = ffi::VI_PIPE_ATTR_S {
            enPipeBypassMode: ffi::VI_PIPE_BYPASS_NONE,
            u32MaxW: cfg.width,
            u32MaxH: cfg.height,
            enPixFmt: ffi::PIXEL_FORMAT_NV21,
            stFrameRate: ffi::FRAME_RATE_CTRL_S { s32SrcFrameRate: -1, s32DstFrameRate: -1 },
            ..Default::default()
        };
        let mut chn_attr = ffi::VI_CHN_ATTR_S {
            stSize: ffi::SIZE_S { u32Width: cfg.width, u32Height: cfg.height },
            enPixelFormat: ffi::PIXEL_FORMAT_NV21,
            enDynamicRange: ffi::DYNAMIC_RANGE_SDR8,
            enVideoFormat: ffi::VIDEO_FORMAT_LINEAR,
            enCompressMode: ffi::COMPRESS_MODE_NONE,
            u32Depth: cfg.depth,
            stFrameRate: ffi::FRAME_RATE_CTRL_S { s32SrcFrameRate: cfg.fps as i32, s32DstFrameRate: cfg.fps as i32 },
            ..Default::default()
        };
        let frame_size = cfg.width.saturating_mul(cfg.height).saturating_mul(3) / 2;
        let pool = VbPool::new(&self.sys, frame_size, cfg.depth + 2)?;
        // SAFETY: each call gets initialised attributes that outlive it; the
        // steps are recorded so that `Drop` undoes exactly what was done.
        unsafe {
            check("CVI_VI_SetDevAttr", ffi::CVI_VI_SetDevAttr(DEV, &dev_attr))?;
            check("CVI_VI_EnableDev", ffi::CVI_VI_EnableDev(DEV))?;
            self.opened.dev = true;
            check("CVI_VI_CreatePipe", ffi::CVI_VI_CreatePipe(PIPE, &pipe_attr))?;
            self.opened.pipe = true;
            check("CVI_VI_StartPipe", ffi::CVI_VI_StartPipe(PIPE))?;
            self.opened.started = true;
            check("CVI_ISP_Init", ffi::CVI_ISP_Init(PIPE))?;
            check("CVI_ISP_Run", ffi::CVI_ISP_Run(PIPE))?;
            self.opened.isp = true;
            check("CVI_VI_SetChnAttr", ffi::CVI_VI_SetChnAttr(PIPE, CHN, &mut chn_attr))?;
            check("CVI_VI_AttachVbPool", ffi::CVI_VI_AttachVbPool(PIPE, CHN, pool.id()))?;
            check("CVI_VI_EnableChn", ffi::CVI_VI_EnableChn(PIPE, CHN))?;
            self.opened.chn = true;
        }
        self.pool = Some(pool);
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> CameraConfig {
        self.cfg
    }

    /// The media system this camera uses.
    pub fn sys(&self) -> &Sys {
        &self.sys
    }

    /// The next frame, waiting up to `timeout` (`None`: as long as it takes).
    /// `Ok(None)` when none came in time.
    pub fn frame(&self, timeout: Option<Duration>) -> Result<Option<Frame<'_>>, MpiError> {
        let mut info = ffi::VIDEO_FRAME_INFO_S::default();
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        // SAFETY: the channel is enabled; `info` is written by the call.
        let ret = unsafe { ffi::CVI_VI_GetChnFrame(PIPE, CHN, &mut info, ms) };
        if ret == hw_sys::err::CVI_ERR_VI_BUF_EMPTY {
            return Ok(None);
        }
        check("CVI_VI_GetChnFrame", ret)?;
        Ok(Some(Frame { info, _camera: self }))
    }

    /// Sets the exposure.
    pub fn set_exposure(&self, exposure: Exposure) -> Result<(), MpiError> {
        let mut attr = ffi::ISP_EXPOSURE_ATTR_S::default();
        // SAFETY: the ISP runs; `attr` is read then written back whole.
        unsafe {
            check("CVI_ISP_GetExposureAttr", ffi::CVI_ISP_GetExposureAttr(PIPE, &mut attr))?;
            match exposure {
                Exposure::Auto => attr.enOpType = ffi::OP_TYPE_AUTO,
                Exposure::Manual { time_us, gain } => {
                    attr.enOpType = ffi::OP_TYPE_MANUAL;
                    attr.stManual.enExpTimeOpType = ffi::OP_TYPE_MANUAL;
                    attr.stManual.enAGainOpType = ffi::OP_TYPE_MANUAL;
                    attr.stManual.u32ExpTime = time_us;
                    attr.stManual.u32AGain = gain.max(1024);
                }
            }
            check("CVI_ISP_SetExposureAttr", ffi::CVI_ISP_SetExposureAttr(PIPE, &attr))
        }
    }

    /// Sets the white balance.
    pub fn set_white_balance(&self, wb: WhiteBalance) -> Result<(), MpiError> {
        let mut attr = ffi::ISP_WB_ATTR_S::default();
        // SAFETY: as for `set_exposure`.
        unsafe {
            check("CVI_ISP_GetWBAttr", ffi::CVI_ISP_GetWBAttr(PIPE, &mut attr))?;
            match wb {
                WhiteBalance::Auto => attr.enOpType = ffi::OP_TYPE_AUTO,
                WhiteBalance::Manual { r, g, b } => {
                    attr.enOpType = ffi::OP_TYPE_MANUAL;
                    attr.stManual = ffi::ISP_MWB_ATTR_S { u16Rgain: r, u16Grgain: g, u16Gbgain: g, u16Bgain: b };
                }
            }
            check("CVI_ISP_SetWBAttr", ffi::CVI_ISP_SetWBAttr(PIPE, &attr))
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        let o = &self.opened;
        // SAFETY: undoes, in reverse, the steps `start` completed. Frames
        // borrow the camera, so none is out.
        unsafe {
            if o.chn {
                ffi::CVI_VI_DisableChn(PIPE, CHN);
                ffi::CVI_VI_DetachVbPool(PIPE, CHN);
            }
            if o.isp {
                ffi::CVI_ISP_Exit(PIPE);
            }
            if o.started {
                ffi::CVI_VI_StopPipe(PIPE);
            }
            if o.pipe {
                ffi::CVI_VI_DestroyPipe(PIPE);
            }
            if o.dev {
                ffi::CVI_VI_DisableDev(DEV);
            }
        }
        self.pool = None;
    }
}

/// A camera frame (NV21 in a VB block), returned to the camera when dropped.
pub struct Frame<'c> {
    info: ffi::VIDEO_FRAME_INFO_S,
    _camera: &'c Camera,
}

impl std::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("pts_us", &self.pts_us()).field("size", &(self.width(), self.height())).finish()
    }
}

impl Frame<'_> {
    /// Capture time in microseconds (the SDK's monotonic clock).
    pub fn pts_us(&self) -> u64 {
        self.info.stVFrame.u64PTS
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.info.stVFrame.u32Width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.info.stVFrame.u32Height
    }
    /// Physical address of plane `i` (0 luma, 1 interleaved VU).
    pub fn phys(&self, plane: usize) -> u64 {
        self.info.stVFrame.u64PhyAddr.get(plane).copied().unwrap_or(0)
    }
    /// Maps the luma plane to read it.
    pub fn map_luma(&self) -> Result<crate::sys::Mapping<'_>, MpiError> {
        let f = &self.info.stVFrame;
        crate::sys::Mapping::new(f.u64PhyAddr[0], f.u32Length[0] as usize)
    }
    /// Copies the picture into `out` as tightly packed NV21 (the
    /// [`Picture`](crate::picture::Picture) layout): to draw on it, or look
    /// at it, in the program's memory.
    pub fn copy_nv21(&self, out: &mut Vec<u8>) -> Result<(), MpiError> {
        let f = &self.info.stVFrame;
        let (w, h) = (f.u32Width as usize, f.u32Height as usize);
        out.clear();
        out.reserve(w * h * 3 / 2);
        for (plane, rows) in [(0, h), (1, h / 2)] {
            let stride = f.u32Stride[plane] as usize;
            if stride < w {
                return Err(MpiError { call: "copy_nv21 (stride)", code: -1 });
            }
            let map = crate::sys::Mapping::new(f.u64PhyAddr[plane], f.u32Length[plane] as usize)?;
            let bytes = map.as_slice();
            for r in 0..rows {
                let row =
                    bytes.get(r * stride..r * stride + w).ok_or(MpiError { call: "copy_nv21 (length)", code: -1 })?;
                out.extend_from_slice(row);
            }
        }
        Ok(())
    }

    /// The SDK's description of the frame, for `CVI_VENC_SendFrame`.
    pub(crate) fn raw(&self) -> &ffi::VIDEO_FRAME_INFO_S {
        &self.info
    }
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        // SAFETY: the frame came from this camera's channel and is returned once.
        unsafe {
            ffi::CVI_VI_ReleaseChnFrame(PIPE, CHN, &self.info);
        }
    }
}
