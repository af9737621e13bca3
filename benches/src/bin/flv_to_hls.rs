//! `flv_to_hls IN.flv OUT_DIR [SEGMENT_SECS]`: the HLS path of `rtmp-serve
//! --hls` (rtmp-core's TS muxer and segmenter, board's segment files) fed
//! from an FLV file instead of a publisher, for benches/hls_vs_ffmpeg.sh to
//! compare with `ffmpeg -i IN.flv -c copy -f hls`. Every segment is kept and
//! listed, as `-hls_list_size 0` does.

use board::hls::{HlsOptions, HlsStream};
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use std::io::Read;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, out) = match &args[..] {
        [i, o] | [i, o, _] => (i, o),
        _ => return Err("usage: flv_to_hls IN.flv OUT_DIR [SEGMENT_SECS]".into()),
    };
    let secs: f64 = args.get(2).map_or(Ok(2.0), |s| s.parse())?;
    let mut opts = HlsOptions { keep: true, ..HlsOptions::new(out) };
    opts.config.target_ms = (secs * 1000.0) as u32;
    opts.config.max_ms = 3 * opts.config.target_ms;
    let mut hls = HlsStream::create(&opts, Path::new(""))?;
    let mut file = std::fs::File::open(input)?;
    let mut reader = FlvReader::new();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut start, mut end) = (0, 0);
    loop {
        let (n, item) = reader.read(&buf[start..end])?;
        match item {
            FlvItem::Header(_) => start += n,
            FlvItem::Tag(tag) => {
                if matches!(tag.kind, TagType::Audio | TagType::Video) {
                    hls.frame(tag.kind.to_byte(), tag.timestamp, tag.data)?;
                }
                start += n;
            }
            FlvItem::NeedMore(want) => {
                start += n;
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
                if want > buf.len() {
                    buf.resize(want, 0);
                }
                let r = file.read(&mut buf[end..])?;
                if r == 0 {
                    break;
                }
                end += r;
            }
        }
    }
    hls.finish()?;
    let s = hls.stats();
    eprintln!("{} segments, {} frames, {} left out", s.segments, s.frames, s.dropped);
    Ok(())
}
