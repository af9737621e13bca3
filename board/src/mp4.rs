//! MP4 (and MOV) input for `rtmp-push FILE.mp4`: H.264 / H.265 video and
//! AAC audio sent without re-encoding. The boxes are read by the
//! `mp4-atom` crate (kixelated's, maintained for MoQ; it decodes every box
//! this needs and skips the rest); this module walks the sample tables it
//! gives (`stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco`/`co64`) one sample
//! at a time, without expanding them, and reads each sample into one
//! reused buffer: memory is the `moov` plus the largest sample.
//!
//! Timestamps: decode times from `stts`, composition offsets from `ctts`,
//! shifted by the track's edit list (its first edit's media time, and an
//! initial empty edit) as ffmpeg's demuxer does, then moved so that the
//! earliest decode time of the file is 0, and rounded to milliseconds (pts
//! and dts each, so that pts - dts is what a player computes). Keyframes
//! are the `stss` samples (all of them when there is none). `avcC` /
//! `hvcC` become the video sequence header (H.265 as Enhanced RTMP
//! `hvc1`), the `esds` AudioSpecificConfig the AAC one, and `onMetaData`
//! is made from the sample entries.
//!
//! Fragmented MP4 (`moof`, `traf`, `trun`, as `ffmpeg -movflags
//! frag_keyframe+empty_moov` and CMAF write it) is read one fragment at a
//! time: sample sizes, durations, flags and composition offsets from the
//! `trun` entries, `tfhd` defaults and the `mvex` ones, decode times from
//! `tfdt`.

use crate::file_push::{push_source, FilePushError, FilePushEvent, FilePushOptions, Tag, TagRole, TagSource};
use crate::push::{PushStats, PushTarget};
use mp4_atom::{Codec as SampleEntry, DecodeAtom, Encode, FourCC, Header, Moof, Moov, ReadFrom, StszSamples, Trak};
use rtmp_core::flv::video::LengthPrefixed;
use rtmp_core::flv::TagType;
use rtmp_core::message::{DataMessage, MetadataEntry, StreamMetadata};
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};

/// The largest `moov` read (its sample tables grow with the file's length:
/// a few hundred KiB for an hour).
const MAX_MOOV: usize = 64 << 20;
/// The largest sample read (a 4K keyframe is a few MB).
const MAX_SAMPLE: u32 = 32 << 20;

/// The largest `moof` read (its sample tables: a few KiB a second).
const MAX_MOOF: usize = 16 << 20;

/// A fragmented file: where its fragments are, and the samples of the one
/// being sent.
struct Fragments {
    /// The first box after the moov, and the next box to read.
    first: u64,
    next: u64,
    /// Sample defaults per track (mvex).
    trex: Vec<mp4_atom::Trex>,
    /// Per track: the decode time after the last sample read, and the
    /// length of the samples read this pass (track units, not shifted).
    dts: Vec<i64>,
    total: Vec<i64>,
    queue: VecDeque<(usize, Sample)>,
    /// The origin (earliest decode time) was taken from the first fragment.
    origin_set: bool,
}

/// Why an MP4 file cannot be pushed.
#[derive(Debug)]
pub enum Mp4Error {
    /// Reading failed.
    Io(std::io::Error),
    /// A box could not be decoded.
    Box(mp4_atom::Error),
    /// Something this reader does not take, or a malformed table (says which).
    Unsupported(String),
}

impl std::fmt::Display for Mp4Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mp4Error::Io(e) => write!(f, "{e}"),
            Mp4Error::Box(e) => write!(f, "malformed MP4: {e}"),
            Mp4Error::Unsupported(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Mp4Error {}

impl From<std::io::Error> for Mp4Error {
    fn from(e: std::io::Error) -> Self {
        Mp4Error::Io(e)
    }
}

impl From<mp4_atom::Error> for Mp4Error {
    fn from(e: mp4_atom::Error) -> Self {
        match e {
            mp4_atom::Error::Io(e) => Mp4Error::Io(e),
            e => Mp4Error::Box(e),
        }
    }
}

fn unsupported<T>(what: impl Into<String>) -> Result<T, Mp4Error> {
    Err(Mp4Error::Unsupported(what.into()))
}

/// What a track carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    H264,
    H265,
    Aac,
}

/// One track's sample tables and a cursor through them.
struct Track {
    /// The track's id (fragments name their track by it).
    id: u32,
    kind: Kind,
    timescale: u64,
    /// The FLV sequence header tag body.
    config: Vec<u8>,
    /// Bytes of each NAL unit length in the samples (video; 4 is FLV's).
    nal_length: u8,
    /// Added to every decode and composition time (edit list), in track units.
    shift: i64,
    stts: Vec<(u32, u32)>,
    ctts: Vec<(u32, i64)>,
    /// Sync samples (1-based), ascending; `None`: every sample is one.
    stss: Option<Vec<u32>>,
    /// (first chunk, 1-based; samples per chunk).
    stsc: Vec<(u32, u32)>,
    sizes: StszSamples,
    chunks: Vec<u64>,
    count: u32,
    cursor: Cursor,
}

/// Where a track is: the next sample and its place in every table.
#[derive(Clone, Copy, Default)]
struct Cursor {
    sample: u32,
    dts: i64,
    stts: (usize, u32),
    ctts: (usize, u32),
    stss: usize,
    /// Current chunk (0-based), samples left in it, the next sample's offset.
    chunk: u32,
    chunk_left: u32,
    stsc: usize,
    offset: u64,
}

/// A sample's place and times (track units, shifted).
struct Sample {
    offset: u64,
    size: u32,
    dts: i64,
    pts: i64,
    sync: bool,
}

impl Track {
    fn from_trak(trak: &Trak, movie_timescale: u32) -> Result<Option<Track>, Mp4Error> {
        let stbl = &trak.mdia.minf.stbl;
        let id = trak.tkhd.track_id;
        let Some(entry) = stbl.stsd.codecs.first() else { return Ok(None) };
        let (kind, config, nal_length) = match entry {
            SampleEntry::Avc1(a) => {
                let record = record_of(&a.avcc)?;
                let mut tag = vec![0x17, 0, 0, 0, 0];
                tag.extend_from_slice(&record);
                (Kind::H264, tag, a.avcc.length_size)
            }
            SampleEntry::Hvc1(h) => hevc_config(&h.hvcc)?,
            SampleEntry::Hev1(h) => hevc_config(&h.hvcc)?,
            SampleEntry::Mp4a(m) => {
                let Some(asc) = m.esds.es_desc.dec_config.dec_specific.as_ref().map(|d| d.raw.clone()) else {
                    return unsupported(format!("track {id}: AAC without an AudioSpecificConfig"));
                };
                if m.esds.es_desc.dec_config.object_type_indication != 0x40 {
                    return unsupported(format!("track {id}: mp4a that is not AAC (MP3?); only AAC is pushed"));
                }
                let mut tag = vec![0xAF, 0];
                tag.extend_from_slice(&asc);
                (Kind::Aac, tag, 0)
            }
            // Other tracks (subtitles, timecode, other codecs) are left out.
            _ => return Ok(None),
        };
        if !matches!(nal_length, 0 | 1 | 2 | 4) {
            return unsupported(format!("track {id}: NAL unit lengths of {nal_length} bytes"));
        }
        if stbl.stsd.codecs.len() > 1 {
            return unsupported(format!("track {id}: more than one sample description"));
        }
        let timescale = u64::from(trak.mdia.mdhd.timescale);
        if timescale == 0 {
            return unsupported(format!("track {id}: timescale 0"));
        }
        let chunks: Vec<u64> = match (&stbl.stco, &stbl.co64) {
            (Some(s), _) => s.entries.iter().map(|&o| u64::from(o)).collect(),
            (None, Some(c)) => c.entries.clone(),
            // Fragmented files have no samples in the moov.
            (None, None) => Vec::new(),
        };
        let count = match &stbl.stsz.samples {
            StszSamples::Identical { count, .. } => *count,
            StszSamples::Different { sizes } => sizes.len() as u32,
        };
        let stts_total: u64 = stbl.stts.entries.iter().map(|e| u64::from(e.sample_count)).sum();
        if stts_total < u64::from(count) || (count > 0 && (chunks.is_empty() || stbl.stsc.entries.is_empty())) {
            return unsupported(format!("track {id}: sample tables that do not cover its {count} samples"));
        }
        Ok(Some(Track {
            id,
            kind,
            timescale,
            config,
            nal_length,
            shift: edit_shift(trak, timescale, u64::from(movie_timescale)),
            stts: stbl.stts.entries.iter().map(|e| (e.sample_count, e.sample_delta)).collect(),
            ctts: stbl
                .ctts
                .as_ref()
                .map_or(Vec::new(), |c| c.entries.iter().map(|e| (e.sample_count, e.sample_offset)).collect()),
            stss: stbl.stss.as_ref().map(|s| s.entries.clone()),
            stsc: stbl.stsc.entries.iter().map(|e| (e.first_chunk, e.samples_per_chunk)).collect(),
            sizes: stbl.stsz.samples.clone(),
            chunks,
            count,
            cursor: Cursor::default(),
        }))
    }

    fn rewind(&mut self) {
        self.cursor = Cursor::default();
    }

    /// The next sample, moving the cursor past it; `None` after the last.
    fn next(&mut self) -> Result<Option<Sample>, Mp4Error> {
        let c = &mut self.cursor;
        if c.sample >= self.count {
            return Ok(None);
        }
        // Chunk: entering a new one sets its offset and sample count.
        if c.chunk_left == 0 {
            if c.sample > 0 {
                c.chunk += 1;
            }
            while self.stsc.get(c.stsc + 1).is_some_and(|&(first, _)| first.saturating_sub(1) <= c.chunk) {
                c.stsc += 1;
            }
            let per_chunk = self.stsc.get(c.stsc).map_or(0, |e| e.1);
            let Some(&offset) = self.chunks.get(c.chunk as usize) else {
                return unsupported(format!("sample {}: past the last chunk offset", c.sample + 1));
            };
            if per_chunk == 0 {
                return unsupported(format!("chunk {}: no samples (stsc)", c.chunk + 1));
            }
            c.chunk_left = per_chunk;
            c.offset = offset;
        }
        let size = match &self.sizes {
            StszSamples::Identical { size, .. } => *size,
            StszSamples::Different { sizes } => sizes[c.sample as usize],
        };
        // Composition offset of this sample.
        let cts = loop {
            match self.ctts.get(c.ctts.0) {
                None => break 0,
                Some(&(n, off)) if c.ctts.1 < n => {
                    c.ctts.1 += 1;
                    break off;
                }
                Some(_) => c.ctts = (c.ctts.0 + 1, 0),
            }
        };
        let number = c.sample + 1;
        let sync = match &self.stss {
            None => true,
            Some(list) => {
                while list.get(c.stss).is_some_and(|&s| s < number) {
                    c.stss += 1;
                }
                list.get(c.stss) == Some(&number)
            }
        };
        let dts = c.dts.saturating_add(self.shift);
        let sample = Sample { offset: c.offset, size, dts, pts: dts.saturating_add(cts), sync };
        // Advance: decode time, sample, chunk.
        let delta = loop {
            match self.stts.get(c.stts.0) {
                Some(&(n, d)) if c.stts.1 < n => {
                    c.stts.1 += 1;
                    break d;
                }
                Some(_) => c.stts = (c.stts.0 + 1, 0),
                None => break 0,
            }
        };
        c.dts = c.dts.saturating_add(i64::from(delta));
        c.sample += 1;
        c.chunk_left -= 1;
        c.offset = c.offset.saturating_add(u64::from(size));
        Ok(Some(sample))
    }

    /// The next sample's decode time in ms (for interleaving), without moving.
    fn peek_dts_ms(&self) -> Option<i64> {
        (self.cursor.sample < self.count).then(|| ms(self.cursor.dts.saturating_add(self.shift), self.timescale))
    }

    /// The track's length in track units (the decode time after its last
    /// sample), for looping.
    fn duration(&self) -> i64 {
        self.stts.iter().fold(0i64, |sum, &(n, d)| sum.saturating_add(i64::from(n).saturating_mul(i64::from(d))))
    }
}

/// `t` track units in milliseconds, rounded to the nearest (halves away
/// from zero, as ffmpeg's rescaling).
fn ms(t: i64, timescale: u64) -> i64 {
    let ts = timescale as i128;
    let n = i128::from(t) * 1000;
    let r = if n >= 0 { (n + ts / 2) / ts } else { -((-n + ts / 2) / ts) };
    r as i64
}

/// The decoder configuration record inside a box (its body).
fn record_of(atom: &impl Encode) -> Result<Vec<u8>, Mp4Error> {
    let mut boxed = Vec::new();
    atom.encode(&mut boxed)?;
    Ok(boxed.split_off(8))
}

fn hevc_config(hvcc: &mp4_atom::Hvcc) -> Result<(Kind, Vec<u8>, u8), Mp4Error> {
    let record = record_of(hvcc)?;
    let (header, _) = rtmp_core::flv::hevc::tag_header(true, 0);
    // SequenceStart: the frame header's FourCC with packet type 0.
    let mut tag = vec![0x80 | 0x10 | rtmp_core::flv::hevc::packet::SEQUENCE_START];
    tag.extend_from_slice(&header[1..5]);
    tag.extend_from_slice(&record);
    Ok((Kind::H265, tag, hvcc.length_size_minus_one + 1))
}

/// What the edit list moves the track by, in track units: the first
/// non-empty edit's media time is subtracted, initial empty edits (in
/// movie units) added. Later edits (several segments, rate changes) are
/// not applied: the first one decides, as for most players.
fn edit_shift(trak: &Trak, timescale: u64, movie_timescale: u64) -> i64 {
    let Some(elst) = trak.edts.as_ref().and_then(|e| e.elst.as_ref()) else { return 0 };
    let mut shift = 0i64;
    for e in &elst.entries {
        match e.media_time {
            None if movie_timescale > 0 => {
                shift += (u128::from(e.segment_duration) * u128::from(timescale) / u128::from(movie_timescale))
                    .min(i64::MAX as u128 / 4) as i64;
            }
            None => {}
            Some(t) => return shift.saturating_sub(t.min(i64::MAX as u64 / 4) as i64),
        }
    }
    shift
}

/// An MP4 file as tags: `onMetaData`, the sequence headers, then the
/// samples of its video and audio tracks in decode order.
pub struct Mp4Source<R> {
    name: String,
    state: State<R>,
}

/// Everything but the name (borrowed apart from it while a tag is out).
struct State<R> {
    input: R,
    /// A fragmented file's state (`None`: the samples are in the moov's tables).
    fragments: Option<Fragments>,
    /// Where `input` is (a seek only when the next sample is elsewhere).
    pos: u64,
    tracks: Vec<Track>,
    metadata: Vec<u8>,
    /// Tags before the samples still to hand out (metadata, configs).
    preamble: usize,
    /// Subtracted from every time so that the earliest decode time is 0 (ms).
    origin_ms: i64,
    /// Repeat the file when it ends, timestamps continuing: each pass is
    /// as long as the file's longest track, so every track's timestamps
    /// keep increasing (the longest one's without a gap).
    looped: bool,
    /// Added to timestamps: the length of the passes already made (ms).
    pass_ms: i64,
    pass_len_ms: i64,
    header: [u8; 8],
    header_len: usize,
    buf: Vec<u8>,
}

impl<R: Read + Seek> Mp4Source<R> {
    /// Reads the file's `moov` (skipping `mdat` and the rest) and prepares
    /// its H.264/H.265 and AAC tracks (at most one of each kind: the first).
    pub fn open(mut input: R, name: &str, looped: bool) -> Result<Self, Mp4Error> {
        let moov = read_moov(&mut input)?;
        let mut tracks: Vec<Track> = Vec::new();
        for trak in &moov.trak {
            if let Some(t) = Track::from_trak(trak, moov.mvhd.timescale)? {
                let video = t.kind != Kind::Aac;
                if !tracks.iter().any(|o| (o.kind != Kind::Aac) == video) {
                    tracks.push(t);
                }
            }
        }
        if tracks.is_empty() {
            return unsupported("no H.264, H.265 or AAC track");
        }
        let pos = input.stream_position()?;
        // Fragmented: the samples are in the moof boxes after the moov.
        let fragments = match &moov.mvex {
            Some(mvex) if tracks.iter().all(|t| t.count == 0) => Some(Fragments {
                first: pos,
                next: pos,
                trex: mvex.trex.clone(),
                dts: vec![0; tracks.len()],
                total: vec![0; tracks.len()],
                queue: VecDeque::new(),
                origin_set: false,
            }),
            _ => None,
        };
        let origin_ms = tracks.iter().filter_map(|t| t.peek_dts_ms()).min().unwrap_or(0).min(0);
        let pass_len_ms = tracks.iter().map(|t| ms(t.duration(), t.timescale)).max().unwrap_or(0);
        let metadata = metadata(&moov, &tracks);
        let state = State {
            input,
            pos,
            fragments,
            preamble: 1 + tracks.len(),
            tracks,
            metadata,
            origin_ms,
            looped,
            pass_ms: 0,
            pass_len_ms,
            header: [0; 8],
            header_len: 0,
            buf: Vec::new(),
        };
        Ok(Mp4Source { name: name.to_string(), state })
    }
}

impl<R: Read + Seek> State<R> {
    fn ts(&self, t_ms: i64) -> u32 {
        // RTMP timestamps are 32-bit milliseconds: they wrap after 49 days.
        t_ms.saturating_sub(self.origin_ms).saturating_add(self.pass_ms).max(0) as u32
    }
}

/// Pushes the MP4 in `input` (named `name` in errors) to `target`, as
/// [`push_flv`](crate::file_push::push_flv) does an FLV (paced, resuming at
/// a keyframe after a reconnect); `looped` repeats it for ever with
/// continuous timestamps.
pub fn push_mp4<R: Read + Seek>(
    input: R,
    name: &str,
    target: &PushTarget,
    opts: FilePushOptions,
    looped: bool,
    on_event: impl FnMut(FilePushEvent<'_>),
) -> Result<PushStats, FilePushError> {
    let mut source = Mp4Source::open(input, name, looped).map_err(|e| FilePushError::Source(format!("{name}: {e}")))?;
    push_source(&mut source, target, opts, on_event)
}

/// Whether `head` (a file's first bytes) looks like an MP4/MOV box.
pub fn looks_like_mp4(head: &[u8]) -> bool {
    head.get(4..8).is_some_and(|k| [b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"].iter().any(|b| k == *b))
}

/// Finds and decodes the `moov` box, seeking over the others.
fn read_moov<R: Read + Seek>(input: &mut R) -> Result<Moov, Mp4Error> {
    input.seek(SeekFrom::Start(0))?;
    loop {
        let Some(header) = <Option<Header>>::read_from(input)? else {
            return unsupported("no moov box: not an MP4 file, or one still being written");
        };
        let kind = header.kind;
        match (kind == FourCC::new(b"moov"), header.size) {
            (true, Some(size)) if size <= MAX_MOOV => {
                let mut body = vec![0u8; size];
                input.read_exact(&mut body)?;
                return Ok(Moov::decode_atom(&header, &mut body.as_slice())?);
            }
            (true, _) => return unsupported("moov box larger than 64 MiB"),
            (false, Some(size)) => {
                input.seek(SeekFrom::Current(size as i64))?;
            }
            (false, None) => return unsupported("no moov box before the end of the file"),
        }
    }
}

fn metadata(moov: &Moov, tracks: &[Track]) -> Vec<u8> {
    let mut meta = StreamMetadata::default();
    for trak in &moov.trak {
        match trak.mdia.minf.stbl.stsd.codecs.first() {
            Some(SampleEntry::Avc1(a)) if meta.video_size.is_none() => {
                meta.video_size = Some((a.visual.width.into(), a.visual.height.into()));
            }
            Some(
                SampleEntry::Hvc1(mp4_atom::Hvc1 { visual, .. }) | SampleEntry::Hev1(mp4_atom::Hev1 { visual, .. }),
            ) if meta.video_size.is_none() => {
                meta.video_size = Some((visual.width.into(), visual.height.into()));
                meta.video_fourcc = Some(rtmp_core::flv::hevc::FOURCC);
            }
            Some(SampleEntry::Mp4a(m)) if meta.audio_sample_rate.is_none() => {
                meta.audio_sample_rate = Some(m.audio.sample_rate.integer().into());
                meta.audio_channels = Some(m.audio.channel_count.min(255) as u8);
            }
            _ => {}
        }
    }
    if let Some(v) = tracks.iter().find(|t| t.kind != Kind::Aac) {
        let secs = v.duration() as f64 / v.timescale as f64;
        if secs > 0.0 && v.count > 1 {
            meta.framerate = Some((f64::from(v.count) / secs * 1000.0).round() / 1000.0);
        }
    }
    let mut entries = [MetadataEntry::Number("", 0.0); 11];
    let entries = meta.entries(&mut entries);
    let mut buf = vec![0u8; 1024];
    match DataMessage::encode_metadata(&mut buf, entries) {
        // Without `@setDataFrame` (16 bytes): an FLV script tag's body.
        Ok(n) if n > 16 => buf[16..n].to_vec(),
        _ => Vec::new(),
    }
}

impl<R: Read + Seek> TagSource for Mp4Source<R> {
    fn next_tag(&mut self, _on_event: &mut dyn FnMut(FilePushEvent<'_>)) -> Result<Option<Tag<'_>>, String> {
        let name = &self.name;
        self.state.next_tag_inner().map_err(|e| format!("{name}: {e}"))
    }
}

impl<R: Read + Seek> State<R> {
    /// The next sample in decode order, and its track; `None` at the end
    /// (or, looping, never).
    fn next_sample(&mut self) -> Result<Option<(usize, Sample)>, Mp4Error> {
        for _ in 0..2 {
            if self.fragments.is_some() {
                if let Some(next) = self.next_fragment_sample()? {
                    return Ok(Some(next));
                }
            } else {
                // The track whose next sample decodes first.
                let next = self.tracks.iter().enumerate().filter_map(|(i, t)| Some((t.peek_dts_ms()?, i))).min();
                if let Some((_, i)) = next {
                    return Ok(self.tracks[i].next()?.map(|s| (i, s)));
                }
            }
            // The end of the file: again from the start when looping.
            if !self.looped || self.pass_len_ms <= 0 {
                return Ok(None);
            }
            self.pass_ms = self.pass_ms.saturating_add(self.pass_len_ms);
            self.tracks.iter_mut().for_each(Track::rewind);
            if let Some(f) = &mut self.fragments {
                f.next = f.first;
                f.dts.iter_mut().for_each(|d| *d = 0);
                f.total.iter_mut().for_each(|d| *d = 0);
            }
        }
        Ok(None)
    }

    /// The next sample of a fragmented file, reading the next `moof` when
    /// the last one's are out.
    fn next_fragment_sample(&mut self) -> Result<Option<(usize, Sample)>, Mp4Error> {
        loop {
            let Some(f) = &mut self.fragments else { return Ok(None) };
            if let Some(next) = f.queue.pop_front() {
                return Ok(Some(next));
            }
            if !self.read_fragment()? {
                // A pass lasts as long as its longest track (see `looped`).
                let Some(f) = &self.fragments else { return Ok(None) };
                self.pass_len_ms =
                    self.tracks.iter().zip(&f.total).map(|(t, &d)| ms(d, t.timescale)).max().unwrap_or(0);
                return Ok(None);
            }
        }
    }

    /// Reads boxes from where the last fragment ended to the next `moof`
    /// and queues its samples in decode order; `false` at the end.
    fn read_fragment(&mut self) -> Result<bool, Mp4Error> {
        let Some(f) = &mut self.fragments else { return Ok(false) };
        loop {
            self.input.seek(SeekFrom::Start(f.next))?;
            let Some(header) = <Option<Header>>::read_from(&mut self.input)? else { return Ok(false) };
            let body = self.input.stream_position()?;
            self.pos = body;
            let Some(size) = header.size else { return Ok(false) };
            let start = f.next;
            f.next = body.saturating_add(size as u64);
            if header.kind != FourCC::new(b"moof") {
                continue;
            }
            if size > MAX_MOOF {
                return unsupported(format!("a moof box of {size} bytes (the limit is {MAX_MOOF})"));
            }
            let mut bytes = vec![0u8; size];
            self.input.read_exact(&mut bytes)?;
            self.pos += size as u64;
            let moof = Moof::decode_atom(&header, &mut bytes.as_slice())?;
            let mut samples = Vec::new();
            for traf in &moof.traf {
                let Some(ti) = self.tracks.iter().position(|t| t.id == traf.tfhd.track_id) else { continue };
                let trex = f.trex.iter().find(|t| t.track_id == traf.tfhd.track_id);
                let h = &traf.tfhd;
                // ffmpeg and most muxers set default-base-is-moof; without
                // it and without a base offset, the moof is the base too.
                let base = h.base_data_offset.unwrap_or(start);
                let mut dts =
                    traf.tfdt.as_ref().map_or(f.dts[ti], |t| t.base_media_decode_time.min(i64::MAX as u64 / 4) as i64);
                let mut offset = base;
                for trun in &traf.trun {
                    if let Some(o) = trun.data_offset {
                        offset = base.saturating_add_signed(i64::from(o));
                    }
                    for e in trun.samples.iter() {
                        let duration =
                            e.duration.or(h.default_sample_duration).or(trex.map(|t| t.default_sample_duration));
                        let size =
                            e.size.or(h.default_sample_size).or(trex.map(|t| t.default_sample_size)).unwrap_or(0);
                        let flags = e.flags.or(h.default_sample_flags).or(trex.map(|t| t.default_sample_flags));
                        let shifted = dts.saturating_add(self.tracks[ti].shift);
                        samples.push((
                            ti,
                            Sample {
                                offset,
                                size,
                                dts: shifted,
                                pts: shifted.saturating_add(e.cts.unwrap_or(0)),
                                // sample_is_non_sync_sample (ISO/IEC 14496-12 8.8.3.1).
                                sync: !matches!(flags, Some(f) if f & 0x0001_0000 != 0),
                            },
                        ));
                        let d = i64::from(duration.unwrap_or(0));
                        offset = offset.saturating_add(u64::from(size));
                        dts = dts.saturating_add(d);
                        f.total[ti] = f.total[ti].saturating_add(d);
                    }
                }
                f.dts[ti] = dts;
            }
            // Decode order across the tracks (stable: each track's order kept).
            let tracks = &self.tracks;
            samples.sort_by_key(|(ti, s)| ms(s.dts, tracks[*ti].timescale));
            if !f.origin_set {
                f.origin_set = true;
                let first = samples.iter().map(|(ti, s)| ms(s.dts, tracks[*ti].timescale)).min().unwrap_or(0);
                self.origin_ms = first.min(0);
            }
            f.queue.extend(samples);
            return Ok(true);
        }
    }

    fn next_tag_inner(&mut self) -> Result<Option<Tag<'_>>, Mp4Error> {
        // The preamble: onMetaData, then each track's sequence header.
        let total = 1 + self.tracks.len();
        if self.preamble > 0 {
            let i = total - self.preamble;
            self.preamble -= 1;
            let ts = self.ts(self.origin_ms);
            if i == 0 {
                if self.metadata.is_empty() {
                    return self.next_tag_inner();
                }
                return Ok(Some(Tag {
                    kind: TagType::Script,
                    timestamp: 0,
                    role: TagRole::Metadata,
                    parts: [&self.metadata, &[]],
                }));
            }
            let t = &self.tracks[i - 1];
            let (kind, role) = if t.kind == Kind::Aac {
                (TagType::Audio, TagRole::AudioConfig)
            } else {
                (TagType::Video, TagRole::VideoConfig)
            };
            return Ok(Some(Tag { kind, timestamp: ts, role, parts: [&self.tracks[i - 1].config, &[]] }));
        }
        let Some((i, s)) = self.next_sample()? else { return Ok(None) };
        let track = &self.tracks[i];
        if s.size > MAX_SAMPLE {
            return unsupported(format!("a sample of {} bytes (the limit is {MAX_SAMPLE})", s.size));
        }
        let (kind, timescale, nal_length) = (track.kind, track.timescale, track.nal_length);
        if self.pos != s.offset {
            self.input.seek(SeekFrom::Start(s.offset))?;
            self.pos = s.offset;
        }
        self.buf.resize(s.size as usize, 0);
        self.input.read_exact(&mut self.buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Mp4Error::Unsupported(format!("a sample at byte {} runs past the end of the file", s.offset))
            } else {
                Mp4Error::Io(e)
            }
        })?;
        self.pos += u64::from(s.size);
        let (dts, pts) = (ms(s.dts, timescale), ms(s.pts, timescale));
        let ts = self.ts(dts);
        let cts = (pts - dts).clamp(-0x80_0000, 0x7F_FFFF) as i32;
        let role = if s.sync && kind != Kind::Aac { TagRole::Keyframe } else { TagRole::Other };
        match kind {
            Kind::Aac => {
                self.header[..2].copy_from_slice(&[0xAF, 1]);
                self.header_len = 2;
            }
            Kind::H264 => {
                self.header[..5].copy_from_slice(&rtmp_core::flv::avc::avcc_tag_header(s.sync, cts));
                self.header_len = 5;
            }
            Kind::H265 => {
                let (h, n) = rtmp_core::flv::hevc::tag_header(s.sync, cts);
                self.header = h;
                self.header_len = n;
            }
        }
        if kind != Kind::Aac && nal_length != 4 {
            self.buf = widen_lengths(&self.buf, nal_length)?;
        }
        let tag_kind = if kind == Kind::Aac { TagType::Audio } else { TagType::Video };
        Ok(Some(Tag { kind: tag_kind, timestamp: ts, role, parts: [&self.header[..self.header_len], &self.buf] }))
    }
}

/// Length-prefixed NAL units with `n`-byte lengths, rewritten with 4-byte
/// ones (FLV's). Rare: encoders and muxers write 4.
fn widen_lengths(sample: &[u8], n: u8) -> Result<Vec<u8>, Mp4Error> {
    let mut out = Vec::with_capacity(sample.len() + sample.len() / 8);
    for nal in LengthPrefixed::new(sample, n) {
        let Ok(nal) = nal else { return unsupported("a NAL unit or its length runs past its sample") };
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const TINY: &[u8] = include_bytes!("../tests/data/tiny.mp4");

    /// A tag as (kind, timestamp, role, body).
    type Owned = (TagType, u32, TagRole, Vec<u8>);

    /// Every tag, at most `max`.
    fn tags(bytes: &[u8], max: usize) -> Result<Vec<Owned>, String> {
        let mut src = Mp4Source::open(Cursor::new(bytes), "tiny.mp4", false).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while out.len() < max {
            match src.next_tag(&mut |_| {})? {
                Some(t) => out.push((t.kind, t.timestamp, t.role, [t.parts[0], t.parts[1]].concat())),
                None => break,
            }
        }
        Ok(out)
    }

    #[test]
    fn reads_the_tracks_in_decode_order_with_ffmpegs_times() {
        let t = tags(TINY, 1000).unwrap();
        // onMetaData, the AVC and AAC sequence headers, then 5 video and 5
        // audio samples (the first one AAC priming).
        assert_eq!(t.len(), 13, "{:?}", t.iter().map(|t| (t.0, t.1, t.2)).collect::<Vec<_>>());
        assert_eq!((t[0].0, t[0].2), (TagType::Script, TagRole::Metadata));
        assert!(t[0].3.starts_with(b"\x02\x00\x0aonMetaData"));
        assert_eq!((t[1].0, t[1].2, &t[1].3[..2]), (TagType::Video, TagRole::VideoConfig, &[0x17, 0][..]));
        assert_eq!((t[2].0, t[2].2, &t[2].3[..2]), (TagType::Audio, TagRole::AudioConfig, &[0xAF, 0][..]));
        let video: Vec<_> = t.iter().skip(3).filter(|t| t.0 == TagType::Video).collect();
        let audio: Vec<_> = t.iter().skip(3).filter(|t| t.0 == TagType::Audio).collect();
        assert_eq!((video.len(), audio.len()), (5, 5));
        // ffprobe: video dts -2048, -1024, 0, 1024, 2048 (1/10240: -200 ms
        // to 200 ms), pts 0, 300, 100, 200, 400 ms; audio from -128 ms (1/8000).
        // The earliest (video, -200 ms) becomes 0.
        let dts: Vec<u32> = video.iter().map(|t| t.1).collect();
        assert_eq!(dts, [0, 100, 200, 300, 400]);
        let cts = |body: &[u8]| i32::from_be_bytes([0, body[2], body[3], body[4]]);
        let pts: Vec<i64> = video.iter().map(|t| i64::from(t.1) + i64::from(cts(&t.3))).collect();
        assert_eq!(pts, [200, 500, 300, 400, 600]);
        assert_eq!(video[0].2, TagRole::Keyframe);
        assert_eq!(&video[0].3[..2], &[0x17, 1]);
        assert!(video[1..].iter().all(|t| t.2 == TagRole::Other && t.3[0] == 0x27));
        let audio_ts: Vec<u32> = audio.iter().map(|t| t.1).collect();
        assert_eq!(audio_ts, [72, 200, 328, 456, 584]);
        assert!(audio.iter().all(|t| t.3.starts_with(&[0xAF, 1])));
        // Decode order across the tracks.
        let all: Vec<u32> = t.iter().skip(3).map(|t| t.1).collect();
        assert!(all.windows(2).all(|w| w[0] <= w[1]), "{all:?}");
    }

    #[test]
    fn a_fragmented_file_gives_the_same_tags() {
        const FRAG: &[u8] = include_bytes!("../tests/data/tiny-frag.mp4");
        let (progressive, fragmented) = (tags(TINY, 1000).unwrap(), tags(FRAG, 1000).unwrap());
        // The same tags (metadata aside: no duration to take a frame rate
        // from), the video at the same times. ffmpeg's fragmented muxer
        // marks the AAC priming frame differently (its first audio frame
        // comes at 0, not 72 ms; ffmpeg's demuxer reads it so too, which
        // the peer test checks), so audio times are not compared.
        assert_eq!(progressive.len(), fragmented.len());
        for (p, f) in progressive[1..].iter().zip(&fragmented[1..]) {
            assert_eq!((p.0, p.2, &p.3), (f.0, f.2, &f.3));
            if p.0 == TagType::Video {
                assert_eq!(p.1, f.1);
            }
        }
        // Looped: the second pass continues after the longest track (here
        // the audio's trun durations add up to 700 ms).
        let mut src = Mp4Source::open(Cursor::new(FRAG), "tiny-frag.mp4", true).unwrap();
        let mut video = Vec::new();
        while video.len() < 10 {
            let t = src.next_tag(&mut |_| {}).unwrap().unwrap();
            if t.kind == TagType::Video && t.role != TagRole::VideoConfig {
                video.push(t.timestamp);
            }
        }
        assert_eq!(video, [0, 100, 200, 300, 400, 700, 800, 900, 1000, 1100]);
    }

    #[test]
    fn looping_continues_after_the_longer_track() {
        let mut src = Mp4Source::open(Cursor::new(TINY), "tiny.mp4", true).unwrap();
        let mut video = Vec::new();
        while video.len() < 15 {
            let t = src.next_tag(&mut |_| {}).unwrap().unwrap();
            if t.kind == TagType::Video && t.role != TagRole::VideoConfig {
                video.push(t.timestamp);
            }
        }
        // A pass lasts as long as the longest track (so that every track's
        // timestamps keep increasing): the AAC's 5024 samples, 628 ms.
        assert_eq!(&video[..10], &[0, 100, 200, 300, 400, 628, 728, 828, 928, 1028]);
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut ok, mut refused) = (0, 0);
        const FRAG: &[u8] = include_bytes!("../tests/data/tiny-frag.mp4");
        for round in 0..3000 {
            let mut bytes = if round % 2 == 0 { TINY.to_vec() } else { FRAG.to_vec() };
            match round % 4 {
                // Bytes changed anywhere (box sizes, table entries, flags).
                0 | 1 => {
                    for _ in 0..1 + rand() % 8 {
                        let i = (rand() % bytes.len() as u64) as usize;
                        bytes[i] = rand() as u8;
                    }
                }
                // A 32-bit field set to an extreme (counts, sizes, offsets).
                2 => {
                    let i = (rand() % (bytes.len() as u64 - 4)) as usize;
                    let v = [0u32, 1, 0x7FFF_FFFF, u32::MAX, 0x10_0000][(rand() % 5) as usize];
                    bytes[i..i + 4].copy_from_slice(&v.to_be_bytes());
                }
                // Cut short.
                _ => bytes.truncate((rand() % bytes.len() as u64) as usize),
            }
            match tags(&bytes, 10_000) {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(!e.is_empty());
                    refused += 1;
                }
            }
        }
        assert!(ok > 0 && refused > 0, "{ok} read, {refused} refused");
    }
}
