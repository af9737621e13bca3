//! The Publisher session against nginx-rtmp's recorded answers, and its
//! zero-copy media path.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::{ServerHandshake, RANDOM_LEN};
use rtmp_core::message::{type_id, CommandMessage, ProtocolControl, UserControl};
use rtmp_core::session::{CloseReason, Event, Publisher, PublisherConfig, PublisherState, SendError};
use rtmp_core::time::{Instant, RtmpTimestamp};

fn nginx_answers() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ffmpeg-publish-s2c.bin")).unwrap()
}

/// A publisher for `live/cap` on 127.0.0.1, at time zero.
fn publisher(recv: &mut [u8]) -> Publisher<'_> {
    let cfg = PublisherConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    Publisher::new(cfg, recv, Instant::ZERO, &[1; RANDOM_LEN])
}

/// Sends everything the publisher has queued into `wire`.
fn flush(p: &mut Publisher<'_>, wire: &mut Vec<u8>) {
    while let Some(b) = p.poll_transmit() {
        let n = b.len().min(1000);
        wire.extend_from_slice(&b[..n]);
        p.transmitted(n);
    }
}

/// Feeds `input` the way a driver does: handle, transmit, and offer the
/// retained bytes again until nothing more is consumed. Returns what was consumed.
fn feed(p: &mut Publisher<'_>, input: &[u8], sink: &mut Vec<u8>) -> usize {
    let mut at = 0;
    loop {
        let n = p.handle_input(Instant::ZERO, &input[at..]).unwrap();
        at += n;
        let before = sink.len();
        flush(p, sink);
        if n == 0 && sink.len() == before {
            return at;
        }
    }
}

/// Decodes what the publisher sent, as a server would.
fn sent_commands(wire: &[u8]) -> Vec<(u8, u32, String)> {
    let mut hs = ServerHandshake::new(0, &[0; RANDOM_LEN]);
    let mut at = hs.handle_input(wire).unwrap();
    at += hs.handle_input(&wire[at..]).unwrap();
    assert!(hs.is_complete());
    let mut buf = vec![0u8; 8192];
    let mut r = ChunkReader::<8>::new(&mut buf, ReaderConfig::default());
    let mut out = Vec::new();
    loop {
        let (n, m) = r.read(&wire[at..]).unwrap();
        at += n;
        let Some(m) = m else { break };
        let what = match m.type_id {
            type_id::COMMAND_AMF0 => CommandMessage::decode(m.type_id, m.payload).unwrap().name.to_string(),
            type_id::USER_CONTROL => format!("{:?}", UserControl::decode(m.payload).unwrap()),
            1..=6 => format!("{:?}", ProtocolControl::decode(m.type_id, m.payload).unwrap()),
            t => format!("type {t}"),
        };
        out.push((m.type_id, m.stream_id, what));
    }
    assert_eq!(at, wire.len(), "whole messages only");
    out
}

#[test]
fn publishes_against_recorded_nginx() {
    let answers = nginx_answers();
    let mut recv = [0u8; 4096];
    let mut p = publisher(&mut recv);
    let mut wire = Vec::new();
    flush(&mut p, &mut wire);
    assert_eq!(wire.len(), 1537);
    let mut events = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for piece in answers.chunks(700) {
        pending.extend_from_slice(piece);
        let n = p.handle_input(Instant::from_millis(5), &pending).unwrap();
        pending.drain(..n);
        flush(&mut p, &mut wire);
        while let Some(e) = p.poll_event() {
            events.push(e);
        }
    }
    assert!(pending.is_empty());
    assert_eq!(events[0], Event::Connected);
    assert_eq!(events[1], Event::PublishStarted { stream_id: 1 });
    // nginx's capture ends with the Unpublish.Success that ffmpeg's FCUnpublish caused.
    assert!(matches!(&events[2], Event::Status { code, .. } if code.as_str() == "NetStream.Unpublish.Success"));
    assert_eq!(p.state(), PublisherState::Publishing);
    assert_eq!(p.poll_timeout(), None);

    let sent = sent_commands(&wire);
    let names: Vec<&str> = sent.iter().map(|(_, _, w)| w.as_str()).collect();
    assert_eq!(names, ["SetChunkSize(4096)", "connect", "releaseStream", "FCPublish", "createStream", "publish"]);
    assert_eq!(sent[5].1, 1, "publish goes on the stream nginx created");

    p.close();
    flush(&mut p, &mut wire);
    let sent = sent_commands(&wire);
    let tail: Vec<&str> = sent.iter().rev().take(2).map(|(_, _, w)| w.as_str()).collect();
    assert_eq!(tail, ["deleteStream", "FCUnpublish"]);
    assert_eq!(p.poll_event(), Some(Event::Closed(CloseReason::Local)));
    assert_eq!(p.poll_event(), None);
}

#[test]
fn media_slices_point_into_the_callers_frame() {
    let answers = nginx_answers();
    let mut recv = [0u8; 4096];
    let mut p = publisher(&mut recv);
    let mut sink = Vec::new();
    flush(&mut p, &mut sink);
    // Before publishing, media is refused.
    let early = [0x17u8, 1, 0, 0, 0];
    let early_parts = [&early[..]];
    assert_eq!(p.send_video(RtmpTimestamp(0), &early_parts).unwrap_err(), SendError::NotPublishing);
    assert_eq!(feed(&mut p, &answers, &mut sink), answers.len());
    assert_eq!(p.state(), PublisherState::Publishing);

    let header = [0x17u8, 1, 0, 0, 0];
    let frame: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let parts = [&header[..], &frame[..]];
    let mut msg = p.send_video(RtmpTimestamp(40), &parts).unwrap();
    let frame_range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
    // Partial writes of at most 3000 bytes; count what each write took from the frame.
    let (mut from_frame, mut total) = (0, 0);
    while !msg.is_done() {
        let (mut budget, mut n) = (3000usize, 0);
        for s in msg.slices().take(3) {
            let take = s.len().min(budget);
            if take == 0 {
                break;
            }
            let at = s.as_ptr() as usize;
            if frame_range.contains(&at) {
                assert!(at + s.len() <= frame_range.end);
                from_frame += take;
            }
            n += take;
            budget -= take;
        }
        msg.advance(n);
        total += n;
    }
    assert_eq!(from_frame, frame.len(), "every frame byte went out from the frame itself");
    // 12-byte header, 5-byte video tag header, frame, 2 continuation headers (4096-byte chunks).
    assert_eq!(total, 12 + 5 + frame.len() + 2);
}

#[test]
fn refusal_carries_the_servers_code() {
    // nginx's answers up to createStream's _result, then a BadName onStatus.
    let mut recv = [0u8; 4096];
    let mut p = publisher(&mut recv);
    let mut sink = Vec::new();
    flush(&mut p, &mut sink);
    let answers = nginx_answers();
    // Stop before nginx's Publish.Start (the first onStatus on csid 5).
    // The message starts 15 bytes before the name: a 12-byte header, then 02 00 08.
    let cut = answers.windows(8).position(|w| w == b"onStatus").unwrap() - 15;
    let n = feed(&mut p, &answers[..cut], &mut sink);
    assert_eq!(p.state(), PublisherState::StartingPublish, "consumed {n}");
    let mut status = [0u8; 256];
    let bad = rtmp_core::message::StatusInfo {
        level: "error",
        code: "NetStream.Publish.BadName",
        description: "Already publishing",
    };
    let len = rtmp_core::message::encode::on_status(&mut status, &bad).unwrap();
    let mut msg = vec![0x05, 0, 0, 0, 0, 0, len as u8, 20, 1, 0, 0, 0];
    msg.extend_from_slice(&status[..len]);
    let mut rest = answers[n..cut].to_vec();
    rest.extend_from_slice(&msg);
    p.handle_input(Instant::ZERO, &rest).unwrap();
    let closed = std::iter::from_fn(|| p.poll_event()).last().unwrap();
    let Event::Closed(CloseReason::Refused { code, description }) = closed else { panic!("{closed:?}") };
    assert_eq!((code.as_str(), description.as_str()), ("NetStream.Publish.BadName", "Already publishing"));
    assert_eq!(p.state(), PublisherState::Closed);
    assert!(p.handle_input(Instant::ZERO, &[0]).is_err());
}

#[test]
fn setup_times_out() {
    let mut recv = [0u8; 4096];
    let mut p = publisher(&mut recv);
    let deadline = p.poll_timeout().unwrap();
    p.handle_timeout(Instant::from_millis(1)); // early: harmless
    assert_eq!(p.poll_event(), None);
    p.handle_timeout(deadline);
    p.handle_timeout(deadline); // repeated: reported once
    assert_eq!(p.poll_event(), Some(Event::Closed(CloseReason::Timeout("the handshake"))));
    assert_eq!(p.poll_event(), None);
}

#[test]
fn publisher_size() {
    let size = std::mem::size_of::<Publisher<'static>>();
    assert!(size <= 4096, "Publisher is {size} bytes");
    println!("size_of::<Publisher>() = {size}");
}

/// A protocol message as the server would chunk it (fmt 0, csid 2, stream 0).
fn server_control(type_id: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut m = vec![0x02, 0, 0, 0, (len >> 16) as u8, (len >> 8) as u8, len as u8, type_id, 0, 0, 0, 0];
    m.extend_from_slice(payload);
    m
}

#[test]
fn answers_pings_and_acknowledges_running_totals() {
    let answers = nginx_answers();
    let mut recv = [0u8; 4096];
    let mut p = publisher(&mut recv);
    let mut wire = Vec::new();
    flush(&mut p, &mut wire);
    assert_eq!(feed(&mut p, &answers, &mut wire), answers.len());
    let before = sent_commands(&wire).len();

    // A ping, then a 100-byte acknowledgement window and enough bytes to need two acks.
    let mut input = server_control(4, &[0, 6, 0, 0, 0x30, 0x39]);
    input.extend(server_control(5, &100u32.to_be_bytes()));
    for _ in 0..10 {
        input.extend(server_control(4, &[0, 0, 0, 0, 0, 1])); // Stream Begin, 18 bytes each
    }
    let total_in = (answers.len() + input.len()) as u32;
    assert_eq!(feed(&mut p, &input, &mut wire), input.len());
    let sent = sent_commands(&wire);
    let new: Vec<&str> = sent[before..].iter().map(|(_, _, w)| w.as_str()).collect();
    assert_eq!(new[0], "PingResponse(12345)", "ping answered first, echoing its timestamp");
    let acks: Vec<u32> = new
        .iter()
        .filter_map(|w| {
            w.strip_prefix("Acknowledgement(").and_then(|v| v.strip_suffix(')')).map(|v| v.parse().unwrap())
        })
        .collect();
    assert!(acks.len() >= 2, "{new:?}");
    assert!(acks.windows(2).all(|w| w[1] > w[0]) && *acks.last().unwrap() <= total_in, "{acks:?}");
}

#[test]
fn link_health_and_reconnect_request() {
    let answers = nginx_answers();
    let mut recv = [0u8; 4096];
    let mut cfg = PublisherConfig::new("live", "cap", "rtmp://127.0.0.1:1935/live");
    cfg.ack_window = 262_144;
    cfg.caps_ex = rtmp_core::session::CAPS_EX_RECONNECT;
    let mut p = Publisher::new(cfg, &mut recv, Instant::ZERO, &[1; RANDOM_LEN]);
    let mut wire = Vec::new();
    flush(&mut p, &mut wire);
    assert_eq!(feed(&mut p, &answers, &mut wire), answers.len());
    assert_eq!(p.state(), PublisherState::Publishing);
    // The window is announced before connect; connect carries capsEx.
    let sent = sent_commands(&wire);
    let names: Vec<&str> = sent.iter().map(|(_, _, w)| w.as_str()).take(3).collect();
    assert_eq!(names, ["SetChunkSize(4096)", "WindowAckSize(262144)", "connect"]);
    assert!(wire.windows(6).any(|w| w == b"capsEx"));
    assert_eq!((p.acknowledged(), p.answers()), (None, 0));

    // A ping of ours and the server's response; an acknowledgement.
    p.ping(Instant::from_millis(7000)).unwrap();
    flush(&mut p, &mut wire);
    let sent = sent_commands(&wire);
    assert_eq!(sent.last().unwrap().2, "PingRequest(7000)");
    let mut input = server_control(3, &1_000_000u32.to_be_bytes());
    input.extend(server_control(4, &[0, 7, 0, 0, 0x1b, 0x58]));
    assert_eq!(feed(&mut p, &input, &mut wire), input.len());
    assert_eq!((p.acknowledged(), p.answers()), (Some(1_000_000), 1));

    // Enhanced RTMP v2 reconnect request with a new tcUrl.
    let mut status = [0u8; 512];
    let len = rtmp_core::amf0::encode(&mut status, |w| {
        w.string("onStatus").number(0.0).null().object_start();
        w.key("level").string("status");
        w.key("code").string("NetConnection.Connect.ReconnectRequest");
        w.key("description").string("move");
        w.key("tcUrl").string("rtmp://10.0.0.2/live");
        w.object_end();
    })
    .unwrap();
    let mut msg = vec![0x03, 0, 0, 0, 0, 0, len as u8, 20, 0, 0, 0, 0];
    msg.extend_from_slice(&status[..len]);
    assert_eq!(feed(&mut p, &msg, &mut wire), msg.len());
    let events: Vec<Event> = std::iter::from_fn(|| p.poll_event()).collect();
    assert!(events.contains(&Event::ReconnectRequest), "{events:?}");
    assert_eq!(p.reconnect_tc_url(), "rtmp://10.0.0.2/live");
    assert_eq!(p.state(), PublisherState::Publishing, "still publishing until the caller moves");
}
