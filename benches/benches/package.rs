//! H.265 packaging per frame beside H.264: the camera's access units (the
//! host SDK's encoders at 640x480, one GOP: an IDR with its parameter sets
//! and 29 P-frames, in the encoder's one-NAL packs) turned into FLV /
//! Enhanced RTMP tag bodies. Only the packs' first bytes are read; the
//! time is per frame.

use benches::encoder_gop as gop;
use board::venc::Codec;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rtmp_core::flv::video::VideoPackager;

fn package(c: &mut Criterion) {
    let mut group = c.benchmark_group("package_frame");
    group.throughput(Throughput::Elements(30));
    for (codec, name) in [(Codec::H264, "avc"), (Codec::H265, "hevc")] {
        let frames = gop(codec);
        let mut packager = VideoPackager::new(codec);
        group.bench_function(format!("{name}/640x480-gop30"), |b| {
            b.iter(|| {
                packager.resend_config();
                let mut bytes = 0;
                for au in &frames {
                    let nals = au.iter().map(|p| p.strip_prefix(&[0, 0, 0, 1][..]).unwrap_or(&p[3..]));
                    let (config, frame) = packager.package_nal_units::<16>(nals, 0).unwrap();
                    bytes += config.map_or(0, <[u8]>::len) + frame.len();
                    let mut slots: [&[u8]; 33] = [&[]; 33];
                    black_box(frame.parts(&mut slots));
                }
                black_box(bytes)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, package);
criterion_main!(benches);
