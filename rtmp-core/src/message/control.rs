//! Protocol control (types 1, 2, 3, 5, 6) and user control (type 4) messages.

use super::{fixed, type_id, MessageError};
use crate::amf0::EncodeError;

/// Set Peer Bandwidth limit type (RTMP spec 5.4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitType {
    /// 0: limit output to the window size.
    Hard,
    /// 1: limit to the window or the current limit, whichever is smaller.
    Soft,
    /// 2: hard if the previous limit was hard, else ignore.
    Dynamic,
    /// Any other value, kept as sent.
    Other(u8),
}

impl LimitType {
    fn from_byte(b: u8) -> Self {
        match b {
            0 => LimitType::Hard,
            1 => LimitType::Soft,
            2 => LimitType::Dynamic,
            o => LimitType::Other(o),
        }
    }
    fn to_byte(self) -> u8 {
        match self {
            LimitType::Hard => 0,
            LimitType::Soft => 1,
            LimitType::Dynamic => 2,
            LimitType::Other(o) => o,
        }
    }
}

/// A protocol control message (RTMP spec 5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolControl {
    /// New chunk size for the sender's chunks (31 bits).
    SetChunkSize(u32),
    /// Discard the partial message on this chunk stream.
    Abort(u32),
    /// Bytes received so far (a running total that wraps at 2^32).
    Acknowledgement(u32),
    /// Send an acknowledgement after this many bytes.
    WindowAckSize(u32),
    /// Limit the peer's output bandwidth.
    SetPeerBandwidth {
        /// Window size in bytes.
        size: u32,
        /// How to apply it.
        limit: LimitType,
    },
}

fn be32(p: &[u8], type_id: u8) -> Result<u32, MessageError> {
    match p.get(..4) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(MessageError::Truncated { type_id }),
    }
}

impl ProtocolControl {
    /// Decodes a protocol control message of type 1, 2, 3, 5 or 6. Extra
    /// trailing bytes are ignored, as ffmpeg and nginx-rtmp ignore them.
    pub fn decode(type_id: u8, payload: &[u8]) -> Result<Self, MessageError> {
        Ok(match type_id {
            type_id::SET_CHUNK_SIZE => ProtocolControl::SetChunkSize(be32(payload, type_id)? & 0x7FFF_FFFF),
            type_id::ABORT => ProtocolControl::Abort(be32(payload, type_id)?),
            type_id::ACKNOWLEDGEMENT => ProtocolControl::Acknowledgement(be32(payload, type_id)?),
            type_id::WINDOW_ACK_SIZE => ProtocolControl::WindowAckSize(be32(payload, type_id)?),
            type_id::SET_PEER_BANDWIDTH => {
                let size = be32(payload, type_id)?;
                let limit = *payload.get(4).ok_or(MessageError::Truncated { type_id })?;
                ProtocolControl::SetPeerBandwidth { size, limit: LimitType::from_byte(limit) }
            }
            other => return Err(MessageError::WrongType(other)),
        })
    }

    /// The message type id.
    pub fn type_id(&self) -> u8 {
        match self {
            ProtocolControl::SetChunkSize(_) => type_id::SET_CHUNK_SIZE,
            ProtocolControl::Abort(_) => type_id::ABORT,
            ProtocolControl::Acknowledgement(_) => type_id::ACKNOWLEDGEMENT,
            ProtocolControl::WindowAckSize(_) => type_id::WINDOW_ACK_SIZE,
            ProtocolControl::SetPeerBandwidth { .. } => type_id::SET_PEER_BANDWIDTH,
        }
    }

    /// Writes the payload; sent on chunk stream 2, message stream 0.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match *self {
            ProtocolControl::SetChunkSize(v)
            | ProtocolControl::Abort(v)
            | ProtocolControl::Acknowledgement(v)
            | ProtocolControl::WindowAckSize(v) => fixed(buf, v.to_be_bytes()),
            ProtocolControl::SetPeerBandwidth { size, limit } => {
                let b = size.to_be_bytes();
                fixed(buf, [b[0], b[1], b[2], b[3], limit.to_byte()])
            }
        }
    }
}

/// A user control message (RTMP spec 6.2 and 7.1.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserControl {
    /// 0: a stream became functional.
    StreamBegin(u32),
    /// 1: playback of a stream ended.
    StreamEof(u32),
    /// 2: no more data on a stream for now.
    StreamDry(u32),
    /// 3: the client's buffer length for a stream, in milliseconds.
    SetBufferLength {
        /// Message stream id.
        stream_id: u32,
        /// Buffer length in milliseconds.
        millis: u32,
    },
    /// 4: the stream is a recorded one.
    StreamIsRecorded(u32),
    /// 6: the server checks the client is alive; answer with `PingResponse`.
    PingRequest(u32),
    /// 7: the answer to a ping, echoing its timestamp.
    PingResponse(u32),
    /// An event type this crate does not interpret (SWF verification ...).
    Unknown {
        /// The event type.
        event: u16,
    },
}

impl UserControl {
    /// Decodes a user control message payload.
    pub fn decode(payload: &[u8]) -> Result<Self, MessageError> {
        let t = type_id::USER_CONTROL;
        let event = payload.get(..2).ok_or(MessageError::Truncated { type_id: t })?;
        let event = u16::from_be_bytes([event[0], event[1]]);
        let data = &payload[2..];
        Ok(match event {
            0 => UserControl::StreamBegin(be32(data, t)?),
            1 => UserControl::StreamEof(be32(data, t)?),
            2 => UserControl::StreamDry(be32(data, t)?),
            3 => UserControl::SetBufferLength {
                stream_id: be32(data, t)?,
                millis: be32(data.get(4..).unwrap_or(&[]), t)?,
            },
            4 => UserControl::StreamIsRecorded(be32(data, t)?),
            6 => UserControl::PingRequest(be32(data, t)?),
            7 => UserControl::PingResponse(be32(data, t)?),
            event => UserControl::Unknown { event },
        })
    }

    /// Writes the payload; sent on chunk stream 2, message stream 0.
    /// `Unknown` events cannot be encoded (their data is not kept).
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let (event, a) = match *self {
            UserControl::StreamBegin(s) => (0u16, s),
            UserControl::StreamEof(s) => (1, s),
            UserControl::StreamDry(s) => (2, s),
            UserControl::SetBufferLength { stream_id, millis } => {
                let (s, m) = (stream_id.to_be_bytes(), millis.to_be_bytes());
                return fixed(buf, [0, 3, s[0], s[1], s[2], s[3], m[0], m[1], m[2], m[3]]);
            }
            UserControl::StreamIsRecorded(s) => (4, s),
            UserControl::PingRequest(t) => (6, t),
            UserControl::PingResponse(t) => (7, t),
            UserControl::Unknown { event } => {
                let e = event.to_be_bytes();
                return fixed(buf, [e[0], e[1]]);
            }
        };
        let (e, a) = (event.to_be_bytes(), a.to_be_bytes());
        fixed(buf, [e[0], e[1], a[0], a[1], a[2], a[3]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_control_roundtrip() {
        let all = [
            ProtocolControl::SetChunkSize(4096),
            ProtocolControl::Abort(6),
            ProtocolControl::Acknowledgement(u32::MAX),
            ProtocolControl::WindowAckSize(5_000_000),
            ProtocolControl::SetPeerBandwidth { size: 5_000_000, limit: LimitType::Dynamic },
        ];
        for m in all {
            let mut b = [0u8; 8];
            let n = m.encode(&mut b).unwrap();
            assert_eq!(ProtocolControl::decode(m.type_id(), &b[..n]), Ok(m));
        }
        assert_eq!(ProtocolControl::decode(5, &[0, 0]), Err(MessageError::Truncated { type_id: 5 }));
        assert_eq!(ProtocolControl::decode(1, &[0xFF, 0, 0x10, 0]), Ok(ProtocolControl::SetChunkSize(0x7F00_1000)));
        let mut tiny = [0u8; 2];
        assert_eq!(ProtocolControl::Abort(1).encode(&mut tiny), Err(EncodeError::BufferTooSmall { needed: 4 }));
        assert_eq!(tiny, [0, 0]);
    }

    #[test]
    fn user_control_roundtrip() {
        let all = [
            UserControl::StreamBegin(1),
            UserControl::StreamEof(1),
            UserControl::StreamDry(1),
            UserControl::SetBufferLength { stream_id: 1, millis: 3000 },
            UserControl::StreamIsRecorded(1),
            UserControl::PingRequest(123_456),
            UserControl::PingResponse(123_456),
        ];
        for m in all {
            let mut b = [0u8; 10];
            let n = m.encode(&mut b).unwrap();
            assert_eq!(UserControl::decode(&b[..n]), Ok(m));
        }
        assert_eq!(UserControl::decode(&[0, 0x1a, 0]), Ok(UserControl::Unknown { event: 0x1a }));
        assert_eq!(UserControl::decode(&[0, 3, 0, 0, 0, 1]), Err(MessageError::Truncated { type_id: 4 }));
        assert_eq!(UserControl::decode(&[0]), Err(MessageError::Truncated { type_id: 4 }));
    }
}
