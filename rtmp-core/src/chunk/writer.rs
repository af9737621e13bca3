//! Chunk writer: headers only, payload by reference.

use super::{MessageHeader, MAX_CHUNK_SIZE, MAX_CSID, MAX_HEADER_LEN, MAX_MESSAGE_LEN, MIN_CSID};
use core::fmt;

/// Why a message could not be chunked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// The chunk stream id is outside 2..=65599.
    InvalidChunkStreamId(u32),
    /// The payload is longer than the 24-bit length field (16 MiB - 1).
    MessageTooLong(usize),
    /// The chunk size is 0 or above 2^31 - 1.
    InvalidChunkSize(u32),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::InvalidChunkStreamId(c) => write!(f, "chunk stream id {c} outside 2..=65599"),
            WriteError::MessageTooLong(n) => write!(f, "message of {n} bytes exceeds the 16 MiB RTMP limit"),
            WriteError::InvalidChunkSize(s) => write!(f, "chunk size {s} outside 1..=2147483647"),
        }
    }
}

impl core::error::Error for WriteError {}

#[derive(Clone, Copy, Debug)]
struct Previous {
    csid: u32,
    stream_id: u32,
    length: u32,
    type_id: u8,
    timestamp: u32,
    /// The delta sent in the last fmt 1/2/3 header, `None` after fmt 0.
    delta: Option<u32>,
    last_used: u32,
}

/// Chooses chunk headers for outgoing messages, remembering the previous
/// header of up to `N` chunk streams (the least recently used is forgotten
/// beyond that, costing only a larger header later).
///
/// The fmt chosen is the most compressed one that every reader decodes the
/// same way: fmt 0 on a new stream id or when time goes backwards, fmt 1 when
/// length or type change, fmt 2 when only the delta changes, fmt 3 when the
/// delta repeats a previous fmt 1/2 delta. (A fmt 3 message directly after a
/// fmt 0 is avoided: ffmpeg and nginx-rtmp disagree on its timestamp.)
/// Extended timestamps are repeated on continuation chunks, as the
/// specification, ffmpeg and nginx-rtmp expect.
///
/// Every [`ChunkedMessage`] returned must be sent completely and in order,
/// since the next header is compressed against it.
#[derive(Clone, Debug)]
pub struct ChunkWriter<const N: usize = 8> {
    chunk_size: u32,
    streams: heapless::Vec<Previous, N>,
    tick: u32,
}

impl<const N: usize> Default for ChunkWriter<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ChunkWriter<N> {
    /// A writer at the initial chunk size of 128.
    pub const fn new() -> Self {
        ChunkWriter { chunk_size: super::DEFAULT_CHUNK_SIZE, streams: heapless::Vec::new(), tick: 0 }
    }

    /// The current outgoing chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Changes the chunk size for the following messages. Send the Set Chunk
    /// Size message (at the old size) before any message chunked at the new one.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), WriteError> {
        if size == 0 || size > MAX_CHUNK_SIZE {
            return Err(WriteError::InvalidChunkSize(size));
        }
        self.chunk_size = size;
        Ok(())
    }

    /// Forgets all previous headers, so the next message on each chunk stream
    /// goes out with a full header.
    pub fn reset(&mut self) {
        self.streams.clear();
    }

    /// Chunks a message whose payload is the concatenation of `parts`.
    /// Nothing is copied: the result refers to `parts` and holds up to 25 bytes
    /// of headers of its own.
    #[inline]
    pub fn write<'p>(&mut self, h: MessageHeader, parts: &'p [&'p [u8]]) -> Result<ChunkedMessage<'p>, WriteError> {
        if !(MIN_CSID..=MAX_CSID).contains(&h.csid) {
            return Err(WriteError::InvalidChunkStreamId(h.csid));
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let length =
            u32::try_from(len).ok().filter(|&l| l <= MAX_MESSAGE_LEN).ok_or(WriteError::MessageTooLong(len))?;
        self.tick = self.tick.wrapping_add(1);
        let ts = h.timestamp.value();
        let prev = self.streams.iter().position(|p| p.csid == h.csid);

        let (fmt, field, delta) = match prev.map(|i| self.streams[i]) {
            Some(p)
                if p.stream_id == h.stream_id
                    && h.timestamp.delta_since(crate::time::RtmpTimestamp(p.timestamp)) >= 0 =>
            {
                let d = ts.wrapping_sub(p.timestamp);
                if p.length != length || p.type_id != h.type_id {
                    (1, d, Some(d))
                } else if p.delta == Some(d) {
                    (3, d, Some(d))
                } else {
                    (2, d, Some(d))
                }
            }
            _ => (0, ts, None),
        };
        let extended = field >= 0xFF_FFFF;

        let entry = Previous {
            csid: h.csid,
            stream_id: h.stream_id,
            length,
            type_id: h.type_id,
            timestamp: ts,
            delta,
            last_used: self.tick,
        };
        match prev {
            Some(i) => self.streams[i] = entry,
            None => {
                if let Err(entry) = self.streams.push(entry) {
                    let tick = self.tick;
                    if let Some(oldest) = self.streams.iter_mut().max_by_key(|p| tick.wrapping_sub(p.last_used)) {
                        *oldest = entry;
                    }
                }
            }
        }

        // The headers are assembled in registers and stored whole: written
        // byte by byte and then copied out, the copy stalls on the byte
        // stores (store forwarding), which was a third of this function.
        let basic = |fmt: u8| {
            let fmt = u32::from(fmt) << 6;
            match h.csid {
                0..=63 => (fmt | h.csid, 1),
                64..=319 => (fmt | (h.csid - 64) << 8, 2),
                _ => (fmt | 1 | (h.csid - 64) << 8, 3),
            }
        };
        let mut first = HeaderBytes::default();
        let (b, w) = basic(fmt);
        first.put(b, w);
        if fmt <= 2 {
            first.put(be24(if extended { 0xFF_FFFF } else { field }), 3);
        }
        if fmt <= 1 {
            first.put(be24(length), 3);
            first.put(u32::from(h.type_id), 1);
        }
        if fmt == 0 {
            first.put(h.stream_id, 4);
        }
        let mut cont = HeaderBytes::default();
        let (b, w) = basic(3);
        cont.put(b, w);
        if extended {
            first.put(field.swap_bytes(), 4);
            cont.put(field.swap_bytes(), 4);
        }
        let chunk = self.chunk_size as usize;
        // Chunk sizes are powers of two in practice (4096 from us and OBS,
        // 128 by default), and a divide costs tens of cycles, per
        // message, on a C906 as on x86; otherwise (SRS's 60000) a 32-bit
        // divide (`length` has 24 bits).
        let chunks = if length <= self.chunk_size {
            1
        } else if self.chunk_size.is_power_of_two() {
            (((length - 1) >> self.chunk_size.trailing_zeros()) + 1) as usize
        } else {
            length.div_ceil(self.chunk_size) as usize
        };
        let (n, cn) = (first.len as usize, cont.len as usize);
        Ok(ChunkedMessage {
            head: Headers::new(&first, &cont),
            parts,
            len,
            chunk,
            total: n + len + (chunks - 1) * cn,
            pos: 0,
        })
    }
}

/// A 24-bit big-endian field as [`HeaderBytes::put`] takes it (wire byte
/// order in the low three bytes, first byte lowest).
fn be24(v: u32) -> u32 {
    (v & 0xFF_FFFF).swap_bytes() >> 8
}

/// Chunk header bytes assembled in two integers, wire order from the
/// lowest byte up, so they reach memory in one 16-byte and one 2-byte store.
#[derive(Clone, Copy, Default)]
struct HeaderBytes {
    lo: u128,
    hi: u16,
    len: u8,
}

impl HeaderBytes {
    /// Appends the low `width` (1 to 4) bytes of `v`, lowest first. Bytes
    /// past [`MAX_HEADER_LEN`] are dropped (no header is that long).
    #[inline(always)]
    fn put(&mut self, v: u32, width: u8) {
        let v = u64::from(v) & ((1u64 << (8 * u32::from(width))) - 1);
        let at = u32::from(self.len) * 8;
        self.lo |= u128::from(v).checked_shl(at).unwrap_or(0);
        // The part past byte 16: shifted right when the field straddles it.
        let high = if at <= 128 { v.checked_shr(128 - at) } else { v.checked_shl(at - 128) };
        self.hi |= high.unwrap_or(0) as u16;
        self.len = self.len.saturating_add(width);
    }
}

/// The first and the continuation chunk header of a message, with their
/// lengths, in one 32-byte array (written as two 16-byte stores, and one
/// field to carry through `detach` and `attach`).
#[derive(Clone, Copy)]
struct Headers([u8; 32]);

impl Headers {
    /// Where the first header's length is kept (after its 18 bytes).
    const FIRST_LEN: usize = MAX_HEADER_LEN;
    /// Where the continuation header's length is kept.
    const CONT_LEN: usize = MAX_HEADER_LEN + 1;
    /// Where the continuation header (at most 3 + 4 bytes) starts.
    const CONT: usize = MAX_HEADER_LEN + 2;

    #[inline(always)]
    fn new(first: &HeaderBytes, cont: &HeaderBytes) -> Self {
        let upper = u128::from(first.hi)
            | u128::from(first.len) << 16
            | u128::from(cont.len) << 24
            | (cont.lo & ((1 << 56) - 1)) << 32;
        let mut out = [0u8; 32];
        let (a, b) = out.split_at_mut(16);
        a.copy_from_slice(&first.lo.to_le_bytes());
        b.copy_from_slice(&upper.to_le_bytes());
        Headers(out)
    }

    fn first(&self) -> &[u8] {
        &self.0[..usize::from(self.0[Self::FIRST_LEN]).min(MAX_HEADER_LEN)]
    }

    fn cont(&self) -> &[u8] {
        &self.0[Self::CONT..Self::CONT + usize::from(self.0[Self::CONT_LEN]).min(7)]
    }
}

/// One chunked message, ready to send: its first header, then payload and
/// continuation headers in turn. It is a cursor: [`fill_with`](Self::fill_with)
/// lists the slices still to send (for `write_vectored`), [`advance`](Self::advance)
/// records how many bytes went out, so a partial write resumes where it stopped.
#[derive(Clone)]
pub struct ChunkedMessage<'p> {
    head: Headers,
    parts: &'p [&'p [u8]],
    len: usize,
    chunk: usize,
    total: usize,
    pos: usize,
}

impl fmt::Debug for ChunkedMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedMessage")
            .field("header", &self.head.first())
            .field("payload_len", &self.len)
            .field("sent", &self.pos)
            .field("total", &self.total)
            .finish()
    }
}

impl<'p> ChunkedMessage<'p> {
    /// Bytes on the wire in all: headers plus payload.
    pub fn wire_len(&self) -> usize {
        self.total
    }
    /// Bytes not yet reported sent.
    pub fn remaining(&self) -> usize {
        self.total - self.pos
    }
    /// Whether everything has been sent.
    pub fn is_done(&self) -> bool {
        self.pos == self.total
    }
    /// The first chunk's header.
    pub fn header(&self) -> &[u8] {
        self.head.first()
    }
    /// Records that `n` more bytes were sent (clamped to what remains).
    pub fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.total);
    }

    /// The slices still to send, in order: header bytes from `self`, payload
    /// slices from the caller's parts. A driver fills its `IoSlice` array with
    /// [`fill_with`](Self::fill_with) (faster than this iterator for messages
    /// of many chunks), up to the platform's `IOV_MAX` per call, writes, and
    /// reports the bytes written with [`advance`](Self::advance).
    pub fn slices(&self) -> Slices<'_> {
        let (first, cont) = (self.head.first(), self.head.cont());
        let chunk = self.chunk;
        if self.pos == 0 {
            // Nothing sent yet, the common case: no position to locate.
            let mut rest = self.parts.iter();
            return Slices {
                cont,
                header: first,
                cur: rest.next().copied().unwrap_or_default(),
                rest,
                chunk_left: self.len.min(chunk),
                payload_left: self.len,
                chunk,
            };
        }
        // Locate the chunk holding `pos`, and the offset inside it.
        let first_span = first.len() + self.len.min(chunk);
        let (k, off, hdr) = if self.pos < first_span {
            (0, self.pos, first)
        } else {
            // Below 2^25 (a 24-bit payload plus headers), so 32-bit division is exact.
            let rel = (self.pos - first_span) as u32;
            let span = (cont.len() + chunk).min(u32::MAX as usize) as u32;
            (1 + (rel / span) as usize, (rel % span) as usize, cont)
        };
        let (header, in_chunk) = if off < hdr.len() { (&hdr[off..], 0) } else { (&hdr[..0], off - hdr.len()) };
        let done = (k * chunk + in_chunk).min(self.len);
        let chunk_left = self.len.saturating_sub(k * chunk).min(chunk) - in_chunk.min(chunk);
        // Find the part holding payload byte `done`.
        let mut rest = self.parts.iter();
        let mut cur: &[u8] = &[];
        let mut skip = done;
        for p in rest.by_ref() {
            if skip < p.len() {
                cur = &p[skip..];
                break;
            }
            skip -= p.len();
        }
        Slices {
            cont,
            header: if self.pos >= self.total { &[] } else { header },
            cur,
            rest,
            chunk_left,
            payload_left: self.len - done,
            chunk,
        }
    }

    /// Lets go of the payload, keeping headers and progress (see [`DetachedMessage`]).
    pub fn detach(&self) -> DetachedMessage {
        DetachedMessage { head: self.head, len: self.len, chunk: self.chunk, total: self.total, pos: self.pos }
    }

    /// Fills `out` with the next slices to send (see [`slices`](Self::slices))
    /// and returns how many it filled.
    pub fn fill<'s>(&'s self, out: &mut [&'s [u8]]) -> usize {
        self.fill_with(out, |s| s)
    }

    /// Fills `out[..n]` with the next slices to send, each converted by
    /// `make` (to `IoSlice`, say), in order, and returns `n`: exactly the
    /// slots `out[..n]` are written, each once, and none after them (drivers
    /// may rely on this to fill an uninitialised array). Whole chunks
    /// inside one payload part (the steady state of a large frame) go out as
    /// (continuation header, payload) pairs in a tight loop, so this is
    /// cheaper per slice than [`slices`](Self::slices).
    pub fn fill_with<'s, T>(&'s self, out: &mut [T], make: impl FnMut(&'s [u8]) -> T) -> usize {
        self.slices().fill_with(out, make)
    }
}

/// A [`ChunkedMessage`] without its payload: the chunk headers and how far
/// sending got. A server keeps one per player while the frame it belongs to
/// waits in a shared buffer, and [`attach`](Self::attach)es it to the same
/// payload again to resume, with no copy and no second `write` (which would
/// change the writer's header compression state).
#[derive(Clone, Copy)]
pub struct DetachedMessage {
    head: Headers,
    len: usize,
    chunk: usize,
    total: usize,
    pos: usize,
}

impl fmt::Debug for DetachedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DetachedMessage")
            .field("payload_len", &self.len)
            .field("sent", &self.pos)
            .field("total", &self.total)
            .finish()
    }
}

impl DetachedMessage {
    /// Bytes not yet reported sent.
    pub fn remaining(&self) -> usize {
        self.total - self.pos
    }

    /// Puts the payload back. `parts` must hold the bytes the message was
    /// written from (their total length is checked: `None` if it differs).
    pub fn attach<'p>(self, parts: &'p [&'p [u8]]) -> Option<ChunkedMessage<'p>> {
        let len = parts.iter().try_fold(0usize, |n, p| n.checked_add(p.len()))?;
        (len == self.len).then_some(ChunkedMessage {
            head: self.head,
            parts,
            len: self.len,
            chunk: self.chunk,
            total: self.total,
            pos: self.pos,
        })
    }
}

/// Iterator over the slices of a [`ChunkedMessage`] still to send.
#[derive(Clone, Debug)]
pub struct Slices<'s> {
    /// The continuation header (never empty: a basic header is 1 to 3 bytes).
    cont: &'s [u8],
    /// Header bytes to emit before the current chunk's payload.
    header: &'s [u8],
    /// What is left of the current payload part.
    cur: &'s [u8],
    /// The parts after it.
    rest: core::slice::Iter<'s, &'s [u8]>,
    /// Payload bytes left in the current chunk.
    chunk_left: usize,
    /// Payload bytes left in the whole message, current chunk included.
    payload_left: usize,
    chunk: usize,
}

impl<'s> Slices<'s> {
    /// Fills `out[..n]` with the next slices, converted by `make`, and returns
    /// `n` (see [`ChunkedMessage::fill_with`]).
    pub fn fill_with<T>(&mut self, out: &mut [T], mut make: impl FnMut(&'s [u8]) -> T) -> usize {
        let chunk = self.chunk;
        let mut n = 0;
        while n < out.len() {
            if self.header.is_empty() && self.chunk_left == 0 && chunk > 0 {
                // At a chunk boundary: whole chunks inside the current part
                // go out as (continuation header, payload) pairs. Compares,
                // not a division: most frames are a few chunks.
                for pair in out[n..].chunks_exact_mut(2) {
                    if self.payload_left < chunk {
                        break;
                    }
                    let Some((payload, rest)) = self.cur.split_at_checked(chunk) else { break };
                    pair[0] = make(self.cont);
                    pair[1] = make(payload);
                    self.cur = rest;
                    self.payload_left -= chunk;
                    n += 2;
                }
                if n == out.len() {
                    break;
                }
            }
            match self.next() {
                Some(s) => {
                    out[n] = make(s);
                    n += 1;
                }
                None => break,
            }
        }
        n
    }
}

impl<'s> Iterator for Slices<'s> {
    type Item = &'s [u8];

    #[inline]
    fn next(&mut self) -> Option<&'s [u8]> {
        if !self.header.is_empty() {
            return Some(core::mem::take(&mut self.header));
        }
        if self.chunk_left == 0 {
            if self.payload_left == 0 {
                return None;
            }
            self.chunk_left = self.chunk.min(self.payload_left);
            return Some(self.cont);
        }
        while self.cur.is_empty() {
            self.cur = self.rest.next()?;
        }
        let take = self.cur.len().min(self.chunk_left);
        let (slice, rest) = self.cur.split_at(take);
        self.cur = rest;
        self.chunk_left -= take;
        self.payload_left -= take;
        Some(slice)
    }
}

#[cfg(test)]
mod tests {
    use super::super::MessageHeader;
    use super::*;
    use crate::time::RtmpTimestamp;
    extern crate std;
    use std::vec::Vec;

    fn h(csid: u32, ts: u32, type_id: u8, stream_id: u32) -> MessageHeader {
        MessageHeader { csid, timestamp: RtmpTimestamp(ts), type_id, stream_id }
    }

    #[test]
    fn detached_message_resumes_on_the_same_payload() {
        let payload = [7u8; 300];
        let parts: [&[u8]; 1] = [&payload];
        let mut w = ChunkWriter::<4>::new();
        let whole = collect(&w.clone().write(h(6, 40, 9, 1), &parts).unwrap(), 3);
        let mut m = w.write(h(6, 40, 9, 1), &parts).unwrap();
        m.advance(130);
        let d = m.detach();
        assert_eq!(d.remaining(), whole.len() - 130);
        let short: [&[u8]; 1] = [&payload[..299]];
        assert!(d.attach(&short).is_none());
        let copy = payload;
        let again: [&[u8]; 2] = [&copy[..100], &copy[100..]];
        let resumed = d.attach(&again).unwrap();
        assert_eq!(collect(&resumed, 3), whole[130..]);
        assert_eq!(resumed.slices().find(|s| s.len() > 20).map(|s| s.as_ptr()), Some(copy[128..].as_ptr()));
    }

    fn collect(m: &ChunkedMessage<'_>, max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut m = m.clone();
        while !m.is_done() {
            let mut sl: [&[u8]; 3] = [&[]; 3];
            let n = m.fill(&mut sl[..max.min(3)]);
            assert!(n > 0);
            // Pretend the socket took at most 5 bytes of the first slice.
            let take = sl[0].len().min(5);
            out.extend_from_slice(&sl[0][..take]);
            m.advance(take);
        }
        out
    }

    #[test]
    fn fill_with_matches_the_slice_iterator_at_every_position() {
        let payload: Vec<u8> = (0..700u32).map(|i| i as u8).collect();
        for chunk in [1u32, 7, 64, 128, 700, 4096] {
            for splits in [&[][..], &[1][..], &[64, 65][..], &[300, 300][..], &[128, 256, 699][..]] {
                let mut parts: Vec<&[u8]> = Vec::new();
                let mut at = 0;
                for &s in splits {
                    parts.push(&payload[at..s]);
                    at = s;
                }
                parts.push(&payload[at..]);
                for ts in [40u32, 0x0100_0000] {
                    let mut w = ChunkWriter::<4>::new();
                    w.set_chunk_size(chunk).unwrap();
                    let mut m = w.write(h(6, ts, 9, 1), &parts).unwrap();
                    let total = m.wire_len();
                    for pos in (0..=total).step_by(37).chain([total - 1, total]) {
                        m.pos = 0;
                        m.advance(pos);
                        let expected: Vec<&[u8]> = m.slices().collect();
                        for cap in [1usize, 2, 3, 64, 2000] {
                            let mut out: Vec<&[u8]> = std::vec![&[][..]; cap];
                            let n = m.fill(&mut out);
                            assert_eq!(n, expected.len().min(cap), "chunk {chunk} pos {pos} cap {cap}");
                            for (a, b) in out[..n].iter().zip(&expected) {
                                assert_eq!((a.as_ptr(), a.len()), (b.as_ptr(), b.len()), "chunk {chunk} pos {pos}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn fmt_choice_and_spec_example() {
        // RTMP spec 5.3.2.1 example: audio on csid 3, same length and type, 20 ms apart.
        let mut w = ChunkWriter::<4>::new();
        let p = [0u8; 32];
        let parts = [&p[..]];
        let m = w.write(h(3, 1000, 8, 12345), &parts).unwrap();
        assert_eq!(m.header(), &[0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0x00, 0x00]);
        let m = w.write(h(3, 1020, 8, 12345), &parts).unwrap();
        assert_eq!(m.header(), &[0x83, 0x00, 0x00, 0x14]);
        let m = w.write(h(3, 1040, 8, 12345), &parts).unwrap();
        assert_eq!(m.header(), &[0xC3]);
        let m = w.write(h(3, 1060, 8, 12345), &parts[..0]).unwrap();
        assert_eq!(m.header(), &[0x43, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x08]);
        // Going back in time, or another stream id, needs fmt 0.
        assert_eq!(w.write(h(3, 10, 8, 12345), &parts).unwrap().header()[0] >> 6, 0);
        assert_eq!(w.write(h(3, 20, 8, 1), &parts).unwrap().header()[0] >> 6, 0);
    }

    #[test]
    fn basic_header_forms() {
        let mut w = ChunkWriter::<4>::new();
        assert_eq!(w.write(h(64, 0, 9, 1), &[]).unwrap().header()[..2], [0x00, 0x00]);
        assert_eq!(w.write(h(319, 0, 9, 1), &[]).unwrap().header()[..2], [0x00, 0xFF]);
        assert_eq!(w.write(h(320, 0, 9, 1), &[]).unwrap().header()[..3], [0x01, 0x00, 0x01]);
        assert_eq!(w.write(h(65599, 0, 9, 1), &[]).unwrap().header()[..3], [0x01, 0xFF, 0xFF]);
        assert_eq!(w.write(h(1, 0, 9, 1), &[]).unwrap_err(), WriteError::InvalidChunkStreamId(1));
        assert_eq!(w.write(h(65600, 0, 9, 1), &[]).unwrap_err(), WriteError::InvalidChunkStreamId(65600));
    }

    #[test]
    fn longest_header_three_byte_csid_and_extended_timestamp() {
        let p = [0u8; 200];
        let parts = [&p[..]];
        let mut w = ChunkWriter::<4>::new();
        let m = w.write(h(65599, 0x0123_4567, 9, 0x0A0B_0C0D), &parts).unwrap();
        assert_eq!(
            m.header(),
            &[
                0x01, 0xFF, 0xFF, // fmt 0, csid 65599
                0xFF, 0xFF, 0xFF, // timestamp: extended
                0x00, 0x00, 0xC8, 0x09, // length 200, video
                0x0D, 0x0C, 0x0B, 0x0A, // stream id, little-endian
                0x01, 0x23, 0x45, 0x67, // extended timestamp
            ]
        );
        let cont: Vec<&[u8]> = m.slices().collect();
        assert_eq!(cont[2], &[0xC1, 0xFF, 0xFF, 0x01, 0x23, 0x45, 0x67]);
        assert_eq!(m.wire_len(), 18 + 200 + 7);
    }

    #[test]
    fn payload_is_borrowed_across_parts_and_chunks() {
        let a: Vec<u8> = (0..100u8).collect();
        let b: Vec<u8> = (100..250u8).collect();
        let parts = [&a[..], &b[..]];
        let mut w = ChunkWriter::<4>::new();
        w.set_chunk_size(64).unwrap();
        let m = w.write(h(6, 0x0100_0000, 9, 1), &parts).unwrap();
        // Extended timestamp: 12 + 4 header, continuation 1 + 4, 4 chunks.
        assert_eq!(m.wire_len(), 16 + 250 + 3 * 5);
        let mut sl: [&[u8]; 16] = [&[]; 16];
        let n = m.fill(&mut sl);
        let ptrs: Vec<(usize, usize)> = sl[..n].iter().map(|s| (s.as_ptr() as usize, s.len())).collect();
        assert_eq!(ptrs[1], (a.as_ptr() as usize, 64));
        assert_eq!(ptrs[2].1, 5); // continuation header with extended timestamp
        assert_eq!(&sl[2][1..], &0x0100_0000u32.to_be_bytes());
        assert_eq!(ptrs[3], (a.as_ptr() as usize + 64, 36)); // rest of part a
        assert_eq!(ptrs[4], (b.as_ptr() as usize, 28)); // then part b
        let bytes = collect(&m, 3);
        assert_eq!(bytes.len(), m.wire_len());
        let payload: Vec<u8> = bytes[16..16 + 64]
            .iter()
            .chain(&bytes[16 + 64 + 5..16 + 128 + 5])
            .chain(&bytes[16 + 128 + 10..16 + 192 + 10])
            .chain(&bytes[16 + 192 + 15..])
            .copied()
            .collect();
        assert_eq!(payload, (0..250u8).collect::<Vec<_>>());
    }
}
