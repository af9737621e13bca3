//! `board`: the thin `std` layer that owns sockets, time and threads and
//! drives `rtmp-core`'s sans-IO sessions on Linux boards (MaixCAM, Milk-V
//! Duo) and hosts.
//!
//! * [`push`]: [`push::RtmpPush`], a publishing connection that writes media
//!   with vectored I/O straight from the caller's buffers.
//! * [`file_push`]: [`file_push::push_flv`], an FLV file or stream paced to
//!   real time, reconnecting and resuming at a keyframe (`rtmp-push FILE`).
//! * [`pull`]: [`pull::RtmpPull`], a playing connection that hands out the
//!   received frames (the capture API).
//! * [`serve`]: [`serve::RtmpServer`], publishers and players in one poll
//!   loop, with optional FLV recording.
//! * [`oss`]: Aliyun OSS LiveChannel URLs signed for each connection, and
//!   the ingest rules of `rtmp-serve --oss-bucket`.
//! * [`hls`], [`http`]: HLS out of live streams and a file server for it.
//! * The hardware, over `hw-sys` (vendor SDK or host SDK): [`sys`] (media
//!   system, VB pools, the SDK's error codes), [`camera`] (VI + ISP),
//!   [`venc`] (the encoder; a stream's packs borrow it until release),
//!   [`audio`] (microphone and AAC).
//! * [`pipeline`]: [`pipeline::Rtmp`], camera (and microphone) to an RTMP
//!   server, shaped like MaixPy's `Rtmp`.
//!
//! The programs `rtmp-push`, `rtmp-pull` and `rtmp-serve` (`src/bin/`) are
//! thin command lines around them; `rtmp-push camera` streams the camera.

pub mod audio;
pub mod camera;
pub mod capture;
pub mod file_push;
pub mod hls;
pub mod http;
pub mod mp4;
pub mod net;
pub mod oss;
pub mod picture;
pub mod pipeline;
pub mod pull;
pub mod push;
pub mod serve;
pub mod sys;
pub mod tls;
pub mod vdec;
pub mod venc;

pub use net::{RtmpError, RtmpErrorKind};
