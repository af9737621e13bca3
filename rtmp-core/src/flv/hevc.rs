//! H.265 (HEVC) packaging for Enhanced RTMP (Enhanced RTMP v2, ISO/IEC
//! 14496-15 8.3.3).
//!
//! The same shape as [`super::avc`]: NAL units from Annex-B or from an
//! encoder's one-NAL packs go out behind 4-byte lengths without being
//! copied, and VPS, SPS and PPS travel in an `HEVCDecoderConfigurationRecord`
//! sent as the Enhanced RTMP `SequenceStart` with FourCC `hvc1`. Frames are
//! `CodedFrames` (with a composition offset) or `CodedFramesX` (offset zero).

use super::avc::{AnnexB, Bits, SequenceHeader, VideoFrame};
use core::fmt;

/// NAL unit types used here (ITU-T H.265 table 7-1).
pub mod nal {
    #![allow(missing_docs)]
    pub const TRAIL_R: u8 = 1;
    pub const BLA_W_LP: u8 = 16;
    pub const IDR_W_RADL: u8 = 19;
    pub const IDR_N_LP: u8 = 20;
    pub const CRA: u8 = 21;
    /// Last of the IRAP range (reserved IRAP types 22 and 23 included).
    pub const RSV_IRAP_23: u8 = 23;
    pub const VPS: u8 = 32;
    pub const SPS: u8 = 33;
    pub const PPS: u8 = 34;
    pub const AUD: u8 = 35;
    pub const SEI_PREFIX: u8 = 39;
}

/// The Enhanced RTMP FourCC of H.265.
pub const FOURCC: [u8; 4] = *b"hvc1";

/// `onMetaData` `videocodecid` for H.265 in Enhanced RTMP: the FourCC as a number.
pub const METADATA_CODEC_ID: f64 = u32::from_be_bytes(FOURCC) as f64;

/// Enhanced RTMP video packet types (`VideoPacketType`).
pub mod packet {
    #![allow(missing_docs)]
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    pub const CODED_FRAMES_X: u8 = 3;
}

/// The video tag body that ends an H.265 stream (`SequenceEnd`).
pub const END_OF_SEQUENCE: [u8; 5] = [0x80 | 0x10 | packet::SEQUENCE_END, b'h', b'v', b'c', b'1'];

/// The type of an H.265 NAL unit (bits 1..7 of its first byte).
pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| (b >> 1) & 0x3F)
}

/// Whether a NAL unit type is an intra random access point (types 16 to 23:
/// BLA, IDR, CRA): a keyframe for RTMP.
pub fn is_irap(nal_type: u8) -> bool {
    (nal::BLA_W_LP..=nal::RSV_IRAP_23).contains(&nal_type)
}

/// The Enhanced RTMP tag header of a coded H.265 frame: `CodedFramesX`
/// (5 bytes) when `composition_ms` is 0, else `CodedFrames` with the offset
/// (8 bytes). Returns the bytes and how many are used.
pub fn tag_header(keyframe: bool, composition_ms: i32) -> ([u8; 8], usize) {
    let frame_type = if keyframe { 0x10 } else { 0x20 };
    let [a, b, c, d] = FOURCC;
    if composition_ms == 0 {
        ([0x80 | frame_type | packet::CODED_FRAMES_X, a, b, c, d, 0, 0, 0], 5)
    } else {
        let cts = composition_ms.clamp(-0x80_0000, 0x7F_FFFF).to_be_bytes();
        ([0x80 | frame_type | packet::CODED_FRAMES, a, b, c, d, cts[1], cts[2], cts[3]], 8)
    }
}

/// Why H.265 data could not be packaged or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HevcError {
    /// The SPS is truncated or holds an out-of-range value.
    BadSps,
    /// A frame has more NAL units than the packager has room for.
    TooManyNalUnits(usize),
    /// VPS, SPS and PPS do not fit the configuration record buffer.
    ConfigTooLarge(usize),
    /// No VPS/SPS/PPS has been seen, so no sequence header can be sent yet.
    MissingParameterSets,
    /// A NAL unit is longer than 4 GiB or the frame exceeds the 16 MiB message limit.
    TooLarge,
    /// An `HEVCDecoderConfigurationRecord` is malformed.
    BadConfig,
}

impl fmt::Display for HevcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HevcError::BadSps => f.write_str("H.265 SPS is malformed"),
            HevcError::TooManyNalUnits(n) => write!(f, "H.265 frame has more than {n} NAL units"),
            HevcError::ConfigTooLarge(n) => write!(f, "VPS, SPS and PPS exceed {n} bytes"),
            HevcError::MissingParameterSets => f.write_str("no VPS/SPS/PPS seen before the first frame"),
            HevcError::TooLarge => f.write_str("H.265 frame too large for RTMP"),
            HevcError::BadConfig => f.write_str("malformed HEVC decoder configuration record"),
        }
    }
}

impl core::error::Error for HevcError {}

/// What an H.265 SPS says about the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HevcSpsInfo {
    /// general_profile_space.
    pub profile_space: u8,
    /// general_tier_flag (0 Main tier, 1 High tier).
    pub tier: u8,
    /// general_profile_idc (1 Main, 2 Main 10, 4 range extensions ...).
    pub profile: u8,
    /// general_profile_compatibility_flags.
    pub compatibility: u32,
    /// The 48 general constraint indicator flags.
    pub constraints: [u8; 6],
    /// general_level_idc (30 times the level: 93 for level 3.1).
    pub level: u8,
    /// chroma_format_idc (1 for 4:2:0).
    pub chroma_format: u8,
    /// bit_depth_luma_minus8.
    pub bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8.
    pub bit_depth_chroma_minus8: u8,
    /// sps_max_sub_layers_minus1 + 1.
    pub sub_layers: u8,
    /// sps_temporal_id_nesting_flag.
    pub temporal_id_nested: bool,
    /// Width in pixels, after the conformance window.
    pub width: u32,
    /// Height in pixels, after the conformance window.
    pub height: u32,
}

/// Parses an SPS NAL unit (with its 2-byte header) for profile, tier, level
/// and size (ITU-T H.265 7.3.2.2 and 7.3.3).
pub fn parse_sps(sps: &[u8]) -> Result<HevcSpsInfo, HevcError> {
    parse_sps_inner(sps).ok_or(HevcError::BadSps)
}

fn parse_sps_inner(sps: &[u8]) -> Option<HevcSpsInfo> {
    if nal_type(sps) != nal::SPS || sps.len() < 3 {
        return None;
    }
    let mut b = Bits::new(&sps[2..]);
    b.bits(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = b.bits(3)? as u8;
    if max_sub_layers_minus1 > 6 {
        return None;
    }
    let temporal_id_nested = b.u1()? == 1;
    // profile_tier_level(1, max_sub_layers_minus1)
    let profile_space = b.bits(2)? as u8;
    let tier = b.u1()? as u8;
    let profile = b.bits(5)? as u8;
    let compatibility = b.bits(32)?;
    let mut constraints = [0u8; 6];
    for c in &mut constraints {
        *c = b.bits(8)? as u8;
    }
    let level = b.bits(8)? as u8;
    let mut present = [(false, false); 7];
    for p in present.iter_mut().take(usize::from(max_sub_layers_minus1)) {
        *p = (b.u1()? == 1, b.u1()? == 1);
    }
    if max_sub_layers_minus1 > 0 {
        for _ in max_sub_layers_minus1..8 {
            b.bits(2)?; // reserved_zero_2bits
        }
    }
    for &(profile_present, level_present) in present.iter().take(usize::from(max_sub_layers_minus1)) {
        if profile_present {
            // sub_layer profile space .. constraint flags: 88 bits.
            for _ in 0..11 {
                b.bits(8)?;
            }
        }
        if level_present {
            b.bits(8)?;
        }
    }
    if b.ue()? > 15 {
        return None; // sps_seq_parameter_set_id
    }
    let chroma_format = b.ue()?;
    if chroma_format > 3 {
        return None;
    }
    if chroma_format == 3 {
        b.u1()?; // separate_colour_plane_flag
    }
    let width = u64::from(b.ue()?);
    let height = u64::from(b.ue()?);
    let (mut left, mut right, mut top, mut bottom) = (0u64, 0u64, 0u64, 0u64);
    if b.u1()? == 1 {
        left = b.ue()?.into();
        right = b.ue()?.into();
        top = b.ue()?.into();
        bottom = b.ue()?.into();
    }
    let depth_luma = b.ue()?;
    let depth_chroma = b.ue()?;
    if depth_luma > 8 || depth_chroma > 8 {
        return None;
    }
    let (sub_w, sub_h) = match chroma_format {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let width = width.checked_sub(sub_w * (left + right))?;
    let height = height.checked_sub(sub_h * (top + bottom))?;
    Some(HevcSpsInfo {
        profile_space,
        tier,
        profile,
        compatibility,
        constraints,
        level,
        chroma_format: chroma_format as u8,
        bit_depth_luma_minus8: depth_luma as u8,
        bit_depth_chroma_minus8: depth_chroma as u8,
        sub_layers: max_sub_layers_minus1 + 1,
        temporal_id_nested,
        width: u32::try_from(width).ok().filter(|&w| w > 0)?,
        height: u32::try_from(height).ok().filter(|&h| h > 0)?,
    })
}

/// Writes an Enhanced RTMP video tag body holding the H.265 sequence header
/// (`SequenceStart`, FourCC `hvc1`, then an `HEVCDecoderConfigurationRecord`
/// with one VPS, SPS and PPS array, NAL lengths of 4 bytes) into `out`;
/// returns its length. The fields are those ffmpeg writes.
pub fn write_sequence_header(out: &mut [u8], vps: &[u8], sps: &[u8], pps: &[u8]) -> Result<usize, HevcError> {
    let info = parse_sps(sps)?;
    let capacity = out.len();
    let too_large = HevcError::ConfigTooLarge(capacity);
    let lens = [vps.len(), sps.len(), pps.len()].map(u16::try_from);
    let [Ok(vps_len), Ok(sps_len), Ok(pps_len)] = lens else { return Err(too_large) };
    let needed = 5 + 23 + 3 * 5 + vps.len() + sps.len() + pps.len();
    let out = out.get_mut(..needed).ok_or(too_large)?;
    let mut w = 0;
    let mut put = |bytes: &[u8]| {
        out[w..w + bytes.len()].copy_from_slice(bytes);
        w += bytes.len();
    };
    let [a, b, c, d] = FOURCC;
    put(&[0x80 | 0x10 | packet::SEQUENCE_START, a, b, c, d]);
    put(&[1, info.profile_space << 6 | info.tier << 5 | info.profile]);
    put(&info.compatibility.to_be_bytes());
    put(&info.constraints);
    put(&[info.level]);
    // min_spatial_segmentation_idc 0, parallelismType 0, as ffmpeg writes
    // when the VUI does not say.
    put(&[0xF0, 0x00, 0xFC]);
    put(&[0xFC | info.chroma_format, 0xF8 | info.bit_depth_luma_minus8, 0xF8 | info.bit_depth_chroma_minus8]);
    put(&[0, 0]); // avgFrameRate: unspecified
                  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
    put(&[(info.sub_layers & 7) << 3 | u8::from(info.temporal_id_nested) << 2 | 3]);
    put(&[3]);
    for (kind, len, nal) in [(nal::VPS, vps_len, vps), (nal::SPS, sps_len, sps), (nal::PPS, pps_len, pps)] {
        put(&[kind, 0, 1]);
        put(&len.to_be_bytes());
        put(nal);
    }
    Ok(needed)
}

/// An `HEVCDecoderConfigurationRecord`, read in place: the fields RTMP
/// peers use and the first VPS, SPS and PPS as slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HevcDecoderConfig<'a> {
    /// general_profile_idc.
    pub profile: u8,
    /// general_tier_flag.
    pub tier: u8,
    /// general_level_idc.
    pub level: u8,
    /// Bytes in each NAL unit length prefix (1, 2 or 4).
    pub nal_length_size: u8,
    /// The first VPS, if the record has one.
    pub vps: Option<&'a [u8]>,
    /// The first SPS.
    pub sps: &'a [u8],
    /// The first PPS, if the record has one.
    pub pps: Option<&'a [u8]>,
}

impl<'a> HevcDecoderConfig<'a> {
    /// Reads a record (the data of an H.265 sequence header tag). Every
    /// array and NAL unit length is checked against the record's end.
    pub fn parse(record: &'a [u8]) -> Result<Self, HevcError> {
        let bad = HevcError::BadConfig;
        let (head, mut rest) = record.split_at_checked(23).ok_or(bad)?;
        let &[version, ptl, ..] = head else { return Err(bad) };
        if version != 1 {
            return Err(bad);
        }
        let length_size_minus1 = head[21] & 3;
        if length_size_minus1 == 2 {
            return Err(bad);
        }
        let arrays = head[22];
        let (mut vps, mut sps, mut pps) = (None, None, None);
        for _ in 0..arrays {
            let [kind, h, l, tail @ ..] = rest else { return Err(bad) };
            rest = tail;
            let kind = kind & 0x3F;
            for _ in 0..u16::from_be_bytes([*h, *l]) {
                let [h, l, tail @ ..] = rest else { return Err(bad) };
                let (unit, tail) = tail.split_at_checked(usize::from(u16::from_be_bytes([*h, *l]))).ok_or(bad)?;
                rest = tail;
                let slot = match kind {
                    nal::VPS => &mut vps,
                    nal::SPS => &mut sps,
                    nal::PPS => &mut pps,
                    _ => continue,
                };
                if slot.is_none() && !unit.is_empty() {
                    *slot = Some(unit);
                }
            }
        }
        Ok(HevcDecoderConfig {
            profile: ptl & 0x1F,
            tier: (ptl >> 5) & 1,
            level: head[12],
            nal_length_size: length_size_minus1 + 1,
            vps,
            sps: sps.ok_or(bad)?,
            pps,
        })
    }
}

/// An H.265 frame (see [`VideoFrame`]).
pub type HevcFrame<'a, const N: usize = 16> = VideoFrame<'a, N>;

/// Largest sequence header kept (VPS + SPS + PPS of a hardware encoder are
/// about 100 bytes; x265's with VUI about 130).
const CONFIG_CAPACITY: usize = 1024;

/// Turns H.265 access units into Enhanced RTMP video tag bodies, keeping the
/// latest VPS, SPS and PPS and saying when the sequence header must be
/// (re)sent: before the first IRAP and whenever a parameter set changes.
pub struct HevcPackager {
    header: SequenceHeader<CONFIG_CAPACITY>,
    info: Option<HevcSpsInfo>,
}

impl Default for HevcPackager {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HevcPackager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HevcPackager").field("info", &self.info).field("sent", &self.header.sent()).finish()
    }
}

impl HevcPackager {
    /// A packager that has seen no parameter sets yet.
    pub const fn new() -> Self {
        HevcPackager { header: SequenceHeader::new(), info: None }
    }

    /// Sends the sequence header again before the next IRAP (a new
    /// connection: the server has not seen it).
    pub fn resend_config(&mut self) {
        self.header.resend();
    }

    /// What the latest SPS said (width, height, profile, level).
    pub fn info(&self) -> Option<HevcSpsInfo> {
        self.info
    }

    /// Packages one access unit in Annex-B form. `composition_ms` is pts - dts.
    /// Returns the sequence header to send first when it is new or changed
    /// (borrowed from the packager), and the frame (borrowing `annexb`).
    #[allow(clippy::type_complexity)]
    pub fn package<'a, const N: usize>(
        &mut self,
        annexb: &'a [u8],
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, HevcFrame<'a, N>), HevcError> {
        self.package_nal_units(AnnexB::new(annexb), composition_ms)
    }

    /// Like [`package`](Self::package), for an access unit in several
    /// Annex-B pieces (an encoder's packs). Nothing is copied.
    #[allow(clippy::type_complexity)]
    pub fn package_parts<'a, const N: usize>(
        &mut self,
        pieces: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, HevcFrame<'a, N>), HevcError> {
        self.package_nal_units(pieces.into_iter().flat_map(AnnexB::new), composition_ms)
    }

    /// Like [`package`](Self::package), for NAL units without start codes
    /// (an encoder's one-NAL packs): only their first bytes are read.
    #[allow(clippy::type_complexity)]
    pub fn package_nal_units<'a, const N: usize>(
        &mut self,
        nal_units: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, HevcFrame<'a, N>), HevcError> {
        let mut frame = HevcFrame::<N>::empty();
        let (mut vps, mut sps, mut pps): (Option<&[u8]>, Option<&[u8]>, Option<&[u8]>) = (None, None, None);
        let mut total = 8usize;
        for nal in nal_units.into_iter().filter(|n| !n.is_empty()) {
            match nal_type(nal) {
                nal::VPS => vps = Some(nal),
                nal::SPS => sps = Some(nal),
                nal::PPS => pps = Some(nal),
                nal::AUD => {}
                t => {
                    let len = u32::try_from(nal.len()).map_err(|_| HevcError::TooLarge)?;
                    if !frame.push(nal, len) {
                        return Err(HevcError::TooManyNalUnits(N));
                    }
                    frame.keyframe |= is_irap(t);
                    total = total.saturating_add(4 + nal.len());
                }
            }
        }
        if total > crate::chunk::MAX_MESSAGE_LEN as usize {
            return Err(HevcError::TooLarge);
        }
        let mut changed = false;
        if let (Some(vps), Some(sps), Some(pps)) = (vps, sps, pps) {
            changed = self.header.update(|out| write_sequence_header(out, vps, sps, pps))?;
            if changed {
                self.info = parse_sps(sps).ok();
            }
        }
        if self.header.is_empty() {
            return Err(HevcError::MissingParameterSets);
        }
        let (header, len) = tag_header(frame.keyframe, composition_ms);
        frame.header = header;
        frame.header_len = len as u8;
        Ok((self.header.before(changed, frame.keyframe), frame))
    }
}

#[cfg(test)]
mod tests;
