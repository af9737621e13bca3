//! Reading audio and video tag bodies (FLV spec E.4.2 and E.4.3, and the
//! Enhanced RTMP extended video header): what a player or server needs to
//! know about a received media message without copying it.

use super::aac::AacConfig;
use super::avc::{parse_sps, SpsInfo};
use super::hevc::{parse_sps as parse_hevc_sps, HevcDecoderConfig, HevcSpsInfo};
use core::fmt;

/// Why a media tag body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaError {
    /// The body is shorter than its codec's header.
    Truncated,
    /// An AVCDecoderConfigurationRecord is malformed.
    BadAvcConfig,
    /// An AAC AudioSpecificConfig is malformed.
    BadAacConfig,
    /// An HEVCDecoderConfigurationRecord (or its SPS) is malformed.
    BadHevcConfig,
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaError::Truncated => f.write_str("media tag body too short for its header"),
            MediaError::BadAvcConfig => f.write_str("malformed AVC decoder configuration record"),
            MediaError::BadAacConfig => f.write_str("malformed AAC AudioSpecificConfig"),
            MediaError::BadHevcConfig => f.write_str("malformed HEVC decoder configuration record"),
        }
    }
}

impl core::error::Error for MediaError {}

/// The video codec of a tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodec {
    /// Codec id 7: H.264.
    Avc,
    /// Codec id 12 (the Chinese CDN convention) or FourCC `hvc1`: H.265.
    Hevc,
    /// An Enhanced RTMP FourCC other than `hvc1` (`av01`, `vp09` ...).
    FourCc([u8; 4]),
    /// Any other legacy codec id (2 Sorenson H.263, 4 VP6 ...).
    Other(u8),
}

/// What a video packet carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoPacket {
    /// A decoder configuration (AVC/HEVC sequence header).
    SequenceHeader,
    /// Coded frames.
    Frames,
    /// End of sequence.
    EndOfSequence,
    /// A packet type this reader does not know, or a legacy codec's frame.
    Other(u8),
}

/// A video tag body, read in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoTag<'a> {
    /// Frame type 1 (keyframe) .. 5 (command frame).
    pub frame_type: u8,
    /// The codec.
    pub codec: VideoCodec,
    /// The packet type.
    pub packet: VideoPacket,
    /// Composition time offset in milliseconds (0 where the format has none).
    pub composition_time: i32,
    /// The data after the header: the configuration record or length-prefixed NAL units.
    pub data: &'a [u8],
}

impl<'a> VideoTag<'a> {
    /// Reads a video tag body.
    pub fn parse(body: &'a [u8]) -> Result<Self, MediaError> {
        let &first = body.first().ok_or(MediaError::Truncated)?;
        if first & 0x80 != 0 {
            // Enhanced RTMP: [1 | frame type:3 | packet type:4] FourCC ...
            let fourcc: [u8; 4] = body.get(1..5).and_then(|b| b.try_into().ok()).ok_or(MediaError::Truncated)?;
            let codec = if &fourcc == b"hvc1" { VideoCodec::Hevc } else { VideoCodec::FourCc(fourcc) };
            let kind = first & 0x0F;
            let (packet, composition_time, data) = match kind {
                0 => (VideoPacket::SequenceHeader, 0, &body[5..]),
                1 => {
                    let c = body.get(5..8).ok_or(MediaError::Truncated)?;
                    (VideoPacket::Frames, si24(c), &body[8..])
                }
                2 => (VideoPacket::EndOfSequence, 0, &body[5..]),
                3 => (VideoPacket::Frames, 0, &body[5..]),
                k => (VideoPacket::Other(k), 0, &body[5..]),
            };
            return Ok(VideoTag { frame_type: (first >> 4) & 7, codec, packet, composition_time, data });
        }
        let frame_type = first >> 4;
        let codec = match first & 0x0F {
            7 => VideoCodec::Avc,
            12 => VideoCodec::Hevc,
            c => VideoCodec::Other(c),
        };
        if !matches!(codec, VideoCodec::Avc | VideoCodec::Hevc) {
            return Ok(VideoTag {
                frame_type,
                codec,
                packet: VideoPacket::Other(0),
                composition_time: 0,
                data: &body[1..],
            });
        }
        let head = body.get(1..5).ok_or(MediaError::Truncated)?;
        let packet = match head[0] {
            0 => VideoPacket::SequenceHeader,
            1 => VideoPacket::Frames,
            2 => VideoPacket::EndOfSequence,
            k => VideoPacket::Other(k),
        };
        Ok(VideoTag { frame_type, codec, packet, composition_time: si24(&head[1..4]), data: &body[5..] })
    }

    /// Whether this is a keyframe (frame type 1).
    pub fn is_keyframe(&self) -> bool {
        self.frame_type == 1
    }
}

fn si24(b: &[u8]) -> i32 {
    match *b {
        [a, b, c] => (i32::from(a) << 24 | i32::from(b) << 16 | i32::from(c) << 8) >> 8,
        _ => 0,
    }
}

/// The sound format of an audio tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioCodec {
    /// Format 10: AAC.
    Aac,
    /// Format 2: MP3.
    Mp3,
    /// Enhanced RTMP v2 audio (format 9, `ExHeader`): the FourCC (`Opus`,
    /// `fLaC`, `ac-3`, `ec-3`, `.mp3`, `mp4a`).
    FourCc([u8; 4]),
    /// Any other format (7 G.711 A-law, 8 G.711 mu-law, 11 Speex ...).
    Other(u8),
}

/// An audio tag body, read in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioTag<'a> {
    /// The sound format.
    pub codec: AudioCodec,
    /// For AAC: true for the sequence header (AudioSpecificConfig).
    pub sequence_header: bool,
    /// The data after the header: AudioSpecificConfig or raw frames.
    pub data: &'a [u8],
}

impl<'a> AudioTag<'a> {
    /// Reads an audio tag body.
    pub fn parse(body: &'a [u8]) -> Result<Self, MediaError> {
        let &first = body.first().ok_or(MediaError::Truncated)?;
        if first >> 4 == 9 {
            // [9 | AudioPacketType] FourCC ...; packet type 0 is SequenceStart.
            let fourcc: [u8; 4] = body.get(1..5).and_then(|b| b.try_into().ok()).ok_or(MediaError::Truncated)?;
            let sequence_header = first & 0x0F == 0;
            return Ok(AudioTag { codec: AudioCodec::FourCc(fourcc), sequence_header, data: &body[5..] });
        }
        let codec = match first >> 4 {
            10 => AudioCodec::Aac,
            2 => AudioCodec::Mp3,
            c => AudioCodec::Other(c),
        };
        if codec != AudioCodec::Aac {
            return Ok(AudioTag { codec, sequence_header: false, data: &body[1..] });
        }
        let &kind = body.get(1).ok_or(MediaError::Truncated)?;
        Ok(AudioTag { codec, sequence_header: kind == 0, data: &body[2..] })
    }
}

/// What a media message is to a relay or a file pusher, from its first two
/// bytes only (legacy FLV and Enhanced RTMP headers alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaRole {
    /// A codec configuration (AVC/HEVC/AAC sequence header, Enhanced RTMP
    /// `SequenceStart` of any FourCC): kept, and sent first to a new player.
    Config,
    /// A video keyframe: a player can start here.
    Keyframe,
    /// Any other frame.
    Frame,
}

impl MediaRole {
    /// The role of a message of `type_id` (8 audio, 9 video) with `body`.
    pub fn of(type_id: u8, body: &[u8]) -> MediaRole {
        let (b0, b1) = (body.first().copied().unwrap_or(0), body.get(1).copied());
        match type_id {
            // Enhanced RTMP: IsExHeader, frame type, packet type 0 = SequenceStart.
            9 if b0 & 0x80 != 0 && b0 & 0x0F == 0 => MediaRole::Config,
            9 if b0 & 0x80 != 0 && (b0 >> 4) & 7 == 1 => MediaRole::Keyframe,
            9 if matches!(b0 & 0x0F, 7 | 12) && b1 == Some(0) => MediaRole::Config,
            9 if b0 >> 4 == 1 => MediaRole::Keyframe,
            8 if b0 >> 4 == 10 && b1 == Some(0) => MediaRole::Config,
            8 if b0 >> 4 == 9 && b0 & 0x0F == 0 && body.len() >= 5 => MediaRole::Config,
            _ => MediaRole::Frame,
        }
    }
}

/// An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1), read in
/// place: the first SPS and PPS are kept as slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvcDecoderConfig<'a> {
    /// AVCProfileIndication.
    pub profile: u8,
    /// profile_compatibility.
    pub compatibility: u8,
    /// AVCLevelIndication.
    pub level: u8,
    /// Bytes in each NAL unit length prefix (1, 2 or 4).
    pub nal_length_size: u8,
    /// The first SPS NAL unit.
    pub sps: &'a [u8],
    /// The first PPS NAL unit.
    pub pps: &'a [u8],
}

impl<'a> AvcDecoderConfig<'a> {
    /// Reads a record (the data of an AVC sequence header tag).
    pub fn parse(record: &'a [u8]) -> Result<Self, MediaError> {
        let bad = MediaError::BadAvcConfig;
        let [version, profile, compatibility, level, lsm, nsps, rest @ ..] = record else { return Err(bad) };
        if *version != 1 || nsps & 0x1F == 0 {
            return Err(bad);
        }
        let (sps, rest) = length_prefixed(rest).ok_or(bad)?;
        // Skip further SPSs.
        let mut rest = rest;
        for _ in 1..(nsps & 0x1F) {
            rest = length_prefixed(rest).ok_or(bad)?.1;
        }
        let [npps, rest @ ..] = rest else { return Err(bad) };
        if *npps == 0 {
            return Err(bad);
        }
        let (pps, _) = length_prefixed(rest).ok_or(bad)?;
        Ok(AvcDecoderConfig {
            profile: *profile,
            compatibility: *compatibility,
            level: *level,
            nal_length_size: (lsm & 3) + 1,
            sps,
            pps,
        })
    }
}

fn length_prefixed(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let [h, l, rest @ ..] = b else { return None };
    let n = usize::from(u16::from_be_bytes([*h, *l]));
    (rest.len() >= n && n > 0).then(|| rest.split_at(n))
}

/// A stream's codec configuration, decoded from its sequence header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecConfig {
    /// H.264: the record's fields and what its SPS says.
    Avc {
        /// Bytes in each NAL unit length prefix.
        nal_length_size: u8,
        /// Profile, level and picture size from the SPS.
        sps: SpsInfo,
    },
    /// H.265 (Enhanced RTMP `hvc1` or codec id 12): the record's fields and
    /// what its SPS says.
    Hevc {
        /// Bytes in each NAL unit length prefix.
        nal_length_size: u8,
        /// Profile, tier, level and picture size from the SPS.
        sps: HevcSpsInfo,
    },
    /// AAC: the AudioSpecificConfig.
    Aac(AacConfig),
}

impl CodecConfig {
    /// Decodes the configuration a media message carries, if it is an AVC,
    /// HEVC or AAC sequence header (`type_id` 9 or 8). `Ok(None)` for anything else.
    pub fn from_message(type_id: u8, body: &[u8]) -> Result<Option<Self>, MediaError> {
        match type_id {
            9 => {
                let tag = VideoTag::parse(body)?;
                if tag.packet != VideoPacket::SequenceHeader {
                    return Ok(None);
                }
                if tag.codec == VideoCodec::Hevc {
                    let rec = HevcDecoderConfig::parse(tag.data).map_err(|_| MediaError::BadHevcConfig)?;
                    let sps = parse_hevc_sps(rec.sps).map_err(|_| MediaError::BadHevcConfig)?;
                    return Ok(Some(CodecConfig::Hevc { nal_length_size: rec.nal_length_size, sps }));
                }
                if tag.codec != VideoCodec::Avc {
                    return Ok(None);
                }
                let rec = AvcDecoderConfig::parse(tag.data)?;
                let sps = parse_sps(rec.sps).map_err(|_| MediaError::BadAvcConfig)?;
                Ok(Some(CodecConfig::Avc { nal_length_size: rec.nal_length_size, sps }))
            }
            8 => {
                let tag = AudioTag::parse(body)?;
                if tag.codec != AudioCodec::Aac || !tag.sequence_header {
                    return Ok(None);
                }
                let cfg = AacConfig::from_audio_specific_config(tag.data).ok_or(MediaError::BadAacConfig)?;
                Ok(Some(CodecConfig::Aac(cfg)))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flv::avc::write_sequence_header;

    // The sequence header ffmpeg sent for x264's 160x120 High 1.0 (from the publish capture).
    const FFMPEG_SEQUENCE_HEADER: &[u8] = &[
        0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0a, 0xac,
        0xd9, 0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x05, 0x03, 0xc4, 0x89,
        0x65, 0x80, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
    ];

    #[test]
    fn avc_sequence_header_from_ffmpeg() {
        let tag = VideoTag::parse(FFMPEG_SEQUENCE_HEADER).unwrap();
        assert!(tag.is_keyframe());
        assert_eq!((tag.codec, tag.packet), (VideoCodec::Avc, VideoPacket::SequenceHeader));
        let rec = AvcDecoderConfig::parse(tag.data).unwrap();
        assert_eq!(
            (rec.sps.len(), rec.sps[0], rec.pps, rec.nal_length_size, rec.profile, rec.level),
            (25, 0x67, &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0][..], 4, 100, 10)
        );
        // Our own writer produces a record that reads back the same.
        let mut again = [0u8; 64];
        let n = write_sequence_header(&mut again, rec.sps, rec.pps).unwrap();
        assert_eq!(&again[..n], FFMPEG_SEQUENCE_HEADER);
        match CodecConfig::from_message(9, FFMPEG_SEQUENCE_HEADER).unwrap() {
            Some(CodecConfig::Avc { sps, nal_length_size }) => {
                assert_eq!((sps.width, sps.height, sps.profile, nal_length_size), (160, 120, 100, 4))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn avc_frame_header_and_negative_composition_time() {
        let body = [0x27, 1, 0xFF, 0xFF, 0xD8, 0, 0, 0, 1, 0x41];
        let tag = VideoTag::parse(&body).unwrap();
        assert_eq!((tag.frame_type, tag.packet, tag.composition_time), (2, VideoPacket::Frames, -40));
        assert_eq!(tag.data, &body[5..]);
        assert_eq!(CodecConfig::from_message(9, &body).unwrap(), None);
    }

    #[test]
    fn enhanced_rtmp_hevc_header() {
        let body = [0x90 | 1, b'h', b'v', b'c', b'1', 0, 0, 40, 9];
        let tag = VideoTag::parse(&body).unwrap();
        assert_eq!(
            (tag.frame_type, tag.codec, tag.packet, tag.composition_time),
            (1, VideoCodec::Hevc, VideoPacket::Frames, 40)
        );
        assert_eq!(tag.data, &[9]);
        let x = [0x93, b'a', b'v', b'0', b'1', 7];
        let tag = VideoTag::parse(&x).unwrap();
        assert_eq!((tag.codec, tag.packet, tag.data), (VideoCodec::FourCc(*b"av01"), VideoPacket::Frames, &[7][..]));
    }

    #[test]
    fn aac_headers() {
        let cfg = AacConfig { object_type: 2, frequency_index: 4, channels: 2 };
        let seq = cfg.sequence_header();
        assert_eq!(CodecConfig::from_message(8, &seq).unwrap(), Some(CodecConfig::Aac(cfg)));
        let raw = AudioTag::parse(&[0xAF, 1, 0x21]).unwrap();
        assert_eq!((raw.codec, raw.sequence_header, raw.data), (AudioCodec::Aac, false, &[0x21][..]));
        assert_eq!(AudioTag::parse(&[0x2F, 9]).unwrap().codec, AudioCodec::Mp3);
        // Enhanced RTMP v2 audio: Opus SequenceStart (OpusHead), then frames.
        let head = AudioTag::parse(b"\x90OpusOpusHead").unwrap();
        assert_eq!(
            (head.codec, head.sequence_header, head.data),
            (AudioCodec::FourCc(*b"Opus"), true, &b"OpusHead"[..])
        );
        assert!(!AudioTag::parse(b"\x91Opus\x01").unwrap().sequence_header);
        assert_eq!(AudioTag::parse(b"\x90Op"), Err(MediaError::Truncated));
    }

    #[test]
    fn roles_for_relays() {
        let cases: [(u8, &[u8], MediaRole); 10] = [
            (9, &[0x17, 0, 0, 0, 0], MediaRole::Config),
            (9, &[0x17, 1, 0, 0, 0], MediaRole::Keyframe),
            (9, &[0x27, 1, 0, 0, 0], MediaRole::Frame),
            (9, b"\x90hvc1", MediaRole::Config),
            (9, b"\x93av01", MediaRole::Keyframe),
            (9, b"\xA1vp09", MediaRole::Frame),
            (8, &[0xAF, 0, 0x12, 0x10], MediaRole::Config),
            (8, &[0xAF, 1, 0x21], MediaRole::Frame),
            (8, b"\x90Opus", MediaRole::Config),
            (8, b"\x91Opus", MediaRole::Frame),
        ];
        for (t, body, role) in cases {
            assert_eq!(MediaRole::of(t, body), role, "{t} {body:?}");
        }
        assert_eq!(MediaRole::of(9, &[]), MediaRole::Frame);
    }

    #[test]
    fn short_and_malformed_bodies_are_errors() {
        for body in [&[][..], &[0x17], &[0x17, 0, 0], &[0x90, b'h']] {
            assert_eq!(VideoTag::parse(body), Err(MediaError::Truncated), "{body:?}");
        }
        assert_eq!(AudioTag::parse(&[0xAF]), Err(MediaError::Truncated));
        assert_eq!(CodecConfig::from_message(8, &[0xAF, 0, 0x17]), Err(MediaError::BadAacConfig));
        for rec in
            [&[1, 66, 0, 30, 0xFF, 0xE1, 0, 9, 0x67][..], &[0, 66, 0, 30, 0xFF, 0xE1], &[1, 66, 0, 30, 0xFF, 0xE0, 0]]
        {
            assert_eq!(AvcDecoderConfig::parse(rec), Err(MediaError::BadAvcConfig), "{rec:?}");
        }
    }
}
