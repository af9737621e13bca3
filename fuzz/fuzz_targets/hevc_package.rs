//! `HevcPackager::package` and the H.265 `parse_sps` over arbitrary
//! Annex-B: no panic; a packaged frame's parts add up to its length, point
//! into the input, and a sequence header reads back as a configuration
//! record whose SPS parses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::avc::AnnexB;
use rtmp_core::flv::hevc::{parse_sps, HevcDecoderConfig, HevcPackager};

fuzz_target!(|data: &[u8]| {
    for nal in AnnexB::new(data) {
        let _ = parse_sps(nal);
    }
    let mut p = HevcPackager::new();
    for au in data.split(|&b| b == 0xFE) {
        if let Ok((config, frame)) = p.package::<8>(au, 40) {
            if let Some(c) = config {
                let rec = HevcDecoderConfig::parse(&c[5..]).expect("our own record reads back");
                assert!(parse_sps(rec.sps).is_ok());
            }
            let mut slots: [&[u8]; 17] = [&[]; 17];
            let parts = frame.parts(&mut slots).expect("17 slots fit 8 NAL units");
            assert_eq!(parts.iter().map(|s| s.len()).sum::<usize>(), frame.len());
            let range = au.as_ptr_range();
            for nal in parts.iter().skip(2).step_by(2) {
                assert!(range.contains(&nal.as_ptr()));
            }
        }
    }
});
