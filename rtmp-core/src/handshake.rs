//! The RTMP handshake, client and server side, simple and digest (FP9).
//!
//! Sizes and order follow the RTMP specification, section 5.2: each side sends
//! a 1-byte version (C0/S0, always 3), a 1536-byte C1/S1 (time, 4 bytes that
//! are zero in the simple handshake or a version in the digest one, then 1528
//! random bytes), and a 1536-byte C2/S2 answering the peer's packet.
//!
//! The digest handshake (introduced by Flash Player 9, spoken by ffmpeg,
//! nginx-rtmp, SRS, Wowza, YouTube and most CDNs) hides an HMAC-SHA256 digest
//! at a data-dependent offset in C1/S1, and signs C2/S2 with a key derived
//! from the peer's digest. Two layouts exist: the digest block comes after the
//! key block (scheme 0, digest offset from bytes 772..776) or first (scheme 1,
//! offset from bytes 8..12); peers accept either, so both are looked for.
//!
//! Both sides are sans-IO: feed received bytes to `handle_input`, which says
//! how many it consumed (the rest stays with the caller, as with
//! `BufRead::consume`), and write what `poll_transmit` returns, reporting it
//! with `transmitted`. Random bytes come from the caller. The caller's receive
//! buffer must hold at least [`MIN_RECV_BUFFER`] bytes, because C0+C1 and
//! S0+S1 are processed whole.

use core::fmt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of C1, C2, S1 and S2.
pub const PACKET_LEN: usize = 1536;
/// Random bytes in C1/S1 that the caller supplies.
pub const RANDOM_LEN: usize = PACKET_LEN - 8;
/// The only RTMP version this crate speaks (plain RTMP; 6 is RTMPE).
pub const RTMP_VERSION: u8 = 3;
/// The smallest receive buffer a caller may use during the handshake.
pub const MIN_RECV_BUFFER: usize = 1 + PACKET_LEN;

const DIGEST_LEN: usize = 32;
/// Where C2/S2 carry their signature in the digest handshake.
const SIGNATURE_AT: usize = PACKET_LEN - DIGEST_LEN;
/// Version field this crate sends as a client in digest mode (a Flash Player 10 value).
const CLIENT_VERSION: [u8; 4] = [0x80, 0x00, 0x07, 0x02];
/// Version field this crate sends as a server in digest mode (an FMS 4.5 value).
const SERVER_VERSION: [u8; 4] = [0x04, 0x05, 0x00, 0x01];

/// The 32 bytes that follow the text in both handshake keys.
const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D,
    0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];
const FP_TEXT: &[u8; 30] = b"Genuine Adobe Flash Player 001";
const FMS_TEXT: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";

fn fp_key_full() -> [u8; 62] {
    concat_key(FP_TEXT)
}
fn fms_key_full() -> [u8; 68] {
    concat_key(FMS_TEXT)
}
fn concat_key<const T: usize, const N: usize>(text: &[u8; T]) -> [u8; N] {
    let mut k = [0u8; N];
    k[..T].copy_from_slice(text);
    k[T..].copy_from_slice(&KEY_TAIL);
    k
}

/// Which handshake to offer as a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HandshakeMode {
    /// The spec's handshake: C1 version zero, C2 echoes S1.
    Simple,
    /// The FP9 digest handshake; falls back to simple if the server answers simply.
    #[default]
    Digest,
}

/// Where the digest sits in a C1/S1 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestScheme {
    /// Key block first, digest offset from bytes 772..776.
    KeyFirst,
    /// Digest block first, digest offset from bytes 8..12.
    DigestFirst,
}

impl DigestScheme {
    fn offset(self, p: &[u8; PACKET_LEN]) -> usize {
        let base = match self {
            DigestScheme::KeyFirst => 772,
            DigestScheme::DigestFirst => 8,
        };
        let sum: usize = p[base..base + 4].iter().map(|&b| usize::from(b)).sum();
        sum % 728 + base + 4
    }
}

/// Why a handshake failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer's C0/S0 is not 3 (6 would be RTMPE, which is not supported).
    UnsupportedVersion(u8),
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::UnsupportedVersion(6) => {
                f.write_str("peer asked for RTMPE (encrypted RTMP), not supported")
            }
            HandshakeError::UnsupportedVersion(v) => write!(f, "peer speaks RTMP version {v}, expected 3"),
        }
    }
}

impl core::error::Error for HandshakeError {}

/// What a completed handshake learned about the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeOutcome {
    /// The peer's C1/S1 time field.
    pub peer_epoch: u32,
    /// The peer's C1/S1 version field (zero from simple peers).
    pub peer_version: [u8; 4],
    /// The digest scheme the peer used in C1/S1, if it carried a valid digest.
    pub digest: Option<DigestScheme>,
    /// In the digest handshake, whether the peer's C2/S2 signature was valid.
    /// `None` for the simple handshake, where there is nothing to check.
    pub answer_signed: Option<bool>,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return [0; DIGEST_LEN];
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn packet_digest(p: &[u8; PACKET_LEN], offset: usize, key: &[u8]) -> [u8; DIGEST_LEN] {
    hmac(key, &[&p[..offset], &p[offset + DIGEST_LEN..]])
}

/// Finds a valid C1/S1 digest made with `key` (the text part of the FP or FMS
/// key), trying both schemes. Returns the scheme and the digest.
pub fn find_digest(p: &[u8; PACKET_LEN], key_text: &[u8]) -> Option<(DigestScheme, [u8; DIGEST_LEN])> {
    for scheme in [DigestScheme::KeyFirst, DigestScheme::DigestFirst] {
        let at = scheme.offset(p);
        let found: [u8; DIGEST_LEN] = p[at..at + DIGEST_LEN].try_into().ok()?;
        // Fuzzing cannot forge HMACs; let it explore the digest paths anyway.
        if cfg!(fuzzing) || packet_digest(p, at, key_text) == found {
            return Some((scheme, found));
        }
    }
    None
}

/// Finds the digest of a client's C1 (signed with the Flash Player key).
pub fn find_client_digest(c1: &[u8; PACKET_LEN]) -> Option<(DigestScheme, [u8; DIGEST_LEN])> {
    find_digest(c1, FP_TEXT)
}

/// Finds the digest of a server's S1 (signed with the Media Server key).
pub fn find_server_digest(s1: &[u8; PACKET_LEN]) -> Option<(DigestScheme, [u8; DIGEST_LEN])> {
    find_digest(s1, FMS_TEXT)
}

/// Whether `s2` is correctly signed for a client whose C1 digest was `c1_digest`.
pub fn verify_s2(c1_digest: &[u8; DIGEST_LEN], s2: &[u8; PACKET_LEN]) -> bool {
    let key = hmac(&fms_key_full(), &[c1_digest]);
    cfg!(fuzzing) || hmac(&key, &[&s2[..SIGNATURE_AT]])[..] == s2[SIGNATURE_AT..]
}

/// Whether `c2` is correctly signed for a server whose S1 digest was `s1_digest`.
pub fn verify_c2(s1_digest: &[u8; DIGEST_LEN], c2: &[u8; PACKET_LEN]) -> bool {
    let key = hmac(&fp_key_full(), &[s1_digest]);
    cfg!(fuzzing) || hmac(&key, &[&c2[..SIGNATURE_AT]])[..] == c2[SIGNATURE_AT..]
}

/// Writes a C1/S1 digest into `p` with `scheme`, returning it.
fn sign_packet(p: &mut [u8; PACKET_LEN], scheme: DigestScheme, key_text: &[u8]) -> [u8; DIGEST_LEN] {
    let at = scheme.offset(p);
    let d = packet_digest(p, at, key_text);
    p[at..at + DIGEST_LEN].copy_from_slice(&d);
    d
}

/// Signs a C2/S2 answer in place: the last 32 bytes become the signature.
fn sign_answer(p: &mut [u8], full_key: &[u8], peer_digest: &[u8; DIGEST_LEN]) {
    let key = hmac(full_key, &[peer_digest]);
    let sig = hmac(&key, &[&p[..SIGNATURE_AT]]);
    p[SIGNATURE_AT..PACKET_LEN].copy_from_slice(&sig);
}

/// Bytes a handshake side has to send, and how many went out.
#[derive(Clone)]
struct Outbox<const N: usize> {
    buf: [u8; N],
    len: usize,
    sent: usize,
}

impl<const N: usize> Outbox<N> {
    fn pending(&self) -> Option<&[u8]> {
        let p = &self.buf[self.sent..self.len];
        (!p.is_empty()).then_some(p)
    }
    fn advance(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.len);
    }
    /// Makes the first `len` bytes of `buf` the new output.
    fn ready(&mut self, len: usize) {
        self.len = len.min(N);
        self.sent = 0;
    }
}

fn packet(bytes: &[u8]) -> Option<&[u8; PACKET_LEN]> {
    bytes.get(..PACKET_LEN)?.try_into().ok()
}

fn fill_hello(p: &mut [u8], epoch: u32, version: [u8; 4], random: &[u8; RANDOM_LEN]) {
    p[0..4].copy_from_slice(&epoch.to_be_bytes());
    p[4..8].copy_from_slice(&version);
    p[8..PACKET_LEN].copy_from_slice(random);
}

fn outcome_of(hello: &[u8; PACKET_LEN], digest: Option<(DigestScheme, [u8; DIGEST_LEN])>) -> HandshakeOutcome {
    HandshakeOutcome {
        peer_epoch: u32::from_be_bytes([hello[0], hello[1], hello[2], hello[3]]),
        peer_version: [hello[4], hello[5], hello[6], hello[7]],
        digest: digest.map(|(s, _)| s),
        answer_signed: None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientState {
    AwaitS0S1,
    AwaitS2,
    Done,
}

/// The client side of the handshake.
///
/// ```
/// use rtmp_core::handshake::{ClientHandshake, HandshakeMode, ServerHandshake, RANDOM_LEN};
/// let mut client = ClientHandshake::new(HandshakeMode::Digest, 0, &[1; RANDOM_LEN]);
/// let mut server = ServerHandshake::new(0, &[2; RANDOM_LEN]);
/// while !(client.is_complete() && server.is_complete()) {
///     if let Some(bytes) = client.poll_transmit() {
///         let n = server.handle_input(bytes).unwrap();
///         client.transmitted(n);
///     }
///     if let Some(bytes) = server.poll_transmit() {
///         let n = client.handle_input(bytes).unwrap();
///         server.transmitted(n);
///     }
/// }
/// assert_eq!(client.outcome().unwrap().answer_signed, Some(true));
/// assert_eq!(server.outcome().unwrap().answer_signed, Some(true));
/// ```
#[derive(Clone)]
pub struct ClientHandshake {
    tx: Outbox<{ 1 + PACKET_LEN }>,
    state: ClientState,
    /// Our C1 digest, to check S2's signature.
    c1_digest: Option<[u8; DIGEST_LEN]>,
    /// The server's S1 digest, when it had one.
    s1_digest: Option<[u8; DIGEST_LEN]>,
    outcome: Option<HandshakeOutcome>,
}

impl fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandshake").field("state", &self.state).field("outcome", &self.outcome).finish()
    }
}

impl ClientHandshake {
    /// Prepares C0+C1. `epoch` is the C1 time field (milliseconds on the
    /// caller's clock, or zero); `random` fills the rest of C1.
    pub fn new(mode: HandshakeMode, epoch: u32, random: &[u8; RANDOM_LEN]) -> Self {
        let mut tx = [0u8; 1 + PACKET_LEN];
        tx[0] = RTMP_VERSION;
        let version = match mode {
            HandshakeMode::Simple => [0; 4],
            HandshakeMode::Digest => CLIENT_VERSION,
        };
        let mut c1 = [0u8; PACKET_LEN];
        fill_hello(&mut c1, epoch, version, random);
        let c1_digest = match mode {
            HandshakeMode::Simple => None,
            HandshakeMode::Digest => Some(sign_packet(&mut c1, DigestScheme::DigestFirst, FP_TEXT)),
        };
        tx[1..].copy_from_slice(&c1);
        ClientHandshake {
            tx: Outbox { buf: tx, len: 1 + PACKET_LEN, sent: 0 },
            state: ClientState::AwaitS0S1,
            c1_digest,
            s1_digest: None,
            outcome: None,
        }
    }

    /// Bytes waiting to be sent, if any.
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.tx.pending()
    }

    /// Reports that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were sent.
    pub fn transmitted(&mut self, n: usize) {
        self.tx.advance(n);
    }

    /// Whether S2 has been received (C2 may still be waiting in `poll_transmit`).
    pub fn is_complete(&self) -> bool {
        self.state == ClientState::Done
    }

    /// What the handshake learned, once S1 has been processed.
    pub fn outcome(&self) -> Option<HandshakeOutcome> {
        self.outcome
    }

    /// Processes S0+S1, then S2. Returns the bytes consumed: zero when more are
    /// needed, or (for S0+S1) while C0+C1 has not been fully sent yet. Bytes
    /// after S2 belong to the chunk stream and are not consumed.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
        match self.state {
            ClientState::AwaitS0S1 => {
                let Some((&s0, rest)) = input.split_first() else { return Ok(0) };
                if s0 != RTMP_VERSION {
                    return Err(HandshakeError::UnsupportedVersion(s0));
                }
                let Some(s1) = packet(rest) else { return Ok(0) };
                if self.poll_transmit().is_some() {
                    return Ok(0);
                }
                let digest = if self.c1_digest.is_some() { find_server_digest(s1) } else { None };
                // C2: echo S1 (simple), or S1's bytes signed with a key derived
                // from the server's digest (digest handshake).
                self.tx.buf[..PACKET_LEN].copy_from_slice(s1);
                if let Some((_, d)) = digest {
                    sign_answer(&mut self.tx.buf[..PACKET_LEN], &fp_key_full(), &d);
                }
                self.s1_digest = digest.map(|(_, d)| d);
                self.tx.ready(PACKET_LEN);
                self.outcome = Some(outcome_of(s1, digest));
                self.state = ClientState::AwaitS2;
                Ok(1 + PACKET_LEN)
            }
            ClientState::AwaitS2 => {
                let Some(s2) = packet(input) else { return Ok(0) };
                if let (Some(c1d), Some(_), Some(o)) = (self.c1_digest, self.s1_digest, self.outcome.as_mut()) {
                    o.answer_signed = Some(verify_s2(&c1d, s2));
                }
                self.state = ClientState::Done;
                Ok(PACKET_LEN)
            }
            ClientState::Done => Ok(0),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerState {
    AwaitC0C1,
    AwaitC2,
    Done,
}

/// The server side of the handshake: answers a digest C1 with a digest S1/S2,
/// and anything else with the simple handshake.
#[derive(Clone)]
pub struct ServerHandshake {
    tx: Outbox<{ 1 + 2 * PACKET_LEN }>,
    state: ServerState,
    s1_digest: Option<[u8; DIGEST_LEN]>,
    outcome: Option<HandshakeOutcome>,
}

impl fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandshake").field("state", &self.state).field("outcome", &self.outcome).finish()
    }
}

impl ServerHandshake {
    /// A server handshake; `epoch` and `random` fill S1.
    pub fn new(epoch: u32, random: &[u8; RANDOM_LEN]) -> Self {
        let mut tx = [0u8; 1 + 2 * PACKET_LEN];
        tx[0] = RTMP_VERSION;
        fill_hello(&mut tx[1..1 + PACKET_LEN], epoch, [0; 4], random);
        ServerHandshake {
            tx: Outbox { buf: tx, len: 0, sent: 0 },
            state: ServerState::AwaitC0C1,
            s1_digest: None,
            outcome: None,
        }
    }

    /// Bytes waiting to be sent (S0+S1+S2, once C0+C1 arrived).
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.tx.pending()
    }

    /// Reports that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were sent.
    pub fn transmitted(&mut self, n: usize) {
        self.tx.advance(n);
    }

    /// Whether C2 has been received.
    pub fn is_complete(&self) -> bool {
        self.state == ServerState::Done
    }

    /// What the handshake learned about the client, once C1 has been processed.
    pub fn outcome(&self) -> Option<HandshakeOutcome> {
        self.outcome
    }

    /// Processes C0+C1, then C2; returns the bytes consumed (zero when more are needed).
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
        match self.state {
            ServerState::AwaitC0C1 => {
                let Some((&c0, rest)) = input.split_first() else { return Ok(0) };
                if c0 != RTMP_VERSION {
                    return Err(HandshakeError::UnsupportedVersion(c0));
                }
                let Some(c1) = packet(rest) else { return Ok(0) };
                let digest = if c1[4..8] != [0; 4] { find_client_digest(c1) } else { None };
                let (s1_area, s2_area) = self.tx.buf[1..].split_at_mut(PACKET_LEN);
                let s2 = &mut s2_area[..PACKET_LEN];
                s2.copy_from_slice(c1);
                if let Some((scheme, client_digest)) = digest {
                    let s1: &mut [u8; PACKET_LEN] = match s1_area.try_into() {
                        Ok(s) => s,
                        Err(_) => return Ok(0),
                    };
                    s1[4..8].copy_from_slice(&SERVER_VERSION);
                    self.s1_digest = Some(sign_packet(s1, scheme, FMS_TEXT));
                    sign_answer(s2, &fms_key_full(), &client_digest);
                }
                self.tx.ready(1 + 2 * PACKET_LEN);
                self.outcome = Some(outcome_of(c1, digest));
                self.state = ServerState::AwaitC2;
                Ok(1 + PACKET_LEN)
            }
            ServerState::AwaitC2 => {
                let Some(c2) = packet(input) else { return Ok(0) };
                if let (Some(d), Some(o)) = (self.s1_digest, self.outcome.as_mut()) {
                    o.answer_signed = Some(verify_c2(&d, c2));
                }
                self.state = ServerState::Done;
                Ok(PACKET_LEN)
            }
            ServerState::Done => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mode: HandshakeMode) -> (ClientHandshake, ServerHandshake) {
        let mut c = ClientHandshake::new(mode, 7, &[0x5A; RANDOM_LEN]);
        let mut s = ServerHandshake::new(9, &[0xA5; RANDOM_LEN]);
        // Deliver in awkward pieces to exercise partial input and output.
        let mut c_rx: heapless::Vec<u8, 4096> = heapless::Vec::new();
        let mut s_rx: heapless::Vec<u8, 4096> = heapless::Vec::new();
        for _ in 0..100 {
            if let Some(b) = c.poll_transmit() {
                let n = b.len().min(700);
                s_rx.extend_from_slice(&b[..n]).unwrap();
                c.transmitted(n);
            }
            if let Some(b) = s.poll_transmit() {
                let n = b.len().min(1000);
                c_rx.extend_from_slice(&b[..n]).unwrap();
                s.transmitted(n);
            }
            let n = s.handle_input(&s_rx).unwrap();
            s_rx = heapless::Vec::from_slice(&s_rx[n..]).unwrap();
            let n = c.handle_input(&c_rx).unwrap();
            c_rx = heapless::Vec::from_slice(&c_rx[n..]).unwrap();
            if c.is_complete() && s.is_complete() && c.poll_transmit().is_none() {
                break;
            }
        }
        assert!(c.is_complete() && s.is_complete());
        assert!(c_rx.is_empty() && s_rx.is_empty());
        (c, s)
    }

    #[test]
    fn digest_both_sides_verify() {
        let (c, s) = run(HandshakeMode::Digest);
        let co = c.outcome().unwrap();
        assert_eq!(co.digest, Some(DigestScheme::DigestFirst));
        assert_eq!(co.answer_signed, Some(true));
        assert_eq!(co.peer_epoch, 9);
        let so = s.outcome().unwrap();
        assert_eq!(so.digest, Some(DigestScheme::DigestFirst));
        assert_eq!(so.answer_signed, Some(true));
        assert_eq!(so.peer_version, CLIENT_VERSION);
    }

    #[test]
    fn simple_falls_back() {
        let (c, s) = run(HandshakeMode::Simple);
        assert_eq!(c.outcome().unwrap().digest, None);
        assert_eq!(s.outcome().unwrap().digest, None);
        assert_eq!(s.outcome().unwrap().answer_signed, None);
    }

    #[test]
    fn simple_server_echoes_c1_in_s2() {
        let c = ClientHandshake::new(HandshakeMode::Simple, 1, &[3; RANDOM_LEN]);
        let c0c1: heapless::Vec<u8, 1537> = heapless::Vec::from_slice(c.poll_transmit().unwrap()).unwrap();
        let mut s = ServerHandshake::new(0, &[4; RANDOM_LEN]);
        assert_eq!(s.handle_input(&c0c1).unwrap(), 1537);
        let out = s.poll_transmit().unwrap();
        assert_eq!(out.len(), 3073);
        assert_eq!(&out[1537..], &c0c1[1..]);
    }

    #[test]
    fn tampered_digest_is_not_found() {
        let c = ClientHandshake::new(HandshakeMode::Digest, 1, &[3; RANDOM_LEN]);
        let mut c1 = *packet(&c.poll_transmit().unwrap()[1..]).unwrap();
        assert!(find_client_digest(&c1).is_some());
        c1[100] ^= 1;
        assert!(find_client_digest(&c1).is_none());
    }

    #[test]
    fn wrong_version_is_an_error() {
        let mut s = ServerHandshake::new(0, &[0; RANDOM_LEN]);
        assert_eq!(s.handle_input(&[6]), Err(HandshakeError::UnsupportedVersion(6)));
        let mut c = ClientHandshake::new(HandshakeMode::Digest, 0, &[0; RANDOM_LEN]);
        assert_eq!(c.handle_input(&[0x16, 3, 1]), Err(HandshakeError::UnsupportedVersion(0x16)));
        assert_eq!(c.handle_input(&[3, 0, 0]), Ok(0));
    }
}
