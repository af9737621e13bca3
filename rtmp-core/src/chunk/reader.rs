//! Chunk reader: per-chunk-stream state in fixed capacity, messages
//! reassembled into regions of a buffer the caller lends.

use super::{DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE};
use crate::time::RtmpTimestamp;
use core::fmt;
use nom::number::streaming::{be_u16, be_u24, be_u32, be_u8, le_u32};
use nom::Parser;

/// Why the incoming chunk stream cannot be read further. Every variant is
/// fatal for the connection: the stream cannot be resynchronised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadError {
    /// A message is longer than the whole reassembly buffer.
    MessageTooLarge {
        /// The announced message length.
        length: u32,
        /// The reassembly buffer's size.
        capacity: usize,
    },
    /// Messages in progress on other chunk streams leave no room for this one.
    ReassemblyBufferFull {
        /// The announced message length.
        length: u32,
    },
    /// More chunk streams are in use at once than the reader has room for.
    TooManyChunkStreams,
    /// A fmt 1, 2 or 3 header on a chunk stream with no previous header.
    MissingPreviousHeader {
        /// The chunk stream id.
        csid: u32,
    },
    /// A new message header on a chunk stream whose message is unfinished.
    UnfinishedMessage {
        /// The chunk stream id.
        csid: u32,
    },
    /// Set Chunk Size of zero, or a malformed protocol control message.
    InvalidChunkSize(u32),
    /// Set Chunk Size above the configured maximum.
    ChunkSizeTooLarge {
        /// What the peer asked for.
        requested: u32,
        /// The configured maximum.
        max: u32,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReadError::MessageTooLarge { length, capacity } => {
                write!(f, "message of {length} bytes exceeds the {capacity}-byte receive buffer")
            }
            ReadError::ReassemblyBufferFull { length } => {
                write!(f, "no room to reassemble a {length}-byte message alongside unfinished ones")
            }
            ReadError::TooManyChunkStreams => f.write_str("peer uses too many chunk streams at once"),
            ReadError::MissingPreviousHeader { csid } => {
                write!(f, "compressed chunk header on chunk stream {csid} with no previous header")
            }
            ReadError::UnfinishedMessage { csid } => {
                write!(f, "new message on chunk stream {csid} before the previous one finished")
            }
            ReadError::InvalidChunkSize(s) => write!(f, "invalid chunk size {s}"),
            ReadError::ChunkSizeTooLarge { requested, max } => {
                write!(f, "peer chunk size {requested} exceeds the configured maximum {max}")
            }
        }
    }
}

impl core::error::Error for ReadError {}

/// Limits the reader enforces on the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReaderConfig {
    /// Largest Set Chunk Size accepted. Payload is streamed into the
    /// reassembly buffer, so a large chunk size costs no memory; the default
    /// is the specification's maximum.
    pub max_chunk_size: u32,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig { max_chunk_size: MAX_CHUNK_SIZE }
    }
}

/// A complete message, its payload borrowed from the reassembly buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Chunk stream it arrived on.
    pub csid: u32,
    /// Absolute timestamp (deltas applied).
    pub timestamp: RtmpTimestamp,
    /// Message type id.
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// The payload.
    pub payload: &'a [u8],
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("csid", &self.csid)
            .field("timestamp", &self.timestamp)
            .field("type_id", &self.type_id)
            .field("stream_id", &self.stream_id)
            .field("len", &self.payload.len())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Stream {
    csid: u32,
    timestamp: u32,
    /// The last timestamp field: absolute after fmt 0, a delta after fmt 1/2.
    /// A fmt 3 header that starts a message adds it (spec 5.3.1.2.4).
    ts_field: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Whether the last header carried an extended timestamp.
    extended: bool,
    /// Reassembly: region offset and bytes received, while `busy`.
    busy: bool,
    offset: usize,
    received: u32,
    last_used: u32,
}

/// Reads chunks and reassembles messages.
///
/// Messages on different chunk streams may interleave, as the specification
/// allows: each unfinished message gets its own region of the reassembly
/// buffer (first fit), sized by the length its header announces, so the
/// buffer must hold the largest message the peer sends plus whatever it
/// interleaves with it. Payload is streamed in, so only a chunk *header* must
/// be complete in the input; a chunk size far larger than the input buffer is
/// fine.
///
/// Set Chunk Size and Abort are applied here (and still returned to the
/// caller). Continuation chunks after an extended timestamp carry it again;
/// librtmp-derived peers omit it there, so on continuation chunks the four
/// bytes are taken as a timestamp only when they repeat the header's value
/// (as nginx-rtmp and SRS do).
pub struct ChunkReader<'b, const N: usize = 8> {
    buf: &'b mut [u8],
    streams: heapless::Vec<Stream, N>,
    chunk_size: u32,
    config: ReaderConfig,
    /// Stream index and payload bytes left in the chunk being read.
    current: Option<(usize, u32)>,
    tick: u32,
    /// The message the last `read` completed, still intact in `buf`.
    last: Option<Stream>,
}

impl<const N: usize> fmt::Debug for ChunkReader<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkReader")
            .field("chunk_size", &self.chunk_size)
            .field("buffer", &self.buf.len())
            .field("streams", &self.streams.len())
            .finish()
    }
}

/// Timestamp field, (length, type) for fmt 0/1, message stream id for fmt 0.
type HeaderFields = (u32, Option<(u32, u8)>, Option<u32>);

enum Step {
    /// Need more input.
    Wait,
    /// Consumed bytes, maybe completing the message of stream index `Some(i)`.
    Progress(usize, Option<usize>),
}

impl<'b, const N: usize> ChunkReader<'b, N> {
    /// A reader that reassembles into `buf`, at the initial chunk size of 128.
    pub fn new(buf: &'b mut [u8], config: ReaderConfig) -> Self {
        ChunkReader {
            buf,
            streams: heapless::Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            config,
            current: None,
            tick: 0,
            last: None,
        }
    }

    /// Gives the reassembly buffer back (to reuse it for another connection).
    pub fn into_buffer(self) -> &'b mut [u8] {
        self.buf
    }

    /// The peer's current chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Reads from `input` until one message is complete or the input runs out.
    /// Returns the bytes consumed (the caller keeps the rest and offers them
    /// again with more) and the message, if one completed.
    pub fn read(&mut self, input: &[u8]) -> Result<(usize, Option<Message<'_>>), ReadError> {
        self.last = None;
        let mut consumed = 0;
        loop {
            match self.step(&input[consumed..])? {
                Step::Wait => return Ok((consumed, None)),
                Step::Progress(n, done) => {
                    consumed += n;
                    if let Some(i) = done {
                        let s = self.streams[i];
                        self.apply_control(&s)?;
                        self.last = Some(s);
                        return Ok((consumed, self.last_message()));
                    }
                    if consumed == input.len() {
                        return Ok((consumed, None));
                    }
                }
            }
        }
    }

    /// The message the last [`read`](Self::read) returned, until the next
    /// `read`: lets a session hand out events that borrow it.
    pub fn last_message(&self) -> Option<Message<'_>> {
        let s = self.last?;
        Some(Message {
            csid: s.csid,
            timestamp: RtmpTimestamp(s.timestamp),
            type_id: s.type_id,
            stream_id: s.stream_id,
            payload: self.buf.get(s.offset..s.offset + s.length as usize).unwrap_or(&[]),
        })
    }

    fn apply_control(&mut self, s: &Stream) -> Result<(), ReadError> {
        // Types 1 and 2 are protocol control wherever they arrive (ffmpeg and
        // nginx-rtmp do not check the chunk or message stream either).
        let p = self.buf.get(s.offset..s.offset + s.length as usize).unwrap_or(&[]);
        let value = p.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        match (s.type_id, value) {
            (1, Some(v)) => {
                let size = v & 0x7FFF_FFFF;
                if size == 0 {
                    return Err(ReadError::InvalidChunkSize(v));
                }
                if size > self.config.max_chunk_size {
                    return Err(ReadError::ChunkSizeTooLarge { requested: size, max: self.config.max_chunk_size });
                }
                self.chunk_size = size;
            }
            (1, None) => return Err(ReadError::InvalidChunkSize(0)),
            (2, Some(csid)) => {
                if let Some(st) = self.streams.iter_mut().find(|st| st.csid == csid) {
                    st.busy = false;
                    st.received = 0;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn step(&mut self, input: &[u8]) -> Result<Step, ReadError> {
        if let Some((i, left)) = self.current {
            return Ok(self.copy_payload(i, left, input));
        }
        if input.is_empty() {
            return Ok(Step::Wait);
        }
        // Basic header.
        let Ok((rest, b0)) = be_u8::<_, ()>(input) else { return Ok(Step::Wait) };
        let fmt = b0 >> 6;
        let (rest, csid) = match b0 & 0x3F {
            0 => match be_u8::<_, ()>(rest) {
                Ok((r, b)) => (r, 64 + u32::from(b)),
                Err(_) => return Ok(Step::Wait),
            },
            1 => match be_u16::<_, ()>(rest) {
                Ok((r, v)) => (r, 64 + u32::from(v.swap_bytes())),
                Err(_) => return Ok(Step::Wait),
            },
            c => (rest, u32::from(c)),
        };
        let idx = self.stream_index(csid, fmt)?;
        let prev = self.streams[idx];
        let continuing = prev.busy;
        // Message header.
        let parsed: nom::IResult<&[u8], HeaderFields, ()> = match fmt {
            0 => (be_u24, be_u24, be_u8, le_u32)
                .parse(rest)
                .map(|(r, (ts, len, ty, sid))| (r, (ts, Some((len, ty)), Some(sid)))),
            1 => (be_u24, be_u24, be_u8).parse(rest).map(|(r, (ts, len, ty))| (r, (ts, Some((len, ty)), None))),
            2 => be_u24.parse(rest).map(|(r, ts)| (r, (ts, None, None))),
            _ => Ok((rest, (prev.ts_field, None, None))),
        };
        let Ok((mut rest, (field, len_type, sid))) = parsed else { return Ok(Step::Wait) };
        if fmt != 3 && continuing {
            return Err(ReadError::UnfinishedMessage { csid });
        }
        // Extended timestamp.
        let mut ts_value = field;
        let extended = if fmt == 3 { prev.extended } else { field == 0xFF_FFFF };
        if extended {
            match be_u32::<_, ()>(rest) {
                Ok((r, ext)) => {
                    if !continuing || ext == prev.ts_field {
                        ts_value = ext;
                        rest = r;
                    }
                }
                Err(_) => return Ok(Step::Wait),
            }
        }
        let header_len = input.len() - rest.len();
        let s = &mut self.streams[idx];
        s.last_used = self.tick;
        if !continuing {
            if fmt == 0 {
                s.timestamp = ts_value;
            } else {
                s.timestamp = s.timestamp.wrapping_add(ts_value);
            }
            s.ts_field = ts_value;
            s.extended = extended;
            if let Some((len, ty)) = len_type {
                s.length = len;
                s.type_id = ty;
            }
            if let Some(sid) = sid {
                s.stream_id = sid;
            }
            s.received = 0;
            let length = s.length;
            if length == 0 {
                return Ok(Step::Progress(header_len, Some(idx)));
            }
            let offset = self.allocate(idx, length)?;
            let s = &mut self.streams[idx];
            s.offset = offset;
            s.busy = true;
        }
        let s = self.streams[idx];
        let left = (s.length - s.received).min(self.chunk_size);
        self.current = Some((idx, left));
        match self.copy_payload(idx, left, rest) {
            Step::Progress(n, done) => Ok(Step::Progress(header_len + n, done)),
            Step::Wait => Ok(Step::Progress(header_len, None)),
        }
    }

    fn copy_payload(&mut self, i: usize, left: u32, input: &[u8]) -> Step {
        let n = (left as usize).min(input.len());
        if n == 0 && left > 0 {
            return Step::Wait;
        }
        let s = &mut self.streams[i];
        let at = s.offset + s.received as usize;
        if let Some(dst) = self.buf.get_mut(at..at + n) {
            dst.copy_from_slice(&input[..n]);
        }
        s.received += n as u32;
        let left = left - n as u32;
        self.current = if left == 0 { None } else { Some((i, left)) };
        if s.received == s.length {
            s.busy = false;
            self.current = None;
            return Step::Progress(n, Some(i));
        }
        Step::Progress(n, None)
    }

    /// Finds or makes the state slot for `csid`.
    fn stream_index(&mut self, csid: u32, fmt: u8) -> Result<usize, ReadError> {
        self.tick = self.tick.wrapping_add(1);
        if let Some(i) = self.streams.iter().position(|s| s.csid == csid) {
            return Ok(i);
        }
        if fmt != 0 {
            return Err(ReadError::MissingPreviousHeader { csid });
        }
        let fresh = Stream { csid, last_used: self.tick, ..Stream::default() };
        match self.streams.push(fresh) {
            Ok(()) => Ok(self.streams.len() - 1),
            Err(fresh) => {
                // Forget the least recently used idle stream.
                let tick = self.tick;
                let victim = self
                    .streams
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| !s.busy)
                    .max_by_key(|(_, s)| tick.wrapping_sub(s.last_used))
                    .map(|(i, _)| i)
                    .ok_or(ReadError::TooManyChunkStreams)?;
                self.streams[victim] = fresh;
                Ok(victim)
            }
        }
    }

    /// First-fit region of `length` bytes not overlapping unfinished messages.
    fn allocate(&self, me: usize, length: u32) -> Result<usize, ReadError> {
        let len = length as usize;
        if len > self.buf.len() {
            return Err(ReadError::MessageTooLarge { length, capacity: self.buf.len() });
        }
        let busy = || self.streams.iter().enumerate().filter(move |(i, s)| s.busy && *i != me).map(|(_, s)| s);
        let fits = |start: usize| {
            start + len <= self.buf.len()
                && busy().all(|s| start + len <= s.offset || s.offset + s.length as usize <= start)
        };
        core::iter::once(0)
            .chain(busy().map(|s| s.offset + s.length as usize))
            .filter(|&c| fits(c))
            .min()
            .ok_or(ReadError::ReassemblyBufferFull { length })
    }
}
