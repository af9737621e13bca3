//! Stream health: the pipeline's counters, current values over a sliding
//! window, and a monitor with alert rules (like FMUS-VID's StreamMonitor).

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

/// Where the link is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkState {
    /// Not started.
    #[default]
    Idle,
    /// The first connection is being made.
    Connecting,
    /// Publishing.
    Live,
    /// The link failed; reconnecting with backoff.
    Reconnecting,
    /// Stopped (by `stop`, or after giving up).
    Stopped,
}

impl LinkState {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => LinkState::Connecting,
            2 => LinkState::Live,
            3 => LinkState::Reconnecting,
            4 => LinkState::Stopped,
            _ => LinkState::Idle,
        }
    }

    /// Lower-case name, as in the status line and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Idle => "idle",
            LinkState::Connecting => "connecting",
            LinkState::Live => "live",
            LinkState::Reconnecting => "reconnecting",
            LinkState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Frames dropped, by why. Every frame the pipeline does not send is in
/// exactly one of these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drops {
    /// Camera frames the encoder's full queue refused (the network fell behind).
    pub encoder_full: u64,
    /// Frames the camera itself dropped (gaps in its timestamps, or no buffer).
    pub camera: u64,
    /// Encoded frames that found no connection (reconnecting), or were
    /// left when moving to a server's new address.
    pub disconnected: u64,
    /// Non-reference frames dropped over the first congestion threshold.
    pub non_reference: u64,
    /// Video frames dropped until a keyframe (second threshold, or a new
    /// connection that must start at one).
    pub until_keyframe: u64,
    /// Encoded frames the packager could not read.
    pub unreadable: u64,
    /// Audio frames: only when the audio queue is full or there is no connection.
    pub audio: u64,
    /// Audio frames from before a connection's first video keyframe (the
    /// microphone starts sooner than the encoder): left out so that servers
    /// see the stream begin with video.
    pub audio_before_video: u64,
}

impl Drops {
    /// All drops.
    pub fn total(&self) -> u64 {
        self.encoder_full
            + self.camera
            + self.disconnected
            + self.non_reference
            + self.until_keyframe
            + self.unreadable
            + self.audio
            + self.audio_before_video
    }
}

impl fmt::Display for Drops {
    /// `encoder full N, camera N, disconnected N, non-reference N, until keyframe N, unreadable N, audio N, audio before video N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encoder full {}, camera {}, disconnected {}, non-reference {}, until keyframe {}, unreadable {}, audio {}, audio before video {}",
            self.encoder_full,
            self.camera,
            self.disconnected,
            self.non_reference,
            self.until_keyframe,
            self.unreadable,
            self.audio,
            self.audio_before_video
        )
    }
}

/// What the pipeline has done so far, and how the stream is now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Video bits per second sent, averaged since start.
    pub bitrate: f64,
    /// Video frames per second sent, averaged since start.
    pub fps: f64,
    /// Video bits per second sent over the last 2 s.
    pub bitrate_now: f64,
    /// Video frames per second sent over the last 2 s.
    pub fps_now: f64,
    /// Encoded frames waiting for the network now.
    pub queued_frames: u32,
    /// How long the last frame taken for sending had waited, plus the time
    /// the bytes unacknowledged in the socket need at the link's rate (ms).
    pub queue_ms: u32,
    /// The encoder's bitrate now (bit/s): below the configured one while
    /// adaptive bitrate has stepped it down.
    pub encoder_bitrate: u32,
    /// All frames dropped ([`Drops::total`]).
    pub dropped_frames: u64,
    /// Drops by kind.
    pub drops: Drops,
    /// Camera frames taken by the capture thread.
    pub frames_captured: u64,
    /// Video frames sent.
    pub video_frames: u64,
    /// Audio frames sent.
    pub audio_frames: u64,
    /// Bytes of video and audio payload sent.
    pub bytes_sent: u64,
    /// Connections made after the first.
    pub reconnects: u32,
    /// The link's state.
    pub state: LinkState,
    /// Seconds in the current state.
    pub state_seconds: f64,
    /// Seconds since a frame was last sent (None before the first).
    pub since_last_send: Option<f64>,
    /// The connection's smoothed round-trip time (ms), from `TCP_INFO`.
    pub rtt_ms: Option<f64>,
    /// Seconds since start.
    pub seconds: f64,
}

impl Stats {
    /// One line for a terminal: state, bitrate, fps, queue, drops, reconnects.
    pub fn status_line(&self) -> String {
        let el = self.seconds as u64;
        let mut s = format!(
            "{:02}:{:02}:{:02} {:<12} {:6.0} kbit/s {:5.1} fps  queue {:4} ms  enc {:5} kbit/s  drops {}  reconnects {}",
            el / 3600,
            el / 60 % 60,
            el % 60,
            self.state.as_str(),
            self.bitrate_now / 1000.0,
            self.fps_now,
            self.queue_ms,
            self.encoder_bitrate / 1000,
            self.dropped_frames,
            self.reconnects
        );
        if let Some(rtt) = self.rtt_ms {
            let _ = write!(s, "  rtt {rtt:.0} ms");
        }
        s
    }

    /// One JSON object (no newline), for `--stats-json`.
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.3}"));
        let d = &self.drops;
        format!(
            concat!(
                "{{\"t\":{:.3},\"state\":\"{}\",\"state_s\":{:.3},\"bitrate\":{:.0},\"fps\":{:.2},",
                "\"bitrate_avg\":{:.0},\"fps_avg\":{:.2},\"queue_ms\":{},\"queued_frames\":{},",
                "\"encoder_bitrate\":{},\"reconnects\":{},\"since_last_send_s\":{},\"rtt_ms\":{},",
                "\"captured\":{},\"video_frames\":{},\"audio_frames\":{},\"bytes_sent\":{},\"dropped\":{},",
                "\"drops\":{{\"encoder_full\":{},\"camera\":{},\"disconnected\":{},\"non_reference\":{},",
                "\"until_keyframe\":{},\"unreadable\":{},\"audio\":{},\"audio_before_video\":{}}}}}"
            ),
            self.seconds,
            self.state.as_str(),
            self.state_seconds,
            self.bitrate_now,
            self.fps_now,
            self.bitrate,
            self.fps,
            self.queue_ms,
            self.queued_frames,
            self.encoder_bitrate,
            self.reconnects,
            opt(self.since_last_send),
            opt(self.rtt_ms),
            self.frames_captured,
            self.video_frames,
            self.audio_frames,
            self.bytes_sent,
            self.dropped_frames,
            d.encoder_full,
            d.camera,
            d.disconnected,
            d.non_reference,
            d.until_keyframe,
            d.unreadable,
            d.audio,
            d.audio_before_video
        )
    }
}

/// Alert thresholds; `None` turns a rule off.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AlertRules {
    /// Alert when the frame rate over the window is below this while live.
    pub min_fps: Option<f64>,
    /// Alert when the queue is deeper than this (ms).
    pub max_queue_ms: Option<u32>,
    /// Alert when the video bitrate over the window is below this (bit/s) while live.
    pub min_bitrate: Option<f64>,
    /// Alert when not live (connecting or reconnecting) for longer than this.
    pub max_reconnecting: Option<Duration>,
}

/// An active alert.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Alert {
    /// Frames per second now.
    LowFps(f64),
    /// Queue now (ms).
    DeepQueue(u32),
    /// Video bits per second now.
    LowBitrate(f64),
    /// Seconds without a live link.
    Reconnecting(f64),
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alert::LowFps(v) => write!(f, "frame rate {v:.1} fps"),
            Alert::DeepQueue(v) => write!(f, "queue {v} ms"),
            Alert::LowBitrate(v) => write!(f, "bitrate {:.0} kbit/s", v / 1000.0),
            Alert::Reconnecting(v) => write!(f, "not live for {v:.0} s"),
        }
    }
}

/// Checks [`Stats`] against [`AlertRules`]. Rate rules hold only while
/// live and after the window has filled (2 s in the state).
#[derive(Clone, Copy, Debug, Default)]
pub struct Monitor {
    /// The rules.
    pub rules: AlertRules,
}

impl Monitor {
    /// A monitor of `rules`.
    pub fn new(rules: AlertRules) -> Self {
        Monitor { rules }
    }

    /// The alerts active for `s`.
    pub fn check(&self, s: &Stats) -> Vec<Alert> {
        let mut out = Vec::new();
        let r = &self.rules;
        let live = s.state == LinkState::Live && s.state_seconds >= 2.0;
        if let Some(min) = r.min_fps.filter(|&m| live && s.fps_now < m) {
            let _ = min;
            out.push(Alert::LowFps(s.fps_now));
        }
        if r.max_queue_ms.is_some_and(|m| s.queue_ms > m) {
            out.push(Alert::DeepQueue(s.queue_ms));
        }
        if r.min_bitrate.is_some_and(|m| live && s.bitrate_now < m) {
            out.push(Alert::LowBitrate(s.bitrate_now));
        }
        let away = matches!(s.state, LinkState::Connecting | LinkState::Reconnecting);
        if r.max_reconnecting.is_some_and(|m| away && s.state_seconds > m.as_secs_f64()) {
            out.push(Alert::Reconnecting(s.state_seconds));
        }
        out
    }
}

/// The counters the pipeline's threads update.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) video_frames: AtomicU64,
    pub(crate) video_bytes: AtomicU64,
    pub(crate) audio_frames: AtomicU64,
    pub(crate) audio_bytes: AtomicU64,
    pub(crate) captured: AtomicU64,
    pub(crate) drop_encoder_full: AtomicU64,
    pub(crate) drop_camera: AtomicU64,
    pub(crate) drop_disconnected: AtomicU64,
    pub(crate) drop_non_reference: AtomicU64,
    pub(crate) drop_until_keyframe: AtomicU64,
    pub(crate) drop_unreadable: AtomicU64,
    pub(crate) drop_audio: AtomicU64,
    pub(crate) drop_audio_before_video: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) queue_ms: AtomicU32,
    pub(crate) encoder_bitrate: AtomicU32,
    pub(crate) reconnects: AtomicU32,
    pub(crate) state: AtomicU8,
    /// Microseconds on the monotonic clock.
    pub(crate) state_since_us: AtomicU64,
    pub(crate) last_send_us: AtomicU64,
    pub(crate) rtt_us: AtomicU64,
    /// f64 bits.
    pub(crate) bitrate_now: AtomicU64,
    pub(crate) fps_now: AtomicU64,
}

impl Counters {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_state(&self, s: LinkState, now_us: u64) {
        let v = match s {
            LinkState::Idle => 0,
            LinkState::Connecting => 1,
            LinkState::Live => 2,
            LinkState::Reconnecting => 3,
            LinkState::Stopped => 4,
        };
        if self.state.swap(v, Ordering::Relaxed) != v {
            self.state_since_us.store(now_us, Ordering::Relaxed);
        }
    }

    pub(crate) fn set_f64(c: &AtomicU64, v: f64) {
        c.store(v.to_bits(), Ordering::Relaxed);
    }

    /// A snapshot at `now_us`, `secs` after start.
    pub(crate) fn snapshot(&self, now_us: u64, secs: f64) -> Stats {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let drops = Drops {
            encoder_full: l(&self.drop_encoder_full),
            camera: l(&self.drop_camera),
            disconnected: l(&self.drop_disconnected),
            non_reference: l(&self.drop_non_reference),
            until_keyframe: l(&self.drop_until_keyframe),
            unreadable: l(&self.drop_unreadable),
            audio: l(&self.drop_audio),
            audio_before_video: l(&self.drop_audio_before_video),
        };
        let video_frames = l(&self.video_frames);
        let video_bytes = l(&self.video_bytes);
        let last_send = l(&self.last_send_us);
        let rtt = l(&self.rtt_us);
        Stats {
            bitrate: if secs > 0.0 { video_bytes as f64 * 8.0 / secs } else { 0.0 },
            fps: if secs > 0.0 { video_frames as f64 / secs } else { 0.0 },
            bitrate_now: f64::from_bits(l(&self.bitrate_now)),
            fps_now: f64::from_bits(l(&self.fps_now)),
            queued_frames: l(&self.queued) as u32,
            queue_ms: self.queue_ms.load(Ordering::Relaxed),
            encoder_bitrate: self.encoder_bitrate.load(Ordering::Relaxed),
            dropped_frames: drops.total(),
            drops,
            frames_captured: l(&self.captured),
            video_frames,
            audio_frames: l(&self.audio_frames),
            bytes_sent: video_bytes + l(&self.audio_bytes),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            state: LinkState::from_u8(self.state.load(Ordering::Relaxed)),
            state_seconds: now_us.saturating_sub(l(&self.state_since_us)) as f64 / 1e6,
            since_last_send: (last_send != 0).then(|| now_us.saturating_sub(last_send) as f64 / 1e6),
            rtt_ms: (rtt != 0).then(|| rtt as f64 / 1000.0),
            seconds: secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_rules() {
        let m = Monitor::new(AlertRules {
            min_fps: Some(20.0),
            max_queue_ms: Some(500),
            min_bitrate: Some(200_000.0),
            max_reconnecting: Some(Duration::from_secs(5)),
        });
        let live =
            Stats { state: LinkState::Live, state_seconds: 10.0, fps_now: 30.0, bitrate_now: 1e6, ..Stats::default() };
        assert!(m.check(&live).is_empty());
        let bad = Stats { fps_now: 12.0, queue_ms: 800, bitrate_now: 1e5, ..live };
        assert_eq!(m.check(&bad), [Alert::LowFps(12.0), Alert::DeepQueue(800), Alert::LowBitrate(1e5)]);
        // Just reconnected: rate rules wait for the window.
        let fresh = Stats { state_seconds: 0.5, ..bad };
        assert_eq!(m.check(&fresh), [Alert::DeepQueue(800)]);
        let away = Stats { state: LinkState::Reconnecting, state_seconds: 6.0, ..Stats::default() };
        assert_eq!(m.check(&away), [Alert::Reconnecting(6.0)]);
        assert!(m.check(&Stats { state_seconds: 4.0, ..away }).is_empty());
    }

    #[test]
    fn json_and_status_line() {
        let c = Counters::default();
        c.set_state(LinkState::Live, 1_000_000);
        Counters::add(&c.drop_audio, 2);
        Counters::add(&c.drop_non_reference, 3);
        Counters::set_f64(&c.bitrate_now, 512_000.0);
        let s = c.snapshot(3_000_000, 3.0);
        assert_eq!(s.dropped_frames, 5);
        assert_eq!(s.state_seconds, 2.0);
        let j = s.to_json();
        assert!(j.starts_with("{\"t\":3.000,\"state\":\"live\""), "{j}");
        assert!(
            j.contains("\"bitrate\":512000,")
                && j.contains("\"audio\":2,\"audio_before_video\":0}}")
                && j.contains("\"rtt_ms\":null"),
            "{j}"
        );
        let line = s.status_line();
        assert!(line.contains("live") && line.contains("512 kbit/s") && line.contains("drops 5"), "{line}");
    }
}
