//! Pictures and sound out of a live stream: [`RtmpCapture`] plays an RTMP
//! URL on a thread of its own, decodes the video with the media SDK's
//! decoder (VDEC; H.264 on the host SDK, H.264 and H.265 on the board) and
//! AAC with fdk-aac, and hands out decoded pictures where the decoder left
//! them ([`DecodedFrame`], released when dropped) and PCM audio.
//!
//! Memory is bounded whatever the consumer does: pictures wait in the
//! decoder's own queue (`CaptureOptions::pictures` of them) and audio in a
//! queue of `CaptureOptions::audio_frames`; when either is full the oldest
//! is dropped and counted ([`CaptureStats`]), so a slow consumer sees the
//! latest pictures, never a growing delay.

use crate::net::RtmpError;
use crate::pull::{FrameKind, PullBuffers, PullOptions, RtmpPull};
use crate::sys::{MpiError, Sys};
use crate::vdec::{Codec, DecodedFrame, Fed, Vdec};
use rtmp_core::flv::hevc::HevcDecoderConfig;
use rtmp_core::flv::media::{AudioCodec, AudioTag, AvcDecoderConfig, VideoCodec, VideoPacket, VideoTag};
use rtmp_core::flv::video::LengthPrefixed;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Options for [`RtmpCapture::connect`].
#[derive(Clone, Copy, Debug)]
pub struct CaptureOptions {
    /// The connection's options.
    pub pull: PullOptions,
    /// Decoded pictures kept for the consumer (the decoder's queue).
    pub pictures: u32,
    /// Decoded audio frames kept for the consumer (1024 samples each for AAC).
    pub audio_frames: usize,
    /// The largest picture decoded (the decoder is made for it).
    pub max_size: (u32, u32),
    /// Decode the audio (otherwise it is left out, not counted as dropped).
    pub audio: bool,
    /// When the consumer is behind, wait for it instead of dropping the
    /// oldest (the connection then backs up, and a server may drop for us):
    /// for writing files, where nothing should be lost. Default off (live
    /// viewing: the latest pictures).
    pub lossless: bool,
}

impl Default for CaptureOptions {
    /// 4 pictures, 64 audio frames (about 1.4 s at 48 kHz), up to 1920x1088.
    fn default() -> Self {
        CaptureOptions {
            pull: PullOptions::default(),
            pictures: 4,
            audio_frames: 64,
            max_size: (1920, 1088),
            audio: true,
            lossless: false,
        }
    }
}

/// Why a capture stopped or could not start.
#[derive(Debug)]
pub enum CaptureError {
    /// Connecting or playing failed.
    Rtmp(RtmpError),
    /// The decoder failed (or does not take the codec: the host SDK decodes
    /// H.264 only).
    Mpi(MpiError),
    /// The stream's video is not H.264 or H.265.
    Unsupported(String),
    /// The publisher stopped and everything decoded has been taken.
    Ended,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Rtmp(e) => write!(f, "{e}"),
            CaptureError::Mpi(e) => write!(f, "decoder: {e}"),
            CaptureError::Unsupported(what) => f.write_str(what),
            CaptureError::Ended => f.write_str("the stream ended"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// Decoded audio: interleaved 16-bit samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioFrame {
    /// The publisher's timestamp (ms).
    pub timestamp: u32,
    /// Samples a second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u8,
    /// `channels` samples per instant, interleaved.
    pub samples: Vec<i16>,
}

/// What a capture has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Video access units given to the decoder.
    pub video_in: u64,
    /// Pictures dropped, oldest first, because the consumer was behind.
    pub pictures_dropped: u64,
    /// Video frames skipped: before the first keyframe, or refused by the decoder.
    pub video_skipped: u64,
    /// Audio frames decoded.
    pub audio_decoded: u64,
    /// Audio frames dropped, oldest first, because the consumer was behind.
    pub audio_dropped: u64,
    /// Audio frames that could not be decoded (or of a codec other than AAC).
    pub audio_skipped: u64,
}

#[derive(Default)]
struct Counters {
    video_in: AtomicU64,
    pictures_dropped: AtomicU64,
    video_skipped: AtomicU64,
    audio_decoded: AtomicU64,
    audio_dropped: AtomicU64,
    audio_skipped: AtomicU64,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

struct Shared {
    counters: Counters,
    audio: Mutex<VecDeque<AudioFrame>>,
    audio_ready: Condvar,
    /// The thread is done: the stream ended (`None`) or failed.
    done: Mutex<Option<Option<String>>>,
    stop: AtomicBool,
}

/// A live stream, decoded. See the module documentation.
pub struct RtmpCapture {
    shared: Arc<Shared>,
    vdec: Option<Arc<Vdec>>,
    size: Option<(u32, u32)>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for RtmpCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtmpCapture").field("size", &self.size).field("stats", &self.stats()).finish()
    }
}

/// What the thread reports once it knows the stream.
struct Ready {
    vdec: Option<Arc<Vdec>>,
    size: Option<(u32, u32)>,
}

impl RtmpCapture {
    /// Plays `url` and starts decoding; returns once the stream's video
    /// configuration has arrived and the decoder is made (or, for a stream
    /// without video, once its audio configuration has; or after 5 s of
    /// stream without either).
    pub fn connect(url: &str, opts: CaptureOptions) -> Result<RtmpCapture, CaptureError> {
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            audio: Mutex::new(VecDeque::with_capacity(opts.audio_frames)),
            audio_ready: Condvar::new(),
            done: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::sync_channel(1);
        let (url, thread_shared) = (url.to_string(), shared.clone());
        let thread = std::thread::Builder::new()
            .name("rtmp-capture".into())
            .spawn(move || run(&url, opts, &thread_shared, tx))
            .map_err(|e| CaptureError::Unsupported(format!("cannot start the capture thread: {e}")))?;
        match rx.recv() {
            Ok(Ok(ready)) => Ok(RtmpCapture { shared, vdec: ready.vdec, size: ready.size, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(CaptureError::Unsupported("the capture thread stopped".into()))
            }
        }
    }

    /// The video's size from its sequence header (`None` without video).
    pub fn size(&self) -> Option<(u32, u32)> {
        self.size
    }

    /// The next decoded picture, waiting up to `timeout`: `Ok(None)` when
    /// none came in time, [`CaptureError::Ended`] once the stream has ended
    /// and every picture has been taken, the error when it failed.
    pub fn picture(&self, timeout: Duration) -> Result<Option<DecodedFrame<'_>>, CaptureError> {
        let Some(vdec) = &self.vdec else {
            std::thread::sleep(timeout);
            return self.finished().map(|()| None);
        };
        if let Some(f) = vdec.frame(Some(timeout)).map_err(CaptureError::Mpi)? {
            return Ok(Some(f));
        }
        self.finished()?;
        Ok(None)
    }

    /// The next decoded audio frame, as [`picture`](Self::picture).
    pub fn audio(&self, timeout: Duration) -> Result<Option<AudioFrame>, CaptureError> {
        let deadline = Instant::now() + timeout;
        let mut q = self.shared.audio.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(a) = q.pop_front() {
                self.shared.audio_ready.notify_all();
                return Ok(Some(a));
            }
            let now = Instant::now();
            if now >= deadline || self.shared.done.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                drop(q);
                self.finished()?;
                return Ok(None);
            }
            q = self.shared.audio_ready.wait_timeout(q, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// `Ok` while running, or until what the ended stream left is taken.
    fn finished(&self) -> Result<(), CaptureError> {
        let done = self.shared.done.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match done {
            None => Ok(()),
            Some(Some(e)) => Err(CaptureError::Unsupported(e)),
            Some(None) => {
                let audio_left = !self.shared.audio.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
                if audio_left {
                    return Ok(());
                }
                // No picture is left either: `picture` asks only after
                // finding none within its timeout.
                Err(CaptureError::Ended)
            }
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> CaptureStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CaptureStats {
            video_in: get(&c.video_in),
            pictures_dropped: get(&c.pictures_dropped),
            video_skipped: get(&c.video_skipped),
            audio_decoded: get(&c.audio_decoded),
            audio_dropped: get(&c.audio_dropped),
            audio_skipped: get(&c.audio_skipped),
        }
    }
}

impl Drop for RtmpCapture {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // The thread may be waiting for a picture slot: take them.
            while !t.is_finished() {
                if let Some(v) = &self.vdec {
                    while let Ok(Some(_)) = v.frame(Some(Duration::ZERO)) {}
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}

/// The capture thread: connect, wait for the configuration, then decode.
fn run(url: &str, opts: CaptureOptions, shared: &Shared, ready: mpsc::SyncSender<Result<Ready, CaptureError>>) {
    let mut ready = Some(ready);
    let result = decode_loop(url, opts, shared, &mut ready);
    let message = match result {
        Ok(()) => None,
        Err(e) => {
            let m = e.to_string();
            if let Some(tx) = ready.take() {
                let _ = tx.send(Err(e));
            }
            Some(m)
        }
    };
    *shared.done.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
    shared.audio_ready.notify_all();
}

/// The state of the video side.
struct Video {
    vdec: Arc<Vdec>,
    /// Parameter sets with start codes, put before every keyframe.
    params: Vec<u8>,
    nal_length: usize,
    keyframe_seen: bool,
    annexb: Vec<u8>,
}

fn decode_loop(
    url: &str,
    opts: CaptureOptions,
    shared: &Shared,
    ready: &mut Option<mpsc::SyncSender<Result<Ready, CaptureError>>>,
) -> Result<(), CaptureError> {
    let mut bufs = PullBuffers::new();
    let mut pull = RtmpPull::connect(url, &mut bufs, opts.pull).map_err(CaptureError::Rtmp)?;
    let sys = Sys::get().map_err(CaptureError::Mpi)?;
    let mut video: Option<Video> = None;
    let mut audio: Option<(fdk_aac::dec::Decoder, Vec<i16>)> = None;
    let started = Instant::now();
    let mut size = None;
    let c = &shared.counters;
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(frame) = pull.next_frame().map_err(CaptureError::Rtmp)? else {
            if let Some(v) = &video {
                v.vdec.end_of_stream().map_err(CaptureError::Mpi)?;
            }
            // A stream that ended before it said what it was.
            if let Some(tx) = ready.take() {
                let _ = tx.send(Ok(Ready { vdec: video.as_ref().map(|v| v.vdec.clone()), size }));
            }
            return Ok(());
        };
        match frame.kind {
            FrameKind::Video => {
                let tag =
                    VideoTag::parse(frame.payload).map_err(|e| CaptureError::Unsupported(format!("video: {e:?}")))?;
                let codec = match tag.codec {
                    VideoCodec::Avc => Codec::H264,
                    VideoCodec::Hevc => Codec::H265,
                    other => {
                        return Err(CaptureError::Unsupported(format!("video codec {other:?}: not H.264 or H.265")))
                    }
                };
                match tag.packet {
                    VideoPacket::SequenceHeader => {
                        let (params, nal_length, dims) = parameter_sets(codec, tag.data)?;
                        match &mut video {
                            Some(v) if v.vdec.codec() == codec => {
                                v.params = params;
                                v.nal_length = nal_length;
                            }
                            Some(v) => {
                                // The consumer holds the first decoder.
                                return Err(CaptureError::Unsupported(format!(
                                    "the video codec changed mid-stream ({:?} to {codec:?})",
                                    v.vdec.codec()
                                )));
                            }
                            None => {
                                let (w, h) = opts.max_size;
                                let vdec = Vdec::create(&sys, codec, w, h, opts.pictures).map_err(CaptureError::Mpi)?;
                                video = Some(Video {
                                    vdec: Arc::new(vdec),
                                    params,
                                    nal_length,
                                    keyframe_seen: false,
                                    annexb: Vec::new(),
                                });
                            }
                        }
                        size = dims.or(size);
                        if let (Some(tx), Some(v)) = (ready.take(), &video) {
                            let _ = tx.send(Ok(Ready { vdec: Some(v.vdec.clone()), size }));
                        }
                    }
                    VideoPacket::Frames => {
                        let Some(v) = &mut video else {
                            add(&c.video_skipped, 1);
                            continue;
                        };
                        let key = tag.is_keyframe();
                        if !v.keyframe_seen && !key {
                            add(&c.video_skipped, 1);
                            continue;
                        }
                        v.keyframe_seen = true;
                        v.annexb.clear();
                        if key {
                            v.annexb.extend_from_slice(&v.params);
                        }
                        if !to_annexb(tag.data, v.nal_length, &mut v.annexb) {
                            add(&c.video_skipped, 1);
                            continue;
                        }
                        let pts_us =
                            (u64::from(frame.timestamp) as i64 + i64::from(tag.composition_time)).max(0) as u64 * 1000;
                        add(&c.video_in, 1);
                        feed(v, pts_us, shared, opts.lossless)?;
                    }
                    _ => {}
                }
            }
            FrameKind::Audio if opts.audio => {
                let Ok(tag) = AudioTag::parse(frame.payload) else {
                    add(&c.audio_skipped, 1);
                    continue;
                };
                if tag.codec != AudioCodec::Aac {
                    add(&c.audio_skipped, 1);
                    continue;
                }
                if tag.sequence_header {
                    let mut dec = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
                    if dec.config_raw(tag.data).is_err() {
                        return Err(CaptureError::Unsupported("AAC: an AudioSpecificConfig fdk-aac refuses".into()));
                    }
                    audio = Some((dec, vec![0i16; 8 * 2048]));
                    if video.is_none() && ready.is_some() && started.elapsed() > Duration::from_secs(5) {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(Ok(Ready { vdec: None, size: None }));
                        }
                    }
                    continue;
                }
                let Some((dec, pcm)) = &mut audio else {
                    add(&c.audio_skipped, 1);
                    continue;
                };
                match decode_aac(dec, pcm, tag.data) {
                    Some(n) => {
                        let info = dec.stream_info();
                        let a = AudioFrame {
                            timestamp: frame.timestamp,
                            sample_rate: info.sampleRate.max(0) as u32,
                            channels: info.numChannels.clamp(0, 255) as u8,
                            samples: pcm[..n].to_vec(),
                        };
                        add(&c.audio_decoded, 1);
                        let mut q = shared.audio.lock().unwrap_or_else(|p| p.into_inner());
                        while opts.lossless
                            && q.len() >= opts.audio_frames.max(1)
                            && !shared.stop.load(Ordering::Relaxed)
                        {
                            q = shared
                                .audio_ready
                                .wait_timeout(q, Duration::from_millis(10))
                                .unwrap_or_else(|p| p.into_inner())
                                .0;
                        }
                        if q.len() >= opts.audio_frames.max(1) {
                            q.pop_front();
                            add(&c.audio_dropped, 1);
                        }
                        q.push_back(a);
                        shared.audio_ready.notify_all();
                    }
                    None => add(&c.audio_skipped, 1),
                }
            }
            _ => {}
        }
        // Audio only: ready once the stream has gone on without video.
        if video.is_none() && audio.is_some() && started.elapsed() > Duration::from_secs(5) {
            if let Some(tx) = ready.take() {
                let _ = tx.send(Ok(Ready { vdec: None, size: None }));
            }
        }
    }
    Ok(())
}

/// Gives an access unit to the decoder; when its queue is full, the oldest
/// picture is dropped (counted) to make room, or (`lossless`) the consumer
/// is waited for.
fn feed(v: &mut Video, pts_us: u64, shared: &Shared, lossless: bool) -> Result<(), CaptureError> {
    loop {
        match v.vdec.feed(&v.annexb, pts_us) {
            Ok(Fed::Taken) => return Ok(()),
            Ok(Fed::Full) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                if lossless {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                }
                if v.vdec.frame(Some(Duration::ZERO)).map_err(CaptureError::Mpi)?.is_some() {
                    add(&shared.counters.pictures_dropped, 1);
                }
            }
            // A unit the decoder cannot decode: skipped, counted; the
            // stream goes on.
            Err(e) if e.code == hw_sys::err::CVI_ERR_VDEC_ILLEGAL_PARAM => {
                add(&shared.counters.video_skipped, 1);
                return Ok(());
            }
            Err(e) => return Err(CaptureError::Mpi(e)),
        }
    }
}

/// One raw AAC frame decoded into `pcm`: how many samples, or `None`.
fn decode_aac(dec: &mut fdk_aac::dec::Decoder, pcm: &mut [i16], raw: &[u8]) -> Option<usize> {
    if dec.fill(raw).ok()? != raw.len() {
        return None;
    }
    dec.decode_frame(pcm).ok()?;
    let n = dec.decoded_frame_size();
    (n <= pcm.len()).then_some(n)
}

/// The parameter sets of a sequence header as Annex-B, the NAL length
/// size, and the picture size when the SPS says it.
#[allow(clippy::type_complexity)]
fn parameter_sets(codec: Codec, record: &[u8]) -> Result<(Vec<u8>, usize, Option<(u32, u32)>), CaptureError> {
    let mut out = Vec::new();
    let mut put = |nal: &[u8]| {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    };
    match codec {
        Codec::H264 => {
            let c = AvcDecoderConfig::parse(record)
                .map_err(|e| CaptureError::Unsupported(format!("AVC sequence header: {e:?}")))?;
            put(c.sps);
            put(c.pps);
            let size = rtmp_core::flv::avc::parse_sps(c.sps).ok().map(|i| (i.width, i.height));
            Ok((out, usize::from(c.nal_length_size), size))
        }
        Codec::H265 => {
            let c = HevcDecoderConfig::parse(record)
                .map_err(|e| CaptureError::Unsupported(format!("HEVC sequence header: {e:?}")))?;
            if let Some(vps) = c.vps {
                put(vps);
            }
            put(c.sps);
            if let Some(pps) = c.pps {
                put(pps);
            }
            let size = rtmp_core::flv::hevc::parse_sps(c.sps).ok().map(|i| (i.width, i.height));
            Ok((out, usize::from(c.nal_length_size), size))
        }
    }
}

/// Length-prefixed NAL units to Annex-B, appended to `out`; `false` when
/// a length runs past the data (or its size is not 1 to 4).
fn to_annexb(data: &[u8], nal_length: usize, out: &mut Vec<u8>) -> bool {
    let Ok(size) = u8::try_from(nal_length) else { return false };
    for nal in LengthPrefixed::new(data, size) {
        let Ok(nal) = nal else { return false };
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_units_become_annexb_and_bad_lengths_are_refused() {
        let mut out = Vec::new();
        assert!(to_annexb(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], 4, &mut out));
        assert_eq!(out, [0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41]);
        out.clear();
        assert!(to_annexb(&[0, 2, 0x65, 1], 2, &mut out));
        assert_eq!(out, [0, 0, 0, 1, 0x65, 1]);
        assert!(!to_annexb(&[0, 0, 0, 9, 0x65], 4, &mut Vec::new()), "past the end");
        assert!(!to_annexb(&[0, 0], 4, &mut Vec::new()), "a cut length");
        assert!(!to_annexb(&[1], 0, &mut Vec::new()));
    }
}
