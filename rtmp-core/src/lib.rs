//! `rtmp-core`: RTMP for embedded cameras, with no heap, no I/O and no clock.
//!
//! This crate is the protocol half of a live-streaming stack: the handshake,
//! the chunk stream, RTMP messages and AMF0. It is `#![no_std]`, never
//! allocates, contains no `unsafe`, and does no I/O: callers feed the bytes
//! they received, take the bytes to send, and pass the time in.
//!
//! * [`url`]: `rtmp://` URLs split into host, port, app and stream key.
//! * [`amf0`]: borrowed AMF0 values and an encoder into `&mut [u8]`.
//! * [`handshake`]: client and server handshakes, simple and digest (FP9).
//! * [`chunk`]: the chunk stream reader (reassembly into a caller's buffer)
//!   and writer (headers only; payload goes out as slices of the caller's data).
//! * [`message`]: protocol control, user control and typed command messages.
//! * [`flv`]: FLV file header, tags, a sans-IO reader and writer headers;
//!   H.264 and AAC packaging; reading received audio/video tag bodies.
//! * [`session`]: the sans-IO publisher, player and server sessions.
//! * [`live`]: link policies (reconnect backoff, timestamp continuity,
//!   drop-by-priority, bitrate adaptation, dead-link detection).
//! * [`oss`]: Aliyun OSS LiveChannel URL signing and verification.
//! * [`ts`]: MPEG-TS muxing and HLS segmenting.
//! * [`time`]: caller-supplied instants and wrapping RTMP timestamps.
//!
//! No input, however malformed, makes any function here panic: every parser
//! returns a typed error, and everything an attacker controls (nesting depth,
//! message size, chunk size, number of chunk streams) is bounded.
//!
//! # Example: chunking a video message without copying it
//!
//! ```
//! use rtmp_core::chunk::{ChunkWriter, MessageHeader};
//! use rtmp_core::time::RtmpTimestamp;
//!
//! let frame = [0x17u8; 10_000]; // the encoder's buffer
//! let mut writer = ChunkWriter::<8>::new();
//! writer.set_chunk_size(4096).unwrap();
//! let header = MessageHeader { csid: 6, timestamp: RtmpTimestamp(40), type_id: 9, stream_id: 1 };
//! let parts = [&frame[..]];
//! let mut out = writer.write(header, &parts).unwrap();
//! let mut slices: [&[u8]; 8] = [&[]; 8];
//! let n = out.fill(&mut slices);
//! // Header, 4096 payload bytes, 1-byte continuation header, 4096 bytes, ...
//! assert_eq!(n, 6);
//! assert_eq!(slices[1].as_ptr(), frame.as_ptr()); // the payload is not copied
//! assert_eq!(out.remaining(), 12 + 10_000 + 2);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod amf0;
pub mod chunk;
pub mod flv;
pub mod handshake;
pub mod live;
pub mod message;
pub mod oss;
pub mod session;
pub mod time;
pub mod ts;
pub mod url;
