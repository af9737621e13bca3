//! Audio in (AI device 0, channel 0) and AAC-LC encoding (fdk-aac).

use crate::sys::{check, MpiError, Sys};
use hw_sys as ffi;
use rtmp_core::flv::aac::{split_adts, AacConfig};
use std::fmt;
use std::time::Duration;

const DEV: i32 = 0;
const CHN: i32 = 0;

/// What the microphone records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioConfig {
    /// Samples per second (8000 to 48000).
    pub sample_rate: u32,
    /// 1 (mono) or 2 (stereo).
    pub channels: u8,
    /// Samples per channel in each frame; 1024 matches an AAC frame.
    pub samples_per_frame: u32,
}

impl Default for AudioConfig {
    /// 48 kHz mono, 1024 samples a frame.
    fn default() -> Self {
        AudioConfig { sample_rate: 48_000, channels: 1, samples_per_frame: 1024 }
    }
}

/// The microphone (AI device 0, channel 0), 16-bit PCM.
#[derive(Debug)]
pub struct AudioIn {
    cfg: AudioConfig,
    _sys: Sys,
}

impl AudioIn {
    /// Opens audio input with `cfg`.
    pub fn open(sys: &Sys, cfg: AudioConfig) -> Result<AudioIn, MpiError> {
        let attr = ffi::AIO_ATTR_S {
            enSamplerate: cfg.sample_rate as _,
            enBitwidth: ffi::AUDIO_BIT_WIDTH_16,
            enWorkmode: ffi::AIO_MODE_I2S_MASTER,
            enSoundmode: if cfg.channels == 2 { ffi::AUDIO_SOUND_MODE_STEREO } else { ffi::AUDIO_SOUND_MODE_MONO },
            u32FrmNum: 8,
            u32PtNumPerFrm: cfg.samples_per_frame,
            u32ChnCnt: u32::from(cfg.channels.clamp(1, 2)),
            enI2sType: ffi::AIO_I2STYPE_INNERCODEC,
            ..Default::default()
        };
        // SAFETY: `attr` is initialised and outlives the calls; on failure
        // the steps done are undone.
        unsafe {
            check("CVI_AUDIO_INIT", ffi::CVI_AUDIO_INIT())?;
            check("CVI_AI_SetPubAttr", ffi::CVI_AI_SetPubAttr(DEV, &attr))?;
            check("CVI_AI_Enable", ffi::CVI_AI_Enable(DEV))?;
            if let Err(e) = check("CVI_AI_EnableChn", ffi::CVI_AI_EnableChn(DEV, CHN)) {
                ffi::CVI_AI_Disable(DEV);
                return Err(e);
            }
        }
        Ok(AudioIn { cfg, _sys: sys.clone() })
    }

    /// 48 kHz mono on the shared media system.
    pub fn new() -> Result<AudioIn, MpiError> {
        AudioIn::open(&Sys::get()?, AudioConfig::default())
    }

    /// The configuration.
    pub fn config(&self) -> AudioConfig {
        self.cfg
    }

    /// The next frame of samples, waiting up to `timeout` (`None`: as long
    /// as it takes); `Ok(None)` when none came in time.
    pub fn read(&mut self, timeout: Option<Duration>) -> Result<Option<AudioFrame<'_>>, MpiError> {
        let mut raw = ffi::AUDIO_FRAME_S::default();
        let mut aec = ffi::AEC_FRAME_S::default();
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        // SAFETY: the channel is enabled; the structs are written by the call.
        let ret = unsafe { ffi::CVI_AI_GetFrame(DEV, CHN, &mut raw, &mut aec, ms) };
        if ret == hw_sys::err::CVI_ERR_AI_BUF_EMPTY {
            return Ok(None);
        }
        check("CVI_AI_GetFrame", ret)?;
        Ok(Some(AudioFrame { raw, aec, _ai: self }))
    }
}

impl Drop for AudioIn {
    fn drop(&mut self) {
        // SAFETY: frames borrow the input mutably, so none is out.
        unsafe {
            ffi::CVI_AI_DisableChn(DEV, CHN);
            ffi::CVI_AI_Disable(DEV);
        }
    }
}

/// Recorded samples, returned to the device when dropped.
pub struct AudioFrame<'a> {
    raw: ffi::AUDIO_FRAME_S,
    aec: ffi::AEC_FRAME_S,
    _ai: &'a mut AudioIn,
}

impl fmt::Debug for AudioFrame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioFrame")
            .field("timestamp_us", &self.timestamp_us())
            .field("bytes", &self.raw.u32Len)
            .finish()
    }
}

impl AudioFrame<'_> {
    /// Interleaved 16-bit samples.
    pub fn samples(&self) -> &[i16] {
        let ptr = self.raw.u64VirAddr[0] as *const i16;
        if ptr.is_null() || ptr.align_offset(2) != 0 {
            return &[];
        }
        // SAFETY: the SDK hands out `u32Len` bytes of 16-bit samples at
        // `u64VirAddr[0]` until the frame is released in `drop`; the slice
        // borrows `self`.
        unsafe { std::slice::from_raw_parts(ptr, self.raw.u32Len as usize / 2) }
    }

    /// When the first sample was recorded, in microseconds (the SDK's monotonic clock).
    pub fn timestamp_us(&self) -> u64 {
        self.raw.u64TimeStamp
    }
}

impl Drop for AudioFrame<'_> {
    fn drop(&mut self) {
        // SAFETY: the frame came from GetFrame on this channel; released once.
        unsafe {
            ffi::CVI_AI_ReleaseFrame(DEV, CHN, &self.raw, &self.aec);
        }
    }
}

/// Why AAC encoding failed.
#[derive(Debug)]
pub struct AacError(String);

impl fmt::Display for AacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AAC encoder: {}", self.0)
    }
}

impl std::error::Error for AacError {}

/// AAC-LC encoding of 16-bit PCM, one AAC frame (1024 samples per channel)
/// at a time.
pub struct AacEncoder {
    enc: fdk_aac::enc::Encoder,
    channels: usize,
    pending: Vec<i16>,
    out: Vec<u8>,
    config: AacConfig,
}

impl fmt::Debug for AacEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AacEncoder").field("channels", &self.channels).finish()
    }
}

/// Samples per channel in an AAC-LC frame.
pub const AAC_FRAME_SAMPLES: usize = 1024;

impl AacEncoder {
    /// An encoder for `sample_rate` Hz, `channels` channels, at `bitrate` bit/s.
    pub fn new(sample_rate: u32, channels: u8, bitrate: u32) -> Result<AacEncoder, AacError> {
        use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
        let enc = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(bitrate),
            sample_rate,
            transport: Transport::Adts,
            channels: if channels == 2 { ChannelMode::Stereo } else { ChannelMode::Mono },
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .map_err(|e| AacError(format!("{e:?}")))?;
        let frequency_index = rtmp_core::flv::aac::SAMPLE_RATES
            .iter()
            .position(|&r| r == sample_rate)
            .ok_or_else(|| AacError(format!("{sample_rate} Hz is not an AAC sample rate")))?;
        let channels = channels.clamp(1, 2);
        let config = AacConfig { object_type: 2, frequency_index: frequency_index as u8, channels };
        Ok(AacEncoder { enc, channels: usize::from(channels), pending: Vec::new(), out: vec![0; 8192], config })
    }

    /// The configuration of the frames it makes (AAC-LC, its rate and
    /// channels), known before the first frame: a stream's AAC sequence
    /// header can go out with its first video keyframe.
    pub fn config(&self) -> AacConfig {
        self.config
    }

    /// Adds interleaved samples; returns the encoded AAC frames that became
    /// complete, each as (configuration, raw AAC frame without ADTS header).
    pub fn encode(&mut self, samples: &[i16], mut emit: impl FnMut(AacConfig, &[u8])) -> Result<(), AacError> {
        self.pending.extend_from_slice(samples);
        let frame = AAC_FRAME_SAMPLES * self.channels;
        while self.pending.len() >= frame {
            let info =
                self.enc.encode(&self.pending[..frame], &mut self.out).map_err(|e| AacError(format!("{e:?}")))?;
            let used = info.input_consumed.min(self.pending.len());
            self.pending.drain(..used.max(1));
            let mut adts = &self.out[..info.output_size];
            while !adts.is_empty() {
                let (cfg, raw, rest) = split_adts(adts).map_err(|e| AacError(e.to_string()))?;
                emit(cfg, raw);
                adts = rest;
            }
        }
        Ok(())
    }
}
