//! Every message payload decoder: command (AMF0 and AMF3 containers), data,
//! protocol control and user control. First byte picks the message type.
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
            let _ = ProtocolControl::decode(t % 8, payload);
        }
        _ => {
            if let Ok(u) = UserControl::decode(payload) {
                let mut b = [0u8; 10];
                let _ = u.encode(&mut b);
            }
        }
    }
});
