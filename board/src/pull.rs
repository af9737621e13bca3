//! A playing connection (the capture role): connect, play, and hand out the
//! received frames, borrowed from the session's reassembly buffer.
//!
//! ```no_run
//! use board::pull::{PullBuffers, PullOptions, RtmpPull};
//!
//! let mut bufs = PullBuffers::new();
//! let mut pull = RtmpPull::connect("rtmp://127.0.0.1/live/cam", &mut bufs, PullOptions::default())?;
//! while let Some(frame) = pull.next_frame()? {
//!     if frame.keyframe {
//!         println!("keyframe at {} ms, {} bytes", frame.timestamp, frame.payload.len());
//!     }
//! }
//! # Ok::<(), board::RtmpError>(())
//! ```

use crate::net::{connect_transport, random_bytes, Connection, RtmpError, RtmpErrorKind};
use rtmp_core::flv::media::CodecConfig;
use rtmp_core::session::{Player, PlayerConfig, PlayerEvent};
use rtmp_core::time::Instant as CoreInstant;
use rtmp_core::url::RtmpUrl;
use std::io;
use std::time::{Duration, Instant};

/// Buffers a connection borrows; keep them alive as long as the connection.
pub struct PullBuffers {
    recv: Box<[u8]>,
    reassembly: Box<[u8]>,
    tc_url: [u8; 512],
}

impl Default for PullBuffers {
    fn default() -> Self {
        Self::new()
    }
}

impl PullBuffers {
    /// 64 KiB to read into; 4 MiB to reassemble messages in (the largest
    /// frame the server may send).
    pub fn new() -> Self {
        Self::with_max_message(4 << 20)
    }

    /// Like [`new`](Self::new), with room for messages of `max` bytes.
    pub fn with_max_message(max: usize) -> Self {
        PullBuffers {
            recv: vec![0; 64 * 1024].into_boxed_slice(),
            reassembly: vec![0; max].into_boxed_slice(),
            tc_url: [0; 512],
        }
    }
}

/// Options for [`RtmpPull::connect`].
#[derive(Clone, Copy, Debug)]
pub struct PullOptions {
    /// TCP connect timeout, the time allowed from connect to play start, and
    /// how long the stream may go without data before it counts as lost.
    pub timeout: Duration,
    /// The buffer length announced to the server, in milliseconds.
    pub buffer_ms: u32,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions { timeout: Duration::from_secs(10), buffer_ms: 3000 }
    }
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Audio (message type 8).
    Audio,
    /// Video (message type 9).
    Video,
    /// Data, e.g. `onMetaData` (message type 18).
    Data,
}

/// A received frame: its FLV tag body, borrowed until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Audio, video or data.
    pub kind: FrameKind,
    /// Milliseconds, as the publisher stamped it (wrapping at 2^32).
    pub timestamp: u32,
    /// A video keyframe: a decoder can start here.
    pub keyframe: bool,
    /// The codec configuration, when this frame is a sequence header.
    pub config: Option<CodecConfig>,
    /// The FLV tag body (codec header bytes included), as received.
    pub payload: &'a [u8],
}

/// A [`Frame`] that owns its payload, from [`RtmpPull::into_frames`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedFrame {
    /// Audio, video or data.
    pub kind: FrameKind,
    /// Milliseconds.
    pub timestamp: u32,
    /// A video keyframe.
    pub keyframe: bool,
    /// The codec configuration, when this frame is a sequence header.
    pub config: Option<CodecConfig>,
    /// The FLV tag body.
    pub payload: Vec<u8>,
}

/// A playing connection. [`next_frame`](Self::next_frame) hands out frames
/// without copying them; [`into_frames`](Self::into_frames) is an owning iterator.
pub struct RtmpPull<'b> {
    conn: Connection<'b>,
    session: Player<'b>,
    /// How long the stream may go without data.
    silence: Duration,
    ended: bool,
    config: Option<CodecConfig>,
}

impl<'b> RtmpPull<'b> {
    /// Connects to `url` and plays: returns once the server has answered
    /// `NetStream.Play.Start`, or with the step that failed.
    pub fn connect(url: &'b str, bufs: &'b mut PullBuffers, opts: PullOptions) -> Result<Self, RtmpError> {
        let parsed = RtmpUrl::parse(url).map_err(|e| RtmpError {
            server: String::from("(url)"),
            step: "parse URL",
            kind: RtmpErrorKind::Url(e),
        })?;
        let server = format!("{}:{}", parsed.host(), parsed.port());
        let err = |step, kind| RtmpError { server: server.clone(), step, kind };
        let stream = connect_transport(&parsed, opts.timeout, |_| Ok(())).map_err(|(step, kind)| err(step, kind))?;
        let PullBuffers { recv, reassembly, tc_url } = bufs;
        let tc = parsed.write_tc_url(tc_url).map_err(|_| {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "tcUrl longer than 512 bytes");
            err("connect", RtmpErrorKind::Io(e))
        })?;
        let mut cfg = PlayerConfig::new(parsed.app(), parsed.stream(), tc);
        cfg.setup_timeout = opts.timeout;
        cfg.buffer_ms = opts.buffer_ms;
        let session = Player::new(cfg, reassembly, CoreInstant::ZERO, &random_bytes());
        let conn = Connection::new(stream, recv, server, opts.timeout);
        let mut pull = RtmpPull { conn, session, silence: opts.timeout, ended: false, config: None };
        pull.wait_for_play()?;
        Ok(pull)
    }

    /// `host:port` of the server.
    pub fn server(&self) -> &str {
        self.conn.server()
    }

    /// Bytes read from the socket so far.
    pub fn bytes_received(&self) -> u64 {
        self.conn.bytes_received
    }

    fn error(&self, step: &'static str, kind: RtmpErrorKind) -> RtmpError {
        self.conn.error(step, kind)
    }

    fn wait_for_play(&mut self) -> Result<(), RtmpError> {
        loop {
            self.flush_control("play")?;
            while let Some(e) = self.session.poll_event() {
                match e {
                    PlayerEvent::PlayStarted { .. } => return Ok(()),
                    PlayerEvent::Closed(r) => return Err(self.error("play", RtmpErrorKind::Closed(Box::new(r)))),
                    _ => {}
                }
            }
            if self.conn.feed(&mut self.session) == 0 {
                let deadline = self.session.poll_timeout().map(|t| self.conn.deadline(t));
                self.conn.read(&mut self.session, "play", deadline)?;
                let now = self.conn.now();
                self.session.handle_timeout(now);
            }
        }
    }

    /// Writes queued control bytes. Input is not fed meanwhile: the player
    /// stops on each media message, whose event must be polled first.
    fn flush_control(&mut self, step: &'static str) -> Result<(), RtmpError> {
        self.conn.flush(&mut self.session, step, false)
    }

    /// The next frame, or `None` once the publisher has stopped (Stream EOF
    /// or `UnpublishNotify`). An error when the connection fails or no data
    /// arrives for the timeout.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, RtmpError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let took = self.conn.feed(&mut self.session) > 0;
            self.flush_control("play")?;
            let mut media = false;
            while let Some(e) = self.session.poll_event() {
                match e {
                    PlayerEvent::Config(c) => self.config = Some(c),
                    PlayerEvent::Media(_) => media = true,
                    PlayerEvent::StreamEnded => self.ended = true,
                    PlayerEvent::Closed(r) => {
                        return Err(self.error("play", RtmpErrorKind::Closed(Box::new(r))));
                    }
                    _ => {}
                }
            }
            if media {
                break;
            }
            if !took && !self.ended {
                let until = self.conn.last_data + self.silence;
                if Instant::now() >= until {
                    let e = io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no data for {:.1} s", self.silence.as_secs_f64()),
                    );
                    return Err(self.error("play", RtmpErrorKind::Io(e)));
                }
                self.conn.read(&mut self.session, "play", Some(until))?;
            }
        }
        let config = self.config.take();
        let m = self
            .session
            .last_media()
            .ok_or_else(|| self.error("play", RtmpErrorKind::Io(io::Error::other("media event without a message"))))?;
        Ok(Some(Frame {
            kind: match m.type_id {
                8 => FrameKind::Audio,
                9 => FrameKind::Video,
                _ => FrameKind::Data,
            },
            timestamp: m.timestamp.0,
            keyframe: m.is_keyframe() && !m.is_sequence_header(),
            config,
            payload: m.payload,
        }))
    }

    /// An iterator of owned frames (each payload copied once), ending when
    /// the publisher stops or after the first error.
    pub fn into_frames(self) -> Frames<'b> {
        Frames { pull: Some(self) }
    }

    /// Stops playing (deleteStream) and closes the connection.
    pub fn close(mut self) -> Result<(), RtmpError> {
        self.session.close();
        self.flush_control("close")?;
        self.conn.stream.close_notify();
        let _ = self.conn.stream.tcp().shutdown(std::net::Shutdown::Both);
        Ok(())
    }
}

/// Owned frames from [`RtmpPull::into_frames`].
pub struct Frames<'b> {
    pull: Option<RtmpPull<'b>>,
}

impl Iterator for Frames<'_> {
    type Item = Result<OwnedFrame, RtmpError>;

    fn next(&mut self) -> Option<Self::Item> {
        let pull = self.pull.as_mut()?;
        let item = match pull.next_frame() {
            Ok(Some(f)) => Some(Ok(OwnedFrame {
                kind: f.kind,
                timestamp: f.timestamp,
                keyframe: f.keyframe,
                config: f.config,
                payload: f.payload.to_vec(),
            })),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        };
        if !matches!(item, Some(Ok(_))) {
            if let Some(p) = self.pull.take() {
                let _ = p.close();
            }
        }
        item
    }
}
