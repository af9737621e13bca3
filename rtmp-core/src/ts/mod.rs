//! MPEG-TS (ISO/IEC 13818-1) out of RTMP media, for HLS segments: PAT and
//! PMT, H.264 / H.265 / AAC in PES packets, PCR, continuity counters,
//! adaptation-field stuffing.
//!
//! Zero copy, like the rest of the crate: a frame becomes 188-byte packets,
//! each handed out as its header bytes (TS header, adaptation field, PES
//! header, and at a frame's start the access unit delimiter or ADTS header,
//! written into the caller's 188-byte buffer) plus slices of the caller's
//! frame and of the muxer's parameter sets, ready for one vectored write.
//! AVCC length prefixes become start codes without touching the NAL units:
//! a length and a 4-byte start code are the same size, so a static
//! `00 00 00 01` slice stands in for each.
//!
//! ```
//! use rtmp_core::ts::{TsMuxer, PACKET_LEN};
//! use rtmp_core::flv::video::Codec;
//! let mut mux = TsMuxer::new(Some(Codec::H264), true);
//! let mut tables = [0u8; 2 * PACKET_LEN];
//! assert_eq!(mux.tables(&mut tables).len(), 376); // PAT + PMT
//! ```

use crate::flv::aac::AacConfig;
use crate::flv::avc;
use crate::flv::hevc;
use crate::flv::media::{AudioCodec, AudioTag, AvcDecoderConfig, VideoCodec, VideoPacket, VideoTag};
use crate::flv::video::{Codec, LengthPrefixed};
use core::fmt;

pub mod hls;

/// Bytes in a TS packet.
pub const PACKET_LEN: usize = 188;
/// The PMT's PID (nginx-rtmp's choice, as its HLS players know it).
pub const PMT_PID: u16 = 0x1001;
/// The video PID.
pub const VIDEO_PID: u16 = 0x100;
/// The audio PID.
pub const AUDIO_PID: u16 = 0x101;
/// NAL units a frame may have (each takes a start code and a slice).
pub const MAX_NAL_UNITS: usize = 32;
/// Most slices one packet is handed out as: its header, the parameter
/// sets, and a start code and a slice per NAL unit.
pub const MAX_PARTS: usize = 2 + 2 * MAX_NAL_UNITS;
/// PTS and DTS run this far (0.7 s, as ffmpeg's muxer) ahead of the PCR, so
/// a decoder has its buffer time.
pub const PCR_DELAY_90KHZ: u64 = 63_000;

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_MPEG_2);
const START_CODE: &[u8] = &[0, 0, 0, 1];
/// Parameter sets kept (Annex-B, with start codes).
const PARAMS_CAPACITY: usize = 1024;

/// CRC-32/MPEG-2 of a PSI section (what ends PAT and PMT).
pub fn crc32(section: &[u8]) -> u32 {
    CRC.checksum(section)
}

/// Why a frame could not be muxed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsError {
    /// The tag body could not be read.
    BadTag,
    /// A NAL unit length runs past the frame.
    BadNalLength,
    /// The frame has more than [`MAX_NAL_UNITS`] NAL units.
    TooManyNalUnits,
    /// Video before its sequence header, or audio before its AudioSpecificConfig.
    MissingConfig,
    /// A codec this muxer was not set up for, or one TS cannot carry here
    /// (only H.264, H.265 and AAC).
    Unsupported,
    /// A parameter set record larger than the muxer keeps.
    ConfigTooLarge,
    /// An AAC frame longer than ADTS can say (8191 bytes).
    TooLarge,
}

impl fmt::Display for TsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TsError::BadTag => "media tag body could not be read",
            TsError::BadNalLength => "NAL unit length runs past the frame",
            TsError::TooManyNalUnits => "frame has too many NAL units",
            TsError::MissingConfig => "frame before its codec configuration",
            TsError::Unsupported => "codec not carried in MPEG-TS here (H.264, H.265, AAC)",
            TsError::ConfigTooLarge => "parameter sets too large",
            TsError::TooLarge => "AAC frame too large for ADTS",
        })
    }
}

impl core::error::Error for TsError {}

/// An MPEG-TS muxer for one program: video (H.264 or H.265) and/or AAC.
pub struct TsMuxer {
    video: Option<Codec>,
    audio: bool,
    cc_pat: u8,
    cc_pmt: u8,
    cc_video: u8,
    cc_audio: u8,
    /// The video parameter sets in Annex-B form, put before every keyframe.
    params: [u8; PARAMS_CAPACITY],
    params_len: usize,
    nal_length_size: u8,
    aac: Option<AacConfig>,
}

impl fmt::Debug for TsMuxer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsMuxer")
            .field("video", &self.video)
            .field("audio", &self.audio)
            .field("params_len", &self.params_len)
            .field("aac", &self.aac)
            .finish()
    }
}

/// What a media message became. (A frame is about 1 KiB of slice
/// references, on the caller's stack; there is no allocator to box it.)
#[allow(clippy::large_enum_variant)]
pub enum Muxed<'a> {
    /// A codec configuration, taken in (nothing to write).
    Config,
    /// The end of a video sequence (nothing to write: a segment ends
    /// where the stream does).
    EndOfSequence,
    /// A video message with no frame in it (Enhanced RTMP `Metadata`,
    /// colour information ffmpeg sends before the sequence start): nothing
    /// to write.
    Skipped,
    /// A frame to write, packet by packet.
    Frame(TsFrame<'a>),
}

impl TsMuxer {
    /// A muxer for a program with this video codec (or none) and AAC audio (or none).
    pub const fn new(video: Option<Codec>, audio: bool) -> Self {
        TsMuxer {
            video,
            audio,
            cc_pat: 0,
            cc_pmt: 0,
            cc_video: 0,
            cc_audio: 0,
            params: [0; PARAMS_CAPACITY],
            params_len: 0,
            nal_length_size: 4,
            aac: None,
        }
    }

    /// The PID of the PCR: video's, or audio's when there is no video.
    pub fn pcr_pid(&self) -> u16 {
        if self.video.is_some() {
            VIDEO_PID
        } else {
            AUDIO_PID
        }
    }

    /// Writes a PAT and a PMT packet (what every segment starts with) and
    /// returns them.
    pub fn tables<'o>(&mut self, out: &'o mut [u8; 2 * PACKET_LEN]) -> &'o [u8] {
        let (pat, pmt) = out.split_at_mut(PACKET_LEN);
        // PAT: program 1 at PMT_PID.
        let pid = PMT_PID.to_be_bytes();
        let pat_section = [0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xE0 | pid[0], pid[1]];
        section_packet(pat, 0, &mut self.cc_pat, &pat_section);
        // PMT: the streams present.
        let mut s = [0u8; 32];
        let pcr = self.pcr_pid().to_be_bytes();
        s[..12].copy_from_slice(&[0x02, 0xB0, 0, 0x00, 0x01, 0xC1, 0x00, 0x00, 0xE0 | pcr[0], pcr[1], 0xF0, 0x00]);
        let mut n = 12;
        let mut stream = |kind: u8, pid: u16| {
            let p = pid.to_be_bytes();
            s[n..n + 5].copy_from_slice(&[kind, 0xE0 | p[0], p[1], 0xF0, 0x00]);
            n += 5;
        };
        match self.video {
            Some(Codec::H264) => stream(0x1B, VIDEO_PID),
            Some(Codec::H265) => stream(0x24, VIDEO_PID),
            None => {}
        }
        if self.audio {
            stream(0x0F, AUDIO_PID);
        }
        // section_length counts from after itself to the end of the CRC.
        s[2] = (n - 3 + 4) as u8;
        section_packet(pmt, PMT_PID, &mut self.cc_pmt, &s[..n]);
        out
    }

    /// Takes one RTMP media message (type 9 video or 8 audio, its tag body,
    /// its timestamp in ms): a sequence header updates the configuration,
    /// a frame comes back to be written packet by packet.
    pub fn mux<'a>(&'a mut self, type_id: u8, body: &'a [u8], timestamp_ms: u32) -> Result<Muxed<'a>, TsError> {
        match type_id {
            9 => self.video(body, timestamp_ms),
            8 => self.audio(body, timestamp_ms),
            _ => Err(TsError::Unsupported),
        }
    }

    fn video<'a>(&'a mut self, body: &'a [u8], timestamp_ms: u32) -> Result<Muxed<'a>, TsError> {
        let tag = VideoTag::parse(body).map_err(|_| TsError::BadTag)?;
        let codec = match tag.codec {
            VideoCodec::Avc => Codec::H264,
            VideoCodec::Hevc => Codec::H265,
            _ => return Err(TsError::Unsupported),
        };
        if self.video != Some(codec) {
            return Err(TsError::Unsupported);
        }
        match tag.packet {
            VideoPacket::SequenceHeader => {
                self.set_params(codec, tag.data)?;
                return Ok(Muxed::Config);
            }
            VideoPacket::Frames => {}
            VideoPacket::EndOfSequence => return Ok(Muxed::EndOfSequence),
            VideoPacket::Other(_) => return Ok(Muxed::Skipped),
        }
        if self.params_len == 0 {
            return Err(TsError::MissingConfig);
        }
        let keyframe = tag.is_keyframe();
        let mut frame = TsFrame::new(VIDEO_PID, &mut self.cc_video);
        frame.inline_prefix(match codec {
            Codec::H264 => &[0, 0, 0, 1, 0x09, 0xF0],
            Codec::H265 => &[0, 0, 0, 1, 0x46, 0x01, 0x50],
        });
        if keyframe {
            frame.push(&self.params[..self.params_len])?;
        }
        for nal in LengthPrefixed::new(tag.data, self.nal_length_size) {
            let nal = nal.map_err(|_| TsError::BadNalLength)?;
            // Our own delimiter is already in front; parameter sets in the
            // frame are passed on as they are.
            let aud = match codec {
                Codec::H264 => avc::nal_type(nal) == avc::nal::AUD,
                Codec::H265 => hevc::nal_type(nal) == hevc::nal::AUD,
            };
            if nal.is_empty() || aud {
                continue;
            }
            frame.push(START_CODE)?;
            frame.push(nal)?;
        }
        let dts = u64::from(timestamp_ms) * 90 + PCR_DELAY_90KHZ;
        let pts = dts.saturating_add_signed(i64::from(tag.composition_time) * 90);
        frame.pes_header(0xE0, pts, Some(dts), None);
        frame.pcr = Some(u64::from(timestamp_ms) * 90);
        frame.random_access = keyframe;
        Ok(Muxed::Frame(frame))
    }

    fn set_params(&mut self, codec: Codec, record: &[u8]) -> Result<(), TsError> {
        let mut out = [0u8; PARAMS_CAPACITY];
        let mut n = 0;
        let mut put = |nal: &[u8]| -> Result<(), TsError> {
            let end = n + 4 + nal.len();
            let dst = out.get_mut(n..end).ok_or(TsError::ConfigTooLarge)?;
            dst[..4].copy_from_slice(START_CODE);
            dst[4..].copy_from_slice(nal);
            n = end;
            Ok(())
        };
        match codec {
            Codec::H264 => {
                let rec = AvcDecoderConfig::parse(record).map_err(|_| TsError::BadTag)?;
                put(rec.sps)?;
                put(rec.pps)?;
                self.nal_length_size = rec.nal_length_size;
            }
            Codec::H265 => {
                let rec = hevc::HevcDecoderConfig::parse(record).map_err(|_| TsError::BadTag)?;
                for nal in [rec.vps, Some(rec.sps), rec.pps].into_iter().flatten() {
                    put(nal)?;
                }
                self.nal_length_size = rec.nal_length_size;
            }
        }
        self.params[..n].copy_from_slice(&out[..n]);
        self.params_len = n;
        Ok(())
    }

    fn audio<'a>(&'a mut self, body: &'a [u8], timestamp_ms: u32) -> Result<Muxed<'a>, TsError> {
        let tag = AudioTag::parse(body).map_err(|_| TsError::BadTag)?;
        if tag.codec != AudioCodec::Aac || !self.audio {
            return Err(TsError::Unsupported);
        }
        if tag.sequence_header {
            self.aac = Some(AacConfig::from_audio_specific_config(tag.data).ok_or(TsError::BadTag)?);
            return Ok(Muxed::Config);
        }
        let cfg = self.aac.ok_or(TsError::MissingConfig)?;
        let len = tag.data.len() + 7;
        if len > 0x1FFF {
            return Err(TsError::TooLarge);
        }
        let mut frame = TsFrame::new(AUDIO_PID, &mut self.cc_audio);
        // ADTS (ISO/IEC 13818-7 6.2): MPEG-4, no CRC, the frame's length.
        frame.inline_prefix(&[
            0xFF,
            0xF1,
            (cfg.object_type.saturating_sub(1) & 3) << 6 | (cfg.frequency_index & 0x0F) << 2 | (cfg.channels >> 2) & 1,
            (cfg.channels & 3) << 6 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | 0x1F,
            0xFC,
        ]);
        frame.push(tag.data)?;
        let pts = u64::from(timestamp_ms) * 90 + PCR_DELAY_90KHZ;
        let payload = frame.remaining + usize::from(frame.inline_len);
        frame.pes_header(0xC0, pts, None, Some(payload));
        if self.video.is_none() {
            frame.pcr = Some(u64::from(timestamp_ms) * 90);
        }
        Ok(Muxed::Frame(frame))
    }
}

/// Writes one PSI section (with its CRC) as a TS packet on `pid`.
fn section_packet(out: &mut [u8], pid: u16, cc: &mut u8, section: &[u8]) {
    let p = pid.to_be_bytes();
    out.fill(0xFF);
    out[..5].copy_from_slice(&[0x47, 0x40 | p[0], p[1], 0x10 | *cc, 0x00]);
    *cc = (*cc + 1) & 0x0F;
    out[5..5 + section.len()].copy_from_slice(section);
    out[5 + section.len()..9 + section.len()].copy_from_slice(&crc32(section).to_be_bytes());
}

/// Writes a 33-bit timestamp with its 4-bit prefix and marker bits.
fn timestamp(prefix: u8, ts: u64) -> [u8; 5] {
    let ts = ts & 0x1_FFFF_FFFF;
    [
        prefix << 4 | ((ts >> 29) as u8 & 0x0E) | 1,
        (ts >> 22) as u8,
        ((ts >> 14) as u8 & 0xFE) | 1,
        (ts >> 7) as u8,
        ((ts << 1) as u8 & 0xFE) | 1,
    ]
}

/// One frame as TS packets: call [`next_packet`](Self::next_packet) until
/// it returns `None`, writing each packet's parts in order.
pub struct TsFrame<'a> {
    pid: u16,
    cc: &'a mut u8,
    /// The PES header.
    pes: [u8; 19],
    pes_len: u8,
    /// Bytes at the payload's start written into the first packet's header
    /// buffer (access unit delimiter, ADTS header).
    inline: [u8; 8],
    inline_len: u8,
    segs: [&'a [u8]; MAX_PARTS - 1],
    nsegs: usize,
    seg: usize,
    off: usize,
    /// Payload bytes in `segs` not yet handed out.
    remaining: usize,
    pcr: Option<u64>,
    random_access: bool,
    started: bool,
}

impl<'a> TsFrame<'a> {
    fn new(pid: u16, cc: &'a mut u8) -> Self {
        TsFrame {
            pid,
            cc,
            pes: [0; 19],
            pes_len: 0,
            inline: [0; 8],
            inline_len: 0,
            segs: [&[]; MAX_PARTS - 1],
            nsegs: 0,
            seg: 0,
            off: 0,
            remaining: 0,
            pcr: None,
            random_access: false,
            started: false,
        }
    }

    fn inline_prefix(&mut self, bytes: &[u8]) {
        self.inline[..bytes.len()].copy_from_slice(bytes);
        self.inline_len = bytes.len() as u8;
    }

    fn push(&mut self, s: &'a [u8]) -> Result<(), TsError> {
        let slot = self.segs.get_mut(self.nsegs).ok_or(TsError::TooManyNalUnits)?;
        *slot = s;
        self.nsegs += 1;
        self.remaining += s.len();
        Ok(())
    }

    /// The PES header: stream id, PTS (and DTS when it differs), and the
    /// packet length for audio (`payload` bytes); 0 (unbounded) for video.
    fn pes_header(&mut self, stream_id: u8, pts: u64, dts: Option<u64>, payload: Option<usize>) {
        let dts = dts.filter(|&d| d != pts);
        let header_data = if dts.is_some() { 10 } else { 5 };
        let length = payload.map_or(0, |p| (3 + header_data + p).min(0xFFFF)) as u16;
        let l = length.to_be_bytes();
        let mut h = [0u8; 19];
        h[..9].copy_from_slice(&[0, 0, 1, stream_id, l[0], l[1], 0x80, if dts.is_some() { 0xC0 } else { 0x80 }, 0]);
        h[8] = header_data as u8;
        h[9..14].copy_from_slice(&timestamp(if dts.is_some() { 3 } else { 2 }, pts));
        if let Some(d) = dts {
            h[14..19].copy_from_slice(&timestamp(1, d));
        }
        self.pes = h;
        self.pes_len = 9 + header_data as u8;
    }

    /// Payload bytes left to hand out (the first packet's inline bytes not counted).
    pub fn remaining(&self) -> usize {
        self.remaining
    }

    /// The next packet, `None` once the frame is out.
    pub fn next_packet(&mut self) -> Option<TsPacket<'a>> {
        if self.started && self.remaining == 0 {
            return None;
        }
        let first = !self.started;
        self.started = true;
        let pcr = if first { self.pcr } else { None };
        let random_access = first && self.random_access;
        // Adaptation field contents (after its length byte): flags, PCR.
        let mut af_content = if pcr.is_some() || random_access { 1 + if pcr.is_some() { 6 } else { 0 } } else { 0 };
        let has_af = af_content > 0;
        let prefix = if first { usize::from(self.pes_len) + usize::from(self.inline_len) } else { 0 };
        let space = PACKET_LEN - 4 - if has_af { 1 + af_content } else { 0 } - prefix;
        let take = space.min(self.remaining);
        // Stuffing fills the rest of a short last packet: in the adaptation
        // field there is, or in one made for it (its length byte alone for
        // one byte; length and flags bytes, then 0xFF, for more).
        let mut stuffing = space - take;
        let mut af = has_af;
        if stuffing > 0 && !af {
            af = true;
            if stuffing == 1 {
                stuffing = 0;
            } else {
                af_content = 1;
                stuffing -= 2;
            }
        }
        let p = self.pid.to_be_bytes();
        let mut packet = TsPacket { header: [0; PACKET_LEN], header_len: 0, payload: [&[]; MAX_PARTS - 1], count: 0 };
        let header = &mut packet.header;
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            header[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        put(&[0x47, if first { 0x40 } else { 0 } | p[0], p[1], if af { 0x30 } else { 0x10 } | *self.cc]);
        *self.cc = (*self.cc + 1) & 0x0F;
        if af {
            put(&[(af_content + stuffing) as u8]);
            if af_content > 0 {
                put(&[if random_access { 0x40 } else { 0 } | if pcr.is_some() { 0x10 } else { 0 }]);
            }
            if let Some(base) = pcr {
                let b = base & 0x1_FFFF_FFFF;
                put(&[
                    (b >> 25) as u8,
                    (b >> 17) as u8,
                    (b >> 9) as u8,
                    (b >> 1) as u8,
                    ((b & 1) as u8) << 7 | 0x7E,
                    0,
                ]);
            }
            for _ in 0..stuffing {
                put(&[0xFF]);
            }
        }
        if first {
            put(&self.pes[..usize::from(self.pes_len)]);
            put(&self.inline[..usize::from(self.inline_len)]);
        }
        debug_assert_eq!(n + take, PACKET_LEN);
        packet.header_len = n as u8;
        let mut left = take;
        while left > 0 {
            let s = self.segs[self.seg];
            let piece = &s[self.off..s.len().min(self.off + left)];
            if !piece.is_empty() {
                packet.payload[packet.count] = piece;
                packet.count += 1;
            }
            left -= piece.len();
            self.off += piece.len();
            if self.off == s.len() {
                self.seg += 1;
                self.off = 0;
            }
        }
        self.remaining -= take;
        Some(packet)
    }
}

/// One 188-byte TS packet: its header bytes (TS header, adaptation field,
/// and in a frame's first packet the PES header and AUD or ADTS header)
/// and the payload slices, borrowed from the frame and the muxer.
pub struct TsPacket<'a> {
    header: [u8; PACKET_LEN],
    header_len: u8,
    payload: [&'a [u8]; MAX_PARTS - 1],
    count: usize,
}

impl<'a> TsPacket<'a> {
    /// The header bytes.
    pub fn header(&self) -> &[u8] {
        &self.header[..usize::from(self.header_len)]
    }

    /// The payload slices, in order.
    pub fn payload(&self) -> &[&'a [u8]] {
        &self.payload[..self.count]
    }

    /// The header and the payload slices, in order, for one vectored write
    /// (their lengths add up to [`PACKET_LEN`]): fills `out` and returns
    /// the used part.
    pub fn parts<'s>(&'s self, out: &'s mut [&'s [u8]; MAX_PARTS]) -> &'s [&'s [u8]] {
        out[0] = self.header();
        out[1..=self.count].copy_from_slice(self.payload());
        &out[..=self.count]
    }
}

#[cfg(test)]
mod tests;
