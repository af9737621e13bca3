//! The embedded-io blocking driver over an in-memory pipe whose server side
//! replays nginx-rtmp's recorded answers.
#![cfg(feature = "embedded-io")]

use embedded_io::{ErrorType, Read, ReadReady, Write};
use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::{ServerHandshake, RANDOM_LEN};
use rtmp_core::session::blocking::{BlockingPublisher, DriverError};
use rtmp_core::session::{CloseReason, PublisherConfig};
use rtmp_core::time::{Instant, RtmpTimestamp};

/// The client's side of a pipe: reads come from a script, writes are kept.
struct Pipe {
    script: Vec<u8>,
    at: usize,
    sent: Vec<u8>,
}

impl ErrorType for Pipe {
    type Error = core::convert::Infallible;
}
impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // At most 300 bytes per read, and only once the client has spoken.
        if self.sent.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(300).min(self.script.len() - self.at);
        buf[..n].copy_from_slice(&self.script[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
impl ReadReady for Pipe {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        Ok(self.at < self.script.len())
    }
}
impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(1000); // partial writes
        self.sent.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn answers() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-publish-s2c.bin")).unwrap()
}

#[test]
fn publishes_and_sends_media_over_a_pipe() {
    let pipe = Pipe { script: answers(), at: 0, sent: Vec::new() };
    let (mut reassembly, mut rx) = ([0u8; 4096], [0u8; 4096]);
    let cfg = PublisherConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    let clock = || Instant::ZERO;
    let mut p = BlockingPublisher::connect(pipe, clock, cfg, &mut reassembly, &mut rx, &[5; RANDOM_LEN]).unwrap();
    assert_eq!(p.session().stream_id(), 1);
    let frame = vec![0x5Au8; 9000];
    let header = [0x17u8, 1, 0, 0, 0];
    p.send_video(RtmpTimestamp(0), &[&header, &frame]).unwrap();
    p.send_audio(RtmpTimestamp(10), &[&[0xAF, 1, 0x21]]).unwrap();
    let pipe = p.close().unwrap();

    // Decode what went out as a server would.
    let wire = pipe.sent;
    let mut hs = ServerHandshake::new(0, &[0; RANDOM_LEN]);
    let mut at = hs.handle_input(&wire).unwrap();
    at += hs.handle_input(&wire[at..]).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut media = Vec::new();
    while let (n, Some(m)) = r.read(&wire[at..]).unwrap() {
        if m.type_id == 8 || m.type_id == 9 {
            media.push((m.type_id, m.stream_id, m.payload.to_vec()));
        }
        at += n;
    }
    assert_eq!(at, wire.len());
    assert_eq!(media.len(), 2);
    assert_eq!((media[0].0, media[0].1, &media[0].2[5..]), (9, 1, &frame[..]));
    assert_eq!(media[1], (8, 1, vec![0xAF, 1, 0x21]));
}

#[test]
fn refusal_and_eof_are_errors() {
    // The server closes right after the handshake.
    let script = answers()[..3073].to_vec();
    let pipe = Pipe { script, at: 0, sent: Vec::new() };
    let (mut reassembly, mut rx) = ([0u8; 4096], [0u8; 4096]);
    let cfg = PublisherConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    let err = BlockingPublisher::connect(pipe, || Instant::ZERO, cfg, &mut reassembly, &mut rx, &[5; RANDOM_LEN])
        .err()
        .unwrap();
    assert_eq!(err, DriverError::Closed(CloseReason::PeerClosed));
}
