//! `HevcDecoderConfig::parse` over arbitrary records, and `CodecConfig`
//! over arbitrary Enhanced RTMP video tags: no panic, and every slice it
//! returns lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::hevc::HevcDecoderConfig;
use rtmp_core::flv::media::{CodecConfig, MediaRole};

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = HevcDecoderConfig::parse(data) {
        let range = data.as_ptr_range();
        for s in [Some(rec.sps), rec.vps, rec.pps].into_iter().flatten() {
            assert!(range.contains(&s.as_ptr()) && s.len() <= data.len());
        }
        assert!(matches!(rec.nal_length_size, 1 | 2 | 4));
    }
    let _ = CodecConfig::from_message(9, data);
    let _ = CodecConfig::from_message(8, data);
    let _ = MediaRole::of(9, data);
    let _ = MediaRole::of(8, data);
});
