//! `RtmpUrl::parse` on arbitrary strings: no panic; accepted URLs keep their
//! parts inside the input and never show the stream name in `Debug`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::url::RtmpUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(u) = RtmpUrl::parse(s) {
        assert!(!u.app().is_empty());
        assert!(s.contains(u.app()) && s.contains(u.stream()));
        let _ = u.tc_url().to_string();
        let dbg = format!("{u:?}");
        // The stream may legitimately show up inside the quoted host or app
        // (e.g. stream `"ab:c` inside app `ab:cd` printed as `"ab:cd"`).
        let public = format!("{:?}{:?}", u.host(), u.app());
        if u.stream().len() > 8 && !public.contains(u.stream()) {
            assert!(!dbg.contains(u.stream()), "stream name leaked into Debug");
        }
    }
});
