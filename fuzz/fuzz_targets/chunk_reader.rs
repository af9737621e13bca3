//! `ChunkReader::read` over arbitrary bytes, fed in two pieces as a socket
//! would: no panic, consumption never exceeds the input, no stall.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::chunk::{ChunkReader, ReaderConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let split = (split as usize).min(data.len());
    let mut buf = [0u8; 4096];
    let mut reader = ChunkReader::<4>::new(&mut buf, ReaderConfig { max_chunk_size: 65536 });
    let mut pending: Vec<u8> = Vec::new();
    for piece in [&data[..split], &data[split..]] {
        pending.extend_from_slice(piece);
        loop {
            match reader.read(&pending) {
                Ok((n, msg)) => {
                    assert!(n <= pending.len());
                    let got = msg.is_some();
                    if let Some(m) = msg {
                        assert!(m.payload.len() <= 4096);
                    }
                    pending.drain(..n);
                    if !got && (n == 0 || pending.is_empty()) {
                        break;
                    }
                }
                Err(_) => return,
            }
        }
    }
});
