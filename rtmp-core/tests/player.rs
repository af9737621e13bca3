//! The Player session against nginx-rtmp's recorded answers to ffmpeg, and
//! against our Server in memory.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::flv::media::CodecConfig;
use rtmp_core::handshake::{ServerHandshake, RANDOM_LEN};
use rtmp_core::message::{type_id, Command, CommandMessage, ProtocolControl, UserControl};
use rtmp_core::session::{
    CloseReason, Player, PlayerConfig, PlayerEvent, PlayerState, Server, ServerConfig, ServerEvent,
};
use rtmp_core::time::{Instant, RtmpTimestamp};

#[derive(Debug, PartialEq)]
enum Seen {
    Connected,
    Started(u32),
    Status(String),
    Config(CodecConfig),
    Media(u8, u32, Vec<u8>),
    Ended,
    Closed(CloseReason),
}

fn player(recv: &mut [u8]) -> Player<'_> {
    Player::new(PlayerConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live"), recv, Instant::ZERO, &[1; RANDOM_LEN])
}

fn flush(p: &mut Player<'_>, wire: &mut Vec<u8>) {
    while let Some(b) = p.poll_transmit() {
        let n = b.len().min(1000);
        wire.extend_from_slice(&b[..n]);
        p.transmitted(n);
    }
}

fn drain(p: &mut Player<'_>, seen: &mut Vec<Seen>, recv_range: std::ops::Range<usize>) {
    while let Some(e) = p.poll_event() {
        seen.push(match e {
            PlayerEvent::Connected => Seen::Connected,
            PlayerEvent::PlayStarted { stream_id } => Seen::Started(stream_id),
            PlayerEvent::Status { code, .. } => Seen::Status(code.to_string()),
            PlayerEvent::Config(c) => Seen::Config(c),
            PlayerEvent::Media(m) => {
                let at = m.payload.as_ptr() as usize;
                assert!(recv_range.contains(&at), "media borrows the receive buffer");
                Seen::Media(m.type_id, m.timestamp.0, m.payload.to_vec())
            }
            PlayerEvent::StreamEnded => Seen::Ended,
            PlayerEvent::Closed(r) => Seen::Closed(r),
            _ => continue,
        });
    }
}

/// Feeds `input` in pieces like a driver; returns events and the bytes sent.
fn play_through(p: &mut Player<'_>, input: &[u8], range: std::ops::Range<usize>) -> (Vec<Seen>, Vec<u8>) {
    let (mut seen, mut wire, mut pending) = (Vec::new(), Vec::new(), Vec::new());
    flush(p, &mut wire);
    for piece in input.chunks(1000) {
        pending.extend_from_slice(piece);
        loop {
            let n = p.handle_input(Instant::ZERO, &pending).unwrap();
            pending.drain(..n);
            let before = (wire.len(), seen.len());
            flush(p, &mut wire);
            drain(p, &mut seen, range.clone());
            if n == 0 && before == (wire.len(), seen.len()) {
                break;
            }
        }
    }
    (seen, wire)
}

/// What the player sent, decoded as a server would.
fn sent(wire: &[u8]) -> Vec<String> {
    let mut hs = ServerHandshake::new(0, &[0; RANDOM_LEN]);
    let mut at = hs.handle_input(wire).unwrap();
    at += hs.handle_input(&wire[at..]).unwrap();
    let mut buf = vec![0u8; 8192];
    let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut out = Vec::new();
    while let (n, Some(m)) = r.read(&wire[at..]).unwrap() {
        at += n;
        out.push(match m.type_id {
            type_id::COMMAND_AMF0 => match CommandMessage::decode(m.type_id, m.payload).unwrap().command().unwrap() {
                Command::Play { name, start, .. } => format!("play {} {start} on {}", name.as_str(), m.stream_id),
                c => {
                    CommandMessage::decode(m.type_id, m.payload).map(|c| c.name.to_string()).unwrap_or(format!("{c:?}"))
                }
            },
            type_id::USER_CONTROL => format!("{:?}", UserControl::decode(m.payload).unwrap()),
            t => format!("{:?}", ProtocolControl::decode(t, m.payload).unwrap()),
        });
    }
    assert_eq!(at, wire.len());
    out
}

#[test]
fn plays_against_recorded_nginx() {
    let answers = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-play-s2c.bin")).unwrap();
    let mut recv = vec![0u8; 1 << 16];
    let range = recv.as_ptr_range();
    let range = range.start as usize..range.end as usize;
    let mut p = player(&mut recv);
    let (seen, wire) = play_through(&mut p, &answers, range);
    // The capture ends when ffmpeg deleted its stream: nginx's Stream EOF.
    assert_eq!(p.state(), PlayerState::Ended);
    assert_eq!(seen.last(), Some(&Seen::Ended));
    assert_eq!(&seen[..2], [Seen::Connected, Seen::Started(1)]);
    // nginx sends onMetaData, then the AAC and AVC sequence headers, each decoded.
    assert!(matches!(&seen[2], Seen::Media(18, 0, m) if m.starts_with(b"\x02\x00\x0aonMetaData")), "{:?}", seen[2]);
    assert!(
        matches!(seen[3], Seen::Config(CodecConfig::Aac(c)) if c.sample_rate() == 44100 || c.sample_rate() == 48000),
        "{:?}",
        seen[3]
    );
    let avc = seen.iter().position(|s| matches!(s, Seen::Config(CodecConfig::Avc { .. }))).unwrap();
    assert!(
        matches!(seen[avc], Seen::Config(CodecConfig::Avc { sps, nal_length_size: 4 }) if (sps.width, sps.height) == (160, 120))
    );
    assert!(matches!(&seen[avc + 1], Seen::Media(9, 0, m) if m[..2] == [0x17, 0]));
    assert_eq!(
        p.video_config(),
        Some(match seen[avc] {
            Seen::Config(c) => c,
            _ => unreachable!(),
        })
    );
    // Every media message nginx sent arrives, in order, with rising timestamps per type.
    let media: Vec<&Seen> = seen.iter().filter(|s| matches!(s, Seen::Media(..))).collect();
    assert_eq!(media.len(), 59, "nginx's messages 8 to 66 (|RtmpSampleAccess is not passed on)");
    let mut last = [0u32; 32];
    for m in &media {
        let Seen::Media(t, ts, _) = m else { unreachable!() };
        assert!(*ts >= last[*t as usize], "timestamps of type {t} go back");
        last[*t as usize] = *ts;
    }
    assert!(!seen.iter().any(|s| matches!(s, Seen::Closed(_) | Seen::Status(_))), "{seen:?}");
    // What we sent is what ffmpeg sends, in order.
    let s = sent(&wire);
    assert_eq!(s[0], "connect");
    assert_eq!(s[1], "WindowAckSize(5000000)");
    assert_eq!(s[2], "createStream");
    assert_eq!(s[3], "play cap -2000 on 1");
    assert_eq!(s[4], "SetBufferLength { stream_id: 1, millis: 3000 }");
}

#[test]
fn one_media_message_per_input_call() {
    let answers = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-play-s2c.bin")).unwrap();
    let mut recv = vec![0u8; 1 << 16];
    let mut p = player(&mut recv);
    let mut wire = Vec::new();
    flush(&mut p, &mut wire);
    let (mut at, mut media, mut calls) = (0, 0, 0);
    while at < answers.len() {
        let n = p.handle_input(Instant::ZERO, &answers[at..]).unwrap();
        at += n;
        calls += 1;
        flush(&mut p, &mut wire);
        let mut here = 0;
        while let Some(e) = p.poll_event() {
            here += matches!(e, PlayerEvent::Media(_)) as usize;
        }
        assert!(here <= 1);
        media += here;
        if n == 0 {
            break;
        }
    }
    assert_eq!(at, answers.len());
    assert_eq!(media, 59);
    assert!(calls > media);
}

/// Runs a player against our server, which accepts (or rejects) the play
/// and then sends `frames`, then ends the stream.
fn against_server(reject: bool, frames: &[(u8, u32, &[u8])]) -> Vec<Seen> {
    let mut prx = vec![0u8; 1 << 16];
    let mut srx = vec![0u8; 1 << 16];
    let range = prx.as_ptr_range();
    let range = range.start as usize..range.end as usize;
    let mut p = player(&mut prx);
    let mut s = Server::new(ServerConfig::default(), &mut srx, Instant::ZERO, &[2; RANDOM_LEN]);
    let (mut to_s, mut to_p, mut seen) = (Vec::new(), Vec::new(), Vec::new());
    let mut playing = None;
    let mut sent_frames = false;
    for _ in 0..100 {
        flush(&mut p, &mut to_s);
        let n = s.handle_input(Instant::ZERO, &to_s).unwrap();
        to_s.drain(..n);
        while let Some(e) = s.poll_event() {
            if let ServerEvent::PlayRequest { stream_id, name } = e {
                assert_eq!(name.as_str(), "cap");
                playing = Some(stream_id);
            }
        }
        if let Some(id) = playing.take() {
            if reject {
                s.reject(id, "NetStream.Play.StreamNotFound", "no such stream").unwrap();
            } else {
                s.accept_play(id).unwrap();
                while let Some(b) = s.poll_transmit() {
                    let k = b.len();
                    to_p.extend_from_slice(b);
                    s.transmitted(k);
                }
                for (t, ts, body) in frames {
                    let parts = [*body];
                    let mut m = s.send_media(id, *t, RtmpTimestamp(*ts), &parts).unwrap();
                    for sl in m.slices() {
                        to_p.extend_from_slice(sl);
                    }
                    let k = m.remaining();
                    m.advance(k);
                }
                s.end_play(id).unwrap();
                sent_frames = true;
            }
        }
        while let Some(b) = s.poll_transmit() {
            let k = b.len();
            to_p.extend_from_slice(b);
            s.transmitted(k);
        }
        loop {
            let n = p.handle_input(Instant::ZERO, &to_p).unwrap_or_default();
            to_p.drain(..n);
            drain(&mut p, &mut seen, range.clone());
            if n == 0 {
                break;
            }
        }
        if p.state() == PlayerState::Closed || (sent_frames && to_p.is_empty() && to_s.is_empty()) {
            break;
        }
    }
    seen
}

#[test]
fn plays_from_our_server_and_sees_the_end() {
    let asc = [0xAF, 0, 0x12, 0x10];
    let frames: [(u8, u32, &[u8]); 4] = [
        (8, 0, &asc),
        (8, 23, &[0xAF, 1, 0x21, 0x10]),
        (9, 40, &[0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41]),
        (18, 40, b"\x02\x00\x01x"),
    ];
    let seen = against_server(false, &frames);
    let mut want = vec![
        Seen::Connected,
        Seen::Started(1),
        Seen::Config(CodecConfig::Aac(rtmp_core::flv::aac::AacConfig {
            object_type: 2,
            frequency_index: 4,
            channels: 2,
        })),
    ];
    want.extend(frames.iter().map(|(t, ts, b)| Seen::Media(*t, *ts, b.to_vec())));
    want.push(Seen::Ended);
    // The server's Play.Reset is passed on as a status.
    let seen: Vec<Seen> = seen.into_iter().filter(|s| *s != Seen::Status("NetStream.Play.Reset".into())).collect();
    assert_eq!(seen, want);
}

#[test]
fn refusal_closes_with_the_servers_code() {
    let seen = against_server(true, &[]);
    assert_eq!(seen.first(), Some(&Seen::Connected));
    match seen.last() {
        Some(Seen::Closed(CloseReason::Refused { code, .. })) => {
            assert_eq!(code.as_str(), "NetStream.Play.StreamNotFound")
        }
        other => panic!("{other:?} in {seen:?}"),
    }
}

#[test]
fn setup_timeout_and_close() {
    let mut recv = vec![0u8; 4096];
    let mut p = player(&mut recv);
    let deadline = p.poll_timeout().unwrap();
    p.handle_timeout(Instant::ZERO);
    assert_eq!(p.state(), PlayerState::Handshaking);
    p.handle_timeout(deadline);
    assert_eq!(p.poll_event(), Some(PlayerEvent::Closed(CloseReason::Timeout("the handshake"))));
    assert_eq!(p.poll_event(), None);
    assert!(p.handle_input(Instant::ZERO, b"x").is_err());
    p.close();
    assert_eq!(p.poll_event(), None, "closed is reported once");
}

#[test]
fn garbage_after_handshake_is_a_typed_error() {
    let answers = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-play-s2c.bin")).unwrap();
    let mut recv = vec![0u8; 1 << 16];
    let mut p = player(&mut recv);
    let mut input = answers[..3073].to_vec();
    // A 16 MiB command announced: larger than the receive buffer.
    input.extend_from_slice(&[0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x14, 0, 0, 0, 0]);
    let mut wire = Vec::new();
    flush(&mut p, &mut wire);
    let mut at = 0;
    let err = loop {
        match p.handle_input(Instant::ZERO, &input[at..]) {
            Ok(0) => panic!("no error"),
            Ok(n) => at += n,
            Err(e) => break e,
        }
        flush(&mut p, &mut wire);
    };
    assert!(matches!(err, rtmp_core::session::InputError::Chunk(_)), "{err:?}");
    assert!(matches!(p.poll_event(), Some(PlayerEvent::Closed(CloseReason::Chunk(_)))));
}
