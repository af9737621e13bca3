//! The RTMP chunk stream (RTMP specification, section 5.3).
//!
//! Messages are cut into chunks of at most the chunk size, each with a header
//! whose format (`fmt` 0..=3) omits whatever equals the previous message on the
//! same chunk stream. [`ChunkReader`] reassembles messages from received bytes
//! into a buffer the caller lends it; [`ChunkWriter`] produces headers only and
//! hands the payload out as slices of the caller's data.

mod reader;
mod writer;

pub use reader::{ChunkReader, Message, ReadError, ReaderConfig};
pub use writer::{ChunkWriter, ChunkedMessage, DetachedMessage, WriteError};

use crate::time::RtmpTimestamp;

/// Lowest chunk stream id a message may use (0 and 1 encode longer basic headers).
pub const MIN_CSID: u32 = 2;
/// Highest chunk stream id (3-byte basic header).
pub const MAX_CSID: u32 = 65599;
/// Chunk size every connection starts with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest chunk size the specification allows (31 bits).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// Largest message length a chunk header can carry (24 bits).
pub const MAX_MESSAGE_LEN: u32 = 0xFF_FFFF;
/// Largest basic + message header + extended timestamp.
pub const MAX_HEADER_LEN: usize = 18;

/// The header fields of a message, as a writer is given them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// Chunk stream id, 2..=65599.
    pub csid: u32,
    /// Message timestamp.
    pub timestamp: RtmpTimestamp,
    /// Message type id (8 audio, 9 video, 20 AMF0 command ...).
    pub type_id: u8,
    /// Message stream id (0 for connection-level messages).
    pub stream_id: u32,
}

#[cfg(test)]
mod roundtrip_tests;
