//! `split_adts` over arbitrary bytes: no panic, and frames stay inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::aac::{split_adts, AacConfig};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((cfg, raw, next)) = split_adts(rest) {
        assert!(raw.len() + next.len() < rest.len());
        assert_eq!(AacConfig::from_audio_specific_config(&cfg.audio_specific_config()), Some(cfg));
        rest = next;
    }
    let _ = AacConfig::from_audio_specific_config(data);
});
