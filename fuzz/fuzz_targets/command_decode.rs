//! Every message payload decoder: command (AMF0 and AMF3 containers), data,
//! protocol control and user control. The first byte picks the decoder
//! (for protocol control, the second byte is the message type).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::message::{CommandMessage, DataMessage, ProtocolControl, UserControl};

fuzz_target!(|data: &[u8]| {
    let Some((&t, payload)) = data.split_first() else { return };
    match t % 6 {
        0 | 1 => {
            let type_id = if t % 6 == 0 { 20 } else { 17 };
            if let Ok(c) = CommandMessage::decode(type_id, payload) {
                let _ = c.command();
                c.args().for_each(drop);
            }
        }
        2 | 3 => {
            let type_id = if t % 6 == 2 { 18 } else { 15 };
            if let Ok(d) = DataMessage::decode(type_id, payload) {
                let _ = d.metadata().map(|m| m.iter().count());
            }
        }
        4 => {
            if let Some((&type_id, body)) = payload.split_first() {
                if let Ok(c) = ProtocolControl::decode(type_id, body) {
                    let mut b = [0u8; 8];
                    let n = c.encode(&mut b).expect("control messages fit 8 bytes");
                    assert_eq!(ProtocolControl::decode(c.type_id(), &b[..n]), Ok(c));
                }
            }
        }
        _ => {
            if let Ok(u) = UserControl::decode(payload) {
                let mut b = [0u8; 10];
                let _ = u.encode(&mut b);
            }
        }
    }
});
