//! AMF0 decode and encode, rtmp-core against rml_amf0 (rml_rtmp's AMF0
//! crate), on ffmpeg's `connect` command and `@setDataFrame onMetaData` as
//! captured in tests/data.
//!
//! Decoding visits every value, nested ones included (rtmp-core decodes
//! lazily, so not visiting would measure nothing). Encoding builds the same
//! message from its fields; rtmp-core's output is checked to be ffmpeg's exact
//! bytes before timing.

use benches::messages;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rml_amf0::Amf0Value;
use rtmp_core::amf0::{self, Value};
use rtmp_core::message::{encode, ConnectParams, DataMessage, MetadataEntry};
use std::collections::HashMap;

fn visit(v: &Value<'_>) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Boolean(b) => *b as u8 as f64,
        Value::String(s) | Value::LongString(s) => s.len() as f64,
        Value::Object(o) | Value::TypedObject(_, o) => o.iter().map(|(k, v)| k.len() as f64 + visit(&v)).sum(),
        Value::EcmaArray(a) => a.properties.iter().map(|(k, v)| k.len() as f64 + visit(&v)).sum(),
        Value::StrictArray(a) => a.iter().map(|v| visit(&v)).sum(),
        _ => 0.0,
    }
}

fn inputs() -> (Vec<u8>, Vec<u8>) {
    let msgs = messages("ffmpeg-publish-c2s.bin");
    let connect = msgs.iter().find(|(t, _)| *t == 20).unwrap().1.clone();
    let meta = msgs.iter().find(|(t, _)| *t == 18).unwrap().1.clone();
    (connect, meta)
}

fn decode(c: &mut Criterion) {
    let (connect, meta) = inputs();
    let mut group = c.benchmark_group("amf0_decode");
    for (name, bytes) in [("connect", &connect), ("onMetaData", &meta)] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("rtmp-core/{name}"), |b| {
            b.iter(|| {
                let sum: f64 = amf0::Values::new(black_box(bytes)).map(|v| visit(&v.unwrap())).sum();
                black_box(sum)
            })
        });
        group.bench_function(format!("rml_amf0/{name}"), |b| {
            b.iter(|| {
                let values = rml_amf0::deserialize(&mut std::io::Cursor::new(black_box(&bytes[..]))).unwrap();
                black_box(values.len())
            })
        });
    }
    group.finish();
}

fn encode_bench(c: &mut Criterion) {
    let (connect, meta) = inputs();
    let mut group = c.benchmark_group("amf0_encode");

    // connect, exactly as ffmpeg sent it.
    let tc_url = "rtmp://127.0.0.1:19352/live";
    let flash_ver = "FMLE/3.0 (compatible; Lavf59.27.100)";
    let params = ConnectParams {
        transaction_id: 1.0,
        app: "live",
        kind: Some("nonprivate"),
        flash_ver,
        tc_url,
        player: false,
        four_cc_list: &[],
        four_cc_info: 0,
        caps_ex: 0,
    };
    let mut out = [0u8; 1024];
    let n = encode::connect(&mut out, &params).unwrap();
    let same = out[..n] == connect[..];
    group.throughput(Throughput::Bytes(n as u64));
    group.bench_function("rtmp-core/connect", |b| b.iter(|| black_box(encode::connect(&mut out, black_box(&params)))));
    let theirs = vec![
        Amf0Value::Utf8String("connect".into()),
        Amf0Value::Number(1.0),
        Amf0Value::Object(HashMap::from([
            ("app".to_string(), Amf0Value::Utf8String("live".into())),
            ("type".to_string(), Amf0Value::Utf8String("nonprivate".into())),
            ("flashVer".to_string(), Amf0Value::Utf8String(flash_ver.into())),
            ("tcUrl".to_string(), Amf0Value::Utf8String(tc_url.into())),
        ])),
    ];
    group
        .bench_function("rml_amf0/connect", |b| b.iter(|| black_box(rml_amf0::serialize(black_box(&theirs)).unwrap())));

    // @setDataFrame onMetaData with ffmpeg's 13 properties.
    let entries = [
        MetadataEntry::Number("duration", 1.0),
        MetadataEntry::Number("width", 160.0),
        MetadataEntry::Number("height", 120.0),
        MetadataEntry::Number("videodatarate", 0.0),
        MetadataEntry::Number("framerate", 10.0),
        MetadataEntry::Number("videocodecid", 7.0),
        MetadataEntry::Number("audiodatarate", 31.25),
        MetadataEntry::Number("audiosamplerate", 44100.0),
        MetadataEntry::Number("audiosamplesize", 16.0),
        MetadataEntry::Boolean("stereo", true),
        MetadataEntry::Number("audiocodecid", 10.0),
        MetadataEntry::String("encoder", "Lavf59.27.100"),
        MetadataEntry::Number("filesize", 0.0),
    ];
    let n = DataMessage::encode_metadata(&mut out, &entries).unwrap();
    assert!(same && out[..n] == meta[..], "rtmp-core must produce ffmpeg's exact bytes");
    group.throughput(Throughput::Bytes(n as u64));
    group.bench_function("rtmp-core/onMetaData", |b| {
        b.iter(|| black_box(DataMessage::encode_metadata(&mut out, black_box(&entries))))
    });
    let props: HashMap<String, Amf0Value> = entries
        .iter()
        .map(|e| match *e {
            MetadataEntry::Number(k, v) => (k.to_string(), Amf0Value::Number(v)),
            MetadataEntry::Boolean(k, v) => (k.to_string(), Amf0Value::Boolean(v)),
            MetadataEntry::String(k, v) => (k.to_string(), Amf0Value::Utf8String(v.into())),
        })
        .collect();
    let theirs = vec![
        Amf0Value::Utf8String("@setDataFrame".into()),
        Amf0Value::Utf8String("onMetaData".into()),
        Amf0Value::Object(props),
    ];
    group.bench_function("rml_amf0/onMetaData", |b| {
        b.iter(|| black_box(rml_amf0::serialize(black_box(&theirs)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, decode, encode_bench);
criterion_main!(benches);
