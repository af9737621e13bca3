//! Camera to RTMP: the MaixPy-shaped [`Rtmp`] API and the threads behind it.
//!
//! ```no_run
//! use board::camera::Camera;
//! use board::pipeline::Rtmp;
//!
//! let mut rtmp = Rtmp::new("127.0.0.1", 1935, "live", "stream", 1_000_000)?;
//! rtmp.bind_camera(Camera::new(640, 480, 30)?)?;
//! rtmp.start()?;
//! std::thread::sleep(std::time::Duration::from_secs(10));
//! println!("{:?}", rtmp.stop()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Three threads: **capture** takes camera frames and hands them to the
//! encoder; **audio** (when an audio recorder is bound) reads the
//! microphone and encodes AAC; **network** takes encoded streams as they
//! become ready (the encoder's descriptor polls readable) and sends each
//! one with `writev` straight from the encoder's memory, releasing it only
//! when it is on the socket. Capture never waits for the network: the
//! encoder's stream queue is bounded, and when the network falls behind
//! the frames that do not fit are dropped before encoding and counted.
//!
//! The stream stays up on a bad network ([`LinkOptions`]): a failed link
//! (error, reset, close, stall, silence, a stale-publisher refusal)
//! reconnects with backoff, each new connection starting with metadata,
//! sequence headers and a freshly requested IDR, timestamps continuing;
//! a queue that grows (measured in milliseconds) drops video by priority
//! and steps the encoder's bitrate down to what the link carries, then back
//! up. [`Rtmp::stats`] reports the stream's health ([`Stats`]); a
//! [`Monitor`] turns it into alerts.

mod link;
mod stats;

pub use link::LinkOptions;
use stats::Counters;
pub use stats::{Alert, AlertRules, Drops, LinkState, Monitor, Stats};

use crate::audio::{AacEncoder, AudioIn};
use crate::camera::Camera;
use crate::oss::OssSigner;
use crate::picture::{Picture, PictureError, PictureInput, Pushed};
use crate::push::{PushTarget, RtmpPush};
use crate::sys::MpiError;
use crate::sys::Sys;
pub use crate::venc::Codec;
use crate::venc::{Venc, VencConfig, VencInput};
use crate::RtmpError;
use rtmp_core::flv::aac::AacConfig;
use rtmp_core::flv::video::{PackageError, VideoPackager};
use rtmp_core::message::StreamMetadata;
use rtmp_core::url::RtmpUrl;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Why the pipeline failed or refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum PipelineError {
    /// The URL (or host, app, stream) is not a valid RTMP URL.
    Url(rtmp_core::url::UrlError),
    /// Connecting, publishing or sending failed.
    Rtmp(RtmpError),
    /// A media SDK call failed.
    Mpi(MpiError),
    /// The AAC encoder failed.
    Aac(crate::audio::AacError),
    /// `start` without a bound camera.
    NoCamera,
    /// `start` while running, or binding while running.
    Running,
    /// `stop` while not running.
    NotRunning,
    /// A pipeline thread panicked.
    Panicked(&'static str),
    /// The OSS LiveChannel URL cannot be signed.
    Oss(crate::oss::OssSignError),
    /// A picture given to `push_frame` (or `bind_frames`' size) is not usable.
    Picture(PictureError),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::Url(e) => write!(f, "bad RTMP URL: {e}"),
            PipelineError::Rtmp(e) => write!(f, "{e}"),
            PipelineError::Mpi(e) => write!(f, "{e}"),
            PipelineError::Aac(e) => write!(f, "{e}"),
            PipelineError::NoCamera => f.write_str("no camera bound (bind_camera or bind_frames first)"),
            PipelineError::Running => f.write_str("already running"),
            PipelineError::NotRunning => f.write_str("not running"),
            PipelineError::Panicked(t) => write!(f, "the {t} thread panicked"),
            PipelineError::Oss(e) => write!(f, "{e}"),
            PipelineError::Picture(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<MpiError> for PipelineError {
    fn from(e: MpiError) -> Self {
        PipelineError::Mpi(e)
    }
}

impl From<RtmpError> for PipelineError {
    fn from(e: RtmpError) -> Self {
        PipelineError::Rtmp(e)
    }
}

struct Running {
    stop: Arc<AtomicBool>,
    /// The camera's capture thread, or none when pictures come from the program.
    capture: Option<JoinHandle<Result<Camera, (Camera, PipelineError)>>>,
    pictures: Option<PictureInput>,
    audio: Option<JoinHandle<Result<AudioIn, (AudioIn, PipelineError)>>>,
    network: JoinHandle<Result<(), PipelineError>>,
    started: Instant,
}

/// An RTMP stream from the board's camera (and microphone), shaped like
/// MaixPy's `maix.rtmp.Rtmp`.
pub struct Rtmp {
    target: PushTarget,
    bitrate: u32,
    gop: Duration,
    codec: Codec,
    camera: Option<Camera>,
    /// Pictures from the program instead of a camera: width, height, fps.
    pictures: Option<(u32, u32, u32)>,
    audio: Option<AudioIn>,
    running: Option<Running>,
    counters: Arc<Counters>,
    finished: Option<Stats>,
    link: LinkOptions,
    last_error: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for Rtmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rtmp")
            .field("target", &self.target)
            .field("bitrate", &self.bitrate)
            .field("codec", &self.codec)
            .field("running", &self.running.is_some())
            .finish()
    }
}

impl Rtmp {
    /// A stream to `rtmp://host:port/app/stream` at `bitrate` bit/s.
    pub fn new(host: &str, port: u16, app: &str, stream: &str, bitrate: u32) -> Result<Rtmp, PipelineError> {
        let host = if host.contains(':') { format!("[{host}]") } else { host.to_string() };
        Rtmp::with_url(format!("rtmp://{host}:{port}/{app}/{stream}"), bitrate)
    }

    /// A stream to `url` (stream key and query included) at 1 Mbit/s:
    /// `rtmp://` or `rtmps://` (TLS; Facebook Live, YouTube's RTMPS ingest).
    ///
    /// ```no_run
    /// use board::pipeline::{Codec, Rtmp};
    /// let mut rtmp = Rtmp::from_url("rtmps://a.rtmps.youtube.com/live2/KEY")?;
    /// rtmp.set_codec(Codec::H265)?; // Enhanced RTMP, about half the bit rate of H.264
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Rtmp, PipelineError> {
        Rtmp::with_url(url.to_string(), 1_000_000)
    }

    fn with_url(url: String, bitrate: u32) -> Result<Rtmp, PipelineError> {
        RtmpUrl::parse(&url).map_err(PipelineError::Url)?;
        Ok(Rtmp {
            target: PushTarget::new(url),
            bitrate: bitrate.max(10_000),
            gop: Duration::from_secs(1),
            codec: Codec::H264,
            camera: None,
            pictures: None,
            audio: None,
            running: None,
            counters: Arc::default(),
            finished: None,
            link: LinkOptions::default(),
            last_error: Arc::default(),
        })
    }

    /// Signs the URL as an Aliyun OSS LiveChannel's (`rtmp://BUCKET.ENDPOINT/live/CHANNEL`),
    /// afresh for every connection; the URL given is the unsigned one.
    pub fn set_oss_signer(&mut self, signer: OssSigner) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.target = PushTarget::oss(self.target.url(), signer).map_err(PipelineError::Oss)?;
        Ok(())
    }

    /// Sets the video bit rate (before `start`).
    pub fn set_bitrate(&mut self, bitrate: u32) {
        self.bitrate = bitrate.max(10_000);
    }

    /// The keyframe interval (before `start`; default 1 s). Players join and
    /// HLS segments are cut at keyframes: for an OSS LiveChannel (or
    /// `rtmp-serve --hls`) set it to the fragment duration.
    pub fn set_gop(&mut self, gop: Duration) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.gop = gop;
        Ok(())
    }

    /// The video codec (before `start`): H.264 (default), or H.265 sent as
    /// Enhanced RTMP (`hvc1`), which YouTube, Node-Media-Server 4, SRS 6 and
    /// ffmpeg 6.1+ take, at about half the bit rate for the same picture.
    pub fn set_codec(&mut self, codec: Codec) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.codec = codec;
        Ok(())
    }

    /// The video codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// How the stream stays up: reconnect backoff, dead-link timeout, drop
    /// thresholds, adaptive bitrate (before `start`).
    pub fn set_link_options(&mut self, link: LinkOptions) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.link = link;
        Ok(())
    }

    /// Reconnect tries after a failure: `None` (default) for ever, `Some(0)` never.
    pub fn set_max_retries(&mut self, max_retries: Option<u32>) -> Result<(), PipelineError> {
        let mut link = self.link;
        link.backoff.max_retries = max_retries;
        self.set_link_options(link)
    }

    /// The link options in force.
    pub fn link_options(&self) -> LinkOptions {
        self.link
    }

    /// The last link failure, as one line naming the server, the step and
    /// the reason (kept while reconnecting; the stream key never appears).
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The camera to stream.
    pub fn bind_camera(&mut self, camera: Camera) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.camera = Some(camera);
        self.pictures = None;
        Ok(())
    }

    /// Pictures the program makes instead of a camera: `width` x `height`
    /// (even) at about `fps` a second, given with [`push_frame`](Self::push_frame)
    /// once started. They go through the same encoder, drop policy and
    /// network thread as camera frames.
    pub fn bind_frames(&mut self, width: u32, height: u32, fps: u32) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(PipelineError::Picture(PictureError::Config("width and height must be even and not 0")));
        }
        if fps == 0 {
            return Err(PipelineError::Picture(PictureError::Config("fps must be at least 1")));
        }
        self.pictures = Some((width, height, fps));
        self.camera = None;
        Ok(())
    }

    /// Encodes and sends a picture of the size given to
    /// [`bind_frames`](Self::bind_frames) (NV21 or I420, copied once into
    /// the encoder's memory), stamped with its timestamp or now. Returns
    /// without waiting: when the encoder is behind, the picture is dropped
    /// and counted ([`Stats::dropped_frames`]), as camera frames are.
    pub fn push_frame(&self, picture: &Picture<'_>) -> Result<(), PipelineError> {
        let input = self.running.as_ref().and_then(|r| r.pictures.as_ref()).ok_or(PipelineError::NotRunning)?;
        // A picture refused (wrong size) is the caller's error, not a frame.
        let pushed = input.push(picture, monotonic_us()).map_err(PipelineError::Picture)?;
        Counters::add(&self.counters.captured, 1);
        if pushed == Pushed::Dropped {
            Counters::add(&self.counters.drop_encoder_full, 1);
        }
        Ok(())
    }

    /// The microphone to stream (AAC).
    pub fn bind_audio_recorder(&mut self, audio: AudioIn) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        self.audio = Some(audio);
        Ok(())
    }

    /// Connects, publishes and starts streaming. Returns once the server
    /// has accepted the stream; or, when the first try fails, with a
    /// refusal that will not heal (bad key, denied) or any failure when
    /// retries are off. Other first failures (server not up yet) return
    /// `Ok` and the pipeline keeps trying: see [`Stats::state`] and
    /// [`last_error`](Self::last_error).
    pub fn start(&mut self) -> Result<(), PipelineError> {
        if self.running.is_some() {
            return Err(PipelineError::Running);
        }
        let (camera, sys, (width, height, fps)) = match (self.camera.take(), self.pictures) {
            (Some(c), _) => {
                let (cfg, sys) = (c.config(), c.sys().clone());
                (Some(c), sys, (cfg.width, cfg.height, cfg.fps))
            }
            (None, Some(p)) => (None, Sys::get()?, p),
            (None, None) => return Err(PipelineError::NoCamera),
        };
        let venc = match Venc::create(
            &sys,
            VencConfig {
                gop: ((self.gop.as_secs_f64() * f64::from(fps)).round() as u32).max(1),
                ..VencConfig::h264(width, height, fps, self.bitrate).with_codec(self.codec)
            },
        ) {
            Ok(v) => v,
            Err(e) => {
                self.camera = camera;
                return Err(e.into());
            }
        };
        let pictures = match camera {
            Some(_) => None,
            None => Some(PictureInput::new(&sys, venc.input(), width, height)?),
        };
        let aac = match &self.audio {
            Some(a) => {
                let c = a.config();
                match AacEncoder::new(c.sample_rate, c.channels, 64_000 * u32::from(c.channels)) {
                    Ok(enc) => Some(enc),
                    Err(e) => {
                        self.camera = camera;
                        return Err(PipelineError::Aac(e));
                    }
                }
            }
            None => None,
        };
        self.counters = Arc::default();
        self.finished = None;
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let stop = Arc::new(AtomicBool::new(false));
        let epoch_us = monotonic_us();
        let metadata = StreamMetadata {
            video_size: Some((width, height)),
            framerate: Some(f64::from(fps)),
            video_kbps: Some(f64::from(self.bitrate) / 1000.0),
            video_fourcc: self.codec.fourcc(),
            audio_sample_rate: self.audio.as_ref().map(|a| a.config().sample_rate),
            audio_channels: self.audio.as_ref().map(|a| a.config().channels),
            audio_kbps: self.audio.as_ref().map(|a| 64.0 * f64::from(a.config().channels)),
        };

        let input = venc.input();
        // The network thread connects first, so that a refusal comes back here.
        let (ready_tx, ready_rx) = sync_channel::<Result<(), PipelineError>>(1);
        let (audio_tx, audio_rx) = sync_channel::<AudioMessage>(256);
        let network = {
            let net = link::Network {
                target: self.target.clone(),
                venc,
                audio_rx,
                audio_bps: metadata.audio_kbps.map_or(0, |k| (k * 1000.0) as u32 + 8_000),
                audio_header: aac.as_ref().map(AacEncoder::config),
                metadata,
                epoch_us,
                stop: stop.clone(),
                counters: self.counters.clone(),
                ready: Some(ready_tx),
                opts: self.link,
                bitrate: self.bitrate,
                last_error: self.last_error.clone(),
            };
            std::thread::Builder::new()
                .name("rtmp-network".into())
                .spawn(move || net.run())
                .map_err(|_| PipelineError::Panicked("network"))?
        };
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = network.join();
                self.camera = camera;
                return Err(e);
            }
            Err(_) => {
                let _ = network.join();
                self.camera = camera;
                return Err(PipelineError::Panicked("network"));
            }
        }
        let capture = match camera {
            Some(camera) => {
                let (flag, counters) = (stop.clone(), self.counters.clone());
                match std::thread::Builder::new()
                    .name("camera-capture".into())
                    .spawn(move || capture(camera, input, flag, counters))
                {
                    Ok(t) => Some(t),
                    Err(_) => {
                        stop.store(true, Ordering::Relaxed);
                        let _ = network.join();
                        return Err(PipelineError::Panicked("capture"));
                    }
                }
            }
            None => None,
        };
        let audio = match (self.audio.take(), aac) {
            (Some(ai), Some(enc)) => {
                let (stop, counters) = (stop.clone(), self.counters.clone());
                Some(
                    std::thread::Builder::new()
                        .name("audio-capture".into())
                        .spawn(move || audio(ai, enc, audio_tx, epoch_us, stop, counters))
                        .map_err(|_| PipelineError::Panicked("audio"))?,
                )
            }
            _ => None,
        };
        self.running = Some(Running { stop, capture, pictures, audio, network, started: Instant::now() });
        Ok(())
    }

    /// Whether the pipeline runs (it stops by itself only when it gives up
    /// reconnecting: a retry limit, or a refusal that does not heal).
    pub fn is_running(&self) -> bool {
        self.running.as_ref().is_some_and(|r| !r.network.is_finished())
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        if let Some(done) = self.finished {
            return done;
        }
        self.stats_over(self.running.as_ref().map_or(0.0, |r| r.started.elapsed().as_secs_f64()))
    }

    fn stats_over(&self, secs: f64) -> Stats {
        self.counters.snapshot(monotonic_us(), secs)
    }

    /// Stops streaming (unpublishing cleanly), gives the camera and audio
    /// recorder back for a later `start`, and returns the final counters or
    /// the first error a thread met.
    pub fn stop(&mut self) -> Result<Stats, PipelineError> {
        let running = self.running.take().ok_or(PipelineError::NotRunning)?;
        let secs = running.started.elapsed().as_secs_f64();
        running.stop.store(true, Ordering::Relaxed);
        let mut first_error = None;
        // No more pictures into the encoder: its input goes with them.
        drop(running.pictures);
        match running.capture.map(JoinHandle::join) {
            None => {}
            Some(Ok(Ok(cam))) => self.camera = Some(cam),
            Some(Ok(Err((cam, e)))) => {
                self.camera = Some(cam);
                first_error.get_or_insert(e);
            }
            Some(Err(_)) => {
                first_error.get_or_insert(PipelineError::Panicked("capture"));
            }
        }
        if let Some(a) = running.audio {
            match a.join() {
                Ok(Ok(ai)) => self.audio = Some(ai),
                Ok(Err((ai, e))) => {
                    self.audio = Some(ai);
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(PipelineError::Panicked("audio"));
                }
            }
        }
        match running.network.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(PipelineError::Panicked("network"));
            }
        }
        // Counted once every thread is done, so the last frames are in.
        let stats = Stats { queued_frames: 0, queue_ms: 0, ..self.stats_over(secs) };
        self.finished = Some(stats);
        match first_error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }
}

impl Drop for Rtmp {
    fn drop(&mut self) {
        if self.running.is_some() {
            let _ = self.stop();
        }
    }
}

fn monotonic_us() -> u64 {
    crate::picture::clock_us()
}

/// Milliseconds since `epoch_us` for an SDK timestamp in microseconds.
fn rtmp_ms(ts_us: u64, epoch_us: u64) -> u32 {
    (ts_us.saturating_sub(epoch_us) / 1000) as u32
}

fn capture(
    camera: Camera,
    input: VencInput,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Result<Camera, (Camera, PipelineError)> {
    let mut last_pts = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = capture_one(&camera, &input, &counters, &mut last_pts) {
            drop(input);
            return Err((camera, e.into()));
        }
    }
    drop(input);
    Ok(camera)
}

/// Takes one camera frame and hands it to the encoder; a frame that finds
/// the encoder's queue full is dropped and counted, never waited for.
fn capture_one(camera: &Camera, input: &VencInput, counters: &Counters, last_pts: &mut u64) -> Result<(), MpiError> {
    let period_us = 1_000_000 / u64::from(camera.config().fps.max(1));
    let frame = match camera.frame(Some(Duration::from_millis(200))) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(()),
        Err(e) if e.code == hw_sys::err::CVI_ERR_VI_NOMEM => {
            Counters::add(&counters.drop_camera, 1);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // Frames the camera itself dropped show as gaps in the timestamps.
    if *last_pts != 0 && frame.pts_us() > *last_pts + period_us * 3 / 2 {
        let lost = (frame.pts_us() - *last_pts) / period_us - 1;
        Counters::add(&counters.drop_camera, lost);
    }
    *last_pts = frame.pts_us();
    Counters::add(&counters.captured, 1);
    match input.send_frame(&frame, Duration::ZERO) {
        Ok(()) => Ok(()),
        Err(e) if e.code == hw_sys::err::CVI_ERR_VENC_BUF_FULL || e.code == hw_sys::err::CVI_ERR_VENC_BUSY => {
            Counters::add(&counters.drop_encoder_full, 1);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

struct AudioMessage {
    timestamp: u32,
    config: AacConfig,
    data: Vec<u8>,
}

fn audio(
    mut ai: AudioIn,
    mut enc: AacEncoder,
    tx: std::sync::mpsc::SyncSender<AudioMessage>,
    epoch_us: u64,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Result<AudioIn, (AudioIn, PipelineError)> {
    let rate = u64::from(ai.config().sample_rate.max(1));
    let mut first_us = None;
    let mut produced = 0u64;
    let mut failed = None;
    while !stop.load(Ordering::Relaxed) && failed.is_none() {
        let frame = match ai.read(Some(Duration::from_millis(200))) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                failed = Some(PipelineError::Mpi(e));
                break;
            }
        };
        let start = *first_us.get_or_insert(frame.timestamp_us());
        let r = enc.encode(frame.samples(), |config, raw| {
            // Each AAC frame is 1024 samples after the first one recorded.
            let ts_us = start + produced * 1024 * 1_000_000 / rate;
            produced += 1;
            let msg = AudioMessage { timestamp: rtmp_ms(ts_us, epoch_us), config, data: raw.to_vec() };
            match tx.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    Counters::add(&counters.drop_audio, 1);
                }
                Err(TrySendError::Disconnected(_)) => {}
            }
        });
        if let Err(e) = r {
            failed = Some(PipelineError::Aac(e));
        }
    }
    match failed {
        Some(e) => Err((ai, e)),
        None => Ok(ai),
    }
}

/// Why [`send_stream`] failed.
#[derive(Debug)]
pub enum SendStreamError {
    /// The encoder's output is not H.264 / H.265 the packager can read.
    Package(PackageError),
    /// The connection failed.
    Rtmp(RtmpError),
}

impl fmt::Display for SendStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendStreamError::Package(e) => write!(f, "{e}"),
            SendStreamError::Rtmp(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SendStreamError {}

/// Sends one encoded H.264 or H.265 frame at `timestamp` ms, its sequence
/// header first when new: the NAL units go to the socket with `writev` from
/// the encoder's memory, with 5 (or 8) + 4-per-NAL header bytes and the
/// chunk headers beside them. Returns the tag body's size. Release the stream after this.
pub fn send_stream(
    push: &mut RtmpPush<'_>,
    stream: crate::venc::Packs<'_>,
    packager: &mut VideoPackager,
    timestamp: u32,
) -> Result<usize, SendStreamError> {
    send_stream_with(push, stream, packager, timestamp, |_| {})
}

/// [`send_stream`], calling `on_wait` while the socket is full (see
/// [`RtmpPush::send_with`](crate::push::RtmpPush::send_with)).
pub fn send_stream_with(
    push: &mut RtmpPush<'_>,
    stream: crate::venc::Packs<'_>,
    packager: &mut VideoPackager,
    timestamp: u32,
    mut on_wait: impl FnMut(crate::push::Progress),
) -> Result<usize, SendStreamError> {
    // The SDK hands out one NAL unit per pack (SPS, PPS and slices apart,
    // each typed): only the start codes are read, and the slice data is
    // first touched by the kernel's writev. Packs without a start code are
    // scanned instead.
    let packaged = if stream.iter().all(|p| p.nal_unit().is_some()) {
        packager.package_nal_units::<16>(stream.iter().filter_map(|p| p.nal_unit()), 0)
    } else {
        packager.package_parts::<16>(stream.iter().map(|p| p.data), 0)
    };
    let (config, frame) = packaged.map_err(SendStreamError::Package)?;
    if let Some(seq) = config {
        push.send_with(9, timestamp, &[seq], &mut on_wait).map_err(SendStreamError::Rtmp)?;
    }
    let mut slots: [&[u8]; 33] = [&[]; 33];
    let parts = frame.parts(&mut slots).ok_or(SendStreamError::Package(too_many(packager)))?;
    push.send_with(9, timestamp, parts, on_wait).map_err(SendStreamError::Rtmp)?;
    Ok(frame.len())
}

/// The error for a frame with more NAL units than the 16 `send_stream` has room for.
fn too_many(packager: &VideoPackager) -> PackageError {
    match packager {
        VideoPackager::Avc(_) => PackageError::Avc(rtmp_core::flv::avc::AvcError::TooManyNalUnits(16)),
        VideoPackager::Hevc(_) => PackageError::Hevc(rtmp_core::flv::hevc::HevcError::TooManyNalUnits(16)),
    }
}
