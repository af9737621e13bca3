//! Which frames to drop when the link is slower than the encoder.

/// What a frame is to the drop policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// A sequence header, metadata: never dropped.
    Config,
    /// An audio frame: never dropped (a gap in audio is heard; in video, seen
    /// for a moment).
    Audio,
    /// A keyframe (H.264 IDR, H.265 IRAP): ends dropping.
    Keyframe,
    /// A frame other frames refer to (`nal_ref_idc != 0`).
    Reference,
    /// A frame nothing refers to (`nal_ref_idc == 0`, e.g. a non-reference B-frame).
    NonReference,
}

/// Why a frame was dropped; counted in [`DropCounts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropKind {
    /// A non-reference frame over the first threshold.
    NonReference,
    /// A video frame while waiting for a keyframe (over the second
    /// threshold, or after an earlier drop broke the reference chain).
    UntilKeyframe,
}

/// The verdict on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// Drop it; when `request_keyframe` is set, ask the encoder for a
    /// keyframe now (dropping just started, and the wait for the scheduled
    /// one could be a whole GOP).
    Drop {
        /// What kind of drop.
        kind: DropKind,
        /// Ask the encoder for an IDR now.
        request_keyframe: bool,
    },
}

/// Drops so far, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// Non-reference frames dropped over the first threshold.
    pub non_reference: u64,
    /// Video frames dropped while waiting for a keyframe.
    pub until_keyframe: u64,
    /// Keyframe requests made.
    pub keyframe_requests: u64,
}

/// Drop-by-priority on a send queue measured in milliseconds of media (how
/// long the frame at the head of the queue has waited), not in frames:
/// above `non_reference_ms` non-reference frames go; above `all_video_ms`
/// every video frame goes until the next keyframe, which is requested at
/// once. Audio and configuration are never dropped. (OBS drops at similar
/// thresholds but waits for the scheduled keyframe.)
///
/// ```
/// use rtmp_core::live::{DropKind, DropPolicy, FrameKind, Verdict};
///
/// let mut p = DropPolicy::new();
/// assert_eq!(p.decide(100, FrameKind::Reference), Verdict::Send);
/// assert_eq!(
///     p.decide(950, FrameKind::Reference),
///     Verdict::Drop { kind: DropKind::UntilKeyframe, request_keyframe: true }
/// );
/// assert_eq!(p.decide(200, FrameKind::Audio), Verdict::Send);
/// assert_eq!(
///     p.decide(200, FrameKind::Reference),
///     Verdict::Drop { kind: DropKind::UntilKeyframe, request_keyframe: false }
/// );
/// assert_eq!(p.decide(200, FrameKind::Keyframe), Verdict::Send);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DropPolicy {
    /// Above this queue (ms), non-reference frames are dropped (default 700).
    pub non_reference_ms: u32,
    /// Above this queue (ms), all video is dropped until a keyframe (default 900).
    pub all_video_ms: u32,
    waiting_for_keyframe: bool,
    counts: DropCounts,
}

impl Default for DropPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl DropPolicy {
    /// Thresholds 700 ms and 900 ms.
    pub const fn new() -> Self {
        DropPolicy {
            non_reference_ms: 700,
            all_video_ms: 900,
            waiting_for_keyframe: false,
            counts: DropCounts { non_reference: 0, until_keyframe: 0, keyframe_requests: 0 },
        }
    }

    /// Drops so far.
    pub fn counts(&self) -> DropCounts {
        self.counts
    }

    /// Whether video is being dropped until the next keyframe.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.waiting_for_keyframe
    }

    /// Drop video until the next keyframe from now on, without asking for one
    /// (a new connection must start at a keyframe; the caller asks the
    /// encoder itself). Not counted as a drop until frames are dropped.
    pub fn restart_at_keyframe(&mut self) {
        self.waiting_for_keyframe = true;
    }

    /// A frame of `kind` is at the head of a queue `queue_ms` deep: send it or drop it?
    pub fn decide(&mut self, queue_ms: u32, kind: FrameKind) -> Verdict {
        match kind {
            FrameKind::Config | FrameKind::Audio => return Verdict::Send,
            FrameKind::Keyframe => {
                // A keyframe is sent even over the threshold: dropping it would
                // mean waiting a whole GOP, and the queue behind it is short
                // since everything before it was dropped.
                self.waiting_for_keyframe = false;
                return Verdict::Send;
            }
            FrameKind::Reference | FrameKind::NonReference => {}
        }
        if self.waiting_for_keyframe {
            self.counts.until_keyframe += 1;
            return Verdict::Drop { kind: DropKind::UntilKeyframe, request_keyframe: false };
        }
        if queue_ms > self.all_video_ms {
            self.waiting_for_keyframe = true;
            self.counts.until_keyframe += 1;
            self.counts.keyframe_requests += 1;
            return Verdict::Drop { kind: DropKind::UntilKeyframe, request_keyframe: true };
        }
        if queue_ms > self.non_reference_ms && kind == FrameKind::NonReference {
            self.counts.non_reference += 1;
            return Verdict::Drop { kind: DropKind::NonReference, request_keyframe: false };
        }
        Verdict::Send
    }

    /// A frame that was to be sent could not be (it was unreadable, or the
    /// link failed under it): what follows it cannot be decoded, so video
    /// waits for the next keyframe. Counted as a drop until keyframe.
    pub fn lost(&mut self, kind: FrameKind) {
        if matches!(kind, FrameKind::Reference | FrameKind::Keyframe) {
            self.waiting_for_keyframe = true;
        }
        self.counts.until_keyframe += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_on_a_simulated_queue() {
        let mut p = DropPolicy::new();
        // Queue growing by 50 ms per frame, GOP of 30, every third frame non-reference.
        let mut sent = 0;
        let mut requests = 0;
        for i in 0..60u32 {
            let q = i * 50;
            let kind = match i {
                0 | 30 => FrameKind::Keyframe,
                _ if i % 3 == 2 => FrameKind::NonReference,
                _ => FrameKind::Reference,
            };
            match p.decide(q, kind) {
                Verdict::Send => {
                    sent += 1;
                    // Up to 700 ms everything goes out; from the keyframe on, too.
                    assert!(q <= 900 || kind == FrameKind::Keyframe, "sent at {q} ms: {kind:?}");
                }
                Verdict::Drop { kind: DropKind::NonReference, .. } => {
                    assert!(q > 700 && q <= 900 && kind == FrameKind::NonReference)
                }
                Verdict::Drop { kind: DropKind::UntilKeyframe, request_keyframe } => {
                    requests += u32::from(request_keyframe);
                    assert!(q > 900 || p.waiting_for_keyframe());
                }
            }
            // Audio and configuration always go.
            assert_eq!(p.decide(q, FrameKind::Audio), Verdict::Send);
            assert_eq!(p.decide(q, FrameKind::Config), Verdict::Send);
        }
        // Frames 0..=18 (queue <= 900) except non-reference 17, the keyframe at 30,
        // and after it the drop-all threshold again (31 is over 900 ms).
        assert_eq!(sent, 18 + 1);
        assert_eq!(requests, 2);
        let c = p.counts();
        assert_eq!(c.non_reference, 1);
        assert_eq!(c.keyframe_requests, 2);
        assert_eq!(c.non_reference + c.until_keyframe + sent, 60);
    }

    #[test]
    fn one_request_per_episode() {
        let mut p = DropPolicy::new();
        let mut requests = 0;
        for _ in 0..100 {
            if let Verdict::Drop { request_keyframe: true, .. } = p.decide(5000, FrameKind::Reference) {
                requests += 1;
            }
        }
        assert_eq!(requests, 1);
        assert_eq!(p.decide(5000, FrameKind::Keyframe), Verdict::Send);
        assert_eq!(p.decide(100, FrameKind::Reference), Verdict::Send);
    }

    #[test]
    fn restart_and_loss_wait_for_a_keyframe() {
        let mut p = DropPolicy::new();
        p.restart_at_keyframe();
        assert!(matches!(p.decide(0, FrameKind::Reference), Verdict::Drop { request_keyframe: false, .. }));
        assert_eq!(p.decide(0, FrameKind::Keyframe), Verdict::Send);
        p.lost(FrameKind::Reference);
        assert!(matches!(p.decide(0, FrameKind::NonReference), Verdict::Drop { .. }));
        assert_eq!(p.counts().until_keyframe, 3);
        // Losing a non-reference frame breaks nothing.
        assert_eq!(p.decide(0, FrameKind::Keyframe), Verdict::Send);
        p.lost(FrameKind::NonReference);
        assert_eq!(p.decide(0, FrameKind::Reference), Verdict::Send);
    }
}
