//! `VideoTag::parse`, `AudioTag::parse`, `AvcDecoderConfig::parse` and
//! `CodecConfig::from_message` on arbitrary bodies: no panic, and what they
//! return lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::media::{AudioTag, AvcDecoderConfig, CodecConfig, VideoTag};

fuzz_target!(|data: &[u8]| {
    let inside = |s: &[u8]| s.is_empty() || data.as_ptr_range().contains(&s.as_ptr());
    if let Ok(v) = VideoTag::parse(data) {
        assert!(inside(v.data) && v.data.len() < data.len());
        if let Ok(rec) = AvcDecoderConfig::parse(v.data) {
            assert!(inside(rec.sps) && inside(rec.pps) && !rec.sps.is_empty() && !rec.pps.is_empty());
        }
    }
    if let Ok(a) = AudioTag::parse(data) {
        assert!(inside(a.data) && a.data.len() < data.len());
    }
    let _ = CodecConfig::from_message(8, data);
    let _ = CodecConfig::from_message(9, data);
});
