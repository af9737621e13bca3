//! Tests of OSS URL signing (a test module, so std is allowed here).
#![cfg(test)]

extern crate std;
use super::*;
use std::format;

/// Inputs and the URL oss2 2.19.1 printed for them
/// (`oss2.Bucket(auth, endpoint, bucket).sign_rtmp_url(channel, playlist, expires)`
/// with `time.time` patched to 0, so that `expires` is the absolute `Expires`;
/// `StsAuth` where a token is given). scripts/test.sh compares many more
/// against the live oss2 package.
struct Case {
    endpoint: &'static str,
    bucket: &'static str,
    channel: &'static str,
    playlist: Option<&'static str>,
    token: Option<&'static str>,
    expires: u64,
    id: &'static str,
    secret: &'static str,
    url: &'static str,
}

const CASES: &[Case] = &[
    Case {
        endpoint: "oss-cn-hangzhou.aliyuncs.com",
        bucket: "cam-bucket",
        channel: "door",
        playlist: None,
        token: None,
        expires: 1_800_000_000,
        id: "LTAI5tExample",
        secret: "s3cr3t",
        url: "rtmp://cam-bucket.oss-cn-hangzhou.aliyuncs.com/live/door?OSSAccessKeyId=LTAI5tExample&Expires=1800000000&Signature=814dHgAxvVQSrH5AIgNdtJys%2FLY%3D",
    },
    Case {
        endpoint: "http://oss-cn-shanghai.aliyuncs.com",
        bucket: "b-12",
        channel: "yard",
        playlist: Some("live.m3u8"),
        token: None,
        expires: 1_700_000_000,
        id: "AK id/+=",
        secret: "k e y+/=",
        url: "rtmp://b-12.oss-cn-shanghai.aliyuncs.com/live/yard?playlistName=live.m3u8&OSSAccessKeyId=AK%20id%2F%2B%3D&Expires=1700000000&Signature=5yCUXc6tk43s%2FB7tJ9jEgwcMHIg%3D",
    },
    Case {
        endpoint: "https://OSS-cn-beijing.aliyuncs.com",
        bucket: "bkt",
        channel: "c1",
        playlist: Some("play list&x=1.m3u8"),
        token: Some("CAIS tok/en+=="),
        expires: 4_102_444_800,
        id: "STS.NTx",
        secret: "sec",
        url: "rtmp://bkt.oss-cn-beijing.aliyuncs.com/live/c1?playlistName=play%20list%26x%3D1.m3u8&security-token=CAIS%20tok%2Fen%2B%3D%3D&OSSAccessKeyId=STS.NTx&Expires=4102444800&Signature=DZVwz%2Fu4gBZtHugx9P5X7aqewks%3D",
    },
    Case {
        endpoint: "127.0.0.1:1935",
        bucket: "cam",
        channel: "ch_1",
        playlist: Some("p.m3u8"),
        token: None,
        expires: 1,
        id: "id",
        secret: "secret",
        url: "rtmp://127.0.0.1:1935/cam/live/ch_1?playlistName=p.m3u8&OSSAccessKeyId=id&Expires=1&Signature=6S7N8gXaDLQtjl%2FdgJqCPPgrLzw%3D",
    },
    Case {
        endpoint: "localhost",
        bucket: "cam",
        channel: "ch.2",
        playlist: None,
        token: Some("tok"),
        expires: 99,
        id: "id",
        secret: "秘密",
        url: "rtmp://localhost/cam/live/ch.2?security-token=tok&OSSAccessKeyId=id&Expires=99&Signature=etearf2oWUc7X4xePDaIUVZZM9I%3D",
    },
];

fn grant(c: &Case) -> Grant<'static> {
    Grant { bucket: c.bucket, channel: c.channel, playlist: c.playlist, security_token: c.token, expires: c.expires }
}

#[test]
fn urls_equal_oss2() {
    for c in CASES {
        let key = AccessKey::new(c.id, c.secret.as_bytes());
        let mut buf = [0u8; 512];
        assert_eq!(write_url(&mut buf, c.endpoint, &key, &grant(c)).unwrap(), c.url);
        let query = c.url.split_once('?').unwrap().1;
        assert_eq!(write_query(&mut buf, &key, &grant(c)).unwrap(), query);
    }
}

#[test]
fn short_buffer_is_untouched_and_says_how_much() {
    let c = &CASES[2];
    let key = AccessKey::new(c.id, c.secret.as_bytes());
    let mut buf = [0xAAu8; 100];
    assert_eq!(
        write_url(&mut buf, c.endpoint, &key, &grant(c)),
        Err(SignError::BufferTooSmall { needed: c.url.len() })
    );
    assert!(buf.iter().all(|&b| b == 0xAA));
}

#[test]
fn verify_accepts_oss2_urls_in_any_order() {
    for c in CASES {
        let key = AccessKey::new(c.id, c.secret.as_bytes());
        let query = c.url.split_once('?').unwrap().1;
        let v = verify(query, c.bucket, c.channel, &key, c.expires).unwrap();
        assert_eq!(v.expires, c.expires);
        let mut buf = [0u8; 64];
        assert_eq!(v.playlist_name(&mut buf).map(Result::unwrap), c.playlist);
        let mut reversed: std::vec::Vec<&str> = query.split('&').collect();
        reversed.reverse();
        let reversed = reversed.join("&");
        assert_eq!(verify(&reversed, c.bucket, c.channel, &key, 0).unwrap().expires, c.expires);
    }
}

#[test]
fn verify_refuses_with_the_reason() {
    let c = &CASES[2];
    let key = AccessKey::new(c.id, c.secret.as_bytes());
    let query = c.url.split_once('?').unwrap().1;
    let v = |q: &str, bucket: &str, channel: &str, key: &AccessKey<'_>, now| {
        verify(q, bucket, channel, key, now).map(|v| v.expires)
    };
    assert_eq!(v(query, c.bucket, c.channel, &key, c.expires + 1), Err(VerifyError::Expired { expires: c.expires }));
    assert_eq!(v(query, c.bucket, "c2", &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    assert_eq!(v(query, "other", c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    let wrong_secret = AccessKey::new(c.id, b"sed");
    assert_eq!(v(query, c.bucket, c.channel, &wrong_secret, 0), Err(VerifyError::SignatureDoesNotMatch));
    let other_id = AccessKey::new("STS.NTy", c.secret.as_bytes());
    assert_eq!(v(query, c.bucket, c.channel, &other_id, 0), Err(VerifyError::InvalidAccessKeyId));
    // A signed parameter changed, dropped or added.
    let changed = query.replace("playlistName=play", "playlistName=pray");
    assert_eq!(v(&changed, c.bucket, c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    let dropped = query.replace("security-token=CAIS%20tok%2Fen%2B%3D%3D&", "");
    assert_eq!(v(&dropped, c.bucket, c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    let added = format!("{query}&x=1");
    assert_eq!(v(&added, c.bucket, c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    // A later Expires with the old signature.
    let later = query.replace("Expires=4102444800", "Expires=4102444801");
    assert_eq!(v(&later, c.bucket, c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
    // Structure.
    let missing = query.replace("&Signature=", "&Sig=");
    assert_eq!(v(&missing, c.bucket, c.channel, &key, 0), Err(VerifyError::MissingParameter(Param::Signature)));
    assert_eq!(v("", c.bucket, c.channel, &key, 0), Err(VerifyError::MissingParameter(Param::AccessKeyId)));
    let twice = format!("{query}&Expires=1");
    assert_eq!(v(&twice, c.bucket, c.channel, &key, 0), Err(VerifyError::Malformed));
    let dup_param = format!("{query}&playlistName=a.m3u8");
    assert_eq!(v(&dup_param, c.bucket, c.channel, &key, 0), Err(VerifyError::Malformed));
    let bad_escape = query.replace("%20", "%2");
    assert_eq!(v(&bad_escape, c.bucket, c.channel, &key, 0), Err(VerifyError::Malformed));
    let nan = query.replace("Expires=4102444800", "Expires=41x");
    assert_eq!(v(&nan, c.bucket, c.channel, &key, 0), Err(VerifyError::Malformed));
    let many: std::string::String = (0..=MAX_PARAMS).map(|i| format!("p{i}=1&")).collect();
    assert_eq!(v(&format!("{many}{query}"), c.bucket, c.channel, &key, 0), Err(VerifyError::TooManyParameters));
    let long_sig = query.replace("Signature=", "Signature=AAAAAAAA");
    assert_eq!(v(&long_sig, c.bucket, c.channel, &key, 0), Err(VerifyError::SignatureDoesNotMatch));
}

#[test]
fn bad_names_are_refused() {
    let key = AccessKey::new("id", b"s");
    let mut buf = [0u8; 512];
    let g = |bucket, channel| Grant { bucket, channel, playlist: None, security_token: None, expires: 1 };
    for bucket in ["ab", "Cam", "-cam", "cam-", "cam_1", "cam.x"] {
        assert_eq!(write_url(&mut buf, "h.example", &key, &g(bucket, "c")), Err(SignError::InvalidBucket), "{bucket}");
    }
    for channel in ["", "a/b", "a?b", "a b", "a%20", "a#", "a&b", "a\n"] {
        assert_eq!(write_url(&mut buf, "h.example", &key, &g("cam", channel)), Err(SignError::InvalidChannel));
        assert_eq!(write_query(&mut buf, &key, &g("cam", channel)), Err(SignError::InvalidChannel));
    }
    for endpoint in ["", "http://", "h.example:0", "h.example:x", "h.example/path", "h example", "h.example:99999"] {
        assert_eq!(write_url(&mut buf, endpoint, &key, &g("cam", "c")), Err(SignError::InvalidEndpoint), "{endpoint}");
    }
}

#[test]
fn debug_shows_no_secret() {
    let key = AccessKey::new("LTAIid", b"topsecret");
    let g = Grant { bucket: "cam", channel: "c", playlist: None, security_token: Some("tokensecret"), expires: 5 };
    let text = format!("{key:?} {g:?}");
    assert!(text.contains("LTAIid") && !text.contains("topsecret") && !text.contains("tokensecret"), "{text}");
    let q = std::string::String::from(write_query(&mut [0u8; 256], &key, &g).unwrap());
    let v = verify(&q, "cam", "c", &key, 0).unwrap();
    assert!(!format!("{v:?}").contains(&q[q.find("Signature=").unwrap() + 10..]));
}
