//! The playing client: handshake, connect, createStream, play, then media
//! in as events that borrow the receive buffer.

use super::event::{CloseReason, InputError, SendError, StatusText};
use super::outbox::Channel;
use crate::amf0::Value;
use crate::chunk::{ChunkReader, ReaderConfig};
use crate::flv::media::{AudioTag, CodecConfig, MediaError, VideoTag};
use crate::handshake::{ClientHandshake, HandshakeMode, RANDOM_LEN};
use crate::message::{
    encode, type_id, Command, CommandMessage, ConnectParams, MessageError, ProtocolControl, Status, StatusLevel,
    UserControl,
};
use crate::time::{Instant, RtmpTimestamp};
use core::time::Duration;

const CSID_COMMAND: u32 = 3;
const CSID_STREAM_COMMAND: u32 = 8;

const TX_CONNECT: f64 = 1.0;
const TX_CREATE: f64 = 2.0;
const TX_PLAY: f64 = 0.0;
const TX_DELETE: f64 = 3.0;

const CONTROL_CAPACITY: usize = 1536;
/// Events queued before input stops being read (one slot stays free for `Closed`).
const EVENTS: usize = 6;

/// What a player needs to know. All strings are borrowed.
#[derive(Clone, Copy)]
pub struct PlayerConfig<'c> {
    /// The application, from [`RtmpUrl::app`](crate::url::RtmpUrl::app).
    pub app: &'c str,
    /// The stream name with its query string, from [`RtmpUrl::stream`](crate::url::RtmpUrl::stream).
    pub stream: &'c str,
    /// The tcUrl, from [`RtmpUrl::write_tc_url`](crate::url::RtmpUrl::write_tc_url).
    pub tc_url: &'c str,
    /// `flashVer`; the default is the Linux Flash Player string ffmpeg sends.
    pub flash_ver: &'c str,
    /// Simple or digest handshake.
    pub handshake: HandshakeMode,
    /// How long the server may take from the first byte to `NetStream.Play.Start`.
    pub setup_timeout: Duration,
    /// The client buffer announced with Set Buffer Length, in milliseconds.
    pub buffer_ms: u32,
}

impl core::fmt::Debug for PlayerConfig<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PlayerConfig")
            .field("app", &self.app)
            .field("stream", &crate::url::Redacted(self.stream.len()))
            .field("handshake", &self.handshake)
            .field("setup_timeout", &self.setup_timeout)
            .field("buffer_ms", &self.buffer_ms)
            .finish_non_exhaustive()
    }
}

impl<'c> PlayerConfig<'c> {
    /// Defaults for everything but the three names: digest handshake, 10 s
    /// setup timeout, a 3 s buffer (ffmpeg's), ffmpeg's flashVer.
    pub fn new(app: &'c str, stream: &'c str, tc_url: &'c str) -> Self {
        PlayerConfig {
            app,
            stream,
            tc_url,
            flash_ver: "LNX 9,0,124,2",
            handshake: HandshakeMode::Digest,
            setup_timeout: Duration::from_secs(10),
            buffer_ms: 3000,
        }
    }
}

/// Where a player is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayerState {
    /// Exchanging C0..C2 / S0..S2.
    Handshaking,
    /// `connect` sent.
    Connecting,
    /// `createStream` sent.
    CreatingStream,
    /// `play` sent, waiting for `NetStream.Play.Start`.
    StartingPlay,
    /// Media is arriving.
    Playing,
    /// The publisher stopped (Stream EOF or `UnpublishNotify`); media resumes
    /// if it publishes again.
    Ended,
    /// Closed; see the [`PlayerEvent::Closed`] reason.
    Closed,
}

/// An audio, video or data message as received: the FLV tag body, borrowed
/// from the receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaMessage<'a> {
    /// 8 audio, 9 video, 18 data.
    pub type_id: u8,
    /// The message timestamp (milliseconds, wrapping).
    pub timestamp: RtmpTimestamp,
    /// The FLV tag body.
    pub payload: &'a [u8],
}

impl<'a> MediaMessage<'a> {
    /// The video tag, if this is a video message.
    pub fn video(&self) -> Option<Result<VideoTag<'a>, MediaError>> {
        (self.type_id == type_id::VIDEO).then(|| VideoTag::parse(self.payload))
    }
    /// The audio tag, if this is an audio message.
    pub fn audio(&self) -> Option<Result<AudioTag<'a>, MediaError>> {
        (self.type_id == type_id::AUDIO).then(|| AudioTag::parse(self.payload))
    }
    /// Whether this is a video keyframe (a decoder can start here).
    pub fn is_keyframe(&self) -> bool {
        self.type_id == type_id::VIDEO && self.payload.first().is_some_and(|b| (b >> 4) & 7 == 1)
    }
    /// Whether this is an AVC/HEVC or AAC sequence header (codec configuration).
    pub fn is_sequence_header(&self) -> bool {
        match self.type_id {
            type_id::VIDEO => self.video().and_then(Result::ok).is_some_and(|v| {
                v.packet == crate::flv::media::VideoPacket::SequenceHeader
                    && !matches!(v.codec, crate::flv::media::VideoCodec::Other(_))
            }),
            type_id::AUDIO => self.audio().and_then(Result::ok).is_some_and(|a| a.sequence_header),
            _ => false,
        }
    }
}

/// What a player reports. Only `Media` borrows: handle it before the next
/// `handle_input`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PlayerEvent<'a> {
    /// `connect` succeeded.
    Connected,
    /// `NetStream.Play.Start` (or, after [`Ended`](Self::StreamEnded),
    /// `NetStream.Play.PublishNotify`): media follows.
    PlayStarted {
        /// The message stream id the server gave.
        stream_id: u32,
    },
    /// Any other status the server sent (level `status` or `warning`).
    Status {
        /// The status code.
        code: StatusText<64>,
        /// The description.
        description: StatusText<128>,
    },
    /// A sequence header arrived and was decoded; reported just before the
    /// [`Media`](Self::Media) event that carries it.
    Config(CodecConfig),
    /// Audio, video or data (`onMetaData`; the `|RtmpSampleAccess` data
    /// message servers send for Flash's sake is not passed on).
    Media(MediaMessage<'a>),
    /// The publisher stopped (Stream EOF, `NetStream.Play.UnpublishNotify`,
    /// `NetStream.Play.Stop` or `.Complete`); reported once per stop.
    StreamEnded,
    /// The session is closed; reported once.
    Closed(CloseReason),
}

struct Inner<'c> {
    cfg: PlayerConfig<'c>,
    state: PlayerState,
    ch: Channel<ClientHandshake, CONTROL_CAPACITY>,
    events: heapless::Deque<PlayerEvent<'static>, EVENTS>,
    media_pending: bool,
    /// The last input stopped on a media message (kept after it is polled).
    media_ready: bool,
    stream_id: u32,
    deadline: Instant,
    ignored: u32,
    bad_configs: u32,
    video_config: Option<CodecConfig>,
    audio_config: Option<CodecConfig>,
}

/// A playing client session. Sans-IO, like [`super::Publisher`] (see the
/// [module docs](super) for the contract): feed input, send what
/// `poll_transmit` returns, and handle events after every input. Input
/// stops after each media message so that its event can borrow it.
///
/// ```
/// use rtmp_core::handshake::RANDOM_LEN;
/// use rtmp_core::session::{Player, PlayerConfig, PlayerState};
/// use rtmp_core::time::Instant;
///
/// let mut recv = vec![0u8; 1 << 20]; // holds the largest frame the server sends
/// let config = PlayerConfig::new("live", "cam", "rtmp://127.0.0.1:1935/live");
/// let player = Player::new(config, &mut recv, Instant::ZERO, &[7; RANDOM_LEN]);
/// assert_eq!(player.poll_transmit().map(|b| b.len()), Some(1537)); // C0 + C1
/// assert_eq!(player.state(), PlayerState::Handshaking);
/// ```
///
/// The receive buffer must hold the largest message the server sends
/// (a keyframe); a larger one closes the session with
/// [`ReadError::MessageTooLarge`](crate::chunk::ReadError).
pub struct Player<'b> {
    reader: ChunkReader<'b, 8>,
    inner: Inner<'b>,
}

impl<'b> Player<'b> {
    /// Starts a session: C0+C1 are ready in [`poll_transmit`](Self::poll_transmit).
    pub fn new(cfg: PlayerConfig<'b>, recv_buf: &'b mut [u8], now: Instant, random: &[u8; RANDOM_LEN]) -> Self {
        Player {
            reader: ChunkReader::new(recv_buf, ReaderConfig::default()),
            inner: Inner {
                cfg,
                state: PlayerState::Handshaking,
                ch: Channel::new(ClientHandshake::new(cfg.handshake, now.as_millis() as u32, random)),
                events: heapless::Deque::new(),
                media_pending: false,
                media_ready: false,
                stream_id: 0,
                deadline: now + cfg.setup_timeout,
                ignored: 0,
                bad_configs: 0,
                video_config: None,
                audio_config: None,
            },
        }
    }

    /// Where the session is.
    pub fn state(&self) -> PlayerState {
        self.inner.state
    }

    /// The message stream id the server assigned (0 before `createStream` answers).
    pub fn stream_id(&self) -> u32 {
        self.inner.stream_id
    }

    /// The last video configuration decoded (AVC), if any.
    pub fn video_config(&self) -> Option<CodecConfig> {
        self.inner.video_config
    }

    /// The last audio configuration decoded (AAC), if any.
    pub fn audio_config(&self) -> Option<CodecConfig> {
        self.inner.audio_config
    }

    /// Commands from the server that were malformed but not needed, and so ignored.
    pub fn ignored_messages(&self) -> u32 {
        self.inner.ignored
    }

    /// Sequence headers that could not be decoded (still delivered as media).
    pub fn bad_configs(&self) -> u32 {
        self.inner.bad_configs
    }

    /// Feeds received bytes; returns how many were consumed. Stops after a
    /// media message (poll its event, then offer the rest again) or when
    /// events are waiting to be polled.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<usize, InputError> {
        let _ = now;
        let inner = &mut self.inner;
        if inner.state == PlayerState::Closed {
            return Err(InputError::Closed);
        }
        inner.media_pending = false;
        inner.media_ready = false;
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
                return Ok(consumed);
            }
        }
        while inner.state != PlayerState::Closed && !inner.media_pending && inner.events.len() < EVENTS - 1 {
            let (n, msg) = match self.reader.read(&input[consumed..]) {
                Ok(r) => r,
                Err(e) => return Err(inner.fail(CloseReason::Chunk(e), InputError::Chunk(e))),
            };
            consumed += n;
            inner.ch.count_in(n);
            let Some(m) = msg else { break };
            if let Err(e) = inner.on_message(m.type_id, m.stream_id, m.payload) {
                return Err(inner.fail(CloseReason::Message(e), InputError::Message(e)));
            }
        }
        Ok(consumed)
    }

    /// Checks the setup deadline; harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        let inner = &mut self.inner;
        if inner.setting_up() && now >= inner.deadline {
            let step = match inner.state {
                PlayerState::Handshaking => "the handshake",
                PlayerState::Connecting => "connect",
                PlayerState::CreatingStream => "createStream",
                _ => "play",
            };
            inner.fail(CloseReason::Timeout(step), ());
        }
    }

    /// The peer closed the connection (a read returned 0 bytes).
    pub fn handle_peer_closed(&mut self) {
        self.inner.fail(CloseReason::PeerClosed, ());
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
        self.inner.setting_up().then_some(self.inner.deadline)
    }

    /// The next event, if any. `Media` borrows the message the last input completed.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PlayerEvent<'_>> {
        let inner = &mut self.inner;
        let closing = matches!(inner.events.front(), Some(PlayerEvent::Closed(_)));
        if let Some(e) = (!(closing && inner.media_pending)).then(|| inner.events.pop_front()).flatten() {
            return Some(e);
        }
        if core::mem::take(&mut inner.media_pending) {
            let m = self.reader.last_message()?;
            return Some(PlayerEvent::Media(MediaMessage {
                type_id: m.type_id,
                timestamp: m.timestamp,
                payload: m.payload,
            }));
        }
        inner.events.pop_front()
    }

    /// The media message the last [`handle_input`](Self::handle_input)
    /// stopped on, until the next one, whether or not its event was polled
    /// (for drivers that hand it out after polling).
    #[must_use]
    pub fn last_media(&self) -> Option<MediaMessage<'_>> {
        if !self.inner.media_ready {
            return None;
        }
        let m = self.reader.last_message()?;
        Some(MediaMessage { type_id: m.type_id, timestamp: m.timestamp, payload: m.payload })
    }

    /// Ends the session: when a stream exists, `deleteStream` is queued (send
    /// it, then close the socket). Reported as `Closed(Local)`.
    pub fn close(&mut self) {
        let inner = &mut self.inner;
        if inner.stream_id != 0 && inner.state != PlayerState::Closed {
            let sid = f64::from(inner.stream_id);
            inner.queue_command(CSID_COMMAND, 0, |b| encode::delete_stream(b, TX_DELETE, sid));
        }
        inner.fail(CloseReason::Local, ());
    }

    /// Queues a Ping Request (user control 6) with `timestamp`, e.g. to
    /// measure the round trip; the server answers with a Ping Response.
    pub fn ping(&mut self, timestamp: u32) -> Result<(), SendError> {
        self.inner.user_control(UserControl::PingRequest(timestamp))
    }
}

impl<'c> Inner<'c> {
    fn setting_up(&self) -> bool {
        !matches!(self.state, PlayerState::Playing | PlayerState::Ended | PlayerState::Closed)
    }

    fn fail<E>(&mut self, reason: CloseReason, err: E) -> E {
        if self.state != PlayerState::Closed {
            self.state = PlayerState::Closed;
            if self.events.is_full() {
                self.events.pop_back();
            }
            let _ = self.events.push_back(PlayerEvent::Closed(reason));
        }
        err
    }

    fn event(&mut self, e: PlayerEvent<'static>) {
        // Input stops while the queue is nearly full, so this always fits.
        let _ = self.events.push_back(e);
    }

    fn user_control(&mut self, u: UserControl) -> Result<(), SendError> {
        if self.state == PlayerState::Closed {
            return Err(SendError::Closed);
        }
        self.ch.user_control(u)
    }

    fn queue_command(
        &mut self,
        csid: u32,
        stream_id: u32,
        f: impl FnOnce(&mut [u8]) -> Result<usize, crate::amf0::EncodeError>,
    ) {
        if self.ch.command(csid, stream_id, f).is_err() {
            self.fail(CloseReason::CommandTooLarge, ());
        }
    }

    /// Once the link is open: `connect`.
    fn on_open(&mut self) {
        self.state = PlayerState::Connecting;
        let cfg = self.cfg;
        self.queue_command(CSID_COMMAND, 0, |buf| {
            encode::connect(
                buf,
                &ConnectParams {
                    transaction_id: TX_CONNECT,
                    app: cfg.app,
                    kind: None,
                    flash_ver: cfg.flash_ver,
                    tc_url: cfg.tc_url,
                    player: true,
                    four_cc_list: &[],
                    four_cc_info: 0,
                    caps_ex: 0,
                },
            )
        });
    }

    fn refused(&mut self, info: &Value<'_>, fallback: &str) {
        let (code, description) = match info.as_object().and_then(|o| Status::from_object(o).ok()) {
            Some(s) => (StatusText::new(s.code), StatusText::new(s.description)),
            None => (StatusText::new(fallback), StatusText::new("")),
        };
        self.fail(CloseReason::Refused { code, description }, ());
    }

    fn on_message(&mut self, type_id: u8, stream_id: u32, payload: &[u8]) -> Result<(), MessageError> {
        match type_id {
            type_id::SET_CHUNK_SIZE..=type_id::SET_PEER_BANDWIDTH => {
                if let Some(UserControl::StreamEof(id)) = self.ch.on_control(type_id, payload)? {
                    if id == self.stream_id && self.state == PlayerState::Playing {
                        self.ended();
                    }
                }
            }
            // Node-Media-Server 4 sends the played stream's media on message
            // stream 0; a connection plays one stream, so 0 is taken as it
            // (ffmpeg, too, ignores the id).
            type_id::AUDIO | type_id::VIDEO | type_id::DATA_AMF0
                if (stream_id == self.stream_id || stream_id == 0)
                    && matches!(self.state, PlayerState::Playing | PlayerState::Ended) =>
            {
                if type_id == type_id::DATA_AMF0 && is_sample_access(payload) {
                    return Ok(()); // |RtmpSampleAccess: Flash permissions, not stream data
                }
                match CodecConfig::from_message(type_id, payload) {
                    Ok(Some(c)) => {
                        match c {
                            CodecConfig::Avc { .. } | CodecConfig::Hevc { .. } => self.video_config = Some(c),
                            _ => self.audio_config = Some(c),
                        }
                        self.event(PlayerEvent::Config(c));
                    }
                    Ok(None) => {}
                    Err(_) => self.bad_configs = self.bad_configs.saturating_add(1),
                }
                self.media_pending = true;
                self.media_ready = true;
            }
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => {
                match CommandMessage::decode(type_id, payload).and_then(|c| c.command()) {
                    Ok(c) => self.on_command(c),
                    Err(_) => self.ignored = self.ignored.saturating_add(1),
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn ended(&mut self) {
        self.state = PlayerState::Ended;
        self.event(PlayerEvent::StreamEnded);
    }

    fn on_command(&mut self, c: Command<'_>) {
        match c {
            Command::Result { transaction_id: TX_CONNECT, info, .. } if self.state == PlayerState::Connecting => {
                let status = info.as_object().and_then(|o| Status::from_object(o).ok());
                if status.is_some_and(|s| s.level == StatusLevel::Error) {
                    return self.refused(&info, "NetConnection.Connect.Rejected");
                }
                self.event(PlayerEvent::Connected);
                self.state = PlayerState::CreatingStream;
                // Like ffmpeg and librtmp: tell the server our window, then createStream.
                let _ = self.ch.protocol_control(ProtocolControl::WindowAckSize(5_000_000));
                self.queue_command(CSID_COMMAND, 0, |b| encode::create_stream(b, TX_CREATE));
            }
            Command::Error { transaction_id: TX_CONNECT, info, .. } => {
                self.refused(&info, "NetConnection.Connect.Rejected")
            }
            Command::Result { transaction_id: TX_CREATE, info, .. } if self.state == PlayerState::CreatingStream => {
                let id = info.as_number().filter(|&n| n >= 1.0 && n <= f64::from(u32::MAX) && f64::from(n as u32) == n);
                let Some(id) = id else {
                    return self.refused(&Value::Null, "NetStream.Create.Failed");
                };
                self.stream_id = id as u32;
                self.state = PlayerState::StartingPlay;
                let (stream, sid) = (self.cfg.stream, self.stream_id);
                // start -2000: live if there is one, else recorded (ffmpeg's value, in ms).
                self.queue_command(CSID_STREAM_COMMAND, sid, |b| encode::play(b, TX_PLAY, stream, -2000.0));
                let _ = self.user_control(UserControl::SetBufferLength { stream_id: sid, millis: self.cfg.buffer_ms });
            }
            Command::Error { transaction_id: TX_CREATE, info, .. } => self.refused(&info, "NetStream.Create.Failed"),
            Command::OnStatus(s) => {
                if s.level == StatusLevel::Error {
                    return self.fail(
                        CloseReason::Refused {
                            code: StatusText::new(s.code),
                            description: StatusText::new(s.description),
                        },
                        (),
                    );
                }
                match (s.code, self.state) {
                    ("NetStream.Play.Start", PlayerState::StartingPlay)
                    | ("NetStream.Play.PublishNotify" | "NetStream.Play.Start", PlayerState::Ended) => {
                        self.state = PlayerState::Playing;
                        self.event(PlayerEvent::PlayStarted { stream_id: self.stream_id });
                    }
                    (
                        "NetStream.Play.UnpublishNotify" | "NetStream.Play.Stop" | "NetStream.Play.Complete",
                        PlayerState::Playing,
                    ) => self.ended(),
                    ("NetStream.Play.UnpublishNotify" | "NetStream.Play.Stop" | "NetStream.Play.Complete", _) => {}
                    _ => self.event(PlayerEvent::Status {
                        code: StatusText::new(s.code),
                        description: StatusText::new(s.description),
                    }),
                }
            }
            _ => {}
        }
    }
}

/// `|RtmpSampleAccess` (AMF0 string), which nginx-rtmp and FMS send before media.
fn is_sample_access(payload: &[u8]) -> bool {
    payload.get(..20) == Some(b"\x02\x00\x11|RtmpSampleAccess")
}
