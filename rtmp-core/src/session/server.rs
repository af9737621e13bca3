//! The server side of one connection: handshake (either variant), connect,
//! createStream, publish and play requests decided by the application, media
//! in from publishers and out to players without copying.

use super::event::{CloseReason, InputError, SendError};
use super::outbox::Channel;
use crate::chunk::{ChunkReader, ChunkedMessage, MessageHeader, ReaderConfig};
use crate::handshake::{ServerHandshake, RANDOM_LEN};
use crate::message::{
    encode, type_id, Command, CommandMessage, LimitType, MessageError, ProtocolControl, StatusInfo, StreamName,
    UserControl,
};
use crate::time::{Instant, RtmpTimestamp};

const CSID_COMMAND: u32 = 3;
const CSID_AUDIO: u32 = 4;
const CSID_DATA: u32 = 5;
const CSID_VIDEO: u32 = 6;
const CSID_STREAM_COMMAND: u32 = 8;
const CONTROL_CAPACITY: usize = 2048;
/// Message streams one connection may create.
const MAX_STREAMS: usize = 4;

/// Settings a server announces to each client.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// Outgoing chunk size (nginx-rtmp's default is 4096).
    pub chunk_size: u32,
    /// Window Acknowledgement Size and Set Peer Bandwidth sent after connect.
    pub window: u32,
    /// Time allowed from the first byte to a complete `connect`.
    pub connect_timeout: core::time::Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { chunk_size: 4096, window: 5_000_000, connect_timeout: core::time::Duration::from_secs(10) }
    }
}

/// What a server connection reports. Variants with data borrow the message
/// they came from: handle them before the next `handle_input`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent<'a> {
    /// The client connected to `app` (accepted; the reply is queued).
    Connected {
        /// The application.
        app: &'a str,
    },
    /// The client asks to publish; answer with
    /// [`accept_publish`](Server::accept_publish) or [`reject`](Server::reject).
    PublishRequest {
        /// The message stream it publishes on.
        stream_id: u32,
        /// The stream name with its query string.
        name: StreamName<'a>,
        /// `live`, `record` or `append`.
        publish_type: &'a str,
    },
    /// The client asks to play; answer with [`accept_play`](Server::accept_play)
    /// or [`reject`](Server::reject).
    PlayRequest {
        /// The message stream it plays on.
        stream_id: u32,
        /// The stream name with its query string.
        name: StreamName<'a>,
    },
    /// Audio (8), video (9) or data (18) from an accepted publisher.
    Media {
        /// The publishing stream.
        stream_id: u32,
        /// 8, 9 or 18.
        type_id: u8,
        /// Message timestamp.
        timestamp: RtmpTimestamp,
        /// The FLV tag body, borrowed from the receive buffer.
        payload: &'a [u8],
    },
    /// The client stopped publishing or playing on `stream_id`
    /// (FCUnpublish, closeStream or deleteStream).
    StreamClosed {
        /// The stream.
        stream_id: u32,
    },
    /// The connection is over; reported once.
    Closed(CloseReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Created,
    PublishPending,
    Publishing,
    PlayPending,
    Playing,
}

/// Which event the last message produced (its data is read from the reader
/// when the event is polled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    None,
    FromMessage,
    StreamClosed(u32),
}

struct Inner {
    cfg: ServerConfig,
    ch: Channel<ServerHandshake, CONTROL_CAPACITY>,
    connected: bool,
    streams: heapless::Vec<(u32, Role), MAX_STREAMS>,
    next_stream: u32,
    closed: Option<CloseReason>,
    close_reported: bool,
    pending: Pending,
    deadline: Instant,
}

/// One accepted connection, server side. Sans-IO, like [`super::Publisher`]:
/// feed input, send what `poll_transmit` returns, handle events.
pub struct Server<'b> {
    reader: ChunkReader<'b, 8>,
    inner: Inner,
}

impl<'b> Server<'b> {
    /// A connection that has received nothing yet; `random` fills S1.
    pub fn new(cfg: ServerConfig, recv_buf: &'b mut [u8], now: Instant, random: &[u8; RANDOM_LEN]) -> Self {
        Server {
            reader: ChunkReader::new(recv_buf, ReaderConfig::default()),
            inner: Inner {
                cfg,
                ch: Channel::new(ServerHandshake::new(now.as_millis() as u32, random)),
                connected: false,
                streams: heapless::Vec::new(),
                next_stream: 1,
                closed: None,
                close_reported: false,
                pending: Pending::None,
                deadline: now + cfg.connect_timeout,
            },
        }
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_some()
    }

    /// Feeds received bytes; returns how many were consumed. Stops after a
    /// message that produced an event, so that the event can borrow it: poll
    /// events, then offer the rest again.
    pub fn handle_input(&mut self, now: Instant, input: &[u8]) -> Result<usize, InputError> {
        let _ = now;
        let inner = &mut self.inner;
        if inner.closed.is_some() {
            return Err(InputError::Closed);
        }
        inner.pending = Pending::None;
        let mut consumed = 0;
        if !inner.ch.link.is_open() {
            consumed = match inner.ch.handshake(input) {
                Ok((n, _)) => n,
                Err(e) => return Err(inner.fail(CloseReason::Handshake(e), InputError::Handshake(e))),
            };
            if !inner.ch.link.is_open() {
                return Ok(consumed);
            }
        }
        while inner.closed.is_none() && inner.pending == Pending::None {
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

    /// Checks the connect deadline; harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.inner.connected && self.inner.closed.is_none() && now >= self.inner.deadline {
            self.inner.fail(CloseReason::Timeout("connect"), ());
        }
    }

    /// The client closed the connection.
    pub fn handle_peer_closed(&mut self) {
        self.inner.fail(CloseReason::PeerClosed, ());
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.inner.connected && self.inner.closed.is_none()).then_some(self.inner.deadline)
    }

    /// Bytes to send.
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.inner.ch.link.pending()
    }

    /// Reports that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were sent.
    pub fn transmitted(&mut self, n: usize) {
        self.inner.ch.link.transmitted(n);
    }

    /// The event the last input produced, if any; data borrows the message.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent<'_>> {
        let inner = &mut self.inner;
        if let Some(reason) = &inner.closed {
            if inner.close_reported {
                return None;
            }
            inner.close_reported = true;
            return Some(ServerEvent::Closed(reason.clone()));
        }
        let pending = core::mem::replace(&mut inner.pending, Pending::None);
        match pending {
            Pending::None => None,
            Pending::StreamClosed(stream_id) => Some(ServerEvent::StreamClosed { stream_id }),
            Pending::FromMessage => {
                let m = self.reader.last_message()?;
                match m.type_id {
                    type_id::AUDIO | type_id::VIDEO | type_id::DATA_AMF0 => Some(ServerEvent::Media {
                        stream_id: m.stream_id,
                        type_id: m.type_id,
                        timestamp: m.timestamp,
                        payload: m.payload,
                    }),
                    _ => match CommandMessage::decode(m.type_id, m.payload).and_then(|c| c.command()).ok()? {
                        Command::Connect(c) => Some(ServerEvent::Connected { app: c.app().unwrap_or("") }),
                        Command::Publish { name, publish_type, .. } => {
                            Some(ServerEvent::PublishRequest { stream_id: m.stream_id, name, publish_type })
                        }
                        Command::Play { name, .. } => Some(ServerEvent::PlayRequest { stream_id: m.stream_id, name }),
                        _ => None,
                    },
                }
            }
        }
    }

    /// Accepts a publish request: `NetStream.Publish.Start` is queued.
    pub fn accept_publish(&mut self, stream_id: u32) -> Result<(), SendError> {
        let inner = &mut self.inner;
        inner.set_role(stream_id, Role::PublishPending, Role::Publishing)?;
        inner.user_control(UserControl::StreamBegin(stream_id))?;
        inner.status(
            stream_id,
            &StatusInfo { level: "status", code: "NetStream.Publish.Start", description: "Start publishing" },
        )
    }

    /// Accepts a play request: Stream Begin, `NetStream.Play.Reset` and
    /// `NetStream.Play.Start` are queued; send media with [`send_media`](Self::send_media).
    pub fn accept_play(&mut self, stream_id: u32) -> Result<(), SendError> {
        let inner = &mut self.inner;
        inner.set_role(stream_id, Role::PlayPending, Role::Playing)?;
        inner.user_control(UserControl::StreamBegin(stream_id))?;
        inner.status(
            stream_id,
            &StatusInfo { level: "status", code: "NetStream.Play.Reset", description: "Playing and resetting" },
        )?;
        inner.status(
            stream_id,
            &StatusInfo { level: "status", code: "NetStream.Play.Start", description: "Start playing" },
        )
    }

    /// Tells a playing client that the stream's publisher stopped: Stream EOF
    /// and `NetStream.Play.UnpublishNotify` are queued (as nginx-rtmp does);
    /// the client stays connected and may play again.
    pub fn end_play(&mut self, stream_id: u32) -> Result<(), SendError> {
        let inner = &mut self.inner;
        inner.set_role(stream_id, Role::Playing, Role::Created)?;
        inner.user_control(UserControl::StreamEof(stream_id))?;
        inner.status(
            stream_id,
            &StatusInfo { level: "status", code: "NetStream.Play.UnpublishNotify", description: "Stop publishing" },
        )
    }

    /// Ends the session and gives the receive buffer back, for the next connection.
    pub fn into_recv_buffer(self) -> &'b mut [u8] {
        self.reader.into_buffer()
    }

    /// Refuses a pending publish or play request with `code` (for example
    /// `NetStream.Publish.BadName` for a name already publishing).
    pub fn reject(&mut self, stream_id: u32, code: &str, description: &str) -> Result<(), SendError> {
        let inner = &mut self.inner;
        let role = inner.role(stream_id).ok_or(SendError::NotPublishing)?;
        if !matches!(role, Role::PublishPending | Role::PlayPending) {
            return Err(SendError::NotPublishing);
        }
        inner.set_role(stream_id, role, Role::Created)?;
        inner.status(stream_id, &StatusInfo { level: "error", code, description })
    }

    /// Sends media to a playing client: `body` is an FLV tag body (8 audio,
    /// 9 video, 18 data), written from where it lies. Send queued control
    /// bytes first.
    pub fn send_media<'p>(
        &mut self,
        stream_id: u32,
        type_id: u8,
        timestamp: RtmpTimestamp,
        body: &'p [&'p [u8]],
    ) -> Result<ChunkedMessage<'p>, SendError> {
        let inner = &mut self.inner;
        if inner.closed.is_some() {
            return Err(SendError::Closed);
        }
        if inner.role(stream_id) != Some(Role::Playing) {
            return Err(SendError::NotPublishing);
        }
        if self.poll_transmit().is_some() {
            return Err(SendError::TransmitPending);
        }
        let csid = match type_id {
            type_id::AUDIO => CSID_AUDIO,
            type_id::VIDEO => CSID_VIDEO,
            _ => CSID_DATA,
        };
        Ok(self.inner.ch.writer.write(MessageHeader { csid, timestamp, type_id, stream_id }, body)?)
    }
}

impl Inner {
    fn fail<E>(&mut self, reason: CloseReason, err: E) -> E {
        if self.closed.is_none() {
            self.closed = Some(reason);
        }
        err
    }

    fn status(&mut self, stream_id: u32, s: &StatusInfo<'_>) -> Result<(), SendError> {
        self.ch.command(CSID_STREAM_COMMAND, stream_id, |b| encode::on_status(b, s))
    }

    fn user_control(&mut self, u: UserControl) -> Result<(), SendError> {
        self.ch.user_control(u)
    }

    fn role(&self, stream_id: u32) -> Option<Role> {
        self.streams.iter().find(|(id, _)| *id == stream_id).map(|(_, r)| *r)
    }

    fn set_role(&mut self, stream_id: u32, from: Role, to: Role) -> Result<(), SendError> {
        match self.streams.iter_mut().find(|(id, r)| *id == stream_id && *r == from) {
            Some(entry) => {
                entry.1 = to;
                Ok(())
            }
            None => Err(SendError::NotPublishing),
        }
    }

    fn on_message(&mut self, type_id: u8, stream_id: u32, payload: &[u8]) -> Result<(), MessageError> {
        match type_id {
            type_id::SET_CHUNK_SIZE..=type_id::SET_PEER_BANDWIDTH => {
                self.ch.on_control(type_id, payload)?;
            }
            // Media from a stream that is not an accepted publisher is dropped,
            // as nginx-rtmp drops it.
            type_id::AUDIO | type_id::VIDEO | type_id::DATA_AMF0 if self.role(stream_id) == Some(Role::Publishing) => {
                self.pending = Pending::FromMessage;
            }
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => {
                let c = CommandMessage::decode(type_id, payload)?;
                self.on_command(stream_id, c.command()?)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn on_command(&mut self, stream_id: u32, c: Command<'_>) -> Result<(), MessageError> {
        // Replies that do not fit the queue mean the client is not reading;
        // they are dropped and the session goes on (the client times out).
        match c {
            Command::Connect(connect) if !self.connected => {
                self.connected = true;
                let cfg = self.cfg;
                let _ = self.ch.protocol_control(ProtocolControl::WindowAckSize(cfg.window));
                let spb = ProtocolControl::SetPeerBandwidth { size: cfg.window, limit: LimitType::Dynamic };
                let _ = self.ch.protocol_control(spb);
                let size = cfg.chunk_size.clamp(128, crate::chunk::MAX_CHUNK_SIZE);
                if self.ch.protocol_control(ProtocolControl::SetChunkSize(size)).is_ok() {
                    let _ = self.ch.writer.set_chunk_size(size);
                }
                let ok = StatusInfo {
                    level: "status",
                    code: "NetConnection.Connect.Success",
                    description: "Connection succeeded.",
                };
                let tid = connect.transaction_id;
                let _ =
                    self.ch.command(CSID_COMMAND, 0, |b| encode::connect_result(b, tid, "FMS/3,0,1,123", 31.0, &ok));
                self.pending = Pending::FromMessage;
            }
            Command::CreateStream { transaction_id } => {
                let id = self.next_stream;
                if self.streams.push((id, Role::Created)).is_ok() {
                    self.next_stream += 1;
                    let _ =
                        self.ch.command(CSID_COMMAND, 0, |b| encode::result(b, transaction_id, Some(f64::from(id))));
                } else {
                    let err = StatusInfo {
                        level: "error",
                        code: "NetConnection.Call.Failed",
                        description: "Too many streams",
                    };
                    let _ = self.ch.command(CSID_COMMAND, 0, |b| encode::error(b, transaction_id, &err));
                }
            }
            Command::ReleaseStream { transaction_id, .. } | Command::FcPublish { transaction_id, .. }
                if transaction_id != 0.0 =>
            {
                let _ = self.ch.command(CSID_COMMAND, 0, |b| encode::result(b, transaction_id, None));
            }
            Command::Publish { .. } => {
                if self.set_role(stream_id, Role::Created, Role::PublishPending).is_ok() {
                    self.pending = Pending::FromMessage;
                } else {
                    let bad =
                        StatusInfo { level: "error", code: "NetStream.Publish.BadName", description: "No such stream" };
                    let _ = self.status(stream_id, &bad);
                }
            }
            Command::Play { .. } => {
                if self.set_role(stream_id, Role::Created, Role::PlayPending).is_ok() {
                    self.pending = Pending::FromMessage;
                } else {
                    let bad =
                        StatusInfo { level: "error", code: "NetStream.Play.Failed", description: "No such stream" };
                    let _ = self.status(stream_id, &bad);
                }
            }
            Command::FcUnpublish { .. } | Command::CloseStream | Command::DeleteStream { .. } => {
                let id = match c {
                    Command::DeleteStream { stream_id: s, .. } if s >= 0.0 && s <= f64::from(u32::MAX) => s as u32,
                    _ => stream_id,
                };
                if let Some(i) = self.streams.iter().position(|(s, r)| *s == id && *r != Role::Created) {
                    self.streams[i].1 = Role::Created;
                    self.pending = Pending::StreamClosed(id);
                }
                if matches!(c, Command::DeleteStream { .. }) {
                    if let Some(i) = self.streams.iter().position(|(s, _)| *s == id) {
                        self.streams.swap_remove(i);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
