//! RTMP messages: protocol control, user control, commands and data.
//!
//! Every decoder takes a message payload (as [`crate::chunk::Message`] hands
//! it out) and borrows from it; every encoder writes into a `&mut [u8]` and
//! reports the size it needed when the buffer is short, leaving it untouched.

mod command;
mod control;
mod data;

pub use command::{
    encode, Command, CommandMessage, Connect, ConnectParams, Status, StatusInfo, StatusLevel, StreamName,
    FOURCC_CAN_DECODE, FOURCC_CAN_ENCODE, FOURCC_CAN_FORWARD,
};
pub use control::{LimitType, ProtocolControl, UserControl};
pub use data::{DataMessage, MetadataEntry, StreamMetadata, SET_DATA_FRAME};

use crate::amf0::{Amf0Error, EncodeError};
use core::fmt;

/// Message type ids (RTMP specification sections 5.4, 6.1 and 7.1).
pub mod type_id {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message.
    pub const ABORT: u8 = 2;
    /// Acknowledgement.
    pub const ACKNOWLEDGEMENT: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size.
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth.
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio data.
    pub const AUDIO: u8 = 8;
    /// Video data.
    pub const VIDEO: u8 = 9;
    /// Data message, AMF3.
    pub const DATA_AMF3: u8 = 15;
    /// Shared object message, AMF3.
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    /// Command message, AMF3.
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0 (`@setDataFrame`, `onMetaData`).
    pub const DATA_AMF0: u8 = 18;
    /// Shared object message, AMF0.
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    /// Command message, AMF0.
    pub const COMMAND_AMF0: u8 = 20;
    /// Aggregate message.
    pub const AGGREGATE: u8 = 22;
}

/// Why a message payload could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The payload is shorter than the message type requires.
    Truncated {
        /// The message type id.
        type_id: u8,
    },
    /// The decoder was given a message of another type.
    WrongType(u8),
    /// The AMF0 body is malformed.
    Amf0(Amf0Error),
    /// A command or data message does not start with its name string.
    MissingName,
    /// A command has no transaction id number after its name.
    MissingTransactionId,
    /// A command lacks an argument its type requires (the argument's name).
    MissingArgument(&'static str),
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::Truncated { type_id } => write!(f, "message of type {type_id} is truncated"),
            MessageError::WrongType(t) => write!(f, "unexpected message type {t}"),
            MessageError::Amf0(e) => write!(f, "malformed AMF0: {e}"),
            MessageError::MissingName => f.write_str("command or data message without a name"),
            MessageError::MissingTransactionId => f.write_str("command without a transaction id"),
            MessageError::MissingArgument(a) => write!(f, "command lacks its {a} argument"),
        }
    }
}

impl core::error::Error for MessageError {}

impl From<Amf0Error> for MessageError {
    fn from(e: Amf0Error) -> Self {
        MessageError::Amf0(e)
    }
}

/// The AMF0 body of a command or data message: type `amf0` as is, type
/// `amf3` (how Flash sends them) after its single format byte, which must be 0.
pub(crate) fn amf0_body(type_id: u8, payload: &[u8], amf0: u8, amf3: u8) -> Result<&[u8], MessageError> {
    match type_id {
        t if t == amf0 => Ok(payload),
        t if t == amf3 => match payload.split_first() {
            Some((0, rest)) => Ok(rest),
            Some(_) => Err(MessageError::Amf0(Amf0Error::Amf3Unsupported)),
            None => Err(MessageError::Truncated { type_id }),
        },
        other => Err(MessageError::WrongType(other)),
    }
}

pub(crate) fn fixed<const N: usize>(buf: &mut [u8], bytes: [u8; N]) -> Result<usize, EncodeError> {
    match buf.get_mut(..N) {
        Some(dst) => {
            dst.copy_from_slice(&bytes);
            Ok(N)
        }
        None => Err(EncodeError::BufferTooSmall { needed: N }),
    }
}
