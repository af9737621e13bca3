//! Shared setup for the criterion benchmarks in `benches/`: loading the peer
//! captures that both implementations are measured on. See `README.md` for
//! how to run them and the measured results.

use board::camera::{Camera, CameraConfig};
use board::sys::Sys;
use board::venc::{Codec, Venc, VencConfig};
use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::PACKET_LEN;
use std::time::Duration;

/// One direction of a captured connection, from `rtmp-core/tests/data`.
pub fn capture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtmp-core/tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The chunk stream of a capture: everything after the 3073-byte handshake.
pub fn chunk_stream(name: &str) -> Vec<u8> {
    capture(name).split_off(1 + 2 * PACKET_LEN)
}

/// The messages of a capture as (type id, payload).
pub fn messages(name: &str) -> Vec<(u8, Vec<u8>)> {
    let stream = chunk_stream(name);
    let mut buf = vec![0u8; 1 << 20];
    let mut reader = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut input = &stream[..];
    let mut out = Vec::new();
    while let (n, Some(m)) = reader.read(input).expect("capture decodes") {
        out.push((m.type_id, m.payload.to_vec()));
        input = &input[n..];
    }
    out
}

/// One GOP of access units from the host encoder (640x480, 1 Mbit/s, an
/// IDR with its parameter sets and 29 P-frames), each as its packs.
pub fn encoder_gop(codec: Codec) -> Vec<Vec<Vec<u8>>> {
    let sys = Sys::get().unwrap();
    let cam = Camera::open(&sys, CameraConfig { width: 640, height: 480, fps: 120, depth: 2 }).unwrap();
    let mut venc = Venc::create(&sys, VencConfig::h264(640, 480, 30, 1_000_000).with_codec(codec)).unwrap();
    let mut frames = Vec::new();
    while frames.len() < 30 {
        let f = cam.frame(Some(Duration::from_secs(1))).unwrap().unwrap();
        venc.send_frame(&f, Duration::ZERO).unwrap();
        drop(f);
        let s = venc.stream(Some(Duration::from_secs(1))).unwrap().unwrap();
        frames.push(s.packs().map(|p| p.data.to_vec()).collect());
    }
    frames
}
