//! The network thread: connect, stream, and keep the stream up. A failed
//! link reconnects with backoff; congestion drops video by priority and
//! steps the encoder's bitrate down to what the link carries.

use super::stats::{Counters, LinkState};
use super::{monotonic_us, rtmp_ms, send_stream_with, AudioMessage, PipelineError, SendStreamError};
use crate::push::{Progress, PushBuffers, PushOptions, PushTarget, RtmpPush};
use crate::venc::{Venc, VencInput};
use crate::RtmpError;
use rtmp_core::flv::aac::{AacConfig, RAW_HEADER};
use rtmp_core::flv::video::VideoPackager;
use rtmp_core::live::{
    Backoff, BackoffConfig, BitrateConfig, BitrateController, DropKind, DropPolicy, Failure, FrameKind, Retry,
    ThroughputEstimator, TimestampContinuity, Verdict,
};
use rtmp_core::message::{MetadataEntry, StreamMetadata};
use rtmp_core::time::Instant as CoreInstant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the pipeline keeps its stream up. The defaults suit a camera on
/// Wi-Fi or 4G.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkOptions {
    /// Reconnect backoff: at once, then 0.5 s growing x1.5 with jitter to
    /// 10 s; `max_retries` None (default) retries for ever, `Some(0)` never;
    /// refusals that cannot heal (bad key, denied) stop after 3 tries.
    pub backoff: BackoffConfig,
    /// TCP connect and RTMP setup (handshake to publish start) timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// A link that stops moving this long is dead (see
    /// [`PushOptions::link_timeout`]). Default 10 s.
    pub link_timeout: Duration,
    /// Above this queue (ms) non-reference frames are dropped. Default 700.
    pub drop_non_reference_ms: u32,
    /// Above this queue (ms) all video is dropped until an IDR, requested at once. Default 900.
    pub drop_all_video_ms: u32,
    /// Adapt the encoder's bitrate to the link. Default on.
    pub adaptive_bitrate: bool,
    /// Adaptive bitrate never goes below this (bit/s). Default 100 000.
    pub bitrate_floor: u32,
    /// Queue (ms) above which adaptive bitrate steps down. Default 200.
    pub congested_ms: u32,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            backoff: BackoffConfig::default(),
            connect_timeout: Duration::from_secs(10),
            link_timeout: Duration::from_secs(10),
            drop_non_reference_ms: 700,
            drop_all_video_ms: 900,
            adaptive_bitrate: true,
            bitrate_floor: 100_000,
            congested_ms: 200,
        }
    }
}

/// What the network thread is given.
pub(super) struct Network {
    pub(super) target: PushTarget,
    pub(super) venc: Venc,
    pub(super) audio_rx: Receiver<AudioMessage>,
    pub(super) metadata: StreamMetadata,
    pub(super) epoch_us: u64,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) counters: Arc<Counters>,
    pub(super) ready: Option<SyncSender<Result<(), PipelineError>>>,
    pub(super) opts: LinkOptions,
    pub(super) bitrate: u32,
    /// Bits per second of audio (reserved out of the link's estimate).
    pub(super) audio_bps: u32,
    /// The AAC configuration when there is audio: its sequence header goes
    /// out with the first keyframe of each connection.
    pub(super) audio_header: Option<AacConfig>,
    pub(super) last_error: Arc<Mutex<Option<String>>>,
}

/// How one connection ended.
enum Ended {
    /// `stop`: closed cleanly.
    Stopped,
    /// The server asked us to move (Enhanced RTMP); to this URL.
    Moved(String),
    /// The link failed.
    Failed(RtmpError),
}

/// State kept across connections.
struct Live {
    packager: VideoPackager,
    audio_config: Option<AacConfig>,
    /// A video keyframe went out on this connection: audio may follow.
    /// Audio before it is dropped (counted): a server that fixes a stream's
    /// tracks at its start (HLS, recorders) would otherwise see audio only.
    video_started: bool,
    policy: DropPolicy,
    timestamps: TimestampContinuity,
    /// (µs, video bytes, video frames) every 100 ms, over 2 s.
    window: std::collections::VecDeque<(u64, u64, u64)>,
    last_tick_us: u64,
    adapt: Adapt,
}

/// The link's estimate and adaptive bitrate: fed between frames and while
/// a large frame waits for the socket.
struct Adapt {
    abr: BitrateController,
    estimator: ThroughputEstimator,
    queue_ms: u32,
    adaptive: bool,
    input: VencInput,
    last_us: u64,
}

impl Adapt {
    /// The queue (ms) when the frame at its head was stamped `pts_us`: how
    /// long it has waited, plus what is unacknowledged in the socket at the
    /// link's rate. Kept, and published in the counters.
    fn head_of_line(&mut self, c: &Counters, now_us: u64, pts_us: u64, unacked: u32) -> u32 {
        let waited = now_us.saturating_sub(pts_us) / 1000;
        let rate = self.estimator.bits_per_second().filter(|&r| r > 0);
        let in_socket = rate.map_or(0, |r| u64::from(unacked) * 8000 / r);
        self.queue_ms = (waited + in_socket).min(u64::from(u32::MAX)) as u32;
        c.queue_ms.store(self.queue_ms, Ordering::Relaxed);
        self.queue_ms
    }

    /// The link moved to `p`; `head_pts_us` is the frame being sent, if any.
    fn observe(&mut self, c: &Counters, p: Progress, head_pts_us: Option<u64>) {
        let now_us = monotonic_us();
        if now_us.saturating_sub(self.last_us) < 100_000 {
            return;
        }
        self.last_us = now_us;
        let now = core_now();
        self.estimator.sample(now, p.bytes_sent.saturating_sub(u64::from(p.unacked)));
        match head_pts_us {
            Some(pts) => {
                self.head_of_line(c, now_us, pts, p.unacked);
            }
            // No frame for a while and nothing in the socket: no queue.
            None if p.unacked == 0 && now_us.saturating_sub(c.last_send_us.load(Ordering::Relaxed)) > 500_000 => {
                self.queue_ms = 0;
                c.queue_ms.store(0, Ordering::Relaxed);
            }
            None => {}
        }
        let next = self.abr.update(now, self.queue_ms, self.estimator.bits_per_second());
        if let Some(next) = next.filter(|_| self.adaptive) {
            if self.input.set_bitrate(next).is_ok() {
                c.encoder_bitrate.store(next, Ordering::Relaxed);
            }
        }
    }
}

impl Network {
    pub(super) fn run(mut self) -> Result<(), PipelineError> {
        let mut backoff = Backoff::new(self.opts.backoff);
        let mut policy = DropPolicy::new();
        policy.non_reference_ms = self.opts.drop_non_reference_ms;
        policy.all_video_ms = self.opts.drop_all_video_ms;
        let mut bitrate_cfg = BitrateConfig::new(self.bitrate);
        bitrate_cfg.floor = self.opts.bitrate_floor.min(self.bitrate);
        bitrate_cfg.congested_ms = self.opts.congested_ms;
        bitrate_cfg.reserved = self.audio_bps;
        let mut timestamps = TimestampContinuity::new();
        // The camera's clock keeps running through an outage: keep its gaps.
        timestamps.max_forward_ms = u32::MAX / 4;
        let mut live = Live {
            packager: VideoPackager::new(self.venc.config().codec),
            audio_config: None,
            video_started: false,
            policy,
            timestamps,
            window: std::collections::VecDeque::with_capacity(24),
            last_tick_us: 0,
            adapt: Adapt {
                abr: BitrateController::new(bitrate_cfg),
                estimator: ThroughputEstimator::new(Duration::from_millis(1500)),
                queue_ms: 0,
                adaptive: self.opts.adaptive_bitrate,
                input: self.venc.input(),
                last_us: 0,
            },
        };
        self.counters.encoder_bitrate.store(self.bitrate, Ordering::Relaxed);
        self.counters.set_state(LinkState::Connecting, monotonic_us());
        let mut seed = monotonic_us() | 1;
        let mut connected_once = false;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            match self.connection(&mut live, &mut backoff, &mut connected_once) {
                Ended::Stopped => break,
                Ended::Moved(tc_url) => {
                    // The server gives a tcUrl (scheme, host, app); the
                    // stream name and its query stay ours.
                    if let Some(moved) = moved_url(self.target.url(), &tc_url) {
                        self.target.set_url(moved);
                    }
                    self.counters.set_state(LinkState::Reconnecting, monotonic_us());
                }
                Ended::Failed(e) => {
                    *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    let failure = e.refusal().map_or(Failure::Transient, |(code, _)| Failure::from_status_code(code));
                    // xorshift: jitter needs no better randomness.
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let retry = backoff.on_failure(core_now(), failure, seed as u32);
                    let give_up = retry == Retry::GiveUp;
                    if let Some(ready) = self.ready.take() {
                        // The first connection failed: `start` reports a refusal
                        // that will not heal, or no retries; otherwise it returns
                        // and the pipeline keeps trying (a camera may boot before
                        // its network).
                        if give_up || failure == Failure::Permanent {
                            let _ = ready.send(Err(PipelineError::Rtmp(e)));
                            self.counters.set_state(LinkState::Stopped, monotonic_us());
                            return Ok(());
                        }
                        let _ = ready.send(Ok(()));
                    }
                    let Retry::At(at) = retry else {
                        self.counters.set_state(LinkState::Stopped, monotonic_us());
                        return Err(PipelineError::Rtmp(e));
                    };
                    let state = if connected_once { LinkState::Reconnecting } else { LinkState::Connecting };
                    self.counters.set_state(state, monotonic_us());
                    self.wait_disconnected(at, &mut live);
                }
            }
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
        self.counters.set_state(LinkState::Stopped, monotonic_us());
        Ok(())
    }

    /// Until `until` (or stop): the camera keeps running; encoded frames
    /// and audio that cannot be sent are dropped and counted.
    fn wait_disconnected(&mut self, until: CoreInstant, live: &mut Live) {
        while core_now() < until && !self.stop.load(Ordering::Relaxed) {
            match self.venc.stream(Some(Duration::from_millis(20))) {
                Ok(Some(s)) => {
                    drop(s);
                    Counters::add(&self.counters.drop_disconnected, 1);
                }
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
            while self.audio_rx.try_recv().is_ok() {
                Counters::add(&self.counters.drop_audio, 1);
            }
            self.counters.queued.store(u64::from(self.venc.queued().unwrap_or(0)), Ordering::Relaxed);
            live.tick(&self.counters, None, true);
        }
    }

    fn connection(&mut self, live: &mut Live, backoff: &mut Backoff, connected_once: &mut bool) -> Ended {
        let mut bufs = PushBuffers::new();
        let opts = PushOptions {
            timeout: self.opts.connect_timeout,
            link_timeout: self.opts.link_timeout,
            // A small send buffer and few unsent bytes in it: when the
            // network is slow, frames wait (and are dropped) in the
            // encoder's queue, not seconds deep in the kernel.
            send_buffer: Some(128 * 1024),
            notsent_lowat: Some(16 * 1024),
            reconnect_requests: true,
            four_cc_list: self.venc.config().codec.four_cc_list(),
            ..PushOptions::default()
        };
        // Signed now (OSS), so that a reconnect offers a fresh expiry; the
        // target was checked when it was set, so signing cannot fail here.
        let url = match self.target.connect_url() {
            Ok(u) => u.into_owned(),
            Err(_) => self.target.url().to_string(),
        };
        let mut push = match RtmpPush::connect(&url, &mut bufs, opts) {
            Ok(p) => p,
            Err(e) => return Ended::Failed(e),
        };
        let mut slots: [MetadataEntry<'static>; 11] = [MetadataEntry::Number("", 0.0); 11];
        if let Err(e) = push.send_metadata(self.metadata.entries(&mut slots)) {
            return Ended::Failed(e);
        }
        // A new connection: sequence headers again, video from a fresh IDR
        // asked of the encoder now (not the next scheduled one).
        live.packager.resend_config();
        live.audio_config = None;
        live.video_started = false;
        live.policy.restart_at_keyframe();
        live.adapt.estimator.reset();
        let _ = self.venc.request_idr();
        backoff.on_connected(core_now());
        if *connected_once {
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        *connected_once = true;
        self.counters.set_state(LinkState::Live, monotonic_us());
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Ok(()));
        }
        let ended = self.stream(&mut push, live);
        if matches!(ended, Ended::Stopped | Ended::Moved(_)) {
            let _ = push.close();
        }
        ended
    }

    fn stream(&mut self, push: &mut RtmpPush<'_>, live: &mut Live) -> Ended {
        let mut moving: Option<String> = None;
        while !self.stop.load(Ordering::Relaxed) {
            if let Some(to) = push.take_reconnect_request() {
                moving = Some(to);
            }
            if let Err(e) = self.video(push, live, &mut moving) {
                return e;
            }
            if let Err(e) = self.audio(push, live) {
                return Ended::Failed(e);
            }
            self.counters.queued.store(u64::from(self.venc.queued().unwrap_or(0)), Ordering::Relaxed);
            live.tick(&self.counters, Some(push), false);
        }
        Ended::Stopped
    }

    /// Sends (or drops) the next encoded frame, if one is ready within 10 ms;
    /// otherwise serves the connection.
    fn video(&mut self, push: &mut RtmpPush<'_>, live: &mut Live, moving: &mut Option<String>) -> Result<(), Ended> {
        let stream = match self.venc.stream(Some(Duration::from_millis(10))) {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => return push.service().map_err(Ended::Failed),
        };
        let kind = if stream.is_keyframe() {
            FrameKind::Keyframe
        } else if stream.is_reference() {
            FrameKind::Reference
        } else {
            FrameKind::NonReference
        };
        if kind == FrameKind::Keyframe {
            if let Some(to) = moving.take() {
                // Enhanced RTMP: the GOP is complete; this keyframe goes to
                // the new address (asked again there).
                drop(stream);
                Counters::add(&self.counters.drop_disconnected, 1);
                return Err(Ended::Moved(to));
            }
        }
        let pts = stream.pts_us();
        let queue_ms = live.adapt.head_of_line(&self.counters, monotonic_us(), pts, push.unacked());
        match live.policy.decide(queue_ms, kind) {
            Verdict::Drop { kind, request_keyframe } => {
                drop(stream);
                let c = match kind {
                    DropKind::NonReference => &self.counters.drop_non_reference,
                    DropKind::UntilKeyframe => &self.counters.drop_until_keyframe,
                };
                Counters::add(c, 1);
                if request_keyframe {
                    let _ = self.venc.request_idr();
                }
                return push.service().map_err(Ended::Failed);
            }
            Verdict::Send => {}
        }
        let ts = live.timestamps.map(rtmp_ms(pts, self.epoch_us));
        if let (FrameKind::Keyframe, None, Some(c)) = (kind, live.audio_config, self.audio_header) {
            // The AAC sequence header with the first keyframe, before any
            // audio frame: a server that fixes its streams at the first
            // keyframe (HLS segmenters, recorders) then knows of the audio.
            if let Err(e) = push.send(8, ts, &[&c.sequence_header()]) {
                drop(stream);
                Counters::add(&self.counters.drop_disconnected, 1);
                return Err(Ended::Failed(e));
            }
            live.audio_config = Some(c);
        }
        let counters = &*self.counters;
        let Live { packager, adapt, .. } = live;
        let result = send_stream_with(push, stream.as_packs(), packager, ts, |p| adapt.observe(counters, p, Some(pts)));
        // ReleaseStream, now that the frame is on the socket.
        drop(stream);
        match result {
            Ok(bytes) => {
                live.video_started |= kind == FrameKind::Keyframe;
                Counters::add(&self.counters.video_frames, 1);
                Counters::add(&self.counters.video_bytes, bytes as u64);
                self.counters.last_send_us.store(monotonic_us(), Ordering::Relaxed);
                Ok(())
            }
            Err(SendStreamError::Package(_)) => {
                live.policy.lost(kind);
                Counters::add(&self.counters.drop_unreadable, 1);
                Ok(())
            }
            Err(SendStreamError::Rtmp(e)) => {
                // The frame died with the link; the next connection starts at an IDR.
                Counters::add(&self.counters.drop_disconnected, 1);
                Err(Ended::Failed(e))
            }
        }
    }

    /// Sends every audio frame waiting: audio is never dropped for congestion.
    fn audio(&mut self, push: &mut RtmpPush<'_>, live: &mut Live) -> Result<(), RtmpError> {
        let counters = &*self.counters;
        while let Ok(a) = self.audio_rx.try_recv() {
            if !live.video_started {
                Counters::add(&self.counters.drop_audio_before_video, 1);
                continue;
            }
            let ts = live.timestamps.map(a.timestamp);
            let Live { audio_config, adapt, .. } = &mut *live;
            let mut on_wait = |p| adapt.observe(counters, p, None);
            let sent = (|| {
                if *audio_config != Some(a.config) {
                    push.send_with(8, ts, &[&a.config.sequence_header()], &mut on_wait)?;
                    *audio_config = Some(a.config);
                }
                push.send_with(8, ts, &[&RAW_HEADER, &a.data], &mut on_wait)
            })();
            if let Err(e) = sent {
                Counters::add(&self.counters.drop_audio, 1);
                return Err(e);
            }
            Counters::add(&self.counters.audio_frames, 1);
            Counters::add(&self.counters.audio_bytes, a.data.len() as u64 + 2);
            self.counters.last_send_us.store(monotonic_us(), Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Live {
    /// Every 100 ms: the window's bitrate and fps, the link's estimate and
    /// RTT, and adaptive bitrate.
    fn tick(&mut self, c: &Counters, push: Option<&mut RtmpPush<'_>>, disconnected: bool) {
        let now_us = monotonic_us();
        if now_us.saturating_sub(self.last_tick_us) < 100_000 {
            return;
        }
        self.last_tick_us = now_us;
        let bytes = c.video_bytes.load(Ordering::Relaxed);
        let frames = c.video_frames.load(Ordering::Relaxed);
        self.window.push_back((now_us, bytes, frames));
        while self.window.front().is_some_and(|&(t, _, _)| now_us - t > 2_000_000) {
            self.window.pop_front();
        }
        if let (Some(&(t0, b0, f0)), Some(&(t1, b1, f1))) = (self.window.front(), self.window.back()) {
            let secs = (t1 - t0) as f64 / 1e6;
            if secs > 0.5 {
                Counters::set_f64(&c.bitrate_now, (b1 - b0) as f64 * 8.0 / secs);
                Counters::set_f64(&c.fps_now, (f1 - f0) as f64 / secs);
            }
        }
        if disconnected {
            c.queue_ms.store(0, Ordering::Relaxed);
            return;
        }
        let Some(push) = push else { return };
        let info = push.link_info();
        c.rtt_us.store(info.rtt.map_or(0, |d| d.as_micros() as u64), Ordering::Relaxed);
        let progress = Progress { bytes_sent: push.stats().bytes_sent, unacked: info.unacked };
        self.adapt.observe(c, progress, None);
    }
}

/// `url` moved to `tc_url`: the new address with our stream name and
/// query, or `None` to stay (an empty or unusable tcUrl).
fn moved_url(url: &str, tc_url: &str) -> Option<String> {
    let stream = rtmp_core::url::RtmpUrl::parse(url).ok()?.stream().to_string();
    let moved = format!("{}/{stream}", tc_url.trim_end_matches('/'));
    let valid = rtmp_core::url::RtmpUrl::parse(&moved).is_ok();
    valid.then_some(moved)
}

fn core_now() -> CoreInstant {
    CoreInstant::from_micros(monotonic_us())
}

#[cfg(test)]
mod tests {
    #[test]
    fn moved_url_keeps_our_stream_and_key() {
        let url = "rtmp://a.example/live/cam?key=s3cret";
        assert_eq!(
            super::moved_url(url, "rtmp://b.example:1936/live2").as_deref(),
            Some("rtmp://b.example:1936/live2/cam?key=s3cret")
        );
        assert_eq!(
            super::moved_url(url, "rtmp://b.example/live/").as_deref(),
            Some("rtmp://b.example/live/cam?key=s3cret")
        );
        assert_eq!(super::moved_url(url, ""), None);
        assert_eq!(super::moved_url(url, "not a url"), None);
    }
}
