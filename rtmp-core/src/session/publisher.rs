//! The publishing client: handshake, connect, createStream, publish, media.

use super::event::{CloseReason, Event, InputError, SendError, StatusText};
use super::outbox::Channel;
use crate::amf0::Value;
use crate::chunk::{ChunkReader, ChunkedMessage, MessageHeader, ReaderConfig};
use crate::handshake::{ClientHandshake, HandshakeMode, RANDOM_LEN};
use crate::message::{
    encode, type_id, Command, CommandMessage, ConnectParams, DataMessage, MessageError, MetadataEntry, ProtocolControl,
    Status, StatusLevel,
};
use crate::time::{Instant, RtmpTimestamp};
use core::time::Duration;

const CSID_COMMAND: u32 = 3;
const CSID_AUDIO: u32 = 4;
const CSID_DATA: u32 = 5;
const CSID_VIDEO: u32 = 6;
const CSID_STREAM_COMMAND: u32 = 8;

const TX_CONNECT: f64 = 1.0;
const TX_RELEASE: f64 = 2.0;
const TX_FCPUBLISH: f64 = 3.0;
const TX_CREATE: f64 = 4.0;
const TX_PUBLISH: f64 = 5.0;
const TX_FCUNPUBLISH: f64 = 6.0;
const TX_DELETE: f64 = 7.0;

/// Room for queued control messages (connect with a long signed URL, metadata).
const CONTROL_CAPACITY: usize = 1536;
/// Largest control message payload this session encodes.
const SCRATCH: usize = 1024;

/// What a publisher needs to know. All strings are borrowed.
#[derive(Clone, Copy)]
pub struct PublisherConfig<'c> {
    /// The application, from [`RtmpUrl::app`](crate::url::RtmpUrl::app).
    pub app: &'c str,
    /// The stream name with its query string, from [`RtmpUrl::stream`](crate::url::RtmpUrl::stream).
    pub stream: &'c str,
    /// The tcUrl, from [`RtmpUrl::write_tc_url`](crate::url::RtmpUrl::write_tc_url).
    pub tc_url: &'c str,
    /// `flashVer`; FMLE-style strings make servers treat us as an encoder.
    pub flash_ver: &'c str,
    /// Outgoing chunk size, announced right after the handshake.
    pub chunk_size: u32,
    /// Simple or digest handshake.
    pub handshake: HandshakeMode,
    /// How long the server may take from the first byte to `NetStream.Publish.Start`.
    pub setup_timeout: Duration,
    /// `fourCcList` for Enhanced RTMP (e.g. `["hvc1"]`); empty for H.264.
    pub four_cc_list: &'c [&'c str],
    /// `capsEx` in `connect` (Enhanced RTMP v2); set [`CAPS_EX_RECONNECT`]
    /// when the caller acts on [`Event::ReconnectRequest`].
    pub caps_ex: u32,
    /// Window Acknowledgement Size announced to the server after `connect`
    /// (0: none). A server then acknowledges every that many bytes, which
    /// shows the stream arriving ([`Publisher::acknowledged`]).
    pub ack_window: u32,
}

/// `capsEx` bit: the client handles `NetConnection.Connect.ReconnectRequest`
/// (Enhanced RTMP v2).
pub const CAPS_EX_RECONNECT: u32 = 0x01;

/// Longest `tcUrl` kept from a reconnect request.
pub const RECONNECT_TC_URL_MAX: usize = 256;

impl core::fmt::Debug for PublisherConfig<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublisherConfig")
            .field("app", &self.app)
            .field("stream", &crate::url::Redacted(self.stream.len()))
            .field("chunk_size", &self.chunk_size)
            .field("handshake", &self.handshake)
            .field("setup_timeout", &self.setup_timeout)
            .finish_non_exhaustive()
    }
}

impl<'c> PublisherConfig<'c> {
    /// Defaults for everything but the three names: chunk size 4096, digest
    /// handshake, 10 s setup timeout, an FMLE-style flashVer.
    pub fn new(app: &'c str, stream: &'c str, tc_url: &'c str) -> Self {
        PublisherConfig {
            app,
            stream,
            tc_url,
            flash_ver: "FMLE/3.0 (compatible; rtmp-core)",
            chunk_size: 4096,
            handshake: HandshakeMode::Digest,
            setup_timeout: Duration::from_secs(10),
            four_cc_list: &[],
            caps_ex: 0,
            ack_window: 0,
        }
    }
}

/// Where a publisher is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublisherState {
    /// Exchanging C0..C2 / S0..S2.
    Handshaking,
    /// `connect` sent.
    Connecting,
    /// `createStream` sent.
    CreatingStream,
    /// `publish` sent, waiting for `NetStream.Publish.Start`.
    StartingPublish,
    /// Media may be sent.
    Publishing,
    /// [`Publisher::unpublish`] queued `FCUnpublish` and `deleteStream`; the
    /// server's input is still read (a late refusal or a protocol error is
    /// reported), and its close of the connection ends the session cleanly.
    Unpublishing,
    /// Closed; see the [`Event::Closed`] reason.
    Closed,
}

/// Everything but the reader, so a message borrowed from the reader's buffer
/// can be handled while the rest of the state is updated.
struct Inner<'c> {
    cfg: PublisherConfig<'c>,
    state: PublisherState,
    /// The handshake's buffer until it is done, then the control queue:
    /// never both, which keeps the session small.
    ch: Channel<ClientHandshake, CONTROL_CAPACITY>,
    events: heapless::Deque<Event, 4>,
    stream_id: u32,
    deadline: Instant,
    /// Messages from the peer that could not be decoded and were not needed.
    ignored: u32,
    /// The last Acknowledgement's sequence number (bytes received by the server).
    acked: Option<u32>,
    /// Ping responses received.
    answers: u32,
    /// The new address of the last `NetConnection.Connect.ReconnectRequest`.
    reconnect_tc_url: heapless::String<RECONNECT_TC_URL_MAX>,
}

/// A publishing client session. See the [module docs](super) for the contract.
///
/// ```
/// use rtmp_core::handshake::RANDOM_LEN;
/// use rtmp_core::session::{Publisher, PublisherConfig, PublisherState};
/// use rtmp_core::time::Instant;
///
/// let mut recv = [0u8; 8192];
/// let config = PublisherConfig::new("live", "cam", "rtmp://127.0.0.1:1935/live");
/// let mut publisher = Publisher::new(config, &mut recv, Instant::ZERO, &[7; RANDOM_LEN]);
/// // C0 + C1 are ready to be written to the socket.
/// assert_eq!(publisher.poll_transmit().map(|b| b.len()), Some(1537));
/// assert_eq!(publisher.state(), PublisherState::Handshaking);
/// ```
///
/// Size: `size_of::<Publisher>()` is 3712 bytes on x86_64 (a test keeps it within 4 KiB) (1.5 KiB of it
/// the handshake buffer, later the control queue), plus the receive buffer the
/// caller lends, which must hold the largest message the server sends
/// (a few hundred bytes from a live server; 4 KiB is ample).
pub struct Publisher<'b> {
    reader: ChunkReader<'b, 8>,
    inner: Inner<'b>,
}

impl<'b> Publisher<'b> {
    /// Starts a session: C0+C1 are ready in [`poll_transmit`](Self::poll_transmit).
    /// `recv_buf` reassembles the server's messages; `random` fills C1.
    pub fn new(cfg: PublisherConfig<'b>, recv_buf: &'b mut [u8], now: Instant, random: &[u8; RANDOM_LEN]) -> Self {
        let epoch = now.as_millis() as u32;
        Publisher {
            reader: ChunkReader::new(recv_buf, ReaderConfig::default()),
            inner: Inner {
                cfg,
                state: PublisherState::Handshaking,
                ch: Channel::new(ClientHandshake::new(cfg.handshake, epoch, random)),
                events: heapless::Deque::new(),
                stream_id: 0,
                deadline: now + cfg.setup_timeout,
                ignored: 0,
                acked: None,
                answers: 0,
                reconnect_tc_url: heapless::String::new(),
            },
        }
    }

    /// Where the session is.
    pub fn state(&self) -> PublisherState {
        self.inner.state
    }

    /// The message stream id the server assigned (0 before `createStream` answers).
    pub fn stream_id(&self) -> u32 {
        self.inner.stream_id
    }

    /// Messages from the server that were malformed but not needed, and so ignored.
    pub fn ignored_messages(&self) -> u32 {
        self.inner.ignored
    }

    /// The sequence number of the server's last Acknowledgement: how many
    /// bytes it says it received (wrapping at 2^32), if it acknowledged.
    pub fn acknowledged(&self) -> Option<u32> {
        self.inner.acked
    }

    /// How many ping responses the server sent: a server that answers pings
    /// is alive while it answers (see [`crate::live::LinkWatch`]).
    pub fn answers(&self) -> u32 {
        self.inner.answers
    }

    /// The `tcUrl` of the last [`Event::ReconnectRequest`], empty when the
    /// server asked to reconnect to the same address (or sent a longer one
    /// than [`RECONNECT_TC_URL_MAX`]).
    pub fn reconnect_tc_url(&self) -> &str {
        &self.inner.reconnect_tc_url
    }

    /// Queues a ping request (User Control 6) carrying `now` in ms; the
    /// server's response counts in [`answers`](Self::answers). Servers that
    /// do not answer pings are harmless.
    pub fn ping(&mut self, now: Instant) -> Result<(), SendError> {
        match self.inner.state {
            PublisherState::Closed => Err(SendError::Closed),
            PublisherState::Handshaking => Err(SendError::NotPublishing),
            _ => self.inner.ch.user_control(crate::message::UserControl::PingRequest(now.as_millis() as u32)),
        }
    }

    /// Feeds received bytes; returns how many were consumed.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<usize, InputError> {
        let _ = now;
        let inner = &mut self.inner;
        if inner.state == PublisherState::Closed {
            return Err(InputError::Closed);
        }
        let mut consumed = 0;
        if !inner.ch.link.is_open() {
            let (n, opened) = match inner.ch.handshake(input) {
                Ok(r) => r,
                Err(e) => return Err(inner.fail(CloseReason::Handshake(e), InputError::Handshake(e))),
            };
            consumed = n;
            if opened {
                inner.on_open();
            }
            if !inner.ch.link.is_open() {
                // Still handshaking, or C2 not sent yet (the server sends nothing
                // more before our connect, so nothing waits on this).
                return Ok(consumed);
            }
        }
        while inner.state != PublisherState::Closed {
            let (n, msg) = match self.reader.read(&input[consumed..]) {
                Ok(r) => r,
                Err(e) => return Err(inner.fail(CloseReason::Chunk(e), InputError::Chunk(e))),
            };
            consumed += n;
            inner.ch.count_in(n);
            let Some(m) = msg else { break };
            if let Err(e) = inner.on_message(m.type_id, m.payload) {
                return Err(inner.fail(CloseReason::Message(e), InputError::Message(e)));
            }
        }
        Ok(consumed)
    }

    /// Checks the setup deadline; harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        let inner = &mut self.inner;
        let setup =
            !matches!(inner.state, PublisherState::Publishing | PublisherState::Unpublishing | PublisherState::Closed);
        if setup && now >= inner.deadline {
            let step = match inner.state {
                PublisherState::Handshaking => "the handshake",
                PublisherState::Connecting => "connect",
                PublisherState::CreatingStream => "createStream",
                _ => "publish",
            };
            inner.fail(CloseReason::Timeout(step), ());
        }
    }

    /// The peer closed the connection (a read returned 0 bytes).
    pub fn handle_peer_closed(&mut self) {
        match self.inner.state {
            PublisherState::Closed => {}
            // The answer to our unpublish: a clean end.
            PublisherState::Unpublishing => self.inner.fail(CloseReason::Local, ()),
            _ => self.inner.fail(CloseReason::PeerClosed, ()),
        }
    }

    /// Bytes to send: the handshake first, then queued control messages.
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.inner.ch.link.pending()
    }

    /// Reports that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were sent.
    pub fn transmitted(&mut self, n: usize) {
        if self.inner.ch.link.transmitted(n) {
            self.inner.on_open();
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.inner.state {
            PublisherState::Publishing | PublisherState::Unpublishing | PublisherState::Closed => None,
            _ => Some(self.inner.deadline),
        }
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.inner.events.pop_front()
    }

    /// Sends a video message: `body` is an FLV video tag body (frame type and
    /// codec byte, AVC packet type, composition time, then the NAL units), as
    /// parts that are not copied. Write the result completely before anything else.
    pub fn send_video<'p>(
        &mut self,
        timestamp: RtmpTimestamp,
        body: &'p [&'p [u8]],
    ) -> Result<ChunkedMessage<'p>, SendError> {
        self.inner.media(CSID_VIDEO, type_id::VIDEO, timestamp, body)
    }

    /// Sends an audio message: `body` is an FLV audio tag body, not copied.
    pub fn send_audio<'p>(
        &mut self,
        timestamp: RtmpTimestamp,
        body: &'p [&'p [u8]],
    ) -> Result<ChunkedMessage<'p>, SendError> {
        self.inner.media(CSID_AUDIO, type_id::AUDIO, timestamp, body)
    }

    /// Sends a data message (AMF0 values, e.g. [`crate::message::SET_DATA_FRAME`]
    /// followed by an FLV script tag body), not copied.
    pub fn send_data<'p>(
        &mut self,
        timestamp: RtmpTimestamp,
        body: &'p [&'p [u8]],
    ) -> Result<ChunkedMessage<'p>, SendError> {
        self.inner.media(CSID_DATA, type_id::DATA_AMF0, timestamp, body)
    }

    /// Queues `@setDataFrame onMetaData` with `entries` among the control bytes.
    pub fn send_metadata(&mut self, entries: &[MetadataEntry<'_>]) -> Result<(), SendError> {
        let inner = &mut self.inner;
        match inner.state {
            PublisherState::Publishing => {}
            PublisherState::Closed => return Err(SendError::Closed),
            _ => return Err(SendError::NotPublishing),
        }
        let mut scratch = [0u8; SCRATCH];
        let n = DataMessage::encode_metadata(&mut scratch, entries).map_err(|e| match e {
            crate::amf0::EncodeError::BufferTooSmall { needed } => SendError::ControlBufferFull { needed },
            _ => SendError::ControlBufferFull { needed: SCRATCH + 1 },
        })?;
        let sid = inner.stream_id;
        inner.ch.push(CSID_DATA, type_id::DATA_AMF0, sid, &scratch[..n])
    }

    /// Ends the stream but not the session: when publishing, queues
    /// `FCUnpublish` and `deleteStream` and moves to
    /// [`Unpublishing`](PublisherState::Unpublishing). Send them, shut the
    /// socket's write side, and keep feeding input until the server closes
    /// ([`handle_peer_closed`](Self::handle_peer_closed) then reports
    /// `Closed(Local)`), so that what the server said up to the close is
    /// read and handled. Media is refused from now on.
    pub fn unpublish(&mut self) {
        let inner = &mut self.inner;
        if inner.state == PublisherState::Publishing {
            inner.queue_unpublish();
            inner.state = PublisherState::Unpublishing;
        }
    }

    /// Ends the session: when publishing, `FCUnpublish` and `deleteStream` are
    /// queued (send them, then close the socket). Reported as `Closed(Local)`.
    pub fn close(&mut self) {
        let inner = &mut self.inner;
        if inner.state == PublisherState::Publishing {
            inner.queue_unpublish();
        }
        if inner.state != PublisherState::Closed {
            inner.fail(CloseReason::Local, ());
        }
    }
}

impl<'c> Inner<'c> {
    /// Queues `FCUnpublish` and `deleteStream`.
    fn queue_unpublish(&mut self) {
        let mut scratch = [0u8; SCRATCH];
        let stream = self.cfg.stream;
        if let Ok(n) = encode::fc_unpublish(&mut scratch, TX_FCUNPUBLISH, stream) {
            let _ = self.ch.push(CSID_COMMAND, type_id::COMMAND_AMF0, 0, &scratch[..n]);
        }
        if let Ok(n) = encode::delete_stream(&mut scratch, TX_DELETE, f64::from(self.stream_id)) {
            let _ = self.ch.push(CSID_COMMAND, type_id::COMMAND_AMF0, 0, &scratch[..n]);
        }
    }

    /// Closes with `reason` (once) and returns `err` for the caller.
    fn fail<E>(&mut self, reason: CloseReason, err: E) -> E {
        if self.state != PublisherState::Closed {
            self.state = PublisherState::Closed;
            // The queue holds at most a few events; make room for the last one.
            if self.events.is_full() {
                self.events.pop_front();
            }
            let _ = self.events.push_back(Event::Closed(reason));
        }
        err
    }

    fn event(&mut self, e: Event) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(e);
    }

    fn queue_command(
        &mut self,
        csid: u32,
        stream_id: u32,
        f: impl FnOnce(&mut [u8]) -> Result<usize, crate::amf0::EncodeError>,
    ) {
        // Only a stream name or URL of about a kilobyte fails here.
        if self.ch.command(csid, stream_id, f).is_err() {
            self.fail(CloseReason::CommandTooLarge, ());
        }
    }

    /// Once the link is open (S2 in, C2 out): queues Set Chunk Size and `connect`.
    fn on_open(&mut self) {
        self.state = PublisherState::Connecting;
        let size = self.cfg.chunk_size.clamp(1, crate::chunk::MAX_CHUNK_SIZE);
        if self.ch.protocol_control(ProtocolControl::SetChunkSize(size)).is_ok() {
            let _ = self.ch.writer.set_chunk_size(size);
        }
        if self.cfg.ack_window > 0 {
            // The queue is empty here; this cannot fail.
            let _ = self.ch.protocol_control(ProtocolControl::WindowAckSize(self.cfg.ack_window));
        }
        let cfg = self.cfg;
        self.queue_command(CSID_COMMAND, 0, |buf| {
            encode::connect(
                buf,
                &ConnectParams {
                    transaction_id: TX_CONNECT,
                    app: cfg.app,
                    kind: Some("nonprivate"),
                    flash_ver: cfg.flash_ver,
                    tc_url: cfg.tc_url,
                    player: false,
                    four_cc_list: cfg.four_cc_list,
                    four_cc_info: crate::message::FOURCC_CAN_ENCODE,
                    caps_ex: cfg.caps_ex,
                },
            )
        });
    }

    fn media<'p>(
        &mut self,
        csid: u32,
        type_id: u8,
        ts: RtmpTimestamp,
        body: &'p [&'p [u8]],
    ) -> Result<ChunkedMessage<'p>, SendError> {
        match self.state {
            PublisherState::Publishing => {}
            PublisherState::Closed => return Err(SendError::Closed),
            _ => return Err(SendError::NotPublishing),
        }
        if self.ch.link.pending().is_some() {
            return Err(SendError::TransmitPending);
        }
        let h = MessageHeader { csid, timestamp: ts, type_id, stream_id: self.stream_id };
        Ok(self.ch.writer.write(h, body)?)
    }

    fn refused(&mut self, info: &Value<'_>, fallback: &str) {
        let (code, description) = match info.as_object().and_then(|o| Status::from_object(o).ok()) {
            Some(s) => (StatusText::new(s.code), StatusText::new(s.description)),
            None => (StatusText::new(fallback), StatusText::new("")),
        };
        self.fail(CloseReason::Refused { code, description }, ());
    }

    fn on_message(&mut self, type_id: u8, payload: &[u8]) -> Result<(), MessageError> {
        match type_id {
            type_id::SET_CHUNK_SIZE..=type_id::SET_PEER_BANDWIDTH => {
                if type_id == type_id::ACKNOWLEDGEMENT {
                    if let Ok(ProtocolControl::Acknowledgement(seq)) = ProtocolControl::decode(type_id, payload) {
                        self.acked = Some(seq);
                    }
                }
                if let Some(crate::message::UserControl::PingResponse(_)) = self.ch.on_control(type_id, payload)? {
                    self.answers = self.answers.wrapping_add(1);
                }
            }
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => {
                // A command we cannot parse is one we do not need (the ones we
                // need are checked below); count it rather than drop the session.
                match CommandMessage::decode(type_id, payload).and_then(|c| c.command()) {
                    Ok(c) => self.on_command(c),
                    Err(_) => self.ignored = self.ignored.saturating_add(1),
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_command(&mut self, c: Command<'_>) {
        match c {
            Command::Result { transaction_id: TX_CONNECT, info, .. } if self.state == PublisherState::Connecting => {
                let status = info.as_object().and_then(|o| Status::from_object(o).ok());
                if status.is_some_and(|s| s.level == StatusLevel::Error) {
                    return self.refused(&info, "NetConnection.Connect.Rejected");
                }
                self.event(Event::Connected);
                self.state = PublisherState::CreatingStream;
                let stream = self.cfg.stream;
                self.queue_command(CSID_COMMAND, 0, |b| encode::release_stream(b, TX_RELEASE, stream));
                self.queue_command(CSID_COMMAND, 0, |b| encode::fc_publish(b, TX_FCPUBLISH, stream));
                self.queue_command(CSID_COMMAND, 0, |b| encode::create_stream(b, TX_CREATE));
            }
            Command::Error { transaction_id: TX_CONNECT, info, .. } => {
                self.refused(&info, "NetConnection.Connect.Rejected")
            }
            Command::Result { transaction_id: TX_CREATE, info, .. } if self.state == PublisherState::CreatingStream => {
                let id = info.as_number().filter(|&n| n >= 0.0 && n <= f64::from(u32::MAX) && f64::from(n as u32) == n);
                let Some(id) = id else {
                    return self.refused(&Value::Null, "NetStream.Create.Failed");
                };
                self.stream_id = id as u32;
                self.state = PublisherState::StartingPublish;
                let (stream, sid) = (self.cfg.stream, self.stream_id);
                self.queue_command(CSID_STREAM_COMMAND, sid, |b| encode::publish(b, TX_PUBLISH, stream, "live"));
            }
            Command::Error { transaction_id: TX_CREATE | TX_PUBLISH, info, .. } => {
                self.refused(&info, "NetStream.Publish.Failed")
            }
            // releaseStream and FCPublish are FMLE extras: servers differ, and
            // their errors do not matter.
            Command::OnStatus(s) => {
                if s.level == StatusLevel::Error {
                    self.fail(
                        CloseReason::Refused {
                            code: StatusText::new(s.code),
                            description: StatusText::new(s.description),
                        },
                        (),
                    );
                } else if s.code == "NetStream.Publish.Start" && self.state == PublisherState::StartingPublish {
                    self.state = PublisherState::Publishing;
                    self.event(Event::PublishStarted { stream_id: self.stream_id });
                } else if s.code == "NetConnection.Connect.ReconnectRequest" {
                    // Enhanced RTMP v2: the server asks us to move (optionally to
                    // a new tcUrl); the caller finishes the GOP, then reconnects.
                    self.reconnect_tc_url.clear();
                    if let Some(url) = s.info.get_str("tcUrl") {
                        if self.reconnect_tc_url.push_str(url).is_err() {
                            self.reconnect_tc_url.clear();
                        }
                    }
                    self.event(Event::ReconnectRequest);
                } else {
                    self.event(Event::Status {
                        code: StatusText::new(s.code),
                        description: StatusText::new(s.description),
                    });
                }
            }
            _ => {}
        }
    }
}
