//! Data messages (types 18 and 15): `@setDataFrame`, `onMetaData` and friends.

use super::{type_id, MessageError};
use crate::amf0::{self, EncodeError, Object, Values};

/// The AMF0 string `"@setDataFrame"`: put it before an FLV script tag body
/// (`onMetaData` and its array) to send that body as stream metadata.
pub const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// A data message: a handler name and its values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataMessage<'a> {
    /// The handler, e.g. `onMetaData` (after `@setDataFrame`, if present).
    pub name: &'a str,
    /// Whether the message was wrapped in `@setDataFrame` (publisher to
    /// server); servers strip it when relaying to players.
    pub set_data_frame: bool,
    values: &'a [u8],
}

impl<'a> DataMessage<'a> {
    /// Splits a type 18 (AMF0) or 15 (AMF3 container with AMF0 inside) payload.
    pub fn decode(type_id: u8, payload: &'a [u8]) -> Result<Self, MessageError> {
        let body = super::amf0_body(type_id, payload, type_id::DATA_AMF0, type_id::DATA_AMF3)?;
        let mut values = Values::new(body);
        let mut name = match values.next() {
            Some(Ok(v)) => v.as_str().ok_or(MessageError::MissingName)?,
            Some(Err(e)) => return Err(e.into()),
            None => return Err(MessageError::MissingName),
        };
        let set_data_frame = name == "@setDataFrame";
        if set_data_frame {
            name = match values.next() {
                Some(Ok(v)) => v.as_str().ok_or(MessageError::MissingName)?,
                Some(Err(e)) => return Err(e.into()),
                None => return Err(MessageError::MissingName),
            };
        }
        Ok(DataMessage { name, set_data_frame, values: values.remaining() })
    }

    /// The values after the name(s).
    pub fn values(&self) -> Values<'a> {
        Values::new(self.values)
    }

    /// The value bytes after the name(s): what a server relays to players
    /// behind its own `onMetaData` name.
    pub fn raw_values(&self) -> &'a [u8] {
        self.values
    }

    /// For `onMetaData`, its properties (an ECMA array or object).
    pub fn metadata(&self) -> Option<Object<'a>> {
        if self.name != "onMetaData" {
            return None;
        }
        self.values().next()?.ok()?.as_object()
    }
}

/// One `onMetaData` property to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetadataEntry<'s> {
    /// A number (width, framerate, videocodecid ...).
    Number(&'s str, f64),
    /// A boolean (stereo).
    Boolean(&'s str, bool),
    /// A string (encoder).
    String(&'s str, &'s str),
}

impl DataMessage<'_> {
    /// Writes `@setDataFrame("onMetaData", {entries})` with an ECMA array, as
    /// ffmpeg and OBS send it.
    pub fn encode_metadata(buf: &mut [u8], entries: &[MetadataEntry<'_>]) -> Result<usize, EncodeError> {
        // The size is a sum over the entries, so the values are written in
        // one pass instead of [`amf0::encode`]'s two (measure, then write).
        let mut needed: usize = 16 + 13 + 5 + 3; // the two strings, the array header, its end
        for e in entries {
            let (k, value) = match *e {
                MetadataEntry::Number(k, _) => (k, 9),
                MetadataEntry::Boolean(k, _) => (k, 2),
                MetadataEntry::String(k, v) if v.len() <= usize::from(u16::MAX) => (k, 3 + v.len()),
                MetadataEntry::String(k, v) => (k, 5 + v.len()),
            };
            needed = needed.saturating_add(2 + k.len()).saturating_add(value);
        }
        amf0::encode_known_len(buf, needed, |w| write_metadata(w, entries))
    }
}

/// The values of `@setDataFrame("onMetaData", {entries})`.
fn write_metadata(w: &mut amf0::Writer<'_>, entries: &[MetadataEntry<'_>]) {
    w.string("@setDataFrame").string("onMetaData").ecma_array_start(entries.len() as u32);
    for e in entries {
        match *e {
            MetadataEntry::Number(k, v) => w.key(k).number(v),
            MetadataEntry::Boolean(k, v) => w.key(k).boolean(v),
            MetadataEntry::String(k, v) => w.key(k).string(v),
        };
    }
    w.object_end();
}

/// `onMetaData` properties describing streams, built from the streams
/// themselves (SPS for video, AudioSpecificConfig for audio), with the names
/// and codec ids ffmpeg and OBS use.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StreamMetadata {
    /// Width and height from the SPS.
    pub video_size: Option<(u32, u32)>,
    /// Frames per second, as configured.
    pub framerate: Option<f64>,
    /// Video bitrate in kbit/s, as configured.
    pub video_kbps: Option<f64>,
    /// The Enhanced RTMP FourCC of the video (`hvc1` ...), written as
    /// `videocodecid` in its numeric form; `None` is H.264 (codec id 7).
    pub video_fourcc: Option<[u8; 4]>,
    /// Audio sample rate in Hz, from the AudioSpecificConfig.
    pub audio_sample_rate: Option<u32>,
    /// Channels, from the AudioSpecificConfig.
    pub audio_channels: Option<u8>,
    /// Audio bitrate in kbit/s, as configured.
    pub audio_kbps: Option<f64>,
}

impl StreamMetadata {
    /// Writes the properties into `out`, returning how many: video ones when
    /// there is a video size (codec id 7, H.264, or the FourCC), audio ones when there is a
    /// sample rate (codec id 10, AAC).
    pub fn entries<'s>(&self, out: &'s mut [MetadataEntry<'static>; 11]) -> &'s [MetadataEntry<'static>] {
        let mut n = 0;
        let mut push = |e: MetadataEntry<'static>| {
            out[n] = e;
            n += 1;
        };
        if let Some((w, h)) = self.video_size {
            push(MetadataEntry::Number("width", f64::from(w)));
            push(MetadataEntry::Number("height", f64::from(h)));
            let codec_id = self.video_fourcc.map_or(7.0, |cc| f64::from(u32::from_be_bytes(cc)));
            push(MetadataEntry::Number("videocodecid", codec_id));
            if let Some(fps) = self.framerate {
                push(MetadataEntry::Number("framerate", fps));
            }
            if let Some(kbps) = self.video_kbps {
                push(MetadataEntry::Number("videodatarate", kbps));
            }
        }
        if let Some(rate) = self.audio_sample_rate {
            push(MetadataEntry::Number("audiocodecid", 10.0));
            push(MetadataEntry::Number("audiosamplerate", f64::from(rate)));
            push(MetadataEntry::Number("audiosamplesize", 16.0));
            push(MetadataEntry::Boolean("stereo", self.audio_channels.unwrap_or(2) >= 2));
            if let Some(kbps) = self.audio_kbps {
                push(MetadataEntry::Number("audiodatarate", kbps));
            }
        }
        push(MetadataEntry::String("encoder", "rtmp-core"));
        &out[..n]
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_pass_metadata_matches_the_two_pass_encoder() {
        extern crate std;
        let long = "x".repeat(70_000);
        let mut a = std::vec![0u8; 80_000];
        let mut b = std::vec![0u8; 80_000];
        let cases: [&[MetadataEntry<'_>]; 4] = [
            &[],
            &[MetadataEntry::Number("width", 640.0), MetadataEntry::Boolean("stereo", false)],
            &[MetadataEntry::String("encoder", "rtmp-core"), MetadataEntry::String("long", &long)],
            &[MetadataEntry::Number("", 1.0)],
        ];
        for entries in cases {
            let two_pass = amf0::encode(&mut b, |w| write_metadata(w, entries));
            let one_pass = DataMessage::encode_metadata(&mut a, entries);
            assert_eq!(one_pass, two_pass);
            if let Ok(n) = one_pass {
                assert_eq!(a[..n], b[..n]);
                // One byte short: the size needed, and the buffer untouched.
                let mut short = std::vec![0xAAu8; n - 1];
                assert_eq!(
                    DataMessage::encode_metadata(&mut short, entries),
                    Err(EncodeError::BufferTooSmall { needed: n })
                );
                assert!(short.iter().all(|&x| x == 0xAA));
            }
        }
    }

    #[test]
    fn metadata_from_streams() {
        let m = StreamMetadata {
            video_size: Some((640, 480)),
            framerate: Some(30.0),
            audio_sample_rate: Some(44100),
            audio_channels: Some(1),
            ..Default::default()
        };
        let mut slots = [MetadataEntry::Number("", 0.0); 11];
        let e = m.entries(&mut slots);
        assert!(e.contains(&MetadataEntry::Number("height", 480.0)));
        assert!(e.contains(&MetadataEntry::Boolean("stereo", false)));
        assert!(!e.iter().any(|x| matches!(x, MetadataEntry::Number("videodatarate", _))));
        let mut buf = [0u8; 512];
        let n = DataMessage::encode_metadata(&mut buf, e).unwrap();
        let d = DataMessage::decode(18, &buf[..n]).unwrap();
        assert_eq!(d.metadata().unwrap().get_number("audiosamplerate"), Some(44100.0));
        assert!(e.contains(&MetadataEntry::Number("videocodecid", 7.0)));
        let hevc = StreamMetadata { video_fourcc: Some(*b"hvc1"), ..m };
        let e = hevc.entries(&mut slots);
        assert!(e.contains(&MetadataEntry::Number("videocodecid", 1_752_589_105.0)), "the FourCC, as ffmpeg writes it");
    }

    use super::*;

    #[test]
    fn metadata_roundtrip() {
        let mut b = [0u8; 256];
        let entries = [
            MetadataEntry::Number("width", 640.0),
            MetadataEntry::Number("height", 480.0),
            MetadataEntry::Boolean("stereo", true),
            MetadataEntry::String("encoder", "rtmp-core"),
        ];
        let n = DataMessage::encode_metadata(&mut b, &entries).unwrap();
        let d = DataMessage::decode(type_id::DATA_AMF0, &b[..n]).unwrap();
        assert!(d.set_data_frame);
        assert_eq!(d.name, "onMetaData");
        let m = d.metadata().unwrap();
        assert_eq!(m.get_number("height"), Some(480.0));
        assert_eq!(m.get_str("encoder"), Some("rtmp-core"));
        assert_eq!(DataMessage::decode(18, &[0x05]).unwrap_err(), MessageError::MissingName);
    }
}
