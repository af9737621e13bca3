//! What the connections share: the error type, socket helpers, C1/S1 randomness.

use crate::tls::Transport;
use rtmp_core::chunk::ChunkedMessage;
use rtmp_core::handshake::RANDOM_LEN;
use rtmp_core::session::{CloseReason, InputError, SendError};
use rtmp_core::time::Instant as CoreInstant;
use rtmp_core::url::{RtmpUrl, Scheme};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Most slices handed to one `write_vectored`. Linux takes up to 1024; 64 is
/// a 256 KiB frame at chunk size 4096 in two calls and 1 KiB of stack.
pub const IOV_BATCH: usize = 64;

/// Writes the next slices of `msgs`, in order, with one `write_vectored` of
/// at most [`IOV_BATCH`] slices (header bytes from the session, payload from
/// where the caller's frame lies), and returns the bytes the writer took;
/// the caller [`advance`](ChunkedMessage::advance)s the messages by them.
/// The slice array starts empty without being zeroed, which for small
/// messages would cost more than filling it.
pub fn write_gathered<'m, 'p: 'm, W: Write + ?Sized>(
    out: &mut W,
    msgs: impl IntoIterator<Item = &'m ChunkedMessage<'p>>,
) -> io::Result<usize> {
    let mut iov = [const { MaybeUninit::<IoSlice<'m>>::uninit() }; IOV_BATCH];
    let mut filled = 0;
    for msg in msgs {
        let Some(room) = iov.get_mut(filled..).filter(|r| !r.is_empty()) else { break };
        let k = msg.fill_with(room, |s| MaybeUninit::new(IoSlice::new(s)));
        filled += k.min(room.len());
    }
    // SAFETY: `ChunkedMessage::fill_with` (rtmp-core, this workspace) writes
    // `out[..k]` and returns `k`, so `iov[..filled]` are initialised; a test
    // there checks every slot it reports against the slice iterator. (Counting
    // writes in a closure instead would make this local, at a third more
    // time per slice.) `MaybeUninit<T>` has the layout of `T`.
    let iov = unsafe { &*(&raw const iov[..filled] as *const [IoSlice<'m>]) };
    out.write_vectored(iov)
}

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
    /// The link stopped moving (see [`rtmp_core::live::LinkWatch`]).
    Dead(rtmp_core::live::DeadLink),
    /// TLS could not be set up (`rtmps://`): certificate, handshake.
    Tls(Box<crate::tls::TlsError>),
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
            RtmpErrorKind::Dead(e) => write!(f, "{e}"),
            RtmpErrorKind::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RtmpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RtmpErrorKind::Io(e) => Some(e),
            RtmpErrorKind::Tls(e) => Some(e),
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
            RtmpErrorKind::Dead(_) => io::ErrorKind::TimedOut,
            RtmpErrorKind::Tls(e) if matches!(**e, crate::tls::TlsError::Timeout { .. }) => io::ErrorKind::TimedOut,
            RtmpErrorKind::Tls(e) if matches!(**e, crate::tls::TlsError::Certificate { .. }) => {
                io::ErrorKind::PermissionDenied
            }
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

/// [`connect_tcp`], then for `rtmps://` the TLS handshake (SNI and
/// certificate checked against the URL's host) within the same timeout;
/// `tune` sets socket options before the first byte is sent.
pub(crate) fn connect_transport(
    url: &RtmpUrl<'_>,
    timeout: Duration,
    tune: impl FnOnce(&TcpStream) -> io::Result<()>,
) -> Result<Transport, (&'static str, RtmpErrorKind)> {
    let started = Instant::now();
    let tcp = connect_tcp(url, timeout).map_err(|(step, e)| (step, RtmpErrorKind::Io(e)))?;
    tune(&tcp).map_err(|e| ("connect", RtmpErrorKind::Io(e)))?;
    match url.scheme() {
        Scheme::Rtmp => Ok(Transport::Tcp(tcp)),
        Scheme::Rtmps => {
            let left = timeout.saturating_sub(started.elapsed()).max(Duration::from_millis(100));
            crate::tls::connect(tcp, url.host(), left).map_err(|e| ("connect", RtmpErrorKind::Tls(Box::new(e))))
        }
    }
}

/// Linux's `TCP_NOTSENT_LOWAT` (include/uapi/linux/tcp.h), absent from the libc crate.
const TCP_NOTSENT_LOWAT: libc::c_int = 25;

/// Settings for a live link: `TCP_USER_TIMEOUT` and keepalive so the kernel
/// gives up on a dead peer too (within three `timeout`s), and with
/// `notsent_lowat` a bound on the bytes waiting unsent in the kernel (the
/// socket takes more only when fewer wait), so frames queue where they can
/// still be dropped, not seconds deep in the send buffer.
pub(crate) fn tune_live_socket(s: &TcpStream, timeout: Duration, notsent_lowat: Option<u32>) -> io::Result<()> {
    use rustix::net::sockopt;
    // Three times the link timeout: the link watch judges a slow link by
    // its progress; the kernel's timer counts a receiver's zero window
    // (a reader slower than the link) as unacknowledged data too, and would
    // kill a link that is slow but moving.
    let user_timeout = timeout.saturating_mul(3).as_millis().clamp(1000, u128::from(u32::MAX)) as u32;
    sockopt::set_tcp_user_timeout(s, user_timeout)?;
    sockopt::set_socket_keepalive(s, true)?;
    let idle = (timeout / 3).max(Duration::from_secs(1));
    sockopt::set_tcp_keepidle(s, Duration::from_secs(idle.as_secs().max(1)))?;
    sockopt::set_tcp_keepintvl(s, Duration::from_secs(idle.as_secs().max(1)))?;
    sockopt::set_tcp_keepcnt(s, 3)?;
    if let Some(lowat) = notsent_lowat {
        let v: libc::c_int = lowat.min(i32::MAX as u32) as libc::c_int;
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&v`, a
        // live c_int; the descriptor is the stream's own.
        let r = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(s),
                libc::IPPROTO_TCP,
                TCP_NOTSENT_LOWAT,
                (&raw const v).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Bytes written to the socket that the peer has not acknowledged yet
/// (`SIOCOUTQ`): in flight or unsent.
pub(crate) fn unacked_bytes(s: &TcpStream) -> io::Result<u32> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (= SIOCOUTQ on TCP sockets) writes one c_int to the
    // pointer, which points at `n`.
    let r = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(s), libc::TIOCOUTQ, &raw mut n) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.max(0) as u32)
}

/// The kernel's smoothed round-trip time of the connection (`TCP_INFO`).
pub(crate) fn round_trip(s: &TcpStream) -> Option<Duration> {
    // SAFETY: tcp_info is plain integers; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, which is
    // that large, and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (r == 0 && len as usize >= 72).then(|| Duration::from_micros(u64::from(info.tcpi_rtt)))
}

/// Waits until the socket is ready for `flags` (true) or `timeout` passes (false).
pub(crate) fn wait(stream: &impl AsFd, flags: PollFlags, timeout: Option<Duration>) -> io::Result<bool> {
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

/// What a client connection needs of its sans-IO session
/// ([`Publisher`](rtmp_core::session::Publisher) or [`Player`](rtmp_core::session::Player)).
pub(crate) trait ClientSession {
    fn handle_input(&mut self, now: CoreInstant, input: &[u8]) -> Result<usize, InputError>;
    fn handle_peer_closed(&mut self);
    fn poll_transmit(&self) -> Option<&[u8]>;
    fn transmitted(&mut self, n: usize);
    /// Whether retained input is fed before the peer's close is reported.
    fn feed_before_close(&self) -> bool;
}

macro_rules! client_session {
    ($t:ty, $feed_before_close:expr) => {
        impl ClientSession for $t {
            fn handle_input(&mut self, now: CoreInstant, input: &[u8]) -> Result<usize, InputError> {
                <$t>::handle_input(self, now, input)
            }
            fn handle_peer_closed(&mut self) {
                <$t>::handle_peer_closed(self)
            }
            fn poll_transmit(&self) -> Option<&[u8]> {
                <$t>::poll_transmit(self)
            }
            fn transmitted(&mut self, n: usize) {
                <$t>::transmitted(self, n)
            }
            fn feed_before_close(&self) -> bool {
                $feed_before_close
            }
        }
    };
}
client_session!(rtmp_core::session::Publisher<'_>, true);
client_session!(rtmp_core::session::Player<'_>, false);

/// A client's socket and receive buffer: reading into the buffer, feeding
/// the session, writing its control bytes, and naming the server and step
/// in every error. Shared by [`RtmpPush`](crate::push::RtmpPush) and
/// [`RtmpPull`](crate::pull::RtmpPull).
pub(crate) struct Connection<'b> {
    pub(crate) stream: Transport,
    recv: &'b mut [u8],
    recv_len: usize,
    epoch: Instant,
    server: String,
    /// How long a write may stall before the server counts as gone.
    stall: Duration,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    /// When bytes last arrived.
    pub(crate) last_data: Instant,
    /// Since when a send has been waiting for a full socket (cleared by a write).
    pub(crate) stalled_since: Option<Instant>,
}

impl<'b> Connection<'b> {
    pub(crate) fn new(stream: Transport, recv: &'b mut [u8], server: String, stall: Duration) -> Self {
        let now = Instant::now();
        Connection {
            stream,
            recv,
            recv_len: 0,
            epoch: now,
            server,
            stall,
            bytes_sent: 0,
            bytes_received: 0,
            last_data: now,
            stalled_since: None,
        }
    }

    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// The sessions' clock: microseconds since the connection began.
    pub(crate) fn now(&self) -> CoreInstant {
        CoreInstant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    /// A session deadline on the wall clock.
    pub(crate) fn deadline(&self, t: CoreInstant) -> Instant {
        self.epoch + Duration::from_micros(t.as_micros())
    }

    pub(crate) fn error(&self, step: &'static str, kind: RtmpErrorKind) -> RtmpError {
        RtmpError { server: self.server.clone(), step, kind }
    }

    /// Waits until `until` for data (not at all when `None`), then reads
    /// what is there into the buffer; end of stream goes to the session.
    /// Returns the bytes read.
    pub(crate) fn read(
        &mut self,
        session: &mut impl ClientSession,
        step: &'static str,
        until: Option<Instant>,
    ) -> Result<usize, RtmpError> {
        // TLS records still waiting for the socket go out as it takes them.
        self.stream.flush_records().map_err(|e| self.error(step, RtmpErrorKind::Io(e)))?;
        if let Some(t) = until.filter(|_| !self.stream.has_buffered_input()) {
            // Timing out here is normal: the caller checks its own deadlines.
            let timeout = t.saturating_duration_since(Instant::now());
            let flags = if self.stream.wants_write() { PollFlags::IN | PollFlags::OUT } else { PollFlags::IN };
            wait(&self.stream, flags, Some(timeout)).map_err(|e| self.error(step, RtmpErrorKind::Io(e)))?;
            self.stream.flush_records().map_err(|e| self.error(step, RtmpErrorKind::Io(e)))?;
        }
        let mut got = 0;
        // A full buffer means the session waits on its own output (it
        // consumes whole chunk headers and streams payload).
        while self.recv_len < self.recv.len() {
            match self.stream.read(&mut self.recv[self.recv_len..]) {
                Ok(0) => {
                    // A publisher handles what arrived before the close
                    // first (a late refusal must not be lost to it); a
                    // player hands its frames out one by one, so they wait.
                    if session.feed_before_close() {
                        while self.feed(session) > 0 {}
                    }
                    session.handle_peer_closed();
                    break;
                }
                Ok(n) => {
                    self.recv_len += n;
                    got += n;
                    self.bytes_received += n as u64;
                    self.last_data = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(step, RtmpErrorKind::Io(e))),
            }
        }
        Ok(got)
    }

    /// Offers the retained input to the session; returns what it took. An
    /// input error closes the session, which reports it as its close event.
    pub(crate) fn feed(&mut self, session: &mut impl ClientSession) -> usize {
        if self.recv_len == 0 {
            return 0;
        }
        let now = self.now();
        let n = session.handle_input(now, &self.recv[..self.recv_len]).unwrap_or_default();
        self.recv.copy_within(n..self.recv_len, 0);
        self.recv_len -= n;
        n
    }

    /// Writes all the session's queued control bytes, waiting (up to the
    /// stall timeout) when the socket is full. With `feed`, retained input
    /// is offered again after each write (a session may wait for its own
    /// output before it takes more).
    pub(crate) fn flush(
        &mut self,
        session: &mut impl ClientSession,
        step: &'static str,
        feed: bool,
    ) -> Result<(), RtmpError> {
        while let Some(bytes) = session.poll_transmit() {
            match self.stream.write(bytes) {
                Ok(n) => {
                    self.bytes_sent += n as u64;
                    session.transmitted(n);
                    if feed {
                        self.feed(session);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait_writable(step, PollFlags::OUT)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error(step, RtmpErrorKind::Io(e))),
            }
        }
        Ok(())
    }

    /// Gives every byte held in TLS buffers to the kernel (waiting, up to the
    /// stall timeout, while the socket is full), then for TLS sends
    /// `close_notify`, and shuts the socket's sending side.
    pub(crate) fn shutdown_write(&mut self, step: &'static str) -> Result<(), RtmpError> {
        loop {
            self.stream.flush_records().map_err(|e| self.error(step, RtmpErrorKind::Io(e)))?;
            if !self.stream.wants_write() {
                break;
            }
            self.wait_writable(step, PollFlags::OUT)?;
        }
        self.stream.close_notify();
        let _ = self.stream.tcp().shutdown(std::net::Shutdown::Write);
        Ok(())
    }

    /// Waits up to `slice` for the socket to be ready for `flags`, so the
    /// caller can look around; a socket that took nothing for the stall
    /// timeout (since `last_write`) counts as gone.
    pub(crate) fn wait_writable_for(
        &mut self,
        step: &'static str,
        flags: PollFlags,
        slice: Duration,
    ) -> Result<(), RtmpError> {
        let since = *self.stalled_since.get_or_insert_with(Instant::now);
        let left = self.stall.saturating_sub(since.elapsed());
        match wait(&self.stream, flags, Some(left.min(slice))) {
            // Ready to read is not progress: only a write clears the stall.
            Ok(true) => Ok(()),
            Ok(false) if since.elapsed() < self.stall => Ok(()),
            Ok(false) => Err(self.error(step, RtmpErrorKind::Dead(rtmp_core::live::DeadLink::Stalled))),
            Err(e) => Err(self.error(step, RtmpErrorKind::Io(e))),
        }
    }

    /// Waits for the socket to be ready for `flags`; a server that reads
    /// nothing for the stall timeout counts as gone.
    pub(crate) fn wait_writable(&mut self, step: &'static str, flags: PollFlags) -> Result<(), RtmpError> {
        match wait(&self.stream, flags, Some(self.stall)) {
            Ok(true) => Ok(()),
            // The server stopped reading: the send buffer stayed full.
            Ok(false) => Err(self.error(step, RtmpErrorKind::Dead(rtmp_core::live::DeadLink::Stalled))),
            Err(e) => Err(self.error(step, RtmpErrorKind::Io(e))),
        }
    }
}
