//! Writer and reader against each other.

extern crate std;
use super::*;
use crate::time::RtmpTimestamp;
use std::vec::Vec;

/// xorshift, deterministic, for test data only.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn serialize(m: &ChunkedMessage<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut m = m.clone();
    while !m.is_done() {
        let mut slices: [&[u8]; 64] = [&[]; 64];
        let n = m.fill(&mut slices);
        let mut sent = 0;
        for s in &slices[..n] {
            out.extend_from_slice(s);
            sent += s.len();
        }
        m.advance(sent);
    }
    out
}

#[test]
fn random_messages_roundtrip_at_any_split() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..40 {
        let mut w = ChunkWriter::<4>::new();
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        let mut ts = [0u32; 6];
        let chunk_size = [1u32, 7, 128, 4096, 60_000][round % 5];
        // Announce the chunk size in-band, as a session would.
        let cs = chunk_size.to_be_bytes();
        let parts = [&cs[..]];
        let hdr = MessageHeader { csid: 2, timestamp: RtmpTimestamp(0), type_id: 1, stream_id: 0 };
        wire.extend(serialize(&w.write(hdr, &parts).unwrap()));
        w.set_chunk_size(chunk_size).unwrap();
        for _ in 0..30 {
            let csid = [3u32, 4, 6, 70, 400, 65599][rng.below(6) as usize];
            let slot = [3u32, 4, 6, 70, 400, 65599].iter().position(|&c| c == csid).unwrap();
            ts[slot] = match rng.below(5) {
                0 => ts[slot].wrapping_add(0x0100_0000), // extended delta
                1 => u32::MAX - rng.below(50) as u32,    // near the wrap
                _ => ts[slot].wrapping_add(rng.below(100) as u32),
            };
            let len = [0usize, 1, 5, 300, 9000][rng.below(5) as usize];
            let payload: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let type_id = [8u8, 9, 18, 20][rng.below(4) as usize];
            let stream_id = rng.below(2) as u32;
            let h = MessageHeader { csid, timestamp: RtmpTimestamp(ts[slot]), type_id, stream_id };
            let parts = [&payload[..]];
            wire.extend(serialize(&w.write(h, &parts).unwrap()));
            sent.push((h, payload));
        }
        // Feed in random-sized pieces, keeping unconsumed bytes as a caller would.
        let mut buf = std::vec![0u8; 10_000];
        let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
        let mut got = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut at = 0;
        while at < wire.len() || !pending.is_empty() {
            let take = (rng.below(40) as usize + 1).min(wire.len() - at);
            pending.extend_from_slice(&wire[at..at + take]);
            at += take;
            loop {
                let (n, msg) = r.read(&pending).unwrap();
                let msg = msg.map(|m| (m.csid, m.timestamp, m.type_id, m.stream_id, m.payload.to_vec()));
                pending.drain(..n);
                match msg {
                    Some(m) => got.push(m),
                    None => break,
                }
            }
            if take == 0 && !pending.is_empty() {
                panic!("reader stalled with {} bytes", pending.len());
            }
        }
        assert_eq!(got.len(), sent.len() + 1, "round {round}");
        assert_eq!(r.chunk_size(), chunk_size);
        for (g, (h, p)) in got[1..].iter().zip(&sent) {
            assert_eq!(g, &(h.csid, h.timestamp, h.type_id, h.stream_id, p.clone()), "round {round}");
        }
    }
}

#[test]
fn interleaved_messages_reassemble() {
    let mut w = ChunkWriter::<4>::new();
    let video = std::vec![9u8; 300];
    let audio = std::vec![8u8; 30];
    let vparts = [&video[..]];
    let aparts = [&audio[..]];
    let v = serialize(
        &w.write(MessageHeader { csid: 6, timestamp: RtmpTimestamp(5), type_id: 9, stream_id: 1 }, &vparts).unwrap(),
    );
    let a = serialize(
        &w.write(MessageHeader { csid: 4, timestamp: RtmpTimestamp(7), type_id: 8, stream_id: 1 }, &aparts).unwrap(),
    );
    // video chunk 1, audio message, video chunks 2 and 3
    let first = 12 + 128;
    let mut wire = v[..first].to_vec();
    wire.extend_from_slice(&a);
    wire.extend_from_slice(&v[first..]);
    let mut buf = [0u8; 330];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    let (n, m) = r.read(&wire).unwrap();
    let m = m.unwrap();
    assert_eq!((m.type_id, m.payload), (8, &audio[..]));
    let (n2, m) = r.read(&wire[n..]).unwrap();
    let m = m.unwrap();
    assert_eq!((m.type_id, m.timestamp, m.payload), (9, RtmpTimestamp(5), &video[..]));
    assert_eq!(n + n2, wire.len());
}

#[test]
fn limits_are_typed_errors() {
    let mut w = ChunkWriter::<4>::new();
    let big = std::vec![0u8; 500];
    let parts = [&big[..]];
    let wire = serialize(
        &w.write(MessageHeader { csid: 3, timestamp: RtmpTimestamp(0), type_id: 9, stream_id: 1 }, &parts).unwrap(),
    );
    let mut buf = [0u8; 100];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    assert_eq!(r.read(&wire).unwrap_err(), ReadError::MessageTooLarge { length: 500, capacity: 100 });

    // fmt 1 on an unknown chunk stream.
    let mut buf = [0u8; 100];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    assert_eq!(r.read(&[0x45, 0, 0, 0, 0, 0, 1, 9]).unwrap_err(), ReadError::MissingPreviousHeader { csid: 5 });

    // Set Chunk Size above the configured maximum, and zero.
    let mut buf = [0u8; 100];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig { max_chunk_size: 65536 });
    let scs = |v: u32| {
        let mut m = std::vec![0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0];
        m.extend_from_slice(&v.to_be_bytes());
        m
    };
    assert_eq!(r.read(&scs(1 << 20)).unwrap_err(), ReadError::ChunkSizeTooLarge { requested: 1 << 20, max: 65536 });
    let mut buf = [0u8; 100];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    assert_eq!(r.read(&scs(0)).unwrap_err(), ReadError::InvalidChunkSize(0));

    // Too many unfinished messages on distinct chunk streams (chunk size 1,
    // so each header is followed by a single payload byte).
    let mut buf = [0u8; 1000];
    let mut r = ChunkReader::<2>::new(&mut buf, ReaderConfig::default());
    assert!(r.read(&scs(1)).unwrap().1.is_some());
    for csid in 3..5u8 {
        let hdr = [csid, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0, 0xAA];
        assert_eq!(r.read(&hdr).unwrap().0, hdr.len());
    }
    assert_eq!(r.read(&[5, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0]).unwrap_err(), ReadError::TooManyChunkStreams);
}

#[test]
fn abort_discards_the_partial_message() {
    let mut buf = [0u8; 1000];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    // 200-byte message on csid 3, first 128-byte chunk only.
    let mut wire = std::vec![3u8, 0, 0, 0, 0, 0, 200, 9, 1, 0, 0, 0];
    wire.extend_from_slice(&[0xAB; 128]);
    // Abort csid 3.
    wire.extend_from_slice(&[2, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 3]);
    // A new message on csid 3 with a full header is accepted.
    wire.extend_from_slice(&[3, 0, 0, 9, 0, 0, 1, 8, 1, 0, 0, 0, 0x55]);
    let (n, m) = r.read(&wire).unwrap();
    assert_eq!(m.unwrap().type_id, 2);
    let (_, m) = r.read(&wire[n..]).unwrap();
    let m = m.unwrap();
    assert_eq!((m.type_id, m.timestamp, m.payload), (8, RtmpTimestamp(9), &[0x55u8][..]));
}

#[test]
fn librtmp_style_continuation_without_extended_timestamp() {
    // fmt 0 with an extended timestamp, then a continuation chunk that omits
    // it. The reader decides once four bytes follow the continuation header,
    // so a following message is needed (in a live stream one always comes).
    let mut wire = std::vec![4u8, 0xFF, 0xFF, 0xFF, 0, 0, 130, 9, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00];
    wire.extend_from_slice(&[0x11; 128]);
    wire.push(0xC4);
    wire.extend_from_slice(&[0x22, 0x33]);
    let end = wire.len();
    wire.extend_from_slice(&[0x05, 0, 0, 0, 0, 0, 0, 8, 1, 0, 0, 0]);
    let mut buf = [0u8; 200];
    let mut r = ChunkReader::<4>::new(&mut buf, ReaderConfig::default());
    let (n, m) = r.read(&wire).unwrap();
    let m = m.unwrap();
    assert_eq!(n, end);
    assert_eq!(m.timestamp, RtmpTimestamp(0x0100_0000));
    assert_eq!(&m.payload[128..], &[0x22, 0x33]);
}
