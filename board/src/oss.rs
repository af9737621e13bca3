//! Aliyun OSS LiveChannels on the board: signing the URL a camera pushes
//! to ([`OssSigner`], afresh for every connection so that a camera running
//! for months never offers an expired signature), and the ingest side of
//! `rtmp-serve --oss-bucket` ([`OssIngest`]: signature, expiry, channel,
//! playlist name).
//!
//! The signature itself is `rtmp_core::oss` (oss2's `sign_rtmp_url`). The
//! AccessKey secret is read from a file, kept out of every `Debug` output
//! and log line, and so is the signed query.

use rtmp_core::oss::{self, AccessKey, Grant, SignError, VerifyError};
use rtmp_core::url::RtmpUrl;
use std::fmt;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An AccessKey secret (or security token): bytes shown nowhere.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Reads a secret from `path`: the file's content without surrounding
    /// whitespace (a trailing newline is what editors leave), at most 4 KiB.
    pub fn from_file(path: &Path) -> io::Result<Secret> {
        let err = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if meta.len() > 4096 {
            return Err(err("longer than 4 KiB; not a secret file"));
        }
        let bytes = std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let text = bytes.trim_ascii();
        if text.is_empty() {
            return Err(err("empty"));
        }
        Ok(Secret(text.to_vec()))
    }

    /// A secret from bytes (tests, or firmware that keeps it elsewhere).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The secret's bytes, for signing. Never print them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

/// Why a URL could not be signed.
#[derive(Debug)]
#[non_exhaustive]
pub enum OssSignError {
    /// The URL is not an RTMP URL.
    Url(rtmp_core::url::UrlError),
    /// The URL names no bucket: an IP address or `localhost` as host, and
    /// no `BUCKET/live` app and no bucket given.
    NoBucket,
    /// The URL has a query other than `playlistName=NAME` (give the
    /// unsigned URL; the signature is added here).
    Query,
    /// The bucket or channel name is not valid.
    Sign(SignError),
}

impl fmt::Display for OssSignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OssSignError::Url(e) => write!(f, "OSS URL: {e}"),
            OssSignError::NoBucket => f.write_str(
                "OSS URL: no bucket in the host name (rtmp://BUCKET.ENDPOINT/live/CHANNEL); give it with --oss-bucket",
            ),
            OssSignError::Query => f.write_str("OSS URL: give the unsigned URL, with at most ?playlistName=NAME.m3u8"),
            OssSignError::Sign(e) => write!(f, "OSS URL: {e}"),
        }
    }
}

impl std::error::Error for OssSignError {}

/// Signs `rtmp://BUCKET.ENDPOINT/live/CHANNEL[?playlistName=P]` URLs with
/// an AccessKey, each time with a fresh `Expires`.
#[derive(Clone, Debug)]
pub struct OssSigner {
    key_id: String,
    secret: Secret,
    security_token: Option<Secret>,
    /// Each signature is valid this long from the moment it is made.
    pub expires_in: Duration,
    /// The bucket, when the URL's host does not name it.
    pub bucket: Option<String>,
}

impl OssSigner {
    /// A signer with an AccessKey; signatures valid for an hour.
    pub fn new(key_id: impl Into<String>, secret: Secret) -> OssSigner {
        OssSigner {
            key_id: key_id.into(),
            secret,
            security_token: None,
            expires_in: Duration::from_secs(3600),
            bucket: None,
        }
    }

    /// Adds an STS security token (temporary AccessKeys); tokens are text.
    pub fn with_security_token(mut self, token: Secret) -> Result<OssSigner, std::str::Utf8Error> {
        std::str::from_utf8(token.expose())?;
        self.security_token = Some(token);
        Ok(self)
    }

    /// `url` with its signed query, valid `expires_in` from now.
    pub fn sign_now(&self, url: &str) -> Result<String, OssSignError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.sign(url, now + self.expires_in.as_secs())
    }

    /// `url` with its signed query, expiring at Unix time `expires`. The
    /// bucket is [`bucket`](Self::bucket), else the first component of a
    /// `BUCKET/live` app (oss2's URLs for IP endpoints), else the host's
    /// first label; the channel is the stream name.
    pub fn sign(&self, url: &str, expires: u64) -> Result<String, OssSignError> {
        let parsed = RtmpUrl::parse(url).map_err(OssSignError::Url)?;
        let host = parsed.host();
        let ip_host = host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok();
        let bucket = match (&self.bucket, parsed.app().split_once('/')) {
            (Some(b), _) => b.as_str(),
            (None, Some((b, "live"))) => b,
            (None, _) if !ip_host => host.split('.').next().unwrap_or(""),
            (None, _) => return Err(OssSignError::NoBucket),
        };
        let playlist = match parsed.stream().split_once('?') {
            None => None,
            Some((_, q)) => match q.strip_prefix("playlistName=") {
                Some(p) if !p.contains(['&', '%', '=']) => Some(p),
                _ => return Err(OssSignError::Query),
            },
        };
        let secret = self.secret.expose();
        let token = self.security_token.as_ref().and_then(|t| std::str::from_utf8(t.expose()).ok());
        let grant = Grant { bucket, channel: parsed.stream_base_name(), playlist, security_token: token, expires };
        let key = AccessKey::new(&self.key_id, secret);
        let mut buf = vec![0u8; 1024];
        let query = loop {
            match oss::write_query(&mut buf, &key, &grant) {
                Ok(q) => break q.to_string(),
                Err(SignError::BufferTooSmall { needed }) => buf.resize(needed, 0),
                Err(e) => return Err(OssSignError::Sign(e)),
            }
        };
        let base = url.split_once('?').map_or(url, |(b, _)| b);
        Ok(format!("{base}?{query}"))
    }
}

/// The OSS LiveChannel ingest rules of `rtmp-serve --oss-bucket`.
#[derive(Clone, Debug)]
pub struct OssIngest {
    /// The bucket: the signed resource is `/BUCKET/CHANNEL`.
    pub bucket: String,
    /// The AccessKey id URLs must carry.
    pub key_id: String,
    /// Its secret.
    pub secret: Secret,
}

/// A publish the ingest accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssChannel {
    /// The LiveChannel name.
    pub channel: String,
    /// The signed `playlistName`, which overrides the configured playlist name.
    pub playlist: Option<String>,
}

/// Why the ingest refused a publish: the RTMP status code sent to the
/// publisher and a description that starts with OSS's error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssRefusal {
    /// `NetStream.Publish.Denied` (signature, key, expiry) or
    /// `NetStream.Publish.BadName` (not a channel URL).
    pub status: &'static str,
    /// For example `SignatureDoesNotMatch: signature does not match`.
    pub description: String,
}

impl OssIngest {
    /// Checks a publish of `name` (stream name with its query) in `app` at
    /// Unix time `now`: the app is `live` (or `BUCKET/live`, as oss2 writes
    /// URLs for an IP endpoint), the query is signed for `/BUCKET/name`
    /// with this AccessKey and not expired, and a signed `playlistName` is a
    /// plain `.m3u8` file name.
    pub fn authorize(&self, app: &str, name: &str, now: u64) -> Result<OssChannel, OssRefusal> {
        let bad_name = |what: &str| OssRefusal {
            status: "NetStream.Publish.BadName",
            description: format!("InvalidArgument: {what}"),
        };
        if app != "live" && app.strip_suffix("/live") != Some(self.bucket.as_str()) {
            return Err(bad_name("LiveChannel URLs are rtmp://host/live/CHANNEL?signature"));
        }
        let (channel, query) = name.split_once('?').unwrap_or((name, ""));
        let key = AccessKey::new(&self.key_id, self.secret.expose());
        let verified = oss::verify(query, &self.bucket, channel, &key, now).map_err(|e| OssRefusal {
            status: match e {
                VerifyError::MissingParameter(_) | VerifyError::Malformed | VerifyError::TooManyParameters => {
                    "NetStream.Publish.BadName"
                }
                _ => "NetStream.Publish.Denied",
            },
            description: format!("{}: {e}", e.code()),
        })?;
        let mut buf = [0u8; 256];
        let playlist = match verified.playlist_name(&mut buf) {
            None => None,
            Some(Ok(p)) if valid_playlist(p) => Some(p.to_string()),
            Some(_) => return Err(bad_name("playlistName must be a file name ending in .m3u8")),
        };
        Ok(OssChannel { channel: channel.to_string(), playlist })
    }
}

/// OSS's rule: 6 to 128 characters ending in `.m3u8`; here also a plain
/// file name (no path, no control characters).
fn valid_playlist(p: &str) -> bool {
    (6..=128).contains(&p.len())
        && p.ends_with(".m3u8")
        && !p.starts_with('.')
        && !p.contains(|c: char| c.is_control() || matches!(c, '/' | '\\' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> OssSigner {
        OssSigner::new("LTAI5tExample", Secret::new("s3cr3t"))
    }

    #[test]
    fn signs_what_the_ingest_accepts() {
        let ingest =
            OssIngest { bucket: "cam-bucket".into(), key_id: "LTAI5tExample".into(), secret: Secret::new("s3cr3t") };
        // The same query as oss2's for these inputs (see rtmp-core's vectors).
        let url = signer().sign("rtmp://cam-bucket.oss-cn-hangzhou.aliyuncs.com/live/door", 1_800_000_000).unwrap();
        assert_eq!(
            url,
            "rtmp://cam-bucket.oss-cn-hangzhou.aliyuncs.com/live/door?OSSAccessKeyId=LTAI5tExample&Expires=1800000000&Signature=814dHgAxvVQSrH5AIgNdtJys%2FLY%3D"
        );
        let name = url.rsplit_once('/').unwrap().1;
        assert_eq!(
            ingest.authorize("live", name, 1_700_000_000),
            Ok(OssChannel { channel: "door".into(), playlist: None })
        );
        let refused = ingest.authorize("live", name, 1_800_000_001).unwrap_err();
        assert_eq!(refused.status, "NetStream.Publish.Denied");
        assert!(refused.description.starts_with("AccessDenied: "), "{}", refused.description);
        assert_eq!(ingest.authorize("other", name, 0).unwrap_err().status, "NetStream.Publish.BadName");
        let forged = name.replace("door", "gate");
        assert!(ingest.authorize("live", &forged, 0).unwrap_err().description.starts_with("SignatureDoesNotMatch"));
    }

    #[test]
    fn bucket_from_host_app_or_option() {
        let s = signer();
        let local = s.sign("rtmp://127.0.0.1:1935/live/door?playlistName=a.m3u8", 5).map(|_| ());
        assert!(matches!(local, Err(OssSignError::NoBucket)));
        let path_style = s.sign("rtmp://127.0.0.1:1935/cam/live/door?playlistName=a.m3u8", 5).unwrap();
        let mut with_bucket = s.clone();
        with_bucket.bucket = Some("cam".into());
        let given = with_bucket.sign("rtmp://127.0.0.1:1935/x/door?playlistName=a.m3u8", 5).unwrap();
        // Same bucket, channel and playlist: same signature.
        assert_eq!(path_style.rsplit_once("Signature=").unwrap().1, given.rsplit_once("Signature=").unwrap().1);
        assert!(path_style.contains("?playlistName=a.m3u8&OSSAccessKeyId="));
        assert!(matches!(s.sign("rtmp://b.example/live/door?key=1", 5), Err(OssSignError::Query)));
    }

    #[test]
    fn playlist_names() {
        for ok in ["a.m3u8", "live-1.m3u8", "直播.m3u8"] {
            assert!(valid_playlist(ok), "{ok}");
        }
        for bad in ["m3u8", ".m3u8", "a.m3u", "../a.m3u8", "a/b.m3u8", ".hid.m3u8", "a\n.m3u8"] {
            assert!(!valid_playlist(bad), "{bad}");
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let s = signer().with_security_token(Secret::new("tok3n")).unwrap();
        let text = format!("{s:?}");
        assert!(!text.contains("s3cr3t") && !text.contains("tok3n") && text.contains("LTAI5tExample"), "{text}");
    }
}
