//! Session events and errors.

use crate::chunk::{ReadError, WriteError};
use crate::handshake::HandshakeError;
use crate::message::MessageError;
use core::fmt;

/// A status code or description kept from the peer, cut to fit (the cut is
/// marked with `truncated`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct StatusText<const N: usize> {
    text: heapless::String<N>,
    /// Whether the peer's text was longer and has been cut.
    pub truncated: bool,
}

impl<const N: usize> StatusText<N> {
    /// Copies `s`, cutting it at a character boundary if it is too long.
    pub fn new(s: &str) -> Self {
        let mut text = heapless::String::new();
        let mut truncated = false;
        for c in s.chars() {
            if text.push(c).is_err() {
                truncated = true;
                break;
            }
        }
        StatusText { text, truncated }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<const N: usize> fmt::Debug for StatusText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}{}", self.text.as_str(), if self.truncated { "..." } else { "" })
    }
}

impl<const N: usize> fmt::Display for StatusText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// Why a session closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application called `close`.
    Local,
    /// The server refused: `_error` to connect/createStream/publish, or an
    /// `onStatus` of level `error` (e.g. `NetStream.Publish.BadName`).
    Refused {
        /// The server's status code.
        code: StatusText<64>,
        /// The server's description.
        description: StatusText<128>,
    },
    /// The server did not complete the named step in time.
    Timeout(&'static str),
    /// The handshake failed.
    Handshake(HandshakeError),
    /// The chunk stream from the peer is malformed or exceeds a limit.
    Chunk(ReadError),
    /// A protocol message from the peer is malformed.
    Message(MessageError),
    /// The peer closed the connection.
    PeerClosed,
    /// A command (with the stream name or URL in it) is too large for the
    /// session's control buffer (about 1 KiB).
    CommandTooLarge,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Local => f.write_str("closed by the application"),
            CloseReason::Refused { code, description } => write!(f, "server refused: {code} ({description})"),
            CloseReason::Timeout(step) => write!(f, "server did not answer {step} in time"),
            CloseReason::Handshake(e) => write!(f, "handshake failed: {e}"),
            CloseReason::Chunk(e) => write!(f, "bad chunk stream: {e}"),
            CloseReason::Message(e) => write!(f, "bad message: {e}"),
            CloseReason::PeerClosed => f.write_str("server closed the connection"),
            CloseReason::CommandTooLarge => f.write_str("stream name or URL too long for the control buffer"),
        }
    }
}

/// What a session tells its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `connect` succeeded.
    Connected,
    /// `NetStream.Publish.Start`: media may be sent now.
    PublishStarted {
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
    /// `NetConnection.Connect.ReconnectRequest` (Enhanced RTMP v2): the
    /// server asks the client to reconnect, to the `tcUrl` in
    /// [`Publisher::reconnect_tc_url`](super::Publisher::reconnect_tc_url)
    /// when it gave one. Keep sending to the next keyframe, then move.
    ReconnectRequest,
    /// The session is closed; reported once.
    Closed(CloseReason),
}

/// A fatal input error (also reported as [`Event::Closed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// The handshake failed.
    Handshake(HandshakeError),
    /// The chunk stream is malformed or exceeds a limit.
    Chunk(ReadError),
    /// A protocol message is malformed.
    Message(MessageError),
    /// The session was already closed.
    Closed,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Handshake(e) => write!(f, "handshake failed: {e}"),
            InputError::Chunk(e) => write!(f, "bad chunk stream: {e}"),
            InputError::Message(e) => write!(f, "bad message: {e}"),
            InputError::Closed => f.write_str("session is closed"),
        }
    }
}

impl core::error::Error for InputError {}

/// Why a command could not be carried out. Not fatal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// Media and metadata can only be sent after `NetStream.Publish.Start`.
    NotPublishing,
    /// Control bytes from `poll_transmit` must be sent before a media message.
    TransmitPending,
    /// The message does not fit the chunk stream (too long, bad chunk stream).
    Chunk(WriteError),
    /// The control buffer has no room for the message (`needed` bytes).
    ControlBufferFull {
        /// Bytes the message needs.
        needed: usize,
    },
    /// The session is closed.
    Closed,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::NotPublishing => f.write_str("not publishing yet"),
            SendError::TransmitPending => f.write_str("control bytes must be sent first"),
            SendError::Chunk(e) => write!(f, "cannot chunk message: {e}"),
            SendError::ControlBufferFull { needed } => write!(f, "control buffer full ({needed} bytes needed)"),
            SendError::Closed => f.write_str("session is closed"),
        }
    }
}

impl core::error::Error for SendError {}

impl From<WriteError> for SendError {
    fn from(e: WriteError) -> Self {
        SendError::Chunk(e)
    }
}
