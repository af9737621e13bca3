//! AAC packaging for FLV/RTMP (FLV spec E.4.2.2, ISO/IEC 14496-3).
//!
//! Encoders emit ADTS (a 7- or 9-byte header before each raw frame) or raw
//! frames plus an AudioSpecificConfig. RTMP wants an AAC sequence header
//! (`AF 00` + AudioSpecificConfig) first, then `AF 01` + raw frames. The raw
//! frame is a slice of the encoder's buffer, never copied.

use core::fmt;

/// Sampling frequencies by ADTS / AudioSpecificConfig index.
pub const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/// The FLV audio tag's first byte for AAC: format 10, and the rate, size and
/// channel bits the spec says AAC always sets (44 kHz, 16-bit, stereo).
pub const AAC_TAG_BYTE: u8 = 0xAF;

/// Why AAC data could not be packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AacError {
    /// No ADTS sync word, or a header shorter than its fields.
    BadAdts,
    /// The ADTS frame length disagrees with the data.
    BadFrameLength,
    /// A reserved sampling frequency index.
    BadSampleRate(u8),
}

impl fmt::Display for AacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AacError::BadAdts => f.write_str("not an ADTS frame"),
            AacError::BadFrameLength => f.write_str("ADTS frame length disagrees with the data"),
            AacError::BadSampleRate(i) => write!(f, "reserved AAC sampling frequency index {i}"),
        }
    }
}

impl core::error::Error for AacError {}

/// The stream parameters an AudioSpecificConfig carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AacConfig {
    /// Audio object type (2 for AAC-LC).
    pub object_type: u8,
    /// Sampling frequency index into [`SAMPLE_RATES`].
    pub frequency_index: u8,
    /// Channel configuration (1 mono, 2 stereo ...).
    pub channels: u8,
}

impl AacConfig {
    /// The sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATES.get(usize::from(self.frequency_index)).copied().unwrap_or(0)
    }
    /// The two-byte AudioSpecificConfig.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        [self.object_type << 3 | self.frequency_index >> 1, (self.frequency_index & 1) << 7 | self.channels << 3]
    }
    /// Reads the first two bytes of an AudioSpecificConfig.
    pub fn from_audio_specific_config(asc: &[u8]) -> Option<Self> {
        let [a, b, ..] = *asc else { return None };
        let cfg = AacConfig { object_type: a >> 3, frequency_index: (a & 7) << 1 | b >> 7, channels: (b >> 3) & 0x0F };
        (cfg.frequency_index < 13).then_some(cfg)
    }
    /// The FLV audio tag body of the sequence header: `AF 00` + config.
    pub fn sequence_header(&self) -> [u8; 4] {
        let [a, b] = self.audio_specific_config();
        [AAC_TAG_BYTE, 0, a, b]
    }
}

/// Splits one ADTS frame off the front of `data`: its config, the raw frame
/// (a slice of `data`) and the rest.
pub fn split_adts(data: &[u8]) -> Result<(AacConfig, &[u8], &[u8]), AacError> {
    let h = data.get(..7).ok_or(AacError::BadAdts)?;
    if h[0] != 0xFF || h[1] & 0xF6 != 0xF0 {
        return Err(AacError::BadAdts);
    }
    let protection_absent = h[1] & 1 == 1;
    let header_len = if protection_absent { 7 } else { 9 };
    let frequency_index = (h[2] >> 2) & 0x0F;
    if frequency_index >= 13 {
        return Err(AacError::BadSampleRate(frequency_index));
    }
    let cfg = AacConfig { object_type: (h[2] >> 6) + 1, frequency_index, channels: (h[2] & 1) << 2 | h[3] >> 6 };
    let frame_len = usize::from(h[3] & 3) << 11 | usize::from(h[4]) << 3 | usize::from(h[5] >> 5);
    if frame_len < header_len || frame_len > data.len() {
        return Err(AacError::BadFrameLength);
    }
    Ok((cfg, &data[header_len..frame_len], &data[frame_len..]))
}

/// The raw-frame tag header: `AF 01`; send it, then the raw frame.
pub const RAW_HEADER: [u8; 2] = [AAC_TAG_BYTE, 1];

/// Turns ADTS frames (or raw frames with a known config) into FLV audio tag
/// bodies, returning the sequence header before the first frame and again
/// if the stream's configuration changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct AacPackager {
    sent: Option<AacConfig>,
    header: [u8; 4],
}

impl AacPackager {
    /// A packager that has sent nothing yet.
    pub const fn new() -> Self {
        AacPackager { sent: None, header: [0; 4] }
    }

    /// Packages the first ADTS frame of `adts`: returns the sequence header
    /// to send first (when new), the tag body as parts (`AF 01` and a slice
    /// of `adts`), and the bytes after the frame.
    #[allow(clippy::type_complexity)]
    pub fn package_adts<'a>(&mut self, adts: &'a [u8]) -> Result<(Option<[u8; 4]>, [&'a [u8]; 2], &'a [u8]), AacError> {
        let (cfg, raw, rest) = split_adts(adts)?;
        Ok((self.config_change(cfg), [&RAW_HEADER, raw], rest))
    }

    /// Packages a raw frame of a stream described by `cfg` (from the
    /// encoder's AudioSpecificConfig).
    pub fn package_raw<'a>(&mut self, cfg: AacConfig, raw: &'a [u8]) -> (Option<[u8; 4]>, [&'a [u8]; 2]) {
        (self.config_change(cfg), [&RAW_HEADER, raw])
    }

    /// The configuration of the frames packaged so far (none before the first).
    pub const fn config(&self) -> Option<AacConfig> {
        self.sent
    }

    fn config_change(&mut self, cfg: AacConfig) -> Option<[u8; 4]> {
        if self.sent == Some(cfg) {
            return None;
        }
        self.sent = Some(cfg);
        self.header = cfg.sequence_header();
        Some(self.header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packager_sends_the_sequence_header_first_and_on_change() {
        let adts = [0xFF, 0xF1, 0x50, 0x80, 0x01, 0x5F, 0xFC, 0xDE, 0x02, 0x00];
        let mut p = AacPackager::new();
        let (hdr, parts, rest) = p.package_adts(&adts).unwrap();
        assert_eq!(hdr, Some([0xAF, 0, 0x12, 0x10]));
        assert_eq!(parts, [&[0xAF, 1][..], &[0xDE, 0x02, 0x00][..]]);
        assert!(rest.is_empty());
        assert_eq!(p.package_adts(&adts).unwrap().0, None);
        let mono = AacConfig { object_type: 2, frequency_index: 3, channels: 1 };
        assert_eq!(p.package_raw(mono, &[1]).0, Some(mono.sequence_header()));
        assert_eq!(p.package_raw(mono, &[1]).0, None);
    }

    #[test]
    fn adts_to_flv() {
        // AAC-LC, 44.1 kHz, stereo, 10-byte frame (7-byte header + 3 bytes).
        let adts = [0xFF, 0xF1, 0x50, 0x80, 0x01, 0x5F, 0xFC, 0xDE, 0x02, 0x00, 0xFF];
        let (cfg, raw, rest) = split_adts(&adts).unwrap();
        assert_eq!(cfg, AacConfig { object_type: 2, frequency_index: 4, channels: 2 });
        assert_eq!(cfg.sample_rate(), 44100);
        // ffmpeg's AudioSpecificConfig for the same stream begins 12 10.
        assert_eq!(cfg.sequence_header(), [0xAF, 0x00, 0x12, 0x10]);
        assert_eq!(raw, &[0xDE, 0x02, 0x00]);
        assert_eq!(raw.as_ptr(), adts[7..].as_ptr());
        assert_eq!(rest, &[0xFF]);
        assert_eq!(AacConfig::from_audio_specific_config(&[0x12, 0x10, 0x56]), Some(cfg));
    }

    #[test]
    fn bad_adts_is_typed() {
        assert_eq!(split_adts(&[0xFF, 0xF1]), Err(AacError::BadAdts));
        assert_eq!(split_adts(&[0x00; 8]), Err(AacError::BadAdts));
        assert_eq!(split_adts(&[0xFF, 0xF1, 0x3C, 0x80, 0x01, 0x5F, 0xFC]), Err(AacError::BadSampleRate(15)));
        assert_eq!(split_adts(&[0xFF, 0xF1, 0x50, 0x80, 0x01, 0x5F, 0xFC, 0]), Err(AacError::BadFrameLength));
    }
}
