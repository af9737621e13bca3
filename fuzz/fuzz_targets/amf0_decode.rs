//! `amf0::Values` over arbitrary bytes: no panic, nesting stays within the
//! cap, and whatever decodes re-encodes to the same length, idempotently.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::amf0::{self, Value};

fuzz_target!(|data: &[u8]| {
    for v in amf0::Values::new(data) {
        let Ok(v) = v else { break };
        walk(&v, 0);
    }
    // The prefix that decoded cleanly must re-encode to itself.
    let ok_len = {
        let mut it = amf0::Values::new(data);
        let mut last = 0;
        while let Some(Ok(_)) = it.next() {
            last = data.len() - it.remaining().len();
        }
        last
    };
    let reencode = |bytes: &[u8]| {
        let mut out = vec![0u8; bytes.len()];
        let n = amf0::encode(&mut out, |w| {
            for v in amf0::Values::new(bytes).flatten() {
                w.value(&v);
            }
        })
        .expect("re-encoding decoded values fits the same size");
        out.truncate(n);
        out
    };
    // Same length; the bytes may differ only where AMF0 has two spellings
    // (a boolean is any non-zero byte), so a second round must be identical.
    let once = reencode(&data[..ok_len]);
    assert_eq!(once.len(), ok_len);
    assert_eq!(reencode(&once), once);
});

fn walk(v: &Value<'_>, depth: usize) {
    assert!(depth <= amf0::MAX_DEPTH + 1);
    match v {
        Value::Object(o) | Value::TypedObject(_, o) => properties(o, v, depth),
        Value::EcmaArray(a) => properties(&a.properties, v, depth),
        Value::StrictArray(a) => a.iter().for_each(|v| walk(&v, depth + 1)),
        _ => {}
    }
}

/// Iterating an object must yield every property: the properties' sizes add
/// up to the object's body.
fn properties(o: &amf0::Object<'_>, whole: &Value<'_>, depth: usize) {
    let mut seen = 0;
    for (k, v) in o.iter() {
        walk(&v, depth + 1);
        seen += 2
            + k.len()
            + amf0::encoded_len(|w| {
                w.value(&v);
            })
            .unwrap();
    }
    let with_frame = amf0::encoded_len(|w| {
        w.value(whole);
    })
    .unwrap();
    let frame = 1
        + 3
        + match whole {
            Value::EcmaArray(_) => 4,
            Value::TypedObject(class, _) => 2 + class.len(),
            _ => 0,
        };
    assert_eq!(seen + frame, with_frame, "iteration skipped part of an object");
}
