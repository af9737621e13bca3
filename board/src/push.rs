//! A publishing connection: DNS, TCP, the sans-IO [`Publisher`] driven over
//! a non-blocking socket, media written with `write_vectored` from the
//! caller's buffers.

use crate::net::{
    connect_transport, random_bytes, round_trip, tune_live_socket, unacked_bytes, write_gathered, Connection,
    RtmpError, RtmpErrorKind,
};
use crate::oss::{OssSignError, OssSigner};
use rtmp_core::live::{DeadLink, LinkWatch};
use rtmp_core::session::{Event, Publisher, PublisherConfig, CAPS_EX_RECONNECT};
use rtmp_core::time::{Instant as CoreInstant, RtmpTimestamp};
use rtmp_core::url::RtmpUrl;
use rustix::event::PollFlags;
use std::borrow::Cow;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a push connects: a URL as given, or an OSS LiveChannel URL signed
/// afresh (new `Expires`) for every connection, so that a reconnect after
/// hours never offers an expired signature.
#[derive(Clone)]
pub struct PushTarget {
    url: String,
    oss: Option<Arc<OssSigner>>,
}

impl PushTarget {
    /// `url` as given.
    pub fn new(url: impl Into<String>) -> PushTarget {
        PushTarget { url: url.into(), oss: None }
    }

    /// The unsigned OSS URL `url`, signed by `signer` for each connection;
    /// fails at once when it cannot be signed (no bucket, bad channel).
    pub fn oss(url: impl Into<String>, signer: OssSigner) -> Result<PushTarget, OssSignError> {
        let url = url.into();
        signer.sign(&url, 0)?;
        Ok(PushTarget { url, oss: Some(Arc::new(signer)) })
    }

    /// The URL without a signature.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Points the target elsewhere (a server's redirect), keeping its signer.
    pub fn set_url(&mut self, url: String) {
        self.url = url;
    }

    /// The URL to connect to now: signed with a fresh expiry for OSS.
    pub fn connect_url(&self) -> Result<Cow<'_, str>, OssSignError> {
        match &self.oss {
            None => Ok(Cow::Borrowed(&self.url)),
            Some(signer) => signer.sign_now(&self.url).map(Cow::Owned),
        }
    }
}

impl std::fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget").field("url", &RtmpUrl::parse(&self.url).ok()).field("oss", &self.oss).finish()
    }
}

/// Buffers a connection borrows; keep them alive as long as the connection.
pub struct PushBuffers {
    recv: Box<[u8]>,
    reassembly: Box<[u8]>,
    tc_url: [u8; 512],
}

impl Default for PushBuffers {
    fn default() -> Self {
        Self::new()
    }
}

impl PushBuffers {
    /// 16 KiB to read into, 16 KiB to reassemble server messages in.
    pub fn new() -> Self {
        PushBuffers {
            recv: vec![0; 16 * 1024].into_boxed_slice(),
            reassembly: vec![0; 16 * 1024].into_boxed_slice(),
            tc_url: [0; 512],
        }
    }
}

/// Options for [`RtmpPush::connect`].
#[derive(Clone, Copy, Debug)]
pub struct PushOptions {
    /// Outgoing chunk size.
    pub chunk_size: u32,
    /// TCP connect timeout, and the time allowed from connect to publish start.
    pub timeout: Duration,
    /// The socket's send buffer (`SO_SNDBUF`), or the kernel's default. A
    /// small one keeps a live stream's latency low: frames the network
    /// cannot take wait in the encoder's queue, where they can be dropped,
    /// instead of in the kernel.
    pub send_buffer: Option<usize>,
    /// A link that stops moving this long counts as dead: no bytes accepted
    /// by the socket while some wait, or (from a server that answers pings,
    /// or acknowledges) no answer while we keep sending. Also the socket's
    /// `TCP_USER_TIMEOUT`, and sets its keepalive. Default 10 s.
    pub link_timeout: Duration,
    /// Window Acknowledgement Size announced to the server (0: none).
    /// Default 256 KiB: nginx-rtmp and SRS then acknowledge every 256 KiB,
    /// which shows the stream arriving.
    pub ack_window: u32,
    /// `TCP_NOTSENT_LOWAT`: at most about this many bytes wait unsent in
    /// the kernel (None: the kernel's default, no bound).
    pub notsent_lowat: Option<u32>,
    /// Advertise Enhanced RTMP `capsEx` Reconnect: the caller handles
    /// [`RtmpPush::take_reconnect_request`]. Default off.
    pub reconnect_requests: bool,
    /// Enhanced RTMP `fourCcList` (and `videoFourCcInfoMap`) in `connect`:
    /// the codecs we will send that need it, e.g. `["hvc1"]`
    /// ([`Codec::four_cc_list`](rtmp_core::flv::video::Codec::four_cc_list)).
    /// Default empty (H.264).
    pub four_cc_list: &'static [&'static str],
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            chunk_size: 4096,
            timeout: Duration::from_secs(10),
            send_buffer: None,
            link_timeout: Duration::from_secs(10),
            ack_window: 256 * 1024,
            notsent_lowat: None,
            reconnect_requests: false,
            four_cc_list: &[],
        }
    }
}

/// How far a waiting send has come, for [`RtmpPush::send_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes written to the socket on this connection.
    pub bytes_sent: u64,
    /// Of those, bytes the peer has not acknowledged.
    pub unacked: u32,
}

/// How long [`RtmpPush::close`] reads the server's input before unpublishing.
const DRAIN_GRACE_MS: u64 = 300;
/// How long [`RtmpPush::close`] waits for the server to close after unpublishing.
const CLOSE_WAIT_MS: u64 = 3000;

/// What the kernel says of a live link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// Bytes written that the peer has not acknowledged (in flight or unsent).
    pub unacked: u32,
    /// Smoothed round-trip time, when the kernel reports it.
    pub rtt: Option<Duration>,
}

/// Counters of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushStats {
    /// Bytes written to the socket.
    pub bytes_sent: u64,
    /// Bytes read from the socket.
    pub bytes_received: u64,
    /// Media messages sent.
    pub messages_sent: u64,
}

/// A publishing connection. Media is sent from the caller's buffers with
/// vectored writes and no copy; control messages from the session's queue.
pub struct RtmpPush<'b> {
    conn: Connection<'b>,
    session: Publisher<'b>,
    messages_sent: u64,
    watch: LinkWatch,
    /// Bytes sent and received, ping answers and acknowledgement when last
    /// looked at by the link watch.
    seen: (u64, u64, u32, Option<u32>),
    last_ack: Instant,
    ack_window: u32,
    reconnect: Option<String>,
    /// The wall clock when the first media message went out, and its
    /// timestamp: the stream's origin for [`ahead_of_real_time`](Self::ahead_of_real_time).
    origin: Option<(Instant, u32)>,
    /// The latest media timestamp sent (ms, wrapping).
    last_timestamp: u32,
}

impl<'b> RtmpPush<'b> {
    /// Connects to `url` and publishes: returns once the server has answered
    /// `NetStream.Publish.Start`, or with the step that failed.
    pub fn connect(url: &'b str, bufs: &'b mut PushBuffers, opts: PushOptions) -> Result<Self, RtmpError> {
        let parsed = RtmpUrl::parse(url).map_err(|e| RtmpError {
            server: String::from("(url)"),
            step: "parse URL",
            kind: RtmpErrorKind::Url(e),
        })?;
        let server = format!("{}:{}", parsed.host(), parsed.port());
        let err = |step, kind| RtmpError { server: server.clone(), step, kind };
        let stream = connect_transport(&parsed, opts.timeout, |s| {
            tune_live_socket(s, opts.link_timeout, opts.notsent_lowat)?;
            if let Some(size) = opts.send_buffer {
                rustix::net::sockopt::set_socket_send_buffer_size(s, size)?;
            }
            Ok(())
        })
        .map_err(|(step, kind)| err(step, kind))?;

        let PushBuffers { recv, reassembly, tc_url } = bufs;
        let tc = parsed.write_tc_url(tc_url).map_err(|_| {
            err(
                "connect",
                RtmpErrorKind::Io(io::Error::new(io::ErrorKind::InvalidInput, "tcUrl longer than 512 bytes")),
            )
        })?;
        let mut cfg = PublisherConfig::new(parsed.app(), parsed.stream(), tc);
        cfg.chunk_size = opts.chunk_size;
        cfg.setup_timeout = opts.timeout;
        cfg.ack_window = opts.ack_window;
        cfg.four_cc_list = opts.four_cc_list;
        if opts.reconnect_requests {
            cfg.caps_ex |= CAPS_EX_RECONNECT;
        }
        let session = Publisher::new(cfg, reassembly, CoreInstant::ZERO, &random_bytes());
        let conn = Connection::new(stream, recv, server, opts.link_timeout);
        let mut push = RtmpPush {
            conn,
            session,
            messages_sent: 0,
            watch: LinkWatch::new(CoreInstant::ZERO, opts.link_timeout),
            seen: (0, 0, 0, None),
            last_ack: Instant::now(),
            ack_window: opts.ack_window,
            reconnect: None,
            origin: None,
            last_timestamp: 0,
        };
        push.wait_for_publish()?;
        push.watch = LinkWatch::new(push.conn.now(), opts.link_timeout);
        push.seen =
            (push.conn.bytes_sent, push.conn.bytes_received, push.session.answers(), push.session.acknowledged());
        push.last_ack = Instant::now();
        Ok(push)
    }

    /// `host:port` of the server.
    pub fn server(&self) -> &str {
        self.conn.server()
    }

    /// Counters so far.
    pub fn stats(&self) -> PushStats {
        PushStats {
            bytes_sent: self.conn.bytes_sent,
            bytes_received: self.conn.bytes_received,
            messages_sent: self.messages_sent,
        }
    }

    /// The kernel's view of the link: unacknowledged bytes and round-trip time.
    pub fn link_info(&self) -> LinkInfo {
        LinkInfo { unacked: self.unacked(), rtt: round_trip(self.conn.stream.tcp()) }
    }

    /// Bytes written that the peer has not acknowledged (one `SIOCOUTQ`).
    pub fn unacked(&self) -> u32 {
        unacked_bytes(self.conn.stream.tcp()).unwrap_or(0)
    }

    /// The server's last Acknowledgement: bytes it says it received (wrapping at 2^32).
    pub fn acknowledged(&self) -> Option<u32> {
        self.session.acknowledged()
    }

    /// The new `tcUrl` (empty: the same address) if the server sent an
    /// Enhanced RTMP `NetConnection.Connect.ReconnectRequest`; taking it
    /// clears it. Finish the GOP, then reconnect.
    pub fn take_reconnect_request(&mut self) -> Option<String> {
        self.reconnect.take()
    }

    /// Feeds the link watch: bytes moving, server answers, pings due; an
    /// error when the link is dead.
    fn watch(&mut self, step: &'static str) -> Result<(), RtmpError> {
        let now = self.conn.now();
        let (sent, received, answers, acked) = self.seen;
        if self.conn.bytes_sent != sent {
            self.watch.on_sent(now);
        }
        let answered = self.session.answers() != answers;
        if self.conn.bytes_received != received || answered {
            self.watch.on_heard(now, answered);
        }
        let ack = self.session.acknowledged();
        if ack != acked {
            self.last_ack = Instant::now();
        }
        self.seen = (self.conn.bytes_sent, self.conn.bytes_received, self.session.answers(), ack);
        if self.watch.poll_ping(now) {
            // Refused only while the control queue is full; the next one goes.
            let _ = self.session.ping(now);
        }
        if let Some(dead) = self.watch.check(now, false) {
            return Err(self.error(step, RtmpErrorKind::Dead(dead)));
        }
        // A server that acknowledges must keep doing so: three windows
        // delivered beyond its last acknowledgement, and none for the timeout.
        // (The kernel is asked only once the last acknowledgement is old,
        // not on every send.)
        if let Some(acked) = ack.filter(|_| self.ack_window > 0 && self.last_ack.elapsed() >= self.watch.timeout()) {
            let delivered = self.conn.bytes_sent.saturating_sub(u64::from(self.unacked()));
            let behind = (delivered as u32).wrapping_sub(acked);
            if behind < u32::MAX / 2 && behind > self.ack_window.saturating_mul(3) {
                return Err(self.error(step, RtmpErrorKind::Dead(DeadLink::Silent)));
            }
        }
        Ok(())
    }

    fn error(&self, step: &'static str, kind: RtmpErrorKind) -> RtmpError {
        self.conn.error(step, kind)
    }

    fn wait_for_publish(&mut self) -> Result<(), RtmpError> {
        loop {
            self.flush_control("publish")?;
            while let Some(e) = self.session.poll_event() {
                match e {
                    Event::PublishStarted { .. } => return Ok(()),
                    Event::Closed(reason) => return Err(self.error("publish", RtmpErrorKind::Closed(Box::new(reason)))),
                    _ => {}
                }
            }
            let deadline = self.session.poll_timeout().map(|t| self.conn.deadline(t));
            self.read_input("publish", deadline)?;
            let now = self.conn.now();
            self.session.handle_timeout(now);
        }
    }

    /// Reads what the server sent, waiting until `until` (or not at all when
    /// `None`), and feeds it to the session.
    fn read_input(&mut self, step: &'static str, until: Option<Instant>) -> Result<(), RtmpError> {
        self.conn.read(&mut self.session, step, until)?;
        self.conn.feed(&mut self.session);
        Ok(())
    }

    /// Writes all queued control bytes.
    fn flush_control(&mut self, step: &'static str) -> Result<(), RtmpError> {
        self.conn.flush(&mut self.session, step, true)
    }

    fn check_events(&mut self, step: &'static str) -> Result<(), RtmpError> {
        while let Some(e) = self.session.poll_event() {
            match e {
                Event::Closed(reason) => return Err(self.error(step, RtmpErrorKind::Closed(Box::new(reason)))),
                Event::ReconnectRequest => self.reconnect = Some(self.session.reconnect_tc_url().to_string()),
                _ => {}
            }
        }
        self.watch(step)
    }

    /// Sends one media message of `type_id` 8 (audio), 9 (video) or 18 (data):
    /// `body` is an FLV tag body in parts, written from where it lies.
    pub fn send(&mut self, type_id: u8, timestamp: u32, body: &[&[u8]]) -> Result<(), RtmpError> {
        self.send_with(type_id, timestamp, body, |_| {})
    }

    /// [`send`](Self::send), calling `on_wait` each time the socket is full
    /// and the send waits (at most every few hundred ms with a live link):
    /// a large frame on a slow link can take seconds, and whoever adapts
    /// the stream must not be blind for them.
    pub fn send_with(
        &mut self,
        type_id: u8,
        timestamp: u32,
        body: &[&[u8]],
        mut on_wait: impl FnMut(Progress),
    ) -> Result<(), RtmpError> {
        self.read_input("send", None)?;
        // Events first: the link watch may queue a ping, which must go out
        // before the media message.
        self.check_events("send")?;
        self.flush_control("send")?;
        let ts = RtmpTimestamp(timestamp);
        let sent = match type_id {
            8 => self.session.send_audio(ts, body),
            9 => self.session.send_video(ts, body),
            _ => self.session.send_data(ts, body),
        };
        let mut msg = sent.map_err(|e| self.error("send", RtmpErrorKind::Send(e)))?;
        while !msg.is_done() {
            match write_gathered(&mut self.conn.stream, [&msg]) {
                Ok(0) => return Err(self.error("send", RtmpErrorKind::Io(io::ErrorKind::WriteZero.into()))),
                Ok(w) => {
                    msg.advance(w);
                    self.conn.bytes_sent += w as u64;
                    self.conn.stalled_since = None;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    on_wait(Progress { bytes_sent: self.conn.bytes_sent, unacked: self.unacked() });
                    // Keep reading while the socket is full: the server may be
                    // waiting for an acknowledgement before it reads more.
                    self.conn.wait_writable_for("send", PollFlags::OUT | PollFlags::IN, Duration::from_millis(100))?;
                    self.read_input("send", None)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.error("send", RtmpErrorKind::Io(e))),
            }
        }
        self.messages_sent += 1;
        match self.origin {
            None => {
                self.origin = Some((Instant::now(), timestamp));
                self.last_timestamp = timestamp;
            }
            // Later in the stream than the latest (timestamps wrap at 2^32 ms).
            Some((_, origin)) => {
                if (timestamp.wrapping_sub(origin) as i32) > (self.last_timestamp.wrapping_sub(origin) as i32) {
                    self.last_timestamp = timestamp;
                }
            }
        }
        Ok(())
    }

    /// When a message stamped `timestamp` is due on the wall clock: the
    /// first message sent was due when it went out, and the others as many
    /// milliseconds after it as their timestamps say. `None` before any.
    pub fn due(&self, timestamp: u32) -> Option<Instant> {
        let (wall, origin) = self.origin?;
        let offset = timestamp.wrapping_sub(origin) as i32;
        Some(if offset >= 0 {
            wall + Duration::from_millis(offset as u64)
        } else {
            wall.checked_sub(Duration::from_millis(offset.unsigned_abs().into())).unwrap_or(wall)
        })
    }

    /// How far the stream sent is ahead of the wall clock: the latest
    /// timestamp sent, less the time since the first message (what
    /// mpegCoder's `getParameter('waitRef')` answers). Zero when behind,
    /// or before anything is sent. A pusher that keeps this near zero
    /// sends in real time; [`send_paced`](Self::send_paced) does it for you.
    pub fn ahead_of_real_time(&self) -> Duration {
        self.due(self.last_timestamp).map_or(Duration::ZERO, |due| due.saturating_duration_since(Instant::now()))
    }

    /// [`send`](Self::send) when the message is due ([`due`](Self::due)):
    /// waits, serving the connection (acknowledgements, pings), until the
    /// wall clock reaches its timestamp, then sends. A frame already late
    /// goes at once. The first message sets the origin.
    pub fn send_paced(&mut self, type_id: u8, timestamp: u32, body: &[&[u8]]) -> Result<(), RtmpError> {
        if let Some(due) = self.due(timestamp) {
            self.idle_until(due)?;
        }
        self.send(type_id, timestamp, body)
    }

    /// Serves the connection (acks, pings, status) without waiting.
    pub fn service(&mut self) -> Result<(), RtmpError> {
        self.read_input("send", None)?;
        self.check_events("send")?;
        self.flush_control("send")
    }

    /// Sends `@setDataFrame onMetaData` with `entries` (see
    /// [`rtmp_core::message::StreamMetadata`]).
    pub fn send_metadata(&mut self, entries: &[rtmp_core::message::MetadataEntry<'_>]) -> Result<(), RtmpError> {
        self.session.send_metadata(entries).map_err(|e| self.error("send", RtmpErrorKind::Send(e)))?;
        self.flush_control("send")
    }

    /// Serves the connection (acks, pings) until `until`, for pacing.
    pub fn idle_until(&mut self, until: Instant) -> Result<(), RtmpError> {
        while Instant::now() < until {
            self.read_input("send", Some(until))?;
            self.check_events("send")?;
            self.flush_control("send")?;
        }
        Ok(())
    }

    /// Before unpublishing: reads and handles what the server sends until
    /// it has acknowledged every byte we sent (a server acknowledges when
    /// we announce a window, but not the last partial window) or a short
    /// grace time has passed. A protocol violation or a late refusal in
    /// that input is an error: a stream the server did not take is not
    /// reported as sent.
    fn drain(&mut self) -> Result<(), RtmpError> {
        let grace = Instant::now() + Duration::from_millis(DRAIN_GRACE_MS);
        self.read_input("close", None)?;
        loop {
            self.check_events("close")?;
            self.flush_control("close")?;
            let sent = self.conn.bytes_sent as u32;
            if self.session.acknowledged().is_some_and(|a| (sent.wrapping_sub(a) as i32) <= 0) {
                return Ok(());
            }
            let now = Instant::now();
            if now >= grace {
                return Ok(());
            }
            self.read_input("close", Some(grace.min(now + Duration::from_millis(50))))?;
        }
    }

    /// Unpublishes (FCUnpublish, deleteStream) and closes the connection:
    /// first reads and handles the server's input for a moment (see the
    /// errors), so that a refusal or protocol violation after the last
    /// frame is reported.
    pub fn close(mut self) -> Result<PushStats, RtmpError> {
        self.drain()?;
        self.session.unpublish();
        self.flush_control("close")?;
        let stats = self.stats();
        self.conn.shutdown_write("close")?;
        // Read and handle the server's input until it closes too: a clean
        // close, in which nothing it said went unread.
        let until = Instant::now() + Duration::from_millis(CLOSE_WAIT_MS);
        loop {
            while let Some(e) = self.session.poll_event() {
                match e {
                    Event::Closed(rtmp_core::session::CloseReason::Local) => return Ok(stats),
                    Event::Closed(reason) => return Err(self.error("close", RtmpErrorKind::Closed(Box::new(reason)))),
                    _ => {}
                }
            }
            if Instant::now() >= until {
                return Err(self.error(
                    "close",
                    RtmpErrorKind::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "server did not close the connection after unpublish",
                    )),
                ));
            }
            // A reset after our unpublish is an error: no clean close.
            self.read_input("close", Some(until))?;
        }
    }
}
