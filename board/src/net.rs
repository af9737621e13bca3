//! What the connections share: the error type, socket helpers, C1/S1 randomness.

use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{CloseReason, SendError};
use rtmp_core::url::RtmpUrl;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::fmt;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Why a connection failed: which server, at which step, and what happened.
/// Never contains the stream name or key.
#[derive(Debug)]
pub struct RtmpError {
    /// `host:port`.
    pub server: String,
    /// The step that failed (`resolve`, `connect`, `publish`, `send` ...).
    pub step: &'static str,
    /// What went wrong.
    pub kind: RtmpErrorKind,
}

/// The cause of a [`RtmpError`].
#[derive(Debug)]
pub enum RtmpErrorKind {
    /// The URL is not a valid RTMP URL.
    Url(rtmp_core::url::UrlError),
    /// A socket error.
    Io(io::Error),
    /// The session closed (refusal, timeout, protocol error, peer closed).
    Closed(Box<CloseReason>),
    /// A media message could not be sent.
    Send(SendError),
}

impl RtmpError {
    /// The server's status code and description, when it refused us.
    pub fn refusal(&self) -> Option<(&str, &str)> {
        match &self.kind {
            RtmpErrorKind::Closed(reason) => match &**reason {
                CloseReason::Refused { code, description } => Some((code.as_str(), description.as_str())),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for RtmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: ", self.server, self.step)?;
        match &self.kind {
            RtmpErrorKind::Url(e) => write!(f, "{e}"),
            RtmpErrorKind::Io(e) => write!(f, "{e}"),
            RtmpErrorKind::Closed(r) => write!(f, "{r}"),
            RtmpErrorKind::Send(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RtmpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RtmpErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RtmpError> for io::Error {
    fn from(e: RtmpError) -> io::Error {
        let kind = match &e.kind {
            RtmpErrorKind::Io(io) => io.kind(),
            RtmpErrorKind::Closed(r) if matches!(**r, CloseReason::Refused { .. }) => io::ErrorKind::PermissionDenied,
            RtmpErrorKind::Closed(r) if matches!(**r, CloseReason::Timeout(_)) => io::ErrorKind::TimedOut,
            RtmpErrorKind::Url(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// Resolves the URL's host and connects (trying each address), with
/// `TCP_NODELAY` and non-blocking mode set. The error names the step.
pub(crate) fn connect_tcp(url: &RtmpUrl<'_>, timeout: Duration) -> Result<TcpStream, (&'static str, io::Error)> {
    let addrs: Vec<_> = (url.host(), url.port()).to_socket_addrs().map_err(|e| ("resolve", e))?.collect();
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                s.set_nodelay(true).and_then(|()| s.set_nonblocking(true)).map_err(|e| ("connect", e))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(("connect", last))
}

/// Waits until the socket is ready for `flags` (true) or `timeout` passes (false).
pub(crate) fn wait(stream: &TcpStream, flags: PollFlags, timeout: Option<Duration>) -> io::Result<bool> {
    let ts = timeout.map(|d| Timespec { tv_sec: d.as_secs() as _, tv_nsec: d.subsec_nanos() as _ });
    let mut fds = [PollFd::new(stream, flags)];
    loop {
        match poll(&mut fds, ts.as_ref()) {
            Ok(n) => return Ok(n > 0),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// C1 random bytes: not security-relevant in RTMP, but they should differ
/// per connection; taken from the clock and the process id, no RNG crate needed.
pub(crate) fn random_bytes() -> [u8; RANDOM_LEN] {
    let mut seed = Instant::now().elapsed().as_nanos() as u64
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
        ^ (u64::from(std::process::id()) << 32);
    let mut out = [0u8; RANDOM_LEN];
    for chunk in out.chunks_mut(8) {
        // xorshift64*
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let v = seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}
