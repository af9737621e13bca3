//! Decodes one direction of a recorded RTMP connection and prints it:
//! the handshake, then every message with its decoded contents.
//!
//! ```text
//! cargo run -p rtmp-core --example inspect -- rtmp-core/tests/data/ffmpeg-publish-c2s.bin
//! cargo run -p rtmp-core --example inspect -- FILE --dump DIR   # also write each payload to DIR
//! ```
//!
//! Stream names (usually stream keys) are shown redacted, by their length.

use rtmp_core::chunk::{ChunkReader, ReaderConfig};
use rtmp_core::handshake::{self, PACKET_LEN};
use rtmp_core::message::{type_id, Command, CommandMessage, DataMessage, ProtocolControl, UserControl};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: inspect FILE [--dump DIR]");
        return ExitCode::from(2);
    };
    let dump = args.iter().position(|a| a == "--dump").and_then(|i| args.get(i + 1));
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("inspect: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&bytes, dump.map(String::as_str)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inspect: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(bytes: &[u8], dump: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    if bytes.len() < 1 + 2 * PACKET_LEN || bytes[0] != handshake::RTMP_VERSION {
        return Err("not an RTMP connection (no C0/S0 version 3 and two 1536-byte packets)".into());
    }
    let hello: &[u8; PACKET_LEN] = bytes[1..1 + PACKET_LEN].try_into()?;
    let who = if let Some((scheme, _)) = handshake::find_client_digest(hello) {
        format!("client, digest handshake ({scheme:?})")
    } else if let Some((scheme, _)) = handshake::find_server_digest(hello) {
        format!("server, digest handshake ({scheme:?})")
    } else {
        "simple handshake".to_string()
    };
    println!("handshake: version 3, {who}, version field {:02x?}", &hello[4..8]);
    if let Some(dir) = dump {
        std::fs::create_dir_all(dir)?;
    }

    let mut buf = vec![0u8; 1 << 20];
    let mut reader = ChunkReader::<16>::new(&mut buf, ReaderConfig::default());
    let mut input = &bytes[1 + 2 * PACKET_LEN..];
    let mut index = 0usize;
    loop {
        let (n, msg) = reader.read(input)?;
        input = &input[n..];
        let Some(m) = msg else { break };
        let what = describe(m.type_id, m.payload);
        println!(
            "#{index:<4} t={:<7} csid={:<3} stream={} type={:<2} len={:<6} {what}",
            m.timestamp.value(),
            m.csid,
            m.stream_id,
            m.type_id,
            m.payload.len()
        );
        if let Some(dir) = dump {
            std::fs::write(format!("{dir}/{index:04}-type{}.bin", m.type_id), m.payload)?;
        }
        index += 1;
    }
    if !input.is_empty() {
        println!("({} trailing bytes: an unfinished chunk)", input.len());
    }
    println!("{index} messages");
    Ok(())
}

fn describe(type_id: u8, payload: &[u8]) -> String {
    match type_id {
        1 | 2 | 3 | 5 | 6 => format!("{:?}", ProtocolControl::decode(type_id, payload)),
        type_id::USER_CONTROL => format!("{:?}", UserControl::decode(payload)),
        type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => match CommandMessage::decode(type_id, payload) {
            Ok(c) => match c.command() {
                Ok(Command::Connect(connect)) => format!("connect {:?}", connect.properties),
                Ok(Command::OnStatus(s)) => format!("onStatus {} {} {:?}", s.level.as_str(), s.code, s.description),
                Ok(Command::Other(c)) => format!("{} (tx {})", c.name, c.transaction_id),
                Ok(cmd) => format!("{cmd:?}"),
                Err(e) => format!("{}: {e}", c.name),
            },
            Err(e) => format!("bad command: {e}"),
        },
        type_id::DATA_AMF0 | type_id::DATA_AMF3 => match DataMessage::decode(type_id, payload) {
            Ok(d) => match d.metadata() {
                Some(m) => format!("{} {:?}", d.name, m),
                None => d.name.to_string(),
            },
            Err(e) => format!("bad data message: {e}"),
        },
        type_id::VIDEO => {
            let (frame, codec) = payload.first().map_or((0, 0), |b| (b >> 4, b & 15));
            let kind = match (codec, payload.get(1)) {
                (7, Some(0)) => "AVC sequence header",
                (7, Some(1)) => "AVC NALUs",
                (7, Some(2)) => "AVC end of sequence",
                _ => "video",
            };
            format!("{kind}{}", if frame == 1 { ", keyframe" } else { "" })
        }
        type_id::AUDIO => match payload {
            [b, 0, ..] if b >> 4 == 10 => "AAC sequence header".to_string(),
            [b, ..] if b >> 4 == 10 => "AAC raw".to_string(),
            _ => "audio".to_string(),
        },
        other => format!("type {other}"),
    }
}
