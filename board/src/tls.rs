//! RTMPS: TLS (rustls, ring provider; TLS 1.2 and 1.3) under the same
//! non-blocking connections as plain RTMP.
//!
//! [`Transport`] is a socket that is either plain TCP or TLS. The plain one
//! keeps its zero-copy `writev`; over TLS each write is encrypted into
//! rustls's records (the one copy encryption needs) with a bounded buffer
//! ([`TLS_BUFFER`]): when it is full the write returns `WouldBlock`, so a
//! stalled link backs up into the caller's queue, where frames are dropped
//! and counted, not into TLS buffers.
//!
//! Clients verify the server's certificate against the system's roots
//! (`SSL_CERT_FILE` and `SSL_CERT_DIR` honoured, as OpenSSL tools do) or,
//! when the system has none, Mozilla's roots compiled in. There is no way
//! to turn verification off.

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of TLS records (and plaintext before the handshake ends) held for
/// the socket before writes report `WouldBlock`: one full record, as much
/// as the camera's `TCP_NOTSENT_LOWAT` lets wait unsent in the kernel. The
/// link's queue estimate (kernel bytes unacknowledged) does not see these
/// bytes, so they are kept few: at 1 Mbit/s 16 KiB is 0.13 s.
pub const TLS_BUFFER: usize = 16 * 1024;

/// Why TLS could not be set up. The `Display` form is one line naming the
/// host and the problem.
#[derive(Debug)]
pub enum TlsError {
    /// The server's certificate was refused.
    Certificate {
        /// The host name we asked for.
        host: String,
        /// What was wrong with it.
        error: rustls::CertificateError,
    },
    /// The handshake did not finish within the timeout.
    Timeout {
        /// The host.
        host: String,
        /// The timeout.
        after: Duration,
    },
    /// The peer closed the connection during the handshake.
    Closed {
        /// The host.
        host: String,
    },
    /// Any other TLS failure (protocol error, alert from the peer).
    Protocol {
        /// The host.
        host: String,
        /// The error.
        error: rustls::Error,
    },
    /// The host is not a valid DNS name or IP address for TLS.
    BadName(String),
    /// A certificate or key file could not be used.
    Config(String),
    /// A socket error during the handshake.
    Io(io::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rustls::CertificateError as C;
        match self {
            TlsError::Certificate { host, error } => match error {
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    write!(f, "TLS: the server's certificate is not valid for the host name {host:?}")
                }
                C::UnknownIssuer => write!(
                    f,
                    "TLS: the certificate of {host} is signed by an unknown authority \
                     (add its CA with SSL_CERT_FILE or SSL_CERT_DIR)"
                ),
                C::Expired | C::ExpiredContext { .. } => write!(f, "TLS: the certificate of {host} has expired"),
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    write!(f, "TLS: the certificate of {host} is not valid yet (is the clock set?)")
                }
                C::Revoked => write!(f, "TLS: the certificate of {host} is revoked"),
                C::BadSignature => write!(
                    f,
                    "TLS: the certificate of {host} has a bad signature (not made by the trusted authority of its issuer's name)"
                ),
                other => write!(f, "TLS: the certificate of {host} was refused: {other:?}"),
            },
            TlsError::Timeout { host, after } => {
                write!(f, "TLS: the handshake with {host} did not finish within {:.1} s", after.as_secs_f64())
            }
            TlsError::Closed { host } => write!(f, "TLS: {host} closed the connection during the handshake"),
            TlsError::Protocol { host, error } => write!(f, "TLS: the handshake with {host} failed: {error}"),
            TlsError::BadName(host) => write!(f, "TLS: {host:?} is not a host name TLS can verify"),
            TlsError::Config(what) => write!(f, "TLS: {what}"),
            TlsError::Io(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots a client trusts: the system's (`SSL_CERT_FILE`, `SSL_CERT_DIR`
/// or the platform's bundle), or Mozilla's when the system has none.
/// Returns the store and whether it is the system's. `SSL_CERT_FILE` or
/// `SSL_CERT_DIR` set but yielding no certificate is an error, not a quiet
/// fallback: whoever set them meant those roots.
pub fn client_roots() -> Result<(rustls::RootCertStore, bool), TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if added > 0 {
        return Ok((roots, true));
    }
    let named: Vec<String> = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(|p| format!("{v}={}", Path::new(&p).display())))
        .collect();
    if !named.is_empty() {
        let why = native.errors.first().map_or(String::from("no certificate found"), |e| e.to_string());
        return Err(TlsError::Config(format!("no CA certificate loaded from {}: {why}", named.join(" "))));
    }
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok((roots, false))
}

/// A client configuration with [`client_roots`].
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let (roots, _) = client_roots()?;
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| TlsError::Config(format!("certificate {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError::Config(format!("certificate {}: no certificate in it", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Config(format!("key {}: {e}", key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
    Ok(Arc::new(config))
}

/// A connection's socket: plain TCP or TLS over it. Non-blocking.
pub enum Transport {
    /// Plain RTMP.
    Tcp(TcpStream),
    /// RTMPS.
    Tls(Box<TlsStream>),
}

/// TLS over a non-blocking TCP socket.
pub struct TlsStream {
    sock: TcpStream,
    conn: rustls::Connection,
    /// The peer closed the TCP connection.
    eof: bool,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Tcp(s) => f.debug_tuple("Tcp").field(s).finish(),
            Transport::Tls(t) => f.debug_tuple("Tls").field(&t.sock).finish(),
        }
    }
}

impl TlsStream {
    fn new(sock: TcpStream, mut conn: rustls::Connection) -> TlsStream {
        conn.set_buffer_limit(Some(TLS_BUFFER));
        TlsStream { sock, conn, eof: false }
    }

    /// Writes pending TLS records until the socket would block.
    fn flush_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what the socket has into rustls and processes it. Returns false
    /// when the socket had nothing.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let got = loop {
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => {
                    self.eof = true;
                    break true;
                }
                Ok(_) => break true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if got {
            let processed = self.conn.process_new_packets();
            // An alert for the peer (or a key update) goes out either way.
            let _ = self.flush_records();
            processed.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        Ok(got)
    }
}

impl Transport {
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Tcp(s) => s,
            Transport::Tls(t) => &t.sock,
        }
    }

    /// Whether this is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// TLS records wait for the socket: poll for writing too, and call
    /// [`flush_records`](Self::flush_records) when it is ready.
    pub fn wants_write(&self) -> bool {
        match self {
            Transport::Tcp(_) => false,
            Transport::Tls(t) => t.conn.wants_write(),
        }
    }

    /// Bytes held in TLS buffers, not yet given to the kernel.
    pub fn buffered_output(&self) -> bool {
        self.wants_write()
    }

    /// Writes pending TLS records until the socket would block.
    pub fn flush_records(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(_) => Ok(()),
            Transport::Tls(t) => t.flush_records(),
        }
    }

    /// Decrypted bytes wait to be read (the socket may not poll readable).
    pub fn has_buffered_input(&mut self) -> bool {
        match self {
            Transport::Tcp(_) => false,
            Transport::Tls(t) => t.conn.process_new_packets().is_ok_and(|s| s.plaintext_bytes_to_read() > 0),
        }
    }

    /// Sends TLS `close_notify` (best effort, non-blocking).
    pub fn close_notify(&mut self) {
        if let Transport::Tls(t) = self {
            t.conn.send_close_notify();
            let _ = t.flush_records();
        }
    }
}

impl AsFd for Transport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tcp().as_fd()
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let t = match self {
            Transport::Tcp(s) => return s.read(buf),
            Transport::Tls(t) => t,
        };
        loop {
            match t.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // The peer closed without close_notify: RTMP frames itself,
                // so this is a close like any other.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if !t.fill()? {
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// Plain: one `writev`. TLS: the slices are encrypted into records (up
    /// to [`TLS_BUFFER`] waiting), which then go to the socket.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let t = match self {
            Transport::Tcp(s) => return s.write_vectored(bufs),
            Transport::Tls(t) => t,
        };
        t.flush_records()?;
        let n = t.conn.writer().write_vectored(bufs)?;
        t.flush_records()?;
        if n == 0 && bufs.iter().any(|b| !b.is_empty()) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_records()
    }
}

/// Waits on a socket for `flags` until `deadline`; false on timeout.
fn wait_until(sock: &TcpStream, flags: PollFlags, deadline: Instant) -> io::Result<bool> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let ts = Timespec { tv_sec: left.as_secs() as _, tv_nsec: left.subsec_nanos() as _ };
        let mut fds = [PollFd::new(sock, flags)];
        match poll(&mut fds, Some(&ts)) {
            Ok(n) => return Ok(n > 0),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Runs a TLS handshake to the end on a non-blocking socket, within `timeout`.
fn handshake(mut t: TlsStream, host: &str, timeout: Duration) -> Result<TlsStream, TlsError> {
    let deadline = Instant::now() + timeout;
    let fail = |e: io::Error| -> TlsError {
        match e.into_inner().map(|inner| inner.downcast::<rustls::Error>()) {
            Some(Ok(tls)) => match *tls {
                rustls::Error::InvalidCertificate(error) => TlsError::Certificate { host: host.to_string(), error },
                error => TlsError::Protocol { host: host.to_string(), error },
            },
            Some(Err(other)) => TlsError::Io(io::Error::other(other)),
            None => TlsError::Io(io::Error::other("handshake failed")),
        }
    };
    while t.conn.is_handshaking() {
        t.flush_records().map_err(TlsError::Io)?;
        let flags = if t.conn.wants_write() { PollFlags::IN | PollFlags::OUT } else { PollFlags::IN };
        if !wait_until(&t.sock, flags, deadline).map_err(TlsError::Io)? {
            return Err(TlsError::Timeout { host: host.to_string(), after: timeout });
        }
        match t.fill() {
            Ok(_) if t.eof && t.conn.is_handshaking() => return Err(TlsError::Closed { host: host.to_string() }),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Err(fail(e)),
            Err(e) => return Err(TlsError::Io(e)),
        }
    }
    t.flush_records().map_err(TlsError::Io)?;
    Ok(t)
}

/// Connects TLS over `sock` (non-blocking) to `host` (sent as SNI and
/// verified against the certificate), within `timeout`.
pub fn connect(sock: TcpStream, host: &str, timeout: Duration) -> Result<Transport, TlsError> {
    let config = client_config()?;
    // `[::1]` in URLs; TLS wants the bare address.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_string()).map_err(|_| TlsError::BadName(host.to_string()))?;
    let conn = rustls::ClientConnection::new(config, name)
        .map_err(|error| TlsError::Protocol { host: host.to_string(), error })?;
    let t = handshake(TlsStream::new(sock, conn.into()), host, timeout)?;
    Ok(Transport::Tls(Box::new(t)))
}

/// Starts a server-side TLS connection on an accepted socket. The handshake
/// runs as the connection is read and written (the server's poll loop must
/// not wait on one client).
pub fn accept(sock: TcpStream, config: Arc<rustls::ServerConfig>) -> Result<Transport, TlsError> {
    let conn = rustls::ServerConnection::new(config)
        .map_err(|error| TlsError::Protocol { host: String::from("(client)"), error })?;
    Ok(Transport::Tls(Box::new(TlsStream::new(sock, conn.into()))))
}
