//! Chunk writer and reader, rtmp-core against rml_rtmp on the same inputs.
//!
//! Writer: one video message of 1 KiB, 16 KiB or 256 KiB at chunk size 4096,
//! timestamps advancing by 33 ms. rtmp-core's work is choosing the header and
//! filling the `IoSlice` array a `write_vectored` takes (64 per call, as
//! board's driver does, each batch fully written); rml_rtmp's is
//! building the chunked bytes in a `Vec`.
//! Reader: the chunk stream ffmpeg sent to nginx-rtmp (tests/data).

use benches::chunk_stream;
use board::net::write_gathered;
use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rtmp_core::chunk::{ChunkReader, ChunkWriter, MessageHeader, ReaderConfig};
use rtmp_core::time::RtmpTimestamp;
use std::io::{IoSlice, Write};

/// A socket that takes every byte of every write, after looking at each slice.
struct TakesAll;

impl Write for TakesAll {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(black_box(buf).len())
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        Ok(black_box(bufs).iter().map(|s| s.len()).sum())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn writer(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunk_writer");
    for size in [1024usize, 16 * 1024, 256 * 1024] {
        let frame: Vec<u8> = (0..size).map(|i| i as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));

        let mut ours = ChunkWriter::<8>::new();
        ours.set_chunk_size(4096).unwrap();
        let mut ts = 0u32;
        group.bench_with_input(BenchmarkId::new("rtmp-core", size), &frame, |b, frame| {
            let parts = [&frame[..]];
            b.iter(|| {
                ts = ts.wrapping_add(33);
                let header = MessageHeader { csid: 6, timestamp: RtmpTimestamp(ts), type_id: 9, stream_id: 1 };
                let mut msg = ours.write(header, &parts).unwrap();
                let mut sent = 0usize;
                while !msg.is_done() {
                    // One vectored write, made by board's driver code: up
                    // to 64 IoSlices, all of them taken.
                    let bytes = write_gathered(&mut TakesAll, [&msg]).unwrap();
                    msg.advance(bytes);
                    sent += bytes;
                }
                black_box(sent)
            })
        });

        let mut theirs = rml_rtmp::chunk_io::ChunkSerializer::new();
        theirs.set_max_chunk_size(4096, rml_rtmp::time::RtmpTimestamp::new(0)).unwrap();
        let mut payload = rml_rtmp::messages::MessagePayload {
            timestamp: rml_rtmp::time::RtmpTimestamp::new(0),
            type_id: 9,
            message_stream_id: 1,
            data: Bytes::from(frame.clone()),
        };
        group.bench_with_input(BenchmarkId::new("rml_rtmp", size), &frame, |b, _| {
            b.iter(|| {
                payload.timestamp = payload.timestamp + 33;
                let packet = theirs.serialize(&payload, false, false).unwrap();
                black_box(packet.bytes.len())
            })
        });
    }
    group.finish();
}

fn reader(c: &mut Criterion) {
    let stream = chunk_stream("ffmpeg-publish-c2s.bin");
    let mut group = c.benchmark_group("chunk_reader");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    let mut buf = vec![0u8; 1 << 16];
    group.bench_function("rtmp-core/ffmpeg-publish", |b| {
        b.iter(|| {
            let mut reader = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
            let mut input = &stream[..];
            let mut total = 0usize;
            while let (n, Some(m)) = reader.read(input).unwrap() {
                total += m.payload.len();
                input = &input[n..];
            }
            black_box(total)
        })
    });
    group.bench_function("rml_rtmp/ffmpeg-publish", |b| {
        b.iter(|| {
            let mut reader = rml_rtmp::chunk_io::ChunkDeserializer::new();
            let mut total = 0usize;
            let mut input = &stream[..];
            while let Some(m) = reader.get_next_message(input).unwrap() {
                input = &[];
                if m.type_id == 1 {
                    let size = u32::from_be_bytes([m.data[0], m.data[1], m.data[2], m.data[3]]);
                    reader.set_max_chunk_size(size as usize).unwrap();
                }
                total += m.data.len();
            }
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, writer, reader);
criterion_main!(benches);
