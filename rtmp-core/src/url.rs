//! `rtmp://` and `rtmps://` URLs.
//!
//! The split of the path into *app* and *stream name* follows ffmpeg's
//! `rtmpproto.c` (which OBS's librtmp agrees with for every URL a live service
//! hands out):
//!
//! * `/app/name` gives app `app`, name `name`;
//! * `/app/instance/name` gives app `app/instance`, name `name` (the second
//!   path segment belongs to the app when a third one follows);
//! * `/app/inst/a/b` gives app `app/inst`, name `a/b`;
//! * `/app/mp4:dir/file` gives app `app`, name `mp4:dir/file` (a `:` before the
//!   next `/` marks a name prefix, not an app instance).
//!
//! One deliberate difference: slashes are only looked for *before* the first
//! `?`, so a signed query whose signature contains a raw `/` stays in the
//! stream name, where ffmpeg would cut the URL there and send a broken name.
//! The stream name keeps its query string byte for byte (Bilibili's
//! `?streamname=live_x&key=...`, Aliyun OSS's `?OSSAccessKeyId=...&Signature=...`)
//! and is never percent-decoded. Unlike ffmpeg, a trailing `.flv` is not
//! stripped and no `mp4:` prefix is added: names are sent as written.
//!
//! The stream name is usually a secret (a stream key or a signature), so the
//! `Debug` output of [`RtmpUrl`] shows only its length.

use crate::amf0::EncodeError;
use core::fmt;

/// The transport named by the URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `rtmp://`, plain TCP, default port 1935.
    Rtmp,
    /// `rtmps://`, RTMP over TLS, default port 443.
    Rtmps,
}

impl Scheme {
    /// The port used when the URL names none.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Rtmp => 1935,
            Scheme::Rtmps => 443,
        }
    }

    /// The scheme as written in a URL, lower case.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Rtmp => "rtmp",
            Scheme::Rtmps => "rtmps",
        }
    }
}

/// Why a URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `rtmp` or `rtmps` (`rtmpt`, `rtmpe`, `http` ...).
    UnsupportedScheme,
    /// No `scheme://` prefix.
    MissingScheme,
    /// The host is empty, or holds characters no host name has.
    InvalidHost,
    /// The port is not a number from 1 to 65535.
    InvalidPort,
    /// `user:password@` credentials are not supported.
    UserInfoUnsupported,
    /// There is no path, so no application name.
    MissingApp,
    /// A control character or space appears in the URL.
    InvalidCharacter,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::UnsupportedScheme => "unsupported URL scheme (expected rtmp:// or rtmps://)",
            UrlError::MissingScheme => "URL has no scheme (expected rtmp://host/app/stream)",
            UrlError::InvalidHost => "URL host is empty or invalid",
            UrlError::InvalidPort => "URL port is not a number from 1 to 65535",
            UrlError::UserInfoUnsupported => "credentials in the URL (user:password@) are not supported",
            UrlError::MissingApp => "URL has no application path (expected rtmp://host/app/stream)",
            UrlError::InvalidCharacter => "URL contains a space or control character",
        })
    }
}

impl core::error::Error for UrlError {}

/// A parsed RTMP URL. Every field borrows from the input string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RtmpUrl<'a> {
    scheme: Scheme,
    host: &'a str,
    port: u16,
    app: &'a str,
    stream: &'a str,
}

impl<'a> RtmpUrl<'a> {
    /// Parses `rtmp[s]://host[:port]/app[/instance]/stream[?query]`.
    ///
    /// ```
    /// use rtmp_core::url::RtmpUrl;
    /// let url = RtmpUrl::parse("rtmp://live-push.bilivideo.com/live-bvc/?streamname=live_1&key=k").unwrap();
    /// assert_eq!(url.app(), "live-bvc");
    /// assert_eq!(url.stream(), "?streamname=live_1&key=k");
    /// assert_eq!(url.port(), 1935);
    /// ```
    pub fn parse(input: &'a str) -> Result<Self, UrlError> {
        if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::InvalidCharacter);
        }
        let (scheme_str, rest) = input.split_once("://").ok_or(UrlError::MissingScheme)?;
        let scheme = if scheme_str.eq_ignore_ascii_case("rtmp") {
            Scheme::Rtmp
        } else if scheme_str.eq_ignore_ascii_case("rtmps") {
            Scheme::Rtmps
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(UrlError::UserInfoUnsupported);
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => parse_port(p)?,
        };
        let path = path.strip_prefix('/').ok_or(UrlError::MissingApp)?;
        if path.is_empty() {
            return Err(UrlError::MissingApp);
        }
        let (app, stream) = split_app_stream(path);
        if app.is_empty() {
            return Err(UrlError::MissingApp);
        }
        Ok(RtmpUrl { scheme, host, port, app, stream })
    }

    /// `rtmp` or `rtmps`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// The host name or address, without IPv6 brackets.
    pub fn host(&self) -> &'a str {
        self.host
    }
    /// The port, 1935 (`rtmp`) or 443 (`rtmps`) when the URL names none.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The application, sent in `connect` (may hold `/`, as in `app/instance`).
    pub fn app(&self) -> &'a str {
        self.app
    }
    /// The stream name with its query string, byte for byte; may be empty.
    /// Usually a secret: do not log it.
    pub fn stream(&self) -> &'a str {
        self.stream
    }
    /// The stream name without its query string (what servers record under).
    pub fn stream_base_name(&self) -> &'a str {
        self.stream.split_once('?').map_or(self.stream, |(n, _)| n)
    }
    /// The `tcUrl` of the `connect` command: `scheme://host:port/app`, with the
    /// port always written, as ffmpeg and librtmp send it.
    pub fn tc_url(&self) -> TcUrl<'a> {
        TcUrl { url: *self }
    }

    /// Writes the `tcUrl` into `out` and returns it; when `out` is too short,
    /// says how many bytes it needs.
    ///
    /// ```
    /// use rtmp_core::url::RtmpUrl;
    /// let url = RtmpUrl::parse("rtmp://example.com/live/key").unwrap();
    /// let mut buf = [0u8; 64];
    /// assert_eq!(url.write_tc_url(&mut buf).unwrap(), "rtmp://example.com:1935/live");
    /// ```
    pub fn write_tc_url<'b>(&self, out: &'b mut [u8]) -> Result<&'b str, EncodeError> {
        struct Cursor<'c> {
            out: &'c mut [u8],
            len: usize,
            needed: usize,
        }
        impl fmt::Write for Cursor<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let end = self.needed + s.len();
                if let Some(dst) = self.out.get_mut(self.needed..end) {
                    dst.copy_from_slice(s.as_bytes());
                    self.len = end;
                }
                self.needed = end;
                Ok(())
            }
        }
        let mut c = Cursor { out, len: 0, needed: 0 };
        let _ = fmt::write(&mut c, format_args!("{}", self.tc_url()));
        if c.needed > c.len {
            return Err(EncodeError::BufferTooSmall { needed: c.needed });
        }
        let Cursor { out, len, .. } = c;
        core::str::from_utf8(&out[..len]).map_err(|_| EncodeError::Nondeterministic)
    }
}

impl fmt::Debug for RtmpUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtmpUrl")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("app", &self.app)
            .field("stream", &Redacted(self.stream.len()))
            .finish()
    }
}

/// Shows a secret's length, never its bytes.
pub(crate) struct Redacted(pub usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0)
    }
}

/// The `tcUrl` of a URL, written on demand (see [`RtmpUrl::tc_url`]).
#[derive(Clone, Copy)]
pub struct TcUrl<'a> {
    url: RtmpUrl<'a>,
}

impl fmt::Display for TcUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = &self.url;
        if u.host.contains(':') {
            write!(f, "{}://[{}]:{}/{}", u.scheme.as_str(), u.host, u.port, u.app)
        } else {
            write!(f, "{}://{}:{}/{}", u.scheme.as_str(), u.host, u.port, u.app)
        }
    }
}

impl fmt::Debug for TcUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(UrlError::InvalidHost)?;
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(UrlError::InvalidHost);
        }
        return match after {
            "" => Ok((host, None)),
            p => Ok((host, Some(p.strip_prefix(':').ok_or(UrlError::InvalidPort)?))),
        };
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_';
    if host.is_empty() || !host.bytes().all(valid) {
        return Err(UrlError::InvalidHost);
    }
    Ok((host, port))
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::InvalidPort);
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::InvalidPort),
        Ok(v) => Ok(v),
    }
}

/// ffmpeg's split (see the module docs), with slashes searched before `?` only.
fn split_app_stream(path: &str) -> (&str, &str) {
    let query_at = path.find('?').unwrap_or(path.len());
    let head = &path[..query_at];
    let Some(first) = head.find('/') else {
        // `rtmp://host/app` or `rtmp://host/app?x`: all of it is the app.
        return (path, "");
    };
    let after_first = &head[first + 1..];
    match after_first.find('/') {
        Some(second) if !after_first[..second].contains(':') => {
            let split = first + 1 + second;
            (&path[..split], &path[split + 1..])
        }
        _ => (&path[..first], &path[first + 1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

    fn parts(s: &str) -> (&str, u16, &str, &str) {
        let u = RtmpUrl::parse(s).unwrap();
        (u.host(), u.port(), u.app(), u.stream())
    }

    #[test]
    fn ffmpeg_split_rules() {
        assert_eq!(parts("rtmp://h/app/name"), ("h", 1935, "app", "name"));
        assert_eq!(parts("rtmp://h:1936/app/inst/name"), ("h", 1936, "app/inst", "name"));
        assert_eq!(parts("rtmp://h/app/inst/a/b"), ("h", 1935, "app/inst", "a/b"));
        assert_eq!(parts("rtmp://h/app/mp4:dir/file"), ("h", 1935, "app", "mp4:dir/file"));
        assert_eq!(parts("rtmp://h/app/"), ("h", 1935, "app", ""));
        assert_eq!(parts("rtmp://h/app"), ("h", 1935, "app", ""));
        assert_eq!(parts("rtmps://h/app/k"), ("h", 443, "app", "k"));
        assert_eq!(parts("RTMP://h/app/k"), ("h", 1935, "app", "k"));
        assert_eq!(parts("rtmp://[::1]:1940/app/k"), ("::1", 1940, "app", "k"));
    }

    #[test]
    fn bilibili_key_is_kept_verbatim() {
        let url =
            "rtmp://live-push.bilivideo.com/live-bvc/?streamname=live_123_456&key=abcdef0123&schedule=rtmp&pflag=1";
        let u = RtmpUrl::parse(url).unwrap();
        assert_eq!(u.app(), "live-bvc");
        assert_eq!(u.stream(), "?streamname=live_123_456&key=abcdef0123&schedule=rtmp&pflag=1");
        assert_eq!(u.stream_base_name(), "");
        assert_eq!(format!("{}", u.tc_url()), "rtmp://live-push.bilivideo.com:1935/live-bvc");
    }

    #[test]
    fn oss_signed_url_is_kept_verbatim() {
        let url = "rtmp://bucket.oss-cn-hangzhou.aliyuncs.com/live/chan1?OSSAccessKeyId=LTAI5t&Expires=1700000000&Signature=ab%2Fcd%2Bef%3D";
        let u = RtmpUrl::parse(url).unwrap();
        assert_eq!(u.app(), "live");
        assert_eq!(u.stream(), "chan1?OSSAccessKeyId=LTAI5t&Expires=1700000000&Signature=ab%2Fcd%2Bef%3D");
        assert_eq!(u.stream_base_name(), "chan1");
        // A raw slash in the signature stays in the name (ffmpeg would cut here).
        let u = RtmpUrl::parse("rtmp://h/live/chan1?Signature=ab/cd").unwrap();
        assert_eq!((u.app(), u.stream()), ("live", "chan1?Signature=ab/cd"));
    }

    #[test]
    fn debug_hides_the_stream_key() {
        let u = RtmpUrl::parse("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop").unwrap();
        let d = format!("{u:?}");
        assert!(!d.contains("abcd"), "{d}");
        assert!(d.contains("redacted, 19 bytes"), "{d}");
    }

    #[test]
    fn tc_url_into_a_buffer() {
        let u = RtmpUrl::parse("rtmp://example.com:1940/app/inst/key").unwrap();
        let mut small = [0u8; 10];
        assert_eq!(u.write_tc_url(&mut small), Err(EncodeError::BufferTooSmall { needed: 32 }));
        let mut buf = [0u8; 32];
        assert_eq!(u.write_tc_url(&mut buf), Ok("rtmp://example.com:1940/app/inst"));
    }

    #[test]
    fn tc_url_brackets_ipv6() {
        let u = RtmpUrl::parse("rtmp://[::1]/live/x").unwrap();
        assert_eq!(format!("{}", u.tc_url()), "rtmp://[::1]:1935/live");
    }

    #[test]
    fn errors() {
        assert_eq!(RtmpUrl::parse("http://h/a/b"), Err(UrlError::UnsupportedScheme));
        assert_eq!(RtmpUrl::parse("h/a/b"), Err(UrlError::MissingScheme));
        assert_eq!(RtmpUrl::parse("rtmp:///a/b"), Err(UrlError::InvalidHost));
        assert_eq!(RtmpUrl::parse("rtmp://h:0/a"), Err(UrlError::InvalidPort));
        assert_eq!(RtmpUrl::parse("rtmp://h:65536/a"), Err(UrlError::InvalidPort));
        assert_eq!(RtmpUrl::parse("rtmp://h:/a"), Err(UrlError::InvalidPort));
        assert_eq!(RtmpUrl::parse("rtmp://u:p@h/a"), Err(UrlError::UserInfoUnsupported));
        assert_eq!(RtmpUrl::parse("rtmp://h"), Err(UrlError::MissingApp));
        assert_eq!(RtmpUrl::parse("rtmp://h/"), Err(UrlError::MissingApp));
        assert_eq!(RtmpUrl::parse("rtmp://h//x"), Err(UrlError::MissingApp));
        assert_eq!(RtmpUrl::parse("rtmp://h/a b"), Err(UrlError::InvalidCharacter));
        assert_eq!(RtmpUrl::parse("rtmp://[::1/a"), Err(UrlError::InvalidHost));
    }
}
