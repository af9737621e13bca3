//! The wire layer against bytes captured from real peers (ffmpeg publishing to
//! and playing from nginx-rtmp; see `data/README.md`). Every message must
//! decode, and everything whose encoding is canonical must re-encode to the
//! very bytes the peer sent.

use rtmp_core::amf0::{self, Value};
use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::{self, PACKET_LEN};
use rtmp_core::message::{
    encode, type_id, Command, CommandMessage, DataMessage, ProtocolControl, StatusLevel, StreamName, UserControl,
};

/// Reads a capture from `$RTMP_PEER_CAPTURES` when set (the test script
/// points it at captures it has just made with the installed ffmpeg and
/// nginx-rtmp), else from the committed `tests/data`.
fn load(name: &str) -> &'static [u8] {
    let dir = std::env::var_os("RTMP_PEER_CAPTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"));
    let path = dir.join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(bytes.into_boxed_slice())
}

#[derive(Debug)]
struct Msg {
    type_id: u8,
    stream_id: u32,
    timestamp: u32,
    payload: Vec<u8>,
}

fn packet(b: &[u8]) -> &[u8; PACKET_LEN] {
    b[..PACKET_LEN].try_into().unwrap()
}

/// Splits a capture into its handshake packets and chunk-stream messages,
/// feeding the reader in uneven pieces as a socket would.
fn split(capture: &[u8]) -> (&[u8; PACKET_LEN], &[u8; PACKET_LEN], Vec<Msg>) {
    assert_eq!(capture[0], 3, "C0/S0");
    let hello = packet(&capture[1..]);
    let answer = packet(&capture[1 + PACKET_LEN..]);
    let stream = &capture[1 + 2 * PACKET_LEN..];
    let mut buf = vec![0u8; 1 << 16];
    let mut reader = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut msgs = Vec::new();
    let mut pending = Vec::new();
    for piece in stream.chunks(1000) {
        pending.extend_from_slice(piece);
        loop {
            let (n, m) = reader.read(&pending).expect("peer bytes read without error");
            let m = m.map(|m| Msg {
                type_id: m.type_id,
                stream_id: m.stream_id,
                timestamp: m.timestamp.value(),
                payload: m.payload.to_vec(),
            });
            pending.drain(..n);
            match m {
                Some(m) => msgs.push(m),
                None => break,
            }
        }
    }
    assert!(pending.is_empty(), "{} bytes left over", pending.len());
    (hello, answer, msgs)
}

fn reencode_amf(body: &[u8]) -> Vec<u8> {
    let values: Vec<Value<'_>> = amf0::Values::new(body).map(|v| v.unwrap()).collect();
    let mut out = vec![0u8; body.len()];
    let n = amf0::encode(&mut out, |w| {
        for v in &values {
            w.value(v);
        }
    })
    .unwrap();
    out.truncate(n);
    out
}

/// Decodes every message, checks canonical re-encoding, returns the commands' names.
fn check_all(msgs: &[Msg]) -> (Vec<String>, usize, usize) {
    let (mut names, mut audio, mut video) = (Vec::new(), 0, 0);
    for m in msgs {
        match m.type_id {
            1 | 2 | 3 | 5 | 6 => {
                let c = ProtocolControl::decode(m.type_id, &m.payload).unwrap();
                let mut b = [0u8; 8];
                let n = c.encode(&mut b).unwrap();
                assert_eq!(&b[..n], &m.payload[..], "{c:?}");
            }
            type_id::USER_CONTROL => {
                let u = UserControl::decode(&m.payload).unwrap();
                let mut b = [0u8; 10];
                let n = u.encode(&mut b).unwrap();
                assert_eq!(&b[..n], &m.payload[..], "{u:?}");
            }
            type_id::COMMAND_AMF0 => {
                let c = CommandMessage::decode(m.type_id, &m.payload).unwrap();
                c.command().unwrap_or_else(|e| panic!("{}: {e}", c.name));
                assert_eq!(reencode_amf(&m.payload), m.payload, "{}", c.name);
                names.push(c.name.to_string());
            }
            type_id::DATA_AMF0 => {
                let d = DataMessage::decode(m.type_id, &m.payload).unwrap();
                assert_eq!(reencode_amf(&m.payload), m.payload, "{}", d.name);
                names.push(d.name.to_string());
            }
            type_id::AUDIO => audio += 1,
            type_id::VIDEO => video += 1,
            other => panic!("unexpected message type {other}"),
        }
    }
    (names, audio, video)
}

fn commands(msgs: &[Msg]) -> impl Iterator<Item = (&Msg, CommandMessage<'_>)> {
    msgs.iter()
        .filter(|m| m.type_id == type_id::COMMAND_AMF0)
        .map(|m| (m, CommandMessage::decode(m.type_id, &m.payload).unwrap()))
}

#[test]
fn digest_handshake_keys_match_ffmpeg_and_nginx() {
    let (c1, c2, _) = split(load("ffmpeg-publish-c2s.bin"));
    let (s1, s2, _) = split(load("ffmpeg-publish-s2c.bin"));
    // ffmpeg signs C1 with the Flash Player key ...
    let (_, c1_digest) = handshake::find_client_digest(c1).expect("ffmpeg C1 carries a valid digest");
    // ... nginx-rtmp signs S1 with the Media Server key ...
    let (_, s1_digest) = handshake::find_server_digest(s1).expect("nginx S1 carries a valid digest");
    // ... nginx signs S2 with a key derived from ffmpeg's digest (the full
    // 68-byte key) ...
    assert!(handshake::verify_s2(&c1_digest, s2), "nginx S2 signature");
    // ... ffmpeg as a publisher echoes S1 as C2 (rtmpproto.c signs C2 only
    // when playing) ...
    assert_eq!(c2, s1);
    assert!(!handshake::verify_c2(&s1_digest, c2));
    // ... and as a player signs C2 with a key derived from nginx's digest
    // (the full 62-byte key).
    let (play_c1, play_c2, _) = split(load("ffmpeg-play-c2s.bin"));
    let (play_s1, play_s2, _) = split(load("ffmpeg-play-s2c.bin"));
    let (_, play_s1_digest) = handshake::find_server_digest(play_s1).unwrap();
    let (_, play_c1_digest) = handshake::find_client_digest(play_c1).unwrap();
    assert!(handshake::verify_c2(&play_s1_digest, play_c2), "ffmpeg player C2 signature");
    assert!(handshake::verify_s2(&play_c1_digest, play_s2));
    // Our server answers ffmpeg's C0+C1 with a digest handshake too.
    let mut server = handshake::ServerHandshake::new(0, &[0x42; handshake::RANDOM_LEN]);
    assert_eq!(server.handle_input(&load("ffmpeg-publish-c2s.bin")[..1 + PACKET_LEN]).unwrap(), 1 + PACKET_LEN);
    assert!(server.outcome().unwrap().digest.is_some());
    // Our client accepts nginx's S0+S1 and S2 (S2 answers ffmpeg's C1, not ours).
    let mut client = handshake::ClientHandshake::new(Default::default(), 0, &[0x24; handshake::RANDOM_LEN]);
    client.transmitted(1 + PACKET_LEN);
    assert_eq!(client.handle_input(&load("ffmpeg-publish-s2c.bin")[..1 + PACKET_LEN]).unwrap(), 1 + PACKET_LEN);
    assert!(client.outcome().unwrap().digest.is_some());
    assert_eq!(client.handle_input(&load("ffmpeg-publish-s2c.bin")[1 + PACKET_LEN..]).unwrap(), PACKET_LEN);
    assert_eq!(client.outcome().unwrap().answer_signed, Some(false));
}

#[test]
fn ffmpeg_publisher_to_nginx() {
    let (_, _, msgs) = split(load("ffmpeg-publish-c2s.bin"));
    let (names, audio, video) = check_all(&msgs);
    assert_eq!(&names[..5], ["connect", "releaseStream", "FCPublish", "createStream", "publish"]);
    assert!(names.contains(&"onMetaData".to_string()));
    assert!(video >= 9 && audio >= 40, "video {video} audio {audio}");

    let mut buf = [0u8; 256];
    for (m, c) in commands(&msgs) {
        let ours = match c.command().unwrap() {
            Command::Connect(connect) => {
                assert_eq!(connect.app(), Some("live"));
                assert_eq!(connect.kind(), Some("nonprivate"));
                assert!(connect.tc_url().unwrap().starts_with("rtmp://127.0.0.1:"));
                assert!(connect.tc_url().unwrap().ends_with("/live"));
                continue;
            }
            Command::ReleaseStream { transaction_id, name } => {
                encode::release_stream(&mut buf, transaction_id, name.as_str())
            }
            Command::FcPublish { transaction_id, name } => encode::fc_publish(&mut buf, transaction_id, name.as_str()),
            Command::CreateStream { transaction_id } => encode::create_stream(&mut buf, transaction_id),
            Command::Publish { transaction_id, name, publish_type } => {
                assert_eq!((name.as_str(), publish_type), ("cap", "live"));
                encode::publish(&mut buf, transaction_id, name.as_str(), publish_type)
            }
            Command::FcUnpublish { transaction_id, name } => {
                encode::fc_unpublish(&mut buf, transaction_id, name.as_str())
            }
            Command::DeleteStream { transaction_id, stream_id } => {
                encode::delete_stream(&mut buf, transaction_id, stream_id)
            }
            other => panic!("unexpected {other:?}"),
        };
        // Our typed encoders produce ffmpeg's exact bytes.
        assert_eq!(&buf[..ours.unwrap()], &m.payload[..], "{}", c.name);
    }
    let meta = msgs.iter().find(|m| m.type_id == type_id::DATA_AMF0).unwrap();
    let d = DataMessage::decode(meta.type_id, &meta.payload).unwrap();
    assert!(d.set_data_frame);
    let md = d.metadata().unwrap();
    assert_eq!((md.get_number("width"), md.get_number("height")), (Some(160.0), Some(120.0)));
    assert_eq!(md.get_number("videocodecid"), Some(7.0));
    assert_eq!(md.get_number("audiocodecid"), Some(10.0));
    // Media timestamps never go backwards per type (B-frames use composition time).
    for ty in [type_id::AUDIO, type_id::VIDEO] {
        let ts: Vec<u32> = msgs.iter().filter(|m| m.type_id == ty).map(|m| m.timestamp).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");
    }
}

#[test]
fn nginx_answers_the_publisher() {
    let (_, _, msgs) = split(load("ffmpeg-publish-s2c.bin"));
    let (names, _, _) = check_all(&msgs);
    assert!(names.iter().filter(|n| *n == "_result").count() >= 2, "{names:?}");
    let controls: Vec<ProtocolControl> = msgs
        .iter()
        .filter(|m| matches!(m.type_id, 1 | 5 | 6))
        .map(|m| ProtocolControl::decode(m.type_id, &m.payload).unwrap())
        .collect();
    assert!(controls.contains(&ProtocolControl::SetChunkSize(4096)), "{controls:?}");
    assert!(controls.iter().any(|c| matches!(c, ProtocolControl::WindowAckSize(_))));
    let mut saw_connect_ok = false;
    let mut saw_publish_start = false;
    for (_, c) in commands(&msgs) {
        match c.command().unwrap() {
            Command::Result { transaction_id: 1.0, info, .. } => {
                let s = rtmp_core::message::Status::from_object(info.as_object().unwrap()).unwrap();
                assert_eq!(s.code, "NetConnection.Connect.Success");
                saw_connect_ok = true;
            }
            Command::OnStatus(s) if s.code == "NetStream.Publish.Start" => {
                assert_eq!(s.level, StatusLevel::Status);
                saw_publish_start = true;
            }
            _ => {}
        }
    }
    assert!(saw_connect_ok && saw_publish_start);
}

#[test]
fn ffmpeg_player_and_nginx_stream() {
    let (_, _, up) = split(load("ffmpeg-play-c2s.bin"));
    let (names, _, _) = check_all(&up);
    assert!(names.contains(&"play".to_string()), "{names:?}");
    let play = commands(&up).find(|(_, c)| c.name == "play").unwrap().1;
    assert!(matches!(play.command().unwrap(), Command::Play { name: StreamName("cap"), .. }));
    let connect = commands(&up).find(|(_, c)| c.name == "connect").unwrap().1;
    let Command::Connect(connect) = connect.command().unwrap() else { panic!() };
    assert_eq!(connect.properties.get_number("videoCodecs"), Some(252.0));
    assert!(up.iter().any(|m| m.type_id == type_id::USER_CONTROL
        && matches!(UserControl::decode(&m.payload), Ok(UserControl::SetBufferLength { .. }))));

    let (_, _, down) = split(load("ffmpeg-play-s2c.bin"));
    let (names, audio, video) = check_all(&down);
    assert!(names.contains(&"onStatus".to_string()), "{names:?}");
    assert!(video >= 5 && audio >= 10, "video {video} audio {audio}");
    assert!(down.iter().any(|m| m.type_id == type_id::USER_CONTROL
        && matches!(UserControl::decode(&m.payload), Ok(UserControl::StreamBegin(_)))));
    // nginx relays video starting at a keyframe with its AVC sequence header first.
    let first_video = down.iter().find(|m| m.type_id == type_id::VIDEO).unwrap();
    assert_eq!(&first_video.payload[..2], &[0x17, 0x00], "keyframe + AVC sequence header");
    assert!(down.iter().all(|m| m.stream_id == 0 || m.stream_id == 1));
}
