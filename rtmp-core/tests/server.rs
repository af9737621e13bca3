//! The Server session against ffmpeg's recorded publish and play streams,
//! and against our own Publisher in memory.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::{ClientHandshake, HandshakeMode, RANDOM_LEN};
use rtmp_core::message::{type_id, Command, CommandMessage, StreamName};
use rtmp_core::session::{
    CloseReason, Event, Publisher, PublisherConfig, PublisherState, Server, ServerConfig, ServerEvent,
};
use rtmp_core::time::{Instant, RtmpTimestamp};

fn capture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[derive(Debug, PartialEq)]
enum Seen {
    Connected(String),
    Publish(u32, String),
    Play(u32, String),
    Media(u8, Vec<u8>),
    StreamClosed(u32),
    Closed(CloseReason),
}

/// Feeds `input` to the server like a driver, accepting every request, and
/// returns what it saw and what it sent.
fn serve(server: &mut Server<'_>, input: &[u8]) -> (Vec<Seen>, Vec<u8>) {
    let (mut seen, mut sent) = (Vec::new(), Vec::new());
    let mut at = 0;
    loop {
        let n = server.handle_input(Instant::ZERO, &input[at..]).unwrap_or(0);
        at += n;
        let mut accept = None;
        while let Some(e) = server.poll_event() {
            seen.push(match e {
                ServerEvent::Connected { app } => Seen::Connected(app.to_string()),
                ServerEvent::PublishRequest { stream_id, name, .. } => {
                    accept = Some((stream_id, true));
                    Seen::Publish(stream_id, name.as_str().to_string())
                }
                ServerEvent::PlayRequest { stream_id, name } => {
                    accept = Some((stream_id, false));
                    Seen::Play(stream_id, name.as_str().to_string())
                }
                ServerEvent::Media { type_id, payload, .. } => Seen::Media(type_id, payload.to_vec()),
                ServerEvent::StreamClosed { stream_id } => Seen::StreamClosed(stream_id),
                ServerEvent::Closed(r) => Seen::Closed(r),
                _ => continue,
            });
        }
        match accept {
            Some((id, true)) => server.accept_publish(id).unwrap(),
            Some((id, false)) => server.accept_play(id).unwrap(),
            None => {}
        }
        let before = sent.len();
        while let Some(b) = server.poll_transmit() {
            let k = b.len();
            sent.extend_from_slice(b);
            server.transmitted(k);
        }
        if n == 0 && sent.len() == before {
            return (seen, sent);
        }
    }
}

/// Decodes what the server sent, as a client would: command names and status codes.
fn replies(sent: &[u8]) -> Vec<String> {
    let mut hs = ClientHandshake::new(HandshakeMode::Digest, 0, &[0; RANDOM_LEN]);
    hs.transmitted(1537);
    let mut at = hs.handle_input(sent).unwrap();
    at += hs.handle_input(&sent[at..]).unwrap();
    let mut buf = vec![0u8; 8192];
    let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut out = Vec::new();
    while let (n, Some(m)) = r.read(&sent[at..]).unwrap() {
        at += n;
        out.push(match m.type_id {
            type_id::COMMAND_AMF0 => match CommandMessage::decode(m.type_id, m.payload).unwrap().command().unwrap() {
                Command::OnStatus(s) => s.code.to_string(),
                Command::Result { transaction_id, .. } => format!("_result {transaction_id}"),
                other => format!("{other:?}"),
            },
            t => format!("type {t}"),
        });
    }
    assert_eq!(at, sent.len());
    out
}

#[test]
fn serves_ffmpegs_recorded_publish() {
    let c2s = capture("ffmpeg-publish-c2s.bin");
    let mut recv = vec![0u8; 1 << 16];
    let mut server = Server::new(ServerConfig::default(), &mut recv, Instant::ZERO, &[4; RANDOM_LEN]);
    let (seen, sent) = serve(&mut server, &c2s);
    assert_eq!(seen[0], Seen::Connected("live".into()));
    assert_eq!(seen[1], Seen::Publish(1, "cap".into()));
    let media: Vec<&Seen> = seen.iter().filter(|s| matches!(s, Seen::Media(..))).collect();
    assert!(media.len() > 50, "{}", media.len());
    assert!(matches!(media[0], Seen::Media(18, p) if p.starts_with(b"\x02\x00\x0d@setDataFrame")));
    assert_eq!(seen.last(), Some(&Seen::StreamClosed(1)));
    let r = replies(&sent);
    assert_eq!(&r[..4], ["type 5", "type 6", "type 1", "_result 1"]);
    assert!(r.contains(&"_result 4".to_string()), "{r:?}");
    assert!(r.contains(&"NetStream.Publish.Start".to_string()), "{r:?}");
}

#[test]
fn serves_ffmpegs_recorded_play() {
    let c2s = capture("ffmpeg-play-c2s.bin");
    // ffmpeg ends its play session with deleteStream; stop a little before it.
    let name_at = c2s.windows(12).position(|w| w == b"deleteStream").unwrap();
    let (before, after) = c2s.split_at(name_at - 20);
    let mut recv = vec![0u8; 1 << 16];
    let mut server = Server::new(ServerConfig::default(), &mut recv, Instant::ZERO, &[4; RANDOM_LEN]);
    let (seen, sent) = serve(&mut server, before);
    assert!(seen.contains(&Seen::Play(1, "cap".into())), "{seen:?}");
    let r = replies(&sent);
    assert!(r.contains(&"NetStream.Play.Start".to_string()), "{r:?}");
    let frame = [0x17u8, 1, 0, 0, 0, 1, 2, 3];
    let parts = [&frame[..]];
    let mut msg = server.send_media(1, 9, RtmpTimestamp(0), &parts).unwrap();
    assert_eq!(msg.slices().nth(1).unwrap().as_ptr(), frame.as_ptr(), "media is not copied");
    let n = msg.remaining();
    msg.advance(n);
    // A stream nobody asked to play is refused.
    assert!(server.send_media(7, 9, RtmpTimestamp(0), &parts).is_err());
    // Then ffmpeg's deleteStream ends the play.
    let (seen, _) = serve(&mut server, after);
    assert!(seen.contains(&Seen::StreamClosed(1)), "{seen:?}");
    assert!(server.send_media(1, 9, RtmpTimestamp(40), &parts).is_err());
}

/// Moves bytes both ways between a publisher and a server until both are quiet.
fn pump(p: &mut Publisher<'_>, s: &mut Server<'_>, reject: bool) -> Vec<Seen> {
    let (mut to_s, mut to_p, mut seen) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..50 {
        while let Some(b) = p.poll_transmit() {
            let n = b.len();
            to_s.extend_from_slice(b);
            p.transmitted(n);
        }
        loop {
            let n = s.handle_input(Instant::ZERO, &to_s).unwrap_or(0);
            to_s.drain(..n);
            let mut req = None;
            while let Some(e) = s.poll_event() {
                match e {
                    ServerEvent::PublishRequest { stream_id, name, .. } => {
                        assert_eq!(name, StreamName("cam?key=k"));
                        req = Some(stream_id);
                    }
                    ServerEvent::Media { type_id, payload, .. } => seen.push(Seen::Media(type_id, payload.to_vec())),
                    _ => {}
                }
            }
            if let Some(id) = req {
                if reject {
                    s.reject(id, "NetStream.Publish.BadName", "Already publishing").unwrap();
                } else {
                    s.accept_publish(id).unwrap();
                }
            }
            if n == 0 {
                break;
            }
        }
        while let Some(b) = s.poll_transmit() {
            let n = b.len();
            to_p.extend_from_slice(b);
            s.transmitted(n);
        }
        if !to_p.is_empty() {
            let n = p.handle_input(Instant::ZERO, &to_p).unwrap_or(0);
            to_p.drain(..n);
        }
    }
    seen
}

#[test]
fn our_publisher_to_our_server() {
    let (mut prx, mut srx) = ([0u8; 4096], vec![0u8; 1 << 16]);
    let cfg = PublisherConfig::new("live", "cam?key=k", "rtmp://127.0.0.1:1935/live");
    let mut p = Publisher::new(cfg, &mut prx, Instant::ZERO, &[1; RANDOM_LEN]);
    let mut s = Server::new(ServerConfig::default(), &mut srx, Instant::ZERO, &[2; RANDOM_LEN]);
    pump(&mut p, &mut s, false);
    assert_eq!(p.state(), PublisherState::Publishing);
    let frame: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    let parts = [&frame[..]];
    let mut msg = p.send_video(RtmpTimestamp(40), &parts).unwrap();
    let mut wire = Vec::new();
    for sl in msg.slices() {
        wire.extend_from_slice(sl);
    }
    msg.advance(wire.len());
    let mut got = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        at += s.handle_input(Instant::ZERO, &wire[at..]).unwrap();
        if let Some(ServerEvent::Media { type_id, payload, .. }) = s.poll_event() {
            got.push((type_id, payload.to_vec()));
        }
    }
    assert_eq!(got, vec![(9, frame)]);
}

#[test]
fn refused_publish_reaches_the_publisher() {
    let (mut prx, mut srx) = ([0u8; 4096], vec![0u8; 1 << 16]);
    let cfg = PublisherConfig::new("live", "cam?key=k", "rtmp://127.0.0.1:1935/live");
    let mut p = Publisher::new(cfg, &mut prx, Instant::ZERO, &[1; RANDOM_LEN]);
    let mut s = Server::new(ServerConfig::default(), &mut srx, Instant::ZERO, &[2; RANDOM_LEN]);
    pump(&mut p, &mut s, true);
    let last = std::iter::from_fn(|| p.poll_event()).last().unwrap();
    let Event::Closed(CloseReason::Refused { code, .. }) = last else { panic!("{last:?}") };
    assert_eq!(code.as_str(), "NetStream.Publish.BadName");
}

#[test]
fn garbage_closes_the_connection_once() {
    let mut recv = vec![0u8; 4096];
    let mut server = Server::new(ServerConfig::default(), &mut recv, Instant::ZERO, &[4; RANDOM_LEN]);
    assert!(server.handle_input(Instant::ZERO, b"GET / HTTP/1.1\r\n\r\n").is_err());
    assert!(matches!(server.poll_event(), Some(ServerEvent::Closed(CloseReason::Handshake(_)))));
    assert_eq!(server.poll_event(), None);
    assert!(server.is_closed());
}
