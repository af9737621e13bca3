//! `oss::verify` on arbitrary queries: no panic, and nothing but a query
//! signed with the key passes. Also a round trip: any grant the fuzzer
//! makes up, once signed, verifies with its playlist name intact.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_core::oss::{self, AccessKey, Grant};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let key = AccessKey::new("LTAI5tFuzz", b"fuzz-secret");
    if let Ok(v) = oss::verify(s, "cam", "door", &key, 1_000) {
        // Accepted: it must carry this key's signature over what it says.
        assert!(v.expires >= 1_000);
        let mut buf = [0u8; 256];
        let _ = v.playlist_name(&mut buf);
    }

    // Round trip: the input split into a channel, a playlist and a token.
    let mut parts = s.splitn(3, '\n');
    let (channel, playlist, token) = (parts.next().unwrap_or(""), parts.next(), parts.next());
    let grant = Grant { bucket: "cam", channel, playlist, security_token: token, expires: 2_000 };
    let mut out = [0u8; 4096];
    if let Ok(q) = oss::write_query(&mut out, &key, &grant) {
        let q = q.to_string();
        let v = oss::verify(&q, "cam", channel, &key, 1_999).expect("own signature refused");
        let mut buf = [0u8; 4096];
        let want = playlist.filter(|p| !p.is_empty());
        assert_eq!(v.playlist_name(&mut buf).map(|r| r.expect("playlist")), want);
        assert_eq!(oss::verify(&q, "cam", channel, &key, 2_001), Err(oss::VerifyError::Expired { expires: 2_000 }));
        assert!(oss::verify(&q, "cam", channel, &AccessKey::new("LTAI5tFuzz", b"other"), 0).is_err());
    }
});
