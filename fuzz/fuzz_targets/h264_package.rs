//! `AvcPackager::package` and `parse_sps` over arbitrary Annex-B: no panic;
//! a packaged frame's parts add up to its length and point into the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::flv::avc::{parse_sps, AnnexB, AvcPackager};

fuzz_target!(|data: &[u8]| {
    for nal in AnnexB::new(data) {
        let _ = parse_sps(nal);
    }
    let mut p = AvcPackager::new();
    for au in data.split(|&b| b == 0xFE) {
        if let Ok((config, frame)) = p.package::<8>(au, 40) {
            if let Some(c) = config {
                assert!(c.len() >= 11);
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
