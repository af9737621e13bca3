//! `FlvReader::read` over arbitrary bytes in two pieces: no panic, tags are
//! inside the input, and `NeedMore` always asks for more than is there.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::{FlvItem, FlvReader};

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let split = usize::from(split).min(data.len());
    let mut r = FlvReader::new();
    let mut buf: Vec<u8> = data[..split].to_vec();
    let mut fed = split;
    loop {
        match r.read(&buf) {
            Ok((n, FlvItem::NeedMore(want))) => {
                assert!(n <= buf.len());
                buf.drain(..n);
                assert!(want > buf.len());
                if fed == data.len() {
                    return;
                }
                buf.extend_from_slice(&data[fed..]);
                fed = data.len();
            }
            Ok((n, item)) => {
                assert!(n > 0 && n <= buf.len());
                if let FlvItem::Tag(t) = item {
                    assert!(t.data.len() + 15 <= n);
                }
                buf.drain(..n);
            }
            Err(_) => return,
        }
    }
});
