//! `amf0::Values` over arbitrary bytes: no panic, and whatever decodes
//! re-encodes to the same bytes (AMF0 encoding is canonical per value).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::amf0::{self, Value};

fuzz_target!(|data: &[u8]| {
    let mut values = amf0::Values::new(data);
    let mut decoded = 0usize;
    for v in values.by_ref() {
        let Ok(v) = v else { break };
        walk(&v, 0);
        decoded = data.len() - 0; // keep the borrow simple
        let _ = decoded;
    }
    let ok_len = {
        let mut it = amf0::Values::new(data);
        let mut last = 0;
        while let Some(Ok(_)) = it.next() {
            last = data.len() - it.remaining().len();
        }
        last
    };
    let mut out = vec![0u8; ok_len];
    let n = amf0::encode(&mut out, |w| {
        for v in amf0::Values::new(&data[..ok_len]).flatten() {
            w.value(&v);
        }
    })
    .expect("re-encoding decoded values fits the same size");
    assert_eq!(&out[..n], &data[..ok_len]);
});

fn walk(v: &Value<'_>, depth: usize) {
    assert!(depth <= amf0::MAX_DEPTH + 1);
    match v {
        Value::Object(o) | Value::TypedObject(_, o) => o.iter().for_each(|(_, v)| walk(&v, depth + 1)),
        Value::EcmaArray(a) => a.properties.iter().for_each(|(_, v)| walk(&v, depth + 1)),
        Value::StrictArray(a) => a.iter().for_each(|v| walk(&v, depth + 1)),
        _ => {}
    }
}
