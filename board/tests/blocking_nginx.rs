//! rtmp-core's embedded-io blocking driver over a real TCP socket
//! (`embedded-io-adapters`), publishing to nginx-rtmp, whose recording must
//! match the source packet by packet. Needs nginx-rtmp and ffmpeg; run by
//! `scripts/test.sh` with `--ignored`.

mod common;

use common::{framemd5, make_source, packets, scratch, start_nginx};
use embedded_io::{ErrorType, Read, ReadReady, Write};
use embedded_io_adapters::std::FromStd;
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::message::SET_DATA_FRAME;
use rtmp_core::session::blocking::BlockingPublisher;
use rtmp_core::session::PublisherConfig;
use rtmp_core::time::{Instant, RtmpTimestamp};
use rtmp_core::url::RtmpUrl;
use std::net::TcpStream;

/// A std socket as an embedded-io transport that can say whether bytes wait.
struct Tcp(FromStd<TcpStream>);

impl ErrorType for Tcp {
    type Error = std::io::Error;
}
impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
impl ReadReady for Tcp {
    fn read_ready(&mut self) -> std::io::Result<bool> {
        let s = self.0.inner();
        s.set_nonblocking(true)?;
        let peeked = s.peek(&mut [0u8]);
        s.set_nonblocking(false)?;
        match peeked {
            Ok(_) => Ok(true), // data, or end of stream for read() to report
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[test]
#[ignore = "needs nginx with libnginx-mod-rtmp and ffmpeg; run by scripts/test.sh"]
fn blocking_driver_publishes_to_nginx() {
    let nginx = start_nginx("blocking");
    let dir = scratch("blocking-src");
    let src = make_source(&dir, "fw", "high", true, 2);
    let file = std::fs::read(&src).unwrap();

    let url_text = nginx.url("rec/firmware");
    let url = RtmpUrl::parse(&url_text).unwrap();
    let mut tc = [0u8; 128];
    let tc_url = url.write_tc_url(&mut tc).unwrap();
    let cfg = PublisherConfig::new(url.app(), url.stream(), tc_url);
    let socket = TcpStream::connect(("127.0.0.1", nginx.port)).unwrap();
    socket.set_nodelay(true).unwrap();
    let start = std::time::Instant::now();
    let clock = move || Instant::from_micros(start.elapsed().as_micros() as u64);
    let (mut reassembly, mut rx) = ([0u8; 4096], [0u8; 4096]);
    let mut p =
        BlockingPublisher::connect(Tcp(FromStd::new(socket)), clock, cfg, &mut reassembly, &mut rx, &[9; RANDOM_LEN])
            .unwrap();

    let mut reader = FlvReader::new();
    let mut rest = &file[..];
    let mut tags = 0;
    loop {
        let (n, item) = reader.read(rest).unwrap();
        match item {
            FlvItem::NeedMore(_) => break,
            FlvItem::Header(_) => {}
            FlvItem::Tag(t) => {
                let ts = RtmpTimestamp(t.timestamp);
                match t.kind {
                    TagType::Video => p.send_video(ts, &[t.data]).unwrap(),
                    TagType::Audio => p.send_audio(ts, &[t.data]).unwrap(),
                    TagType::Script => p.send_data(ts, &[SET_DATA_FRAME, t.data]).unwrap(),
                    TagType::Other(_) => {}
                }
                tags += 1;
            }
        }
        rest = &rest[n..];
    }
    let tcp = p.close().unwrap();
    drop(tcp);
    assert!(tags > 100);
    let recorded = framemd5(&nginx.recording("firmware"));
    assert_eq!(packets(&recorded), packets(&framemd5(&src)));
    let _ = std::fs::remove_dir_all(dir);
}
