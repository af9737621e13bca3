//! MPEG-TS muxing per frame, on two inputs: the media messages ffmpeg
//! published to nginx-rtmp (rtmp-core/tests/data/ffmpeg-publish-c2s.bin:
//! H.264 + AAC, small frames), and one GOP of the camera (the host encoder at
//! 640x480, 1 Mbit/s, packaged as the pipeline sends it). Each message is muxed into 188-byte packets handed out as header bytes plus slices
//! of the message. The setup checks, by pointer identity, that the frames'
//! bytes go out as slices of the input and are never copied; the timed loop
//! walks every packet's parts as a vectored write would. The comparison with
//! ffmpeg (`-c copy -f hls` on one file, CPU time) is benches/hls_vs_ffmpeg.sh.

use benches::{encoder_gop, messages};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rtmp_core::flv::media::MediaRole;
use rtmp_core::flv::video::{Codec, VideoPackager};
use rtmp_core::ts::{Muxed, TsMuxer, MAX_PARTS};

fn captured() -> Vec<(u8, Vec<u8>)> {
    messages("ffmpeg-publish-c2s.bin").into_iter().filter(|(t, _)| matches!(t, 8 | 9)).collect()
}

/// The camera's GOP as video message bodies: the sequence header, then 30 frames.
fn camera() -> Vec<(u8, Vec<u8>)> {
    let mut packager = VideoPackager::new(Codec::H264);
    let mut out = Vec::new();
    for au in encoder_gop(Codec::H264) {
        let nals = au.iter().map(|p| p.strip_prefix(&[0, 0, 0, 1][..]).unwrap_or(&p[3..]));
        let (config, frame) = packager.package_nal_units::<16>(nals, 0).unwrap();
        if let Some(c) = config {
            out.push((9, c.to_vec()));
        }
        let mut slots: [&[u8]; 33] = [&[]; 33];
        out.push((9, frame.parts(&mut slots).unwrap().concat()));
    }
    out
}

/// Muxes every message once; calls `part` with each packet part.
fn mux_all(mux: &mut TsMuxer, msgs: &[(u8, Vec<u8>)], mut part: impl FnMut(&[u8])) -> usize {
    let mut frames = 0;
    for (i, (kind, body)) in msgs.iter().enumerate() {
        if let Ok(Muxed::Frame(mut frame)) = mux.mux(*kind, body, i as u32 * 20) {
            frames += 1;
            while let Some(packet) = frame.next_packet() {
                let mut slots: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
                for p in packet.parts(&mut slots) {
                    part(p);
                }
            }
        }
    }
    frames
}

fn ts(c: &mut Criterion) {
    let mut group = c.benchmark_group("ts_mux");
    for (name, msgs, audio) in [("ffmpeg-publish/h264+aac", captured(), true), ("camera-640x480/h264", camera(), false)]
    {
        bench(&mut group, name, &msgs, audio);
    }
    group.finish();
}

fn bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    msgs: &[(u8, Vec<u8>)],
    audio: bool,
) {
    let frames = msgs.iter().filter(|(k, b)| MediaRole::of(*k, b) != MediaRole::Config).count();
    let payload: usize = msgs.iter().map(|(_, b)| b.len()).sum();

    // Zero copy: every byte that leaves is either a header the muxer wrote
    // or a slice inside one of the messages; at least 95% are the latter.
    let mut mux = TsMuxer::new(Some(Codec::H264), audio);
    let (mut borrowed, mut written) = (0usize, 0usize);
    mux_all(&mut mux, msgs, |p| {
        let inside = msgs.iter().any(|(_, b)| {
            let r = b.as_ptr_range();
            r.contains(&p.as_ptr()) && p.len() <= r.end as usize - p.as_ptr() as usize
        });
        if inside {
            borrowed += p.len();
        } else {
            written += p.len();
        }
    });
    assert!(borrowed * 100 >= 95 * payload.min(borrowed + written), "{borrowed} of {payload} payload bytes borrowed");
    println!(
        "{name}: {frames} frames, {payload} bytes: {borrowed} bytes sent as slices of the messages, {written} header bytes"
    );
    group.throughput(Throughput::Elements(frames as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut mux = TsMuxer::new(Some(Codec::H264), audio);
            let mut bytes = 0;
            let n = mux_all(&mut mux, msgs, |p| bytes += black_box(p).len());
            black_box((n, bytes))
        })
    });
}

criterion_group!(benches, ts);
criterion_main!(benches);
