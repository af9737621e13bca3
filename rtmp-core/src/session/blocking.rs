//! A blocking publisher driver for firmware without `std`, over any
//! [`embedded_io`] transport (an embassy-net or smoltcp TCP socket, a UART
//! bridge): enable the `embedded-io` feature.
//!
//! It runs the sans-IO [`Publisher`] to completion of each step: connect
//! blocks until `NetStream.Publish.Start` (or a refusal), each send blocks
//! until the message is written. Reads block too, so put a receive timeout
//! on the transport; the clock you pass is used for the session's own
//! deadlines between reads. Server input during publishing (acknowledgement
//! windows, pings) is served whenever [`ReadReady`] says bytes are waiting.
//!
//! ```no_run
//! # #[cfg(feature = "embedded-io")] {
//! use rtmp_core::handshake::RANDOM_LEN;
//! use rtmp_core::session::{blocking::BlockingPublisher, PublisherConfig};
//! use rtmp_core::time::{Instant, RtmpTimestamp};
//! # fn socket() -> embedded_io_adapters::std::FromStd<std::net::TcpStream> { todo!() }
//! # struct Ready<T>(T);
//! # impl<T: embedded_io::ErrorType> embedded_io::ErrorType for Ready<T> { type Error = T::Error; }
//! # impl<T: embedded_io::Read> embedded_io::Read for Ready<T> { fn read(&mut self, b: &mut [u8]) -> Result<usize, T::Error> { self.0.read(b) } }
//! # impl<T: embedded_io::Write> embedded_io::Write for Ready<T> { fn write(&mut self, b: &[u8]) -> Result<usize, T::Error> { self.0.write(b) } fn flush(&mut self) -> Result<(), T::Error> { self.0.flush() } }
//! # impl<T: embedded_io::ErrorType> embedded_io::ReadReady for Ready<T> { fn read_ready(&mut self) -> Result<bool, T::Error> { Ok(false) } }
//! let (mut reassembly, mut rx) = ([0u8; 4096], [0u8; 4096]);
//! let config = PublisherConfig::new("live", "cam", "rtmp://192.0.2.1:1935/live");
//! let clock = || Instant::ZERO; // your board's monotonic timer
//! let mut publisher =
//!     BlockingPublisher::connect(Ready(socket()), clock, config, &mut reassembly, &mut rx, &[7; RANDOM_LEN]).unwrap();
//! let frame = [0x17u8, 1, 0, 0, 0 /* ... NAL units ... */];
//! publisher.send_video(RtmpTimestamp(0), &[&frame]).unwrap();
//! publisher.close().unwrap();
//! # }
//! ```

use super::{CloseReason, Event, Publisher, PublisherConfig, SendError};
use crate::handshake::RANDOM_LEN;
use crate::time::{Instant, RtmpTimestamp};
use core::fmt;
use embedded_io::{Read, ReadReady, Write};

/// A monotonic clock the driver reads for the session's deadlines.
pub trait Clock {
    /// Now, on the caller's monotonic clock.
    fn now(&self) -> Instant;
}

impl<F: Fn() -> Instant> Clock for F {
    fn now(&self) -> Instant {
        self()
    }
}

/// Why the driver stopped.
///
/// Large (about 230 bytes) because [`CloseReason`] keeps the server's status
/// text inline: there is no heap to box it in, and it is returned once per
/// connection.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum DriverError<E> {
    /// The transport failed.
    Io(E),
    /// The transport reached end of stream.
    Eof,
    /// The session closed: refusal (with the server's code), timeout,
    /// protocol error.
    Closed(CloseReason),
    /// A message could not be sent.
    Send(SendError),
}

impl<E: fmt::Debug> fmt::Display for DriverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Io(e) => write!(f, "transport error: {e:?}"),
            DriverError::Eof => f.write_str("server closed the connection"),
            DriverError::Closed(r) => write!(f, "{r}"),
            DriverError::Send(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for DriverError<E> {}

/// Runs a [`Publisher`] over a blocking `embedded-io` transport.
pub struct BlockingPublisher<'b, T, C> {
    io: T,
    clock: C,
    session: Publisher<'b>,
    rx: &'b mut [u8],
    rx_len: usize,
}

#[allow(clippy::result_large_err)] // see DriverError
impl<'b, T, C> BlockingPublisher<'b, T, C>
where
    T: Read + Write + ReadReady,
    C: Clock,
{
    /// Handshakes, connects and publishes over `io`; returns once the server
    /// answered `NetStream.Publish.Start`. `reassembly` holds the server's
    /// messages, `rx` is read into (each at least 2 KiB; 4 KiB is ample).
    pub fn connect(
        io: T,
        clock: C,
        config: PublisherConfig<'b>,
        reassembly: &'b mut [u8],
        rx: &'b mut [u8],
        random: &[u8; RANDOM_LEN],
    ) -> Result<Self, DriverError<T::Error>> {
        let now = clock.now();
        let session = Publisher::new(config, reassembly, now, random);
        let mut d = BlockingPublisher { io, clock, session, rx, rx_len: 0 };
        loop {
            d.flush()?;
            while let Some(e) = d.session.poll_event() {
                match e {
                    Event::PublishStarted { .. } => return Ok(d),
                    Event::Closed(r) => return Err(DriverError::Closed(r)),
                    _ => {}
                }
            }
            d.read_some()?;
            d.session.handle_timeout(d.clock.now());
        }
    }

    /// The session, for its state and stream id.
    pub fn session(&self) -> &Publisher<'b> {
        &self.session
    }

    fn feed(&mut self) {
        let now = self.clock.now();
        // An error closes the session; it comes back as Event::Closed.
        let n = self.session.handle_input(now, &self.rx[..self.rx_len]).unwrap_or(0);
        self.rx.copy_within(n..self.rx_len, 0);
        self.rx_len -= n;
    }

    /// One blocking read, fed to the session.
    fn read_some(&mut self) -> Result<(), DriverError<T::Error>> {
        if self.rx_len < self.rx.len() {
            let n = self.io.read(&mut self.rx[self.rx_len..]).map_err(DriverError::Io)?;
            if n == 0 {
                self.session.handle_peer_closed();
            }
            self.rx_len += n;
        }
        self.feed();
        Ok(())
    }

    /// Writes all queued control bytes, offering retained input after each write.
    fn flush(&mut self) -> Result<(), DriverError<T::Error>> {
        while let Some(bytes) = self.session.poll_transmit() {
            let n = self.io.write(bytes).map_err(DriverError::Io)?;
            if n == 0 {
                return Err(DriverError::Eof);
            }
            self.session.transmitted(n);
            if self.rx_len > 0 {
                self.feed();
            }
        }
        self.io.flush().map_err(DriverError::Io)
    }

    /// Serves whatever the server sent (acks, pings) without blocking.
    fn serve(&mut self) -> Result<(), DriverError<T::Error>> {
        while self.io.read_ready().map_err(DriverError::Io)? && self.rx_len < self.rx.len() {
            self.read_some()?;
        }
        self.flush()?;
        while let Some(e) = self.session.poll_event() {
            if let Event::Closed(r) = e {
                return Err(DriverError::Closed(r));
            }
        }
        Ok(())
    }

    fn send(&mut self, kind: u8, ts: RtmpTimestamp, body: &[&[u8]]) -> Result<(), DriverError<T::Error>> {
        self.serve()?;
        let msg = match kind {
            8 => self.session.send_audio(ts, body),
            9 => self.session.send_video(ts, body),
            _ => self.session.send_data(ts, body),
        };
        let msg = msg.map_err(DriverError::Send)?;
        // embedded-io has no vectored write: each slice goes to the socket's
        // own transmit buffer in turn, still without a copy of ours.
        for s in msg.slices() {
            self.io.write_all(s).map_err(DriverError::Io)?;
        }
        Ok(())
    }

    /// Sends an FLV video tag body (see [`Publisher::send_video`]).
    pub fn send_video(&mut self, ts: RtmpTimestamp, body: &[&[u8]]) -> Result<(), DriverError<T::Error>> {
        self.send(9, ts, body)
    }

    /// Sends an FLV audio tag body.
    pub fn send_audio(&mut self, ts: RtmpTimestamp, body: &[&[u8]]) -> Result<(), DriverError<T::Error>> {
        self.send(8, ts, body)
    }

    /// Sends a data message body (e.g. `SET_DATA_FRAME` + an onMetaData body).
    pub fn send_data(&mut self, ts: RtmpTimestamp, body: &[&[u8]]) -> Result<(), DriverError<T::Error>> {
        self.send(18, ts, body)
    }

    /// Unpublishes and hands the transport back.
    pub fn close(mut self) -> Result<T, DriverError<T::Error>> {
        self.session.close();
        self.flush()?;
        Ok(self.io)
    }
}
