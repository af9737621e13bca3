//! `board`: the thin `std` layer that owns sockets, time and threads and
//! drives `rtmp-core`'s sans-IO sessions on Linux boards (MaixCAM, Milk-V
//! Duo) and hosts.
//!
//! * [`push`]: [`push::RtmpPush`], a publishing connection that writes media
//!   with vectored I/O straight from the caller's buffers.
//!
//! The `rtmp-push` program (`src/bin/rtmp-push.rs`) pushes an FLV file or
//! stdin to a server with it.

pub mod net;
pub mod pull;
pub mod push;
pub mod serve;

pub use net::{RtmpError, RtmpErrorKind};
