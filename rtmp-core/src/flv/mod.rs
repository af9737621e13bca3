//! FLV: the container RTMP media payloads come from and go to.
//!
//! An RTMP audio, video or data message body is exactly an FLV tag body, so
//! a file is pushed by sending tag bodies as messages, and a recording is
//! written by framing received message bodies as tags (Adobe FLV file format
//! specification, version 10.1, annex E).
//!
//! [`FlvReader`] is sans-IO like the rest of this crate: it borrows tags from
//! the caller's input and says how many bytes it needs when a tag is not
//! complete yet. The writer side is three header functions; the tag body is
//! written from the caller's own buffer.

pub mod aac;
pub mod avc;
pub mod hevc;
pub mod media;
pub mod video;

use core::fmt;

/// Length of the file header (`FLV`, version, flags, data offset).
pub const FILE_HEADER_LEN: usize = 9;
/// Length of a tag header.
pub const TAG_HEADER_LEN: usize = 11;
/// Largest tag body (24-bit size field).
pub const MAX_TAG_DATA: usize = 0xFF_FFFF;

/// Tag types (FLV spec E.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagType {
    /// 8: audio.
    Audio,
    /// 9: video.
    Video,
    /// 18: script data (`onMetaData`).
    Script,
    /// Any other type, which readers skip.
    Other(u8),
}

impl TagType {
    /// From the tag type byte's low five bits.
    pub fn from_byte(b: u8) -> Self {
        match b & 0x1F {
            8 => TagType::Audio,
            9 => TagType::Video,
            18 => TagType::Script,
            o => TagType::Other(o),
        }
    }
    /// The type byte; equal to the RTMP message type id for audio, video and data.
    pub fn to_byte(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
            TagType::Other(o) => o & 0x1F,
        }
    }
}

/// Why an FLV stream could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlvError {
    /// The input does not start with `FLV`.
    NotFlv,
    /// The header's version is not 1.
    UnsupportedVersion(u8),
    /// The header's data offset is below 9.
    BadDataOffset(u32),
    /// A tag is marked encrypted (FLV spec's Filter bit), which is not supported.
    Encrypted,
}

impl fmt::Display for FlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlvError::NotFlv => f.write_str("not an FLV file (no FLV signature)"),
            FlvError::UnsupportedVersion(v) => write!(f, "FLV version {v} is not supported"),
            FlvError::BadDataOffset(o) => write!(f, "FLV header data offset {o} is below 9"),
            FlvError::Encrypted => f.write_str("encrypted FLV tags are not supported"),
        }
    }
}

impl core::error::Error for FlvError {}

/// What the file header announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    /// The audio flag.
    pub audio: bool,
    /// The video flag.
    pub video: bool,
}

/// One tag, its body borrowed from the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tag<'a> {
    /// Audio, video or script.
    pub kind: TagType,
    /// Milliseconds, 32 bits (the spec's 24 bits plus the extension byte).
    pub timestamp: u32,
    /// The body: what an RTMP message of the same type carries.
    pub data: &'a [u8],
}

impl fmt::Debug for Tag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tag")
            .field("kind", &self.kind)
            .field("timestamp", &self.timestamp)
            .field("len", &self.data.len())
            .finish()
    }
}

/// What [`FlvReader::read`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlvItem<'a> {
    /// The file header (first item of a stream).
    Header(FileHeader),
    /// A tag.
    Tag(Tag<'a>),
    /// After the consumed bytes are dropped, the input must hold at least
    /// this many bytes for the next item.
    NeedMore(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadState {
    Header,
    /// Skipping `n` bytes (extra header bytes, previous tag size 0).
    Skip(usize),
    Tags,
}

/// Reads an FLV stream: the header, then tags, checking nothing it does not
/// have to. Previous-tag-size fields are read past; mismatches (common in
/// files cut by other tools, and ignored by ffmpeg) are counted, not fatal.
#[derive(Clone, Debug)]
pub struct FlvReader {
    state: ReadState,
    last_data_len: Option<usize>,
    size_mismatches: u32,
}

impl Default for FlvReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FlvReader {
    /// A reader at the start of a file.
    pub const fn new() -> Self {
        FlvReader { state: ReadState::Header, last_data_len: None, size_mismatches: 0 }
    }

    /// How many previous-tag-size fields disagreed with the tag before them.
    pub fn size_mismatches(&self) -> u32 {
        self.size_mismatches
    }

    /// Reads the next item from `input`; returns the bytes consumed with it
    /// (with [`FlvItem::NeedMore`], padding it skipped, if any).
    pub fn read<'a>(&mut self, input: &'a [u8]) -> Result<(usize, FlvItem<'a>), FlvError> {
        let mut consumed = 0;
        loop {
            let input = &input[consumed..];
            match self.state {
                ReadState::Header => {
                    let Some(h) = input.get(..FILE_HEADER_LEN) else {
                        if !input.is_empty() && !b"FLV".starts_with(&input[..input.len().min(3)]) {
                            return Err(FlvError::NotFlv);
                        }
                        return Ok((consumed, FlvItem::NeedMore(FILE_HEADER_LEN)));
                    };
                    if &h[..3] != b"FLV" {
                        return Err(FlvError::NotFlv);
                    }
                    if h[3] != 1 {
                        return Err(FlvError::UnsupportedVersion(h[3]));
                    }
                    let offset = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
                    if offset < FILE_HEADER_LEN as u32 {
                        return Err(FlvError::BadDataOffset(offset));
                    }
                    // Skip the rest of the header, then PreviousTagSize0.
                    self.state = ReadState::Skip(offset as usize - FILE_HEADER_LEN + 4);
                    let header = FileHeader { audio: h[4] & 0x04 != 0, video: h[4] & 0x01 != 0 };
                    return Ok((consumed + FILE_HEADER_LEN, FlvItem::Header(header)));
                }
                ReadState::Skip(n) => {
                    let k = n.min(input.len());
                    consumed += k;
                    if k < n {
                        self.state = ReadState::Skip(n - k);
                        return Ok((consumed, FlvItem::NeedMore(n - k)));
                    }
                    self.state = ReadState::Tags;
                }
                ReadState::Tags => {
                    let Some(h) = input.get(..TAG_HEADER_LEN) else {
                        return Ok((consumed, FlvItem::NeedMore(TAG_HEADER_LEN)));
                    };
                    if h[0] & 0x20 != 0 {
                        return Err(FlvError::Encrypted);
                    }
                    let len = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
                    let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
                    let total = TAG_HEADER_LEN + len + 4;
                    let Some(tag) = input.get(..total) else {
                        return Ok((consumed, FlvItem::NeedMore(total)));
                    };
                    let prev = u32::from_be_bytes([tag[total - 4], tag[total - 3], tag[total - 2], tag[total - 1]]);
                    if prev as usize != TAG_HEADER_LEN + len {
                        self.size_mismatches = self.size_mismatches.saturating_add(1);
                    }
                    self.last_data_len = Some(len);
                    let data = &tag[TAG_HEADER_LEN..TAG_HEADER_LEN + len];
                    return Ok((
                        consumed + total,
                        FlvItem::Tag(Tag { kind: TagType::from_byte(h[0]), timestamp, data }),
                    ));
                }
            }
        }
    }
}

/// Frames tags for an FLV file without copying their bodies: the tag header
/// and the following PreviousTagSize are held here, the body stays where it is.
///
/// ```
/// use rtmp_core::flv::{FlvTag, TagType};
/// let body = [0xAFu8, 1, 0x21, 0x10];
/// let body_parts = [&body[..]];
/// let tag = FlvTag::new(TagType::Audio, 40, &body_parts).unwrap();
/// let mut slots: [&[u8]; 4] = [&[]; 4];
/// let parts = tag.parts(&mut slots).unwrap();
/// assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), 11 + 4 + 4);
/// assert_eq!(parts[1].as_ptr(), body.as_ptr());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FlvTag<'a> {
    header: [u8; TAG_HEADER_LEN],
    body: &'a [&'a [u8]],
    trailer: [u8; 4],
}

impl<'a> FlvTag<'a> {
    /// A tag whose body is the concatenation of `body`; `None` when it is
    /// longer than [`MAX_TAG_DATA`].
    pub fn new(kind: TagType, timestamp: u32, body: &'a [&'a [u8]]) -> Option<Self> {
        let len: usize = body.iter().map(|b| b.len()).sum();
        (len <= MAX_TAG_DATA).then(|| FlvTag {
            header: tag_header(kind, timestamp, len),
            body,
            trailer: previous_tag_size(len),
        })
    }

    /// The tag as slices to write in order (header, body parts, PreviousTagSize),
    /// or `None` when `out` has fewer than `body.len() + 2` slots.
    pub fn parts<'s>(&'s self, out: &'s mut [&'s [u8]]) -> Option<&'s [&'s [u8]]> {
        let out = out.get_mut(..self.body.len() + 2)?;
        let (first, rest) = out.split_first_mut()?;
        *first = &self.header;
        let (last, middle) = rest.split_last_mut()?;
        *last = &self.trailer;
        for (slot, b) in middle.iter_mut().zip(self.body) {
            *slot = b;
        }
        Some(out)
    }
}

/// The file header and PreviousTagSize0 that start an FLV file.
pub fn file_header(audio: bool, video: bool) -> [u8; FILE_HEADER_LEN + 4] {
    let flags = (audio as u8) << 2 | video as u8;
    [b'F', b'L', b'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0]
}

/// A tag header for a body of `len` bytes (at most [`MAX_TAG_DATA`]; longer
/// lengths are cut to 24 bits, so check first).
pub fn tag_header(kind: TagType, timestamp: u32, len: usize) -> [u8; TAG_HEADER_LEN] {
    let l = (len as u32).to_be_bytes();
    let t = timestamp.to_be_bytes();
    [kind.to_byte(), l[1], l[2], l[3], t[1], t[2], t[3], t[0], 0, 0, 0]
}

/// The PreviousTagSize field that follows a tag with a body of `len` bytes.
pub fn previous_tag_size(len: usize) -> [u8; 4] {
    ((TAG_HEADER_LEN + len) as u32).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn file(tags: &[(TagType, u32, &[u8])]) -> Vec<u8> {
        let mut f = file_header(true, true).to_vec();
        for (k, ts, d) in tags {
            f.extend_from_slice(&tag_header(*k, *ts, d.len()));
            f.extend_from_slice(d);
            f.extend_from_slice(&previous_tag_size(d.len()));
        }
        f
    }

    #[test]
    fn writes_and_reads_back_in_any_split() {
        let tags: [(TagType, u32, &[u8]); 3] = [
            (TagType::Script, 0, b"meta"),
            (TagType::Video, 40, &[0x17, 0, 0, 0, 0]),
            (TagType::Audio, 0x0123_4567, &[0xAF, 1, 2]),
        ];
        let f = file(&tags);
        for split in 0..f.len() {
            let mut r = FlvReader::new();
            let mut got = Vec::new();
            let mut buf: Vec<u8> = f[..split].to_vec();
            let mut fed = split;
            loop {
                let (n, item) = r.read(&buf).unwrap();
                match item {
                    FlvItem::Header(h) => assert!(h.audio && h.video),
                    FlvItem::Tag(t) => got.push((t.kind, t.timestamp, t.data.to_vec())),
                    FlvItem::NeedMore(want) => {
                        buf.drain(..n);
                        if fed == f.len() {
                            break;
                        }
                        assert!(want > buf.len());
                        buf.extend_from_slice(&f[fed..]);
                        fed = f.len();
                        continue;
                    }
                }
                buf.drain(..n);
            }
            assert_eq!(got.len(), 3, "split {split}");
            assert_eq!(got[2], (TagType::Audio, 0x0123_4567, std::vec![0xAF, 1, 2]));
            assert_eq!(r.size_mismatches(), 0);
        }
    }

    #[test]
    fn bad_files_are_typed_errors() {
        assert_eq!(FlvReader::new().read(b"GIF89a...."), Err(FlvError::NotFlv));
        assert_eq!(FlvReader::new().read(b"FX"), Err(FlvError::NotFlv));
        assert_eq!(FlvReader::new().read(b"FLV\x02\x05\0\0\0\x09"), Err(FlvError::UnsupportedVersion(2)));
        assert_eq!(FlvReader::new().read(b"FLV\x01\x05\0\0\0\x03"), Err(FlvError::BadDataOffset(3)));
        let mut f = file(&[(TagType::Video, 0, b"x")]);
        f[13] |= 0x20;
        let mut r = FlvReader::new();
        let (n, _) = r.read(&f).unwrap();
        assert_eq!(r.read(&f[n..]), Err(FlvError::Encrypted));
    }
}
