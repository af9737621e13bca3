//! Shared setup for the criterion benchmarks in `benches/`: loading the peer
//! captures that both implementations are measured on. See `README.md` for
//! how to run them and the measured results.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::PACKET_LEN;

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
