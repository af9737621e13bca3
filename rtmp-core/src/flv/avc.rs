//! H.264 (AVC) packaging for FLV/RTMP (FLV spec E.4.3.1, ISO/IEC 14496-15).
//!
//! Hardware encoders emit Annex-B: NAL units behind `00 00 01` / `00 00 00 01`
//! start codes. RTMP wants AVCC: each NAL unit behind a 4-byte big-endian
//! length, plus a sequence header (AVCDecoderConfigurationRecord) built from
//! the SPS and PPS. [`AvcFrame`] converts without copying a NAL unit: start
//! codes are dropped by slicing, and the lengths go into header bytes that the
//! gather list interleaves with slices of the encoder's buffer.

use core::fmt;

/// NAL unit types used here (ITU-T H.264 table 7-1).
pub mod nal {
    #![allow(missing_docs)]
    pub const NON_IDR: u8 = 1;
    pub const IDR: u8 = 5;
    pub const SEI: u8 = 6;
    pub const SPS: u8 = 7;
    pub const PPS: u8 = 8;
    pub const AUD: u8 = 9;
}

/// The FLV video tag body that ends an AVC stream (packet type 2), as
/// ffmpeg sends it before unpublishing.
pub const END_OF_SEQUENCE: [u8; 5] = [0x17, 0x02, 0, 0, 0];

/// The 5-byte FLV video tag header for an AVCC frame (NAL units already
/// behind 4-byte lengths, as some encoders and MP4 demuxers hand them out):
/// send it, then the AVCC bytes. `composition_ms` is pts - dts.
pub fn avcc_tag_header(keyframe: bool, composition_ms: i32) -> [u8; 5] {
    let cts = composition_ms.clamp(-0x80_0000, 0x7F_FFFF).to_be_bytes();
    [if keyframe { 0x17 } else { 0x27 }, 1, cts[1], cts[2], cts[3]]
}

/// The type of a NAL unit (low five bits of its first byte).
pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1F)
}

/// Iterates the NAL units of an Annex-B byte stream, as slices of it
/// (start codes and the zero bytes before them removed).
#[derive(Clone, Debug)]
pub struct AnnexB<'a> {
    rest: &'a [u8],
}

impl<'a> AnnexB<'a> {
    /// Iterates `data`; bytes before the first start code are skipped.
    pub fn new(data: &'a [u8]) -> Self {
        let rest = match find_start_code(data) {
            Some((_, after)) => &data[after..],
            None => &[],
        };
        AnnexB { rest }
    }
}

/// Finds the next `00 00 01`: returns where it starts and where the NAL after it begins.
///
/// Slice data is mostly non-zero: eight bytes at a time are tested for a
/// zero byte (a start code needs one) and skipped when they hold none.
fn find_start_code(data: &[u8]) -> Option<(usize, usize)> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 3 <= data.len() {
        if let Some(word) = data.get(i..i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let w = u64::from_le_bytes(bytes);
            if w.wrapping_sub(LOW) & !w & HIGH == 0 {
                // No zero byte in data[i..i + 8]: no start code begins there.
                i += 8;
                continue;
            }
        }
        if data[i + 2] > 1 {
            i += 3;
        } else if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            return Some((i, i + 3));
        } else {
            i += 1;
        }
    }
    None
}

impl<'a> Iterator for AnnexB<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (mut end, next) = match find_start_code(self.rest) {
                Some((at, after)) => (at, after),
                None => (self.rest.len(), self.rest.len()),
            };
            // Zero bytes before a start code (a 4-byte start code's leading zero,
            // trailing_zero_8bits) are not part of the NAL unit.
            while end > 0 && self.rest[end - 1] == 0 {
                end -= 1;
            }
            let nal = &self.rest[..end];
            self.rest = &self.rest[next..];
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    }
}

/// Why H.264 data could not be packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AvcError {
    /// The SPS is truncated or holds an out-of-range value.
    BadSps,
    /// A frame has more NAL units than the packager has room for.
    TooManyNalUnits(usize),
    /// SPS and PPS do not fit the configuration record buffer.
    ConfigTooLarge(usize),
    /// No SPS/PPS has been seen, so no sequence header can be sent yet.
    MissingParameterSets,
    /// A NAL unit is longer than 4 GiB or the frame exceeds the 16 MiB message limit.
    TooLarge,
}

impl fmt::Display for AvcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AvcError::BadSps => f.write_str("H.264 SPS is malformed"),
            AvcError::TooManyNalUnits(n) => write!(f, "H.264 frame has more than {n} NAL units"),
            AvcError::ConfigTooLarge(n) => write!(f, "SPS and PPS exceed {n} bytes"),
            AvcError::MissingParameterSets => f.write_str("no SPS/PPS seen before the first frame"),
            AvcError::TooLarge => f.write_str("H.264 frame too large for RTMP"),
        }
    }
}

impl core::error::Error for AvcError {}

/// What an SPS says about the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpsInfo {
    /// profile_idc (66 baseline, 77 main, 100 high ...).
    pub profile: u8,
    /// The constraint flags byte.
    pub compatibility: u8,
    /// level_idc (31 for level 3.1 ...).
    pub level: u8,
    /// chroma_format_idc (1 for 4:2:0).
    pub chroma_format: u8,
    /// bit_depth_luma_minus8.
    pub bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8.
    pub bit_depth_chroma_minus8: u8,
    /// Width in pixels, after cropping.
    pub width: u32,
    /// Height in pixels, after cropping.
    pub height: u32,
}

/// Reads RBSP bits, skipping emulation-prevention bytes (`00 00 03`).
/// Shared with the H.265 SPS reader.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    byte: usize,
    bit: u8,
    zeros: u8,
    current: u8,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        let mut b = Bits { data, byte: 0, bit: 8, zeros: 0, current: 0 };
        b.bit = 8; // force a load on first read
        b
    }
    fn load(&mut self) -> Option<()> {
        loop {
            let v = *self.data.get(self.byte)?;
            self.byte += 1;
            if self.zeros >= 2 && v == 3 {
                self.zeros = 0;
                continue;
            }
            self.zeros = if v == 0 { self.zeros.saturating_add(1) } else { 0 };
            self.current = v;
            self.bit = 0;
            return Some(());
        }
    }
    pub(super) fn u1(&mut self) -> Option<u32> {
        if self.bit == 8 {
            self.load()?;
        }
        let v = (self.current >> (7 - self.bit)) & 1;
        self.bit += 1;
        Some(u32::from(v))
    }
    /// `n` (at most 32) bits, most significant first.
    pub(super) fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = v << 1 | self.u1()?;
        }
        Some(v)
    }
    pub(super) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.u1()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let mut v: u64 = 1;
        for _ in 0..zeros {
            v = v << 1 | u64::from(self.u1()?);
        }
        u32::try_from(v - 1).ok()
    }
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// Parses an SPS NAL unit (with its header byte) for profile, level and size.
pub fn parse_sps(sps: &[u8]) -> Result<SpsInfo, AvcError> {
    parse_sps_inner(sps).ok_or(AvcError::BadSps)
}

fn parse_sps_inner(sps: &[u8]) -> Option<SpsInfo> {
    if nal_type(sps) != nal::SPS || sps.len() < 4 {
        return None;
    }
    let (profile, compatibility, level) = (sps[1], sps[2], sps[3]);
    let mut b = Bits::new(&sps[4..]);
    b.ue()?; // seq_parameter_set_id
    let (mut chroma_format, mut depth_luma, mut depth_chroma, mut separate_planes) = (1, 0, 0, false);
    if matches!(profile, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma_format = b.ue()?;
        if chroma_format > 3 {
            return None;
        }
        if chroma_format == 3 {
            separate_planes = b.u1()? == 1;
        }
        depth_luma = b.ue()?;
        depth_chroma = b.ue()?;
        if depth_luma > 6 || depth_chroma > 6 {
            return None;
        }
        b.u1()?; // qpprime_y_zero_transform_bypass_flag
        if b.u1()? == 1 {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if b.u1()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + b.se()? + 256) % 256;
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    b.ue()?; // log2_max_frame_num_minus4
    match b.ue()? {
        0 => {
            b.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            b.u1()?;
            b.se()?;
            b.se()?;
            let cycle = b.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                b.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    b.ue()?; // max_num_ref_frames
    b.u1()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(b.ue()?) + 1;
    let height_units = u64::from(b.ue()?) + 1;
    let frame_mbs_only = b.u1()?;
    if frame_mbs_only == 0 {
        b.u1()?; // mb_adaptive_frame_field_flag
    }
    b.u1()?; // direct_8x8_inference_flag
    let (mut left, mut right, mut top, mut bottom) = (0u64, 0u64, 0u64, 0u64);
    if b.u1()? == 1 {
        left = b.ue()?.into();
        right = b.ue()?.into();
        top = b.ue()?.into();
        bottom = b.ue()?.into();
    }
    let fmo = 2 - u64::from(frame_mbs_only);
    let (crop_x, crop_y) = match (chroma_format, separate_planes) {
        (0, _) | (3, true) => (1, fmo),
        (1, _) => (2, 2 * fmo),
        (2, _) => (2, fmo),
        _ => (1, fmo),
    };
    let width = (width_mbs * 16).checked_sub(crop_x * (left + right))?;
    let height = (fmo * height_units * 16).checked_sub(crop_y * (top + bottom))?;
    Some(SpsInfo {
        profile,
        compatibility,
        level,
        chroma_format: chroma_format as u8,
        bit_depth_luma_minus8: depth_luma as u8,
        bit_depth_chroma_minus8: depth_chroma as u8,
        width: u32::try_from(width).ok()?,
        height: u32::try_from(height).ok()?,
    })
}

/// Writes an FLV video tag body holding the AVC sequence header
/// (`17 00 000000` + AVCDecoderConfigurationRecord) into `out`; returns its
/// length. High profiles get the chroma and bit-depth fields, as ffmpeg writes them.
pub fn write_sequence_header(out: &mut [u8], sps: &[u8], pps: &[u8]) -> Result<usize, AvcError> {
    let info = parse_sps(sps)?;
    let high = matches!(info.profile, 100 | 110 | 122 | 144);
    let needed = 5 + 6 + 2 + sps.len() + 1 + 2 + pps.len() + if high { 4 } else { 0 };
    let (Ok(sps_len), Ok(pps_len)) = (u16::try_from(sps.len()), u16::try_from(pps.len())) else {
        return Err(AvcError::ConfigTooLarge(out.len()));
    };
    let capacity = out.len();
    let out = out.get_mut(..needed).ok_or(AvcError::ConfigTooLarge(capacity))?;
    let mut w = 0;
    let mut put = |bytes: &[u8]| {
        out[w..w + bytes.len()].copy_from_slice(bytes);
        w += bytes.len();
    };
    put(&[0x17, 0x00, 0, 0, 0]);
    put(&[1, info.profile, info.compatibility, info.level, 0xFF, 0xE1]);
    put(&sps_len.to_be_bytes());
    put(sps);
    put(&[1]);
    put(&pps_len.to_be_bytes());
    put(pps);
    if high {
        put(&[0xFC | info.chroma_format, 0xF8 | info.bit_depth_luma_minus8, 0xF8 | info.bit_depth_chroma_minus8, 0]);
    }
    Ok(needed)
}

/// One access unit as an FLV video tag body with length-prefixed NAL units
/// (AVCC for H.264, the same layout for H.265), built without copying NAL
/// units: the tag header (5 bytes, 8 for Enhanced RTMP `CodedFrames`) and a
/// 4-byte length per NAL unit are held here; [`parts`](Self::parts)
/// interleaves them with slices of the input.
///
/// Parameter sets and access unit delimiters are left out of the frame (they
/// travel in the sequence header); the packagers notice when they change.
pub struct VideoFrame<'a, const N: usize = 16> {
    pub(super) header: [u8; 8],
    pub(super) header_len: u8,
    pub(super) lengths: [[u8; 4]; N],
    pub(super) nals: [&'a [u8]; N],
    pub(super) count: usize,
    pub(super) keyframe: bool,
}

/// An H.264 frame (see [`VideoFrame`]).
pub type AvcFrame<'a, const N: usize = 16> = VideoFrame<'a, N>;

impl<'a, const N: usize> VideoFrame<'a, N> {
    pub(super) const fn empty() -> Self {
        VideoFrame { header: [0; 8], header_len: 5, lengths: [[0; 4]; N], nals: [&[]; N], count: 0, keyframe: false }
    }

    /// Adds a NAL unit; false when the frame is full.
    pub(super) fn push(&mut self, nal: &'a [u8], len: u32) -> bool {
        if self.count == N {
            return false;
        }
        self.lengths[self.count] = len.to_be_bytes();
        self.nals[self.count] = nal;
        self.count += 1;
        true
    }

    /// Whether the frame holds a random access point (H.264 IDR, H.265 IRAP).
    pub fn is_keyframe(&self) -> bool {
        self.keyframe
    }
    /// NAL units in the frame.
    pub fn nal_count(&self) -> usize {
        self.count
    }
    /// The tag body as parts for [`crate::session::Publisher::send_video`]:
    /// fills `out` and returns the used part, or `None` (filling nothing
    /// usable) when `out` has fewer than `2 * nal_count() + 1` slots.
    pub fn parts<'s>(&'s self, out: &'s mut [&'s [u8]]) -> Option<&'s [&'s [u8]]> {
        let needed = 2 * self.count + 1;
        let out = out.get_mut(..needed)?;
        out[0] = &self.header[..usize::from(self.header_len)];
        for i in 0..self.count {
            out[1 + 2 * i] = &self.lengths[i];
            out[2 + 2 * i] = self.nals[i];
        }
        Some(out)
    }
    /// Bytes in the tag body.
    pub fn len(&self) -> usize {
        usize::from(self.header_len) + self.nals[..self.count].iter().map(|n| 4 + n.len()).sum::<usize>()
    }
    /// Whether the frame has no NAL units.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The sequence header a packager keeps (the latest one built, up to `CAP`
/// bytes) and whether this connection has had it: sent before the first
/// keyframe, again after [`resend`](Self::resend), and at once when it
/// changes. Shared by the H.264 and H.265 packagers.
pub(super) struct SequenceHeader<const CAP: usize> {
    bytes: [u8; CAP],
    len: usize,
    sent: bool,
}

impl<const CAP: usize> SequenceHeader<CAP> {
    pub(super) const fn new() -> Self {
        SequenceHeader { bytes: [0; CAP], len: 0, sent: false }
    }

    /// Builds a header with `write` (into a scratch buffer of `CAP` bytes)
    /// and keeps it if it differs from the one kept; returns whether it did.
    pub(super) fn update<E>(&mut self, write: impl FnOnce(&mut [u8]) -> Result<usize, E>) -> Result<bool, E> {
        let mut fresh = [0u8; CAP];
        let n = write(&mut fresh)?;
        if fresh[..n] == self.bytes[..self.len] {
            return Ok(false);
        }
        self.bytes[..n].copy_from_slice(&fresh[..n]);
        self.len = n;
        Ok(true)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn sent(&self) -> bool {
        self.sent
    }

    pub(super) fn resend(&mut self) {
        self.sent = false;
    }

    /// The header to send before a frame: when it `changed`, or when this
    /// connection has not had it and the frame is a keyframe.
    pub(super) fn before(&mut self, changed: bool, keyframe: bool) -> Option<&[u8]> {
        let send = changed || (!self.sent && keyframe);
        self.sent |= send;
        send.then_some(&self.bytes[..self.len])
    }
}

/// Turns Annex-B access units into FLV video tag bodies, keeping the latest
/// SPS and PPS and saying when the sequence header must be (re)sent: before
/// the first keyframe and whenever SPS or PPS change.
pub struct AvcPackager {
    header: SequenceHeader<512>,
    info: Option<SpsInfo>,
}

impl Default for AvcPackager {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AvcPackager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AvcPackager").field("info", &self.info).field("sent", &self.header.sent()).finish()
    }
}

impl AvcPackager {
    /// A packager that has seen no parameter sets yet.
    pub const fn new() -> Self {
        AvcPackager { header: SequenceHeader::new(), info: None }
    }

    /// Sends the sequence header again before the next keyframe (a new
    /// connection: the server has not seen it).
    pub fn resend_config(&mut self) {
        self.header.resend();
    }

    /// What the latest SPS said (width, height, profile, level).
    pub fn info(&self) -> Option<SpsInfo> {
        self.info
    }

    /// Packages one access unit in Annex-B form. `composition_ms` is pts - dts
    /// (non-zero with B-frames, may be negative).
    ///
    /// Returns the sequence header to send first when it is new or changed
    /// (borrowed from the packager), and the frame (borrowing `annexb`).
    #[allow(clippy::type_complexity)]
    pub fn package<'a, const N: usize>(
        &mut self,
        annexb: &'a [u8],
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, AvcFrame<'a, N>), AvcError> {
        self.package_parts(core::iter::once(annexb), composition_ms)
    }

    /// Like [`package`](Self::package), for an access unit that lies in
    /// several Annex-B pieces, such as a hardware encoder's packs (one NAL
    /// unit each, SPS, PPS and slices apart). Nothing is copied.
    #[allow(clippy::type_complexity)]
    pub fn package_parts<'a, const N: usize>(
        &mut self,
        pieces: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, AvcFrame<'a, N>), AvcError> {
        self.package_nal_units(pieces.into_iter().flat_map(AnnexB::new), composition_ms)
    }

    /// Like [`package`](Self::package), for NAL units already delimited
    /// (no start codes), such as a hardware encoder's one-NAL packs with
    /// their start code stripped: their bytes are not even read, so the
    /// encoder's memory is first touched by the kernel's `writev`.
    #[allow(clippy::type_complexity)]
    pub fn package_nal_units<'a, const N: usize>(
        &mut self,
        nal_units: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, AvcFrame<'a, N>), AvcError> {
        let mut frame = AvcFrame::<N>::empty();
        let (mut sps, mut pps): (Option<&[u8]>, Option<&[u8]>) = (None, None);
        let mut total = 5usize;
        for nal in nal_units.into_iter().filter(|n| !n.is_empty()) {
            match nal_type(nal) {
                nal::SPS => sps = Some(nal),
                nal::PPS => pps = Some(nal),
                nal::AUD => {}
                t => {
                    let len = u32::try_from(nal.len()).map_err(|_| AvcError::TooLarge)?;
                    if !frame.push(nal, len) {
                        return Err(AvcError::TooManyNalUnits(N));
                    }
                    frame.keyframe |= t == nal::IDR;
                    total += 4 + nal.len();
                }
            }
        }
        if total > crate::chunk::MAX_MESSAGE_LEN as usize {
            return Err(AvcError::TooLarge);
        }
        let mut changed = false;
        if let (Some(sps), Some(pps)) = (sps, pps) {
            changed = self.header.update(|out| write_sequence_header(out, sps, pps))?;
            if changed {
                self.info = parse_sps(sps).ok();
            }
        }
        if self.header.is_empty() {
            return Err(AvcError::MissingParameterSets);
        }
        frame.header[..5].copy_from_slice(&avcc_tag_header(frame.keyframe, composition_ms));
        Ok((self.header.before(changed, frame.keyframe), frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // x264's SPS and PPS for 160x120 High 1.0, from ffmpeg's publish capture.
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
        0x00, 0x05, 0x03, 0xc4, 0x89, 0x65, 0x80,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
    // The sequence header ffmpeg sent for them.
    const FFMPEG_SEQUENCE_HEADER: &[u8] = &[
        0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0a, 0xac,
        0xd9, 0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x05, 0x03, 0xc4, 0x89,
        0x65, 0x80, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
    ];

    #[test]
    fn parses_x264_sps() {
        let i = parse_sps(SPS).unwrap();
        assert_eq!((i.profile, i.level, i.width, i.height, i.chroma_format), (100, 10, 160, 120, 1));
    }

    #[test]
    fn sequence_header_matches_ffmpeg() {
        let mut out = [0u8; 128];
        let n = write_sequence_header(&mut out, SPS, PPS).unwrap();
        assert_eq!(&out[..n], FFMPEG_SEQUENCE_HEADER);
        assert_eq!(write_sequence_header(&mut out[..10], SPS, PPS), Err(AvcError::ConfigTooLarge(10)));
    }

    #[test]
    fn annexb_splits_on_both_start_codes() {
        let data = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 0, 0, 3, 0, 9, 0];
        let nals: heapless::Vec<&[u8], 4> = AnnexB::new(&data).collect();
        assert_eq!(&nals[..], &[&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 0, 0, 3, 0, 9][..]]);
        assert_eq!(AnnexB::new(&[1, 2, 3]).count(), 0);
    }

    #[test]
    fn packs_package_like_one_access_unit() {
        extern crate std;
        use std::vec::Vec;
        // An encoder's packs: SPS, PPS and IDR apart, each with a start code.
        let sps: Vec<u8> = [&[0, 0, 0, 1][..], SPS].concat();
        let pps: Vec<u8> = [&[0, 0, 0, 1][..], PPS].concat();
        let idr = [0u8, 0, 0, 1, 0x65, 0x88, 0x84, 0x21];
        let joined = [&sps[..], &pps[..], &idr[..]].concat();
        let (mut a, mut b) = (AvcPackager::new(), AvcPackager::new());
        let (ca, fa) = a.package::<4>(&joined, 0).unwrap();
        let (ca, fa_len) = (ca.map(|c| c.to_vec()), fa.len());
        let (cb, fb) = b.package_parts::<4>([&sps[..], &pps[..], &idr[..]], 0).unwrap();
        assert_eq!(cb.map(|c| c.to_vec()), ca);
        assert_eq!((fb.len(), fb.nal_count(), fb.is_keyframe()), (fa_len, 1, true));
        let mut slots: [&[u8]; 3] = [&[]; 3];
        let parts = fb.parts(&mut slots).unwrap();
        assert_eq!(parts[2].as_ptr(), idr[4..].as_ptr(), "the slice stays in the pack");
    }

    #[test]
    fn packages_without_copying_and_resends_config_on_change() {
        let mut au = heapless::Vec::<u8, 128>::new();
        for part in
            [&[0, 0, 0, 1, 0x09, 0xF0][..], &[0, 0, 0, 1], SPS, &[0, 0, 1], PPS, &[0, 0, 1, 0x65, 0x88, 0x84, 0x21]]
        {
            au.extend_from_slice(part).unwrap();
        }
        let mut p = AvcPackager::new();
        let (config, frame) = p.package::<8>(&au, 80).unwrap();
        assert_eq!(config, Some(FFMPEG_SEQUENCE_HEADER));
        assert!(frame.is_keyframe());
        let mut slots: [&[u8]; 17] = [&[]; 17];
        let parts = frame.parts(&mut slots).unwrap();
        assert_eq!(parts[0], &[0x17, 1, 0, 0, 80]);
        assert_eq!(parts[1], &[0, 0, 0, 4]);
        let idr_at = au.len() - 4;
        assert_eq!(parts[2].as_ptr(), au[idr_at..].as_ptr(), "the NAL unit is the encoder's bytes");
        assert_eq!(frame.len(), 5 + 4 + 4);
        // Same parameter sets again: no config. A P-frame with negative cts.
        let (config, _) = p.package::<8>(&au, 0).unwrap();
        assert_eq!(config, None);
        let (config, frame) = p.package::<8>(&[0, 0, 1, 0x41, 0x9a, 0x21], -40).unwrap();
        assert_eq!(config, None);
        let mut slots: [&[u8]; 17] = [&[]; 17];
        assert_eq!(frame.parts(&mut slots).unwrap()[0], &[0x27, 1, 0xFF, 0xFF, 0xD8]);
        let mut few: [&[u8]; 2] = [&[]; 2];
        assert!(frame.parts(&mut few).is_none(), "too few slots is refused, not truncated");
        // Frames before any SPS/PPS cannot be sent.
        assert_eq!(AvcPackager::new().package::<8>(&[0, 0, 1, 0x41, 1], 0).err(), Some(AvcError::MissingParameterSets));
    }

    #[test]
    fn hostile_sps_is_an_error_not_a_panic() {
        assert_eq!(parse_sps(&[0x67]), Err(AvcError::BadSps));
        assert_eq!(parse_sps(&[0x67, 100, 0, 10, 0, 0, 0, 0, 0, 0]), Err(AvcError::BadSps));
        assert_eq!(parse_sps(&[0x68, 100, 0, 10, 0xff]), Err(AvcError::BadSps));
    }
}
