//! Aliyun OSS LiveChannel ingest URLs: signing and verification.
//!
//! An OSS LiveChannel takes an RTMP push at
//! `rtmp://BUCKET.ENDPOINT/live/CHANNEL?<query>`, where the query carries an
//! AccessKey id, an expiry time and a signature (the "signature version 1"
//! used by the oss2 SDK's `Bucket.sign_rtmp_url`):
//!
//! ```text
//! Signature = base64(HMAC-SHA1(AccessKeySecret,
//!     Expires + "\n" + CanonicalizedParams + "/" + BUCKET + "/" + CHANNEL))
//! CanonicalizedParams = "key:value\n" for every other query parameter
//!     (playlistName, security-token), sorted by key, values not encoded
//! ```
//!
//! [`write_query`] and [`write_url`] produce exactly oss2's output (same
//! parameter order, same percent-encoding); [`verify`] checks a query the way
//! an ingest server does: any parameter order, the expiry against the
//! caller's clock, and the signature compared in constant time. Nothing here
//! allocates, reads a clock or logs; the `Debug` output of [`AccessKey`] and
//! [`Grant`] never shows the secret, the security token or a signature.
//!
//! ```
//! use rtmp_core::oss::{self, AccessKey, Grant};
//!
//! let key = AccessKey::new("LTAI-example", b"secret");
//! let grant = Grant { bucket: "cam-bucket", channel: "door", playlist: None, security_token: None, expires: 1_800_000_000 };
//! let mut buf = [0u8; 256];
//! let url = oss::write_url(&mut buf, "oss-cn-hangzhou.aliyuncs.com", &key, &grant).unwrap();
//! assert!(url.starts_with("rtmp://cam-bucket.oss-cn-hangzhou.aliyuncs.com/live/door?OSSAccessKeyId=LTAI-example&Expires=1800000000&Signature="));
//!
//! // The ingest side, with the same key and a clock before the expiry:
//! let query = url.split_once('?').unwrap().1;
//! let ok = oss::verify(query, "cam-bucket", "door", &key, 1_700_000_000).unwrap();
//! assert_eq!(ok.expires, 1_800_000_000);
//! assert_eq!(oss::verify(query, "cam-bucket", "door", &key, 1_900_000_000).unwrap_err(),
//!            oss::VerifyError::Expired { expires: 1_800_000_000 });
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use core::fmt;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Length of a signature in base64 (HMAC-SHA1's 20 bytes).
pub const SIGNATURE_LEN: usize = 28;
/// Query parameters [`verify`] accepts besides the four it knows.
pub const MAX_PARAMS: usize = 8;

const KEY_ID: &str = "OSSAccessKeyId";
const EXPIRES: &str = "Expires";
const SIGNATURE: &str = "Signature";
/// Excluded from the signed parameters by oss2 (the V1 header-style name).
const SECURITY_TOKEN_V1: &str = "SecurityToken";
const PLAYLIST: &str = "playlistName";
const SECURITY_TOKEN: &str = "security-token";

/// An AccessKey: its id is public, its secret is shown nowhere.
#[derive(Clone, Copy)]
pub struct AccessKey<'a> {
    /// The AccessKey id (`OSSAccessKeyId` in the URL).
    pub id: &'a str,
    secret: &'a [u8],
}

impl<'a> AccessKey<'a> {
    /// An AccessKey from its id and secret (the secret as oss2 takes it:
    /// its bytes, without surrounding whitespace).
    pub fn new(id: &'a str, secret: &'a [u8]) -> Self {
        AccessKey { id, secret }
    }
}

impl fmt::Debug for AccessKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &crate::url::Redacted(self.secret.len()))
            .finish()
    }
}

/// What a signed URL grants: a push to one channel of one bucket until `expires`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Grant<'a> {
    /// The bucket (3 to 63 of `a-z`, `0-9`, `-`; starts with a letter or digit).
    pub bucket: &'a str,
    /// The LiveChannel name.
    pub channel: &'a str,
    /// `playlistName`: overrides the channel's playlist name (ends in `.m3u8`).
    pub playlist: Option<&'a str>,
    /// An STS security token, for temporary AccessKeys.
    pub security_token: Option<&'a str>,
    /// Unix time in seconds after which the URL is refused.
    pub expires: u64,
}

impl fmt::Debug for Grant<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("bucket", &self.bucket)
            .field("channel", &self.channel)
            .field("playlist", &self.playlist)
            .field("security_token", &self.security_token.map(|t| crate::url::Redacted(t.len())))
            .field("expires", &self.expires)
            .finish()
    }
}

impl Grant<'_> {
    /// The optional parameters that are present (non-empty), in oss2's URL order,
    /// which is also their sorted order.
    fn params(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let p = self.playlist.filter(|p| !p.is_empty()).map(|p| (PLAYLIST, p));
        let t = self.security_token.filter(|t| !t.is_empty()).map(|t| (SECURITY_TOKEN, t));
        p.into_iter().chain(t)
    }
}

/// Why a URL or query could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// The buffer is too small; `needed` bytes would have been written.
    BufferTooSmall {
        /// Bytes the URL needs.
        needed: usize,
    },
    /// The bucket name is not a valid OSS bucket name.
    InvalidBucket,
    /// The channel name is empty or has a character that would change the
    /// URL's meaning (`/`, `?`, `#`, `%`, `&`, space or a control character).
    InvalidChannel,
    /// The endpoint is empty, or not `[http[s]://]host[:port][/]`.
    InvalidEndpoint,
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            SignError::InvalidBucket => f.write_str("invalid bucket name (3-63 of a-z, 0-9 and '-')"),
            SignError::InvalidChannel => f.write_str("invalid channel name"),
            SignError::InvalidEndpoint => f.write_str("invalid endpoint (expected host[:port])"),
        }
    }
}

impl core::error::Error for SignError {}

/// The base64 signature of `grant` under `secret`.
pub fn signature(secret: &[u8], grant: &Grant<'_>) -> [u8; SIGNATURE_LEN] {
    let mut mac = new_mac(secret);
    let mut digits = [0u8; 20];
    mac.update(decimal(grant.expires, &mut digits));
    mac.update(b"\n");
    for (k, v) in grant.params() {
        for part in [k.as_bytes(), b":", v.as_bytes(), b"\n"] {
            mac.update(part);
        }
    }
    update_resource(&mut mac, grant.bucket.as_bytes(), grant.channel.as_bytes());
    let mut out = [0u8; SIGNATURE_LEN];
    // 20 bytes always encode to 28 characters.
    let _ = BASE64.encode_slice(mac.finalize().into_bytes(), &mut out);
    out
}

/// Writes the signed query string (without `?`), in oss2's order:
/// `playlistName`, `security-token`, `OSSAccessKeyId`, `Expires`, `Signature`,
/// each percent-encoded as Python's `quote(value, '')`. The buffer is left
/// untouched on error.
pub fn write_query<'b>(out: &'b mut [u8], key: &AccessKey<'_>, grant: &Grant<'_>) -> Result<&'b str, SignError> {
    check_channel(grant.channel)?;
    let sig = signature(key.secret, grant);
    write_twice(out, |w| query(w, key, grant, &sig))
}

/// Writes the whole signed URL as oss2's `Bucket(auth, endpoint,
/// bucket).sign_rtmp_url(channel, playlist, expires)` does:
/// `rtmp://BUCKET.HOST[:PORT]/live/CHANNEL?<query>`, or
/// `rtmp://HOST[:PORT]/BUCKET/live/CHANNEL?<query>` when the endpoint is an
/// IPv4 address or `localhost`. `endpoint` may carry `http://` or `https://`;
/// the host is lowercased. The buffer is left untouched on error.
pub fn write_url<'b>(
    out: &'b mut [u8],
    endpoint: &str,
    key: &AccessKey<'_>,
    grant: &Grant<'_>,
) -> Result<&'b str, SignError> {
    if !valid_bucket(grant.bucket) {
        return Err(SignError::InvalidBucket);
    }
    check_channel(grant.channel)?;
    let authority = endpoint_authority(endpoint)?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let path_style = host.eq_ignore_ascii_case("localhost") || host.parse::<core::net::Ipv4Addr>().is_ok();
    let sig = signature(key.secret, grant);
    write_twice(out, |w| {
        w.put(b"rtmp://");
        if !path_style {
            w.put(grant.bucket.as_bytes());
            w.put(b".");
        }
        for b in authority.bytes() {
            w.put(&[b.to_ascii_lowercase()]);
        }
        if path_style {
            w.put(b"/");
            w.put(grant.bucket.as_bytes());
        }
        w.put(b"/live/");
        w.put(grant.channel.as_bytes());
        w.put(b"?");
        query(w, key, grant, &sig);
    })
}

/// A query that [`verify`] accepted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Verified<'q> {
    /// The `Expires` it carried (Unix seconds).
    pub expires: u64,
    playlist: Option<&'q str>,
}

impl fmt::Debug for Verified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified").field("expires", &self.expires).field("playlist", &self.playlist).finish()
    }
}

impl<'q> Verified<'q> {
    /// The signed `playlistName`, percent-decoded into `buf`; `None` when the
    /// query had none (or an empty one), `Some(Err)` when it does not fit or
    /// is not UTF-8.
    pub fn playlist_name<'b>(&self, buf: &'b mut [u8]) -> Option<Result<&'b str, VerifyError>> {
        let raw = self.playlist.filter(|p| !p.is_empty())?;
        let mut n = 0;
        for b in Decoded(raw.as_bytes()) {
            let Some(slot) = buf.get_mut(n) else { return Some(Err(VerifyError::Malformed)) };
            *slot = b;
            n += 1;
        }
        Some(core::str::from_utf8(&buf[..n]).map_err(|_| VerifyError::Malformed))
    }
}

/// A query parameter [`verify`] requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `OSSAccessKeyId`.
    AccessKeyId,
    /// `Expires`.
    Expires,
    /// `Signature`.
    Signature,
}

/// Why [`verify`] refused a query. The names follow OSS's error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required parameter is missing.
    MissingParameter(Param),
    /// A bad percent escape, a repeated parameter, or an `Expires` that is not a number.
    Malformed,
    /// More than [`MAX_PARAMS`] other parameters.
    TooManyParameters,
    /// `OSSAccessKeyId` is not the configured AccessKey (OSS: `InvalidAccessKeyId`).
    InvalidAccessKeyId,
    /// The signature does not match (OSS: `SignatureDoesNotMatch`).
    SignatureDoesNotMatch,
    /// The URL expired at `expires` (OSS: `AccessDenied`, "Request has expired").
    Expired {
        /// The URL's `Expires`.
        expires: u64,
    },
}

impl VerifyError {
    /// OSS's error code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingParameter(_) | VerifyError::Malformed | VerifyError::TooManyParameters => {
                "InvalidArgument"
            }
            VerifyError::InvalidAccessKeyId => "InvalidAccessKeyId",
            VerifyError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            VerifyError::Expired { .. } => "AccessDenied",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::MissingParameter(p) => {
                let name = match p {
                    Param::AccessKeyId => KEY_ID,
                    Param::Expires => EXPIRES,
                    Param::Signature => SIGNATURE,
                };
                write!(f, "missing {name} in the URL")
            }
            VerifyError::Malformed => f.write_str("malformed signed query"),
            VerifyError::TooManyParameters => write!(f, "more than {MAX_PARAMS} extra query parameters"),
            VerifyError::InvalidAccessKeyId => f.write_str("unknown OSSAccessKeyId"),
            VerifyError::SignatureDoesNotMatch => f.write_str("signature does not match"),
            VerifyError::Expired { expires } => write!(f, "URL expired at {expires} (Unix time)"),
        }
    }
}

impl core::error::Error for VerifyError {}

/// Checks a signed query (the part after `?`) for a push to `/bucket/channel`
/// with `key`, at Unix time `now`. Parameters may come in any order; every
/// parameter other than `OSSAccessKeyId`, `Expires`, `Signature` and
/// `SecurityToken` is part of the signature, as oss2 signs them. The
/// signature is checked before the expiry (a forged URL is reported as
/// forged, not as expired) and compared in constant time. `+` is a literal
/// plus, as oss2 encodes a space as `%20`.
pub fn verify<'q>(
    query: &'q str,
    bucket: &str,
    channel: &str,
    key: &AccessKey<'_>,
    now: u64,
) -> Result<Verified<'q>, VerifyError> {
    let (mut key_id, mut expires, mut sig) = (None, None, None);
    let mut params: heapless::Vec<(&str, &str), MAX_PARAMS> = heapless::Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if !valid_escapes(k) || !valid_escapes(v) {
            return Err(VerifyError::Malformed);
        }
        let slot = if decoded_eq(k, KEY_ID) {
            &mut key_id
        } else if decoded_eq(k, EXPIRES) {
            &mut expires
        } else if decoded_eq(k, SIGNATURE) {
            &mut sig
        } else if decoded_eq(k, SECURITY_TOKEN_V1) {
            continue;
        } else {
            params.push((k, v)).map_err(|_| VerifyError::TooManyParameters)?;
            continue;
        };
        if slot.replace(v).is_some() {
            return Err(VerifyError::Malformed);
        }
    }
    let key_id = key_id.ok_or(VerifyError::MissingParameter(Param::AccessKeyId))?;
    let expires_raw = expires.ok_or(VerifyError::MissingParameter(Param::Expires))?;
    let sig = sig.ok_or(VerifyError::MissingParameter(Param::Signature))?;
    if !decoded_eq(key_id, key.id) {
        return Err(VerifyError::InvalidAccessKeyId);
    }
    let expires = parse_decimal(expires_raw).ok_or(VerifyError::Malformed)?;
    params.sort_unstable_by(|a, b| Decoded(a.0.as_bytes()).cmp(Decoded(b.0.as_bytes())));
    if params.windows(2).any(|w| Decoded(w[0].0.as_bytes()).eq(Decoded(w[1].0.as_bytes()))) {
        return Err(VerifyError::Malformed);
    }

    let mut mac = new_mac(key.secret);
    update_decoded(&mut mac, expires_raw);
    mac.update(b"\n");
    for (k, v) in &params {
        update_decoded(&mut mac, k);
        mac.update(b":");
        update_decoded(&mut mac, v);
        mac.update(b"\n");
    }
    update_resource(&mut mac, bucket.as_bytes(), channel.as_bytes());
    let mut sig_text = [0u8; SIGNATURE_LEN];
    let mut n = 0;
    for b in Decoded(sig.as_bytes()) {
        let slot = sig_text.get_mut(n).ok_or(VerifyError::SignatureDoesNotMatch)?;
        *slot = b;
        n += 1;
    }
    let mut digest = [0u8; 21];
    let len = BASE64.decode_slice(&sig_text[..n], &mut digest).map_err(|_| VerifyError::SignatureDoesNotMatch)?;
    // `verify_slice` compares in constant time (and refuses other lengths).
    mac.verify_slice(&digest[..len]).map_err(|_| VerifyError::SignatureDoesNotMatch)?;
    if now > expires {
        return Err(VerifyError::Expired { expires });
    }
    let playlist = params.iter().find(|(k, _)| decoded_eq(k, PLAYLIST)).map(|(_, v)| *v);
    Ok(Verified { expires, playlist })
}

fn new_mac(secret: &[u8]) -> Hmac<Sha1> {
    // HMAC takes keys of any length.
    Hmac::<Sha1>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

fn update_resource(mac: &mut Hmac<Sha1>, bucket: &[u8], channel: &[u8]) {
    for part in [b"/", bucket, b"/", channel] {
        mac.update(part);
    }
}

fn update_decoded(mac: &mut Hmac<Sha1>, raw: &str) {
    let mut chunk = [0u8; 64];
    let mut n = 0;
    for b in Decoded(raw.as_bytes()) {
        chunk[n] = b;
        n += 1;
        if n == chunk.len() {
            mac.update(&chunk);
            n = 0;
        }
    }
    mac.update(&chunk[..n]);
}

/// Appends the query after the resource (shared by both writers).
fn query(w: &mut Writer<'_>, key: &AccessKey<'_>, grant: &Grant<'_>, sig: &[u8; SIGNATURE_LEN]) {
    for (k, v) in grant.params() {
        w.put(k.as_bytes());
        w.put(b"=");
        w.quoted(v.as_bytes());
        w.put(b"&");
    }
    w.put(KEY_ID.as_bytes());
    w.put(b"=");
    w.quoted(key.id.as_bytes());
    w.put(b"&Expires=");
    let mut digits = [0u8; 20];
    w.put(decimal(grant.expires, &mut digits));
    w.put(b"&Signature=");
    w.quoted(sig);
}

/// Runs `f` once to measure and once to write, so that a short buffer is left untouched.
fn write_twice(out: &mut [u8], f: impl Fn(&mut Writer<'_>)) -> Result<&str, SignError> {
    let mut measure = Writer { out: None, len: 0 };
    f(&mut measure);
    let needed = measure.len;
    if needed > out.len() {
        return Err(SignError::BufferTooSmall { needed });
    }
    let mut w = Writer { out: Some(&mut out[..needed]), len: 0 };
    f(&mut w);
    // Everything written is ASCII (quoted or checked).
    core::str::from_utf8(&out[..needed]).map_err(|_| SignError::InvalidChannel)
}

/// Counts bytes, and writes them when it has a buffer (measured to fit).
struct Writer<'b> {
    out: Option<&'b mut [u8]>,
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.out.as_deref_mut().and_then(|o| o.get_mut(self.len..self.len + bytes.len())) {
            dst.copy_from_slice(bytes);
        }
        self.len += bytes.len();
    }

    /// Python's `urllib.parse.quote(s, safe='')`: everything but
    /// `A-Z a-z 0-9 _ . - ~` as `%XX` (upper-case hex).
    fn quoted(&mut self, s: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for &b in s {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
                self.put(&[b]);
            } else {
                self.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            }
        }
    }
}

/// oss2's `is_valid_bucket_name`.
fn valid_bucket(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn check_channel(channel: &str) -> Result<(), SignError> {
    let bad = |c: char| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#' | '%' | '&' | '\\');
    if channel.is_empty() || channel.contains(bad) {
        return Err(SignError::InvalidChannel);
    }
    Ok(())
}

/// `host[:port]` out of `[http[s]://]host[:port][/]`.
fn endpoint_authority(endpoint: &str) -> Result<&str, SignError> {
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|s| endpoint.get(..s.len()).filter(|p| p.eq_ignore_ascii_case(s)).map(|_| &endpoint[s.len()..]))
        .unwrap_or(endpoint);
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok =
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    let port_ok = port.map_or(true, |p| p.parse::<u16>().is_ok_and(|n| n > 0) && p.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(authority)
    } else {
        Err(SignError::InvalidEndpoint)
    }
}

fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

fn parse_decimal(raw: &str) -> Option<u64> {
    let mut n: u64 = 0;
    let mut digits = 0;
    for b in Decoded(raw.as_bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        digits += 1;
    }
    (digits > 0).then_some(n)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
                (Some(_), Some(_)) => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

fn decoded_eq(raw: &str, plain: &str) -> bool {
    Decoded(raw.as_bytes()).eq(plain.bytes())
}

/// The bytes of a percent-encoded string (escapes checked beforehand by
/// [`valid_escapes`]; a bad one is passed through, never a panic).
#[derive(Clone)]
struct Decoded<'a>(&'a [u8]);

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        if first == b'%' {
            if let [h, l, tail @ ..] = rest {
                if let (Some(h), Some(l)) = (hex(*h), hex(*l)) {
                    self.0 = tail;
                    return Some(h << 4 | l);
                }
            }
        }
        self.0 = rest;
        Some(first)
    }
}

#[cfg(test)]
mod tests;
