//! HLS segmenting and the media playlist (RFC 8216), sans-IO: the caller
//! says what frame comes next; the [`Segmenter`] says when to start a new
//! segment, which file has left the playlist long enough to be deleted, and
//! writes the playlist into a buffer.
//!
//! Rules kept (RFC 8216 section 6.2): segments are cut at the first
//! keyframe after the target duration (at any frame past the maximum); a
//! timestamp jump (a publisher that reconnected with new timestamps) starts
//! a segment marked `#EXT-X-DISCONTINUITY`; `#EXT-X-TARGETDURATION` is never
//! below any segment's rounded duration and never goes down; a sliding
//! window of segments with `#EXT-X-MEDIA-SEQUENCE` and
//! `#EXT-X-DISCONTINUITY-SEQUENCE`; a segment that leaves the playlist is
//! deleted only after a further window (6.2.2: clients may still be
//! fetching it); `#EXT-X-ENDLIST` when the stream ends.

use core::fmt::{self, Write};

/// How segments are cut and how many the playlist lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HlsConfig {
    /// Cut at the first keyframe after this long (ms). Default 5000 (OSS
    /// LiveChannel's `FragDuration`, nginx-rtmp's `hls_fragment`).
    pub target_ms: u32,
    /// Cut at any frame after this long, keyframe or not (ms). Default 3 x target.
    pub max_ms: u32,
    /// Segments listed. Default 3 (OSS's `FragCount`).
    pub window: usize,
    /// A timestamp that goes back, or forward by more than this (ms) past
    /// the previous frame, starts a discontinuity. Default 1000.
    pub jump_ms: u32,
}

impl Default for HlsConfig {
    fn default() -> Self {
        HlsConfig { target_ms: 5000, max_ms: 15_000, window: 3, jump_ms: 1000 }
    }
}

/// A closed segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Its media sequence number (its file is named from it).
    pub sequence: u64,
    /// Its duration in ms.
    pub duration_ms: u32,
    /// It starts after a discontinuity.
    pub discontinuity: bool,
}

/// What to do before muxing a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Start a new segment with this sequence number before this frame
    /// (write the PAT and PMT first); the playlist changed.
    pub start: Option<u64>,
    /// The segment that closed (now listed in the playlist).
    pub closed: Option<Segment>,
    /// Delete this segment's file: it left the playlist a window ago.
    pub delete: Option<u64>,
    /// Leave this frame out: no segment is open and a stream with video
    /// starts its segments at a keyframe (frames before the first one, or
    /// after a timestamp jump, cannot be decoded).
    pub skip: bool,
}

/// Cuts a live stream into HLS segments and keeps the playlist's state in
/// a fixed ring of `CAP` segments (listed ones and those waiting to be
/// deleted: `CAP` must be at least twice the window, plus one).
#[derive(Clone, Debug)]
pub struct Segmenter<const CAP: usize = 32> {
    cfg: HlsConfig,
    ring: [Segment; CAP],
    /// Closed segments in the ring (oldest first, ending at `next - 1`).
    closed: usize,
    /// The open segment: its sequence, first timestamp, discontinuity.
    open: Option<(u64, u32, bool)>,
    /// The next segment starts after a discontinuity.
    pending_discontinuity: bool,
    next: u64,
    last_ts: Option<u32>,
    /// The last frame of the kind that paces the stream (video, or audio
    /// without video), and the step to it: a segment closed at its last
    /// frame lasts until that frame's end.
    last_paced: Option<u32>,
    frame_ms: u32,
    target_s: u32,
    /// Discontinuities in segments that have left the playlist.
    discontinuity_sequence: u64,
    ended: bool,
}

/// Why a playlist could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaylistTooLarge;

impl fmt::Display for PlaylistTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("playlist does not fit the buffer")
    }
}

impl<const CAP: usize> Segmenter<CAP> {
    /// A segmenter; the window is clamped so that listed and retiring
    /// segments fit `CAP`.
    pub fn new(mut cfg: HlsConfig) -> Self {
        cfg.window = cfg.window.clamp(1, (CAP.saturating_sub(1) / 2).max(1));
        cfg.target_ms = cfg.target_ms.max(1);
        cfg.max_ms = cfg.max_ms.max(cfg.target_ms);
        Segmenter {
            cfg,
            ring: [Segment::default(); CAP],
            closed: 0,
            open: None,
            pending_discontinuity: false,
            next: 0,
            last_ts: None,
            last_paced: None,
            frame_ms: 0,
            target_s: cfg.target_ms.div_ceil(1000),
            discontinuity_sequence: 0,
            ended: false,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> HlsConfig {
        self.cfg
    }

    /// The sequence number of the segment being written, if any.
    pub fn current(&self) -> Option<u64> {
        self.open.map(|o| o.0)
    }

    /// Call before muxing each frame (`video` false for audio; `has_video`
    /// whether the stream has video): whether to start a new segment here,
    /// or leave the frame out.
    pub fn frame(&mut self, timestamp_ms: u32, keyframe: bool, video: bool, has_video: bool) -> Decision {
        let mut d = Decision::default();
        // Audio and video interleave a little out of order; a step of more
        // than `jump_ms` either way is a new timeline (32-bit wrap-around
        // is neither).
        let jump = self.last_ts.is_some_and(|last| {
            let (ahead, back) = (timestamp_ms.wrapping_sub(last), last.wrapping_sub(timestamp_ms));
            ahead.min(back) > self.cfg.jump_ms
        });
        if let (true, Some(last)) = (jump && self.open.is_some(), self.last_ts) {
            // The old timeline ends with its last frame.
            d = self.close(last.wrapping_add(self.frame_ms));
            self.pending_discontinuity = true;
        }
        let startable = !has_video || (video && keyframe);
        let cut = match self.open {
            None => startable,
            Some((_, start, _)) => {
                let elapsed = timestamp_ms.wrapping_sub(start);
                // A keyframe up to half a frame early still ends the segment:
                // a camera whose GOP equals the target stamps its keyframes
                // with a few ms of jitter, and missing one doubles a segment.
                let due = self.cfg.target_ms.saturating_sub(self.frame_ms / 2);
                (elapsed >= due && startable) || (elapsed >= self.cfg.max_ms && (video || !has_video))
            }
        };
        if cut {
            if self.open.is_some() {
                d = self.close(timestamp_ms);
            }
            d.start = Some(self.next);
            self.open = Some((self.next, timestamp_ms, core::mem::take(&mut self.pending_discontinuity)));
            self.next += 1;
        } else if self.open.is_none() {
            d.skip = true;
        }
        self.last_ts = Some(timestamp_ms);
        if video || !has_video {
            let step = self.last_paced.map_or(0, |p| timestamp_ms.wrapping_sub(p));
            if step > 0 && step <= self.cfg.jump_ms {
                self.frame_ms = step;
            }
            self.last_paced = Some(timestamp_ms);
        }
        d
    }

    /// The stream ended: closes the open segment (its duration up to the
    /// end of the last frame, one frame interval after it) and marks the
    /// playlist ended.
    pub fn end(&mut self) -> Decision {
        let d = match self.last_ts {
            Some(end) => self.close(end.wrapping_add(self.frame_ms)),
            None => Decision::default(),
        };
        self.ended = true;
        d
    }

    fn close(&mut self, end: u32) -> Decision {
        let mut d = Decision::default();
        let Some((sequence, start, discontinuity)) = self.open.take() else { return d };
        let seg = Segment { sequence, duration_ms: end.wrapping_sub(start).min(0x7FFF_FFFF), discontinuity };
        // The window is at most (CAP - 1) / 2, so 2 * window + 1 records fit.
        self.ring[self.closed] = seg;
        self.closed += 1;
        // A segment out of the playlist for a whole window: its file goes.
        if self.closed > 2 * self.cfg.window {
            d.delete = Some(self.ring[0].sequence);
            self.ring.copy_within(1..self.closed, 0);
            self.closed -= 1;
        }
        // The segment this close pushed out of the listed window; its
        // discontinuity now counts in EXT-X-DISCONTINUITY-SEQUENCE.
        if self.closed > self.cfg.window && self.ring[self.closed - self.cfg.window - 1].discontinuity {
            self.discontinuity_sequence += 1;
        }
        self.target_s = self.target_s.max(seg.duration_ms.saturating_add(500) / 1000);
        d.closed = Some(seg);
        d
    }

    /// The segments the playlist lists, oldest first.
    pub fn listed(&self) -> &[Segment] {
        let n = self.closed.min(self.cfg.window);
        &self.ring[self.closed - n..self.closed]
    }

    /// `#EXT-X-TARGETDURATION` in seconds: never below any segment's
    /// rounded duration, never lowered.
    pub fn target_duration(&self) -> u32 {
        self.target_s
    }

    /// Whether [`end`](Self::end) was called.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Writes the media playlist into `out` (segment URIs from `uri`);
    /// returns its length.
    pub fn write_playlist(
        &self,
        out: &mut [u8],
        uri: impl Fn(u64, &mut dyn Write) -> fmt::Result,
    ) -> Result<usize, PlaylistTooLarge> {
        let listed = self.listed();
        let playlist = Playlist {
            segments: listed,
            media_sequence: listed.first().map_or(self.next, |s| s.sequence),
            target_s: self.target_s,
            discontinuity_sequence: self.discontinuity_sequence,
            ended: self.ended,
            event: false,
        };
        playlist.write(out, uri)
    }
}

/// A media playlist to write: a [`Segmenter`]'s sliding window, or every
/// segment of a recording kept by the caller (`event`).
#[derive(Clone, Copy, Debug)]
pub struct Playlist<'a> {
    /// The listed segments, oldest first.
    pub segments: &'a [Segment],
    /// `#EXT-X-MEDIA-SEQUENCE`: the first listed segment's sequence number.
    pub media_sequence: u64,
    /// `#EXT-X-TARGETDURATION` ([`Segmenter::target_duration`]).
    pub target_s: u32,
    /// `#EXT-X-DISCONTINUITY-SEQUENCE`: discontinuities that left the list.
    pub discontinuity_sequence: u64,
    /// `#EXT-X-ENDLIST`.
    pub ended: bool,
    /// `#EXT-X-PLAYLIST-TYPE:EVENT`: segments are only ever appended (a
    /// recording; players may seek back to its start).
    pub event: bool,
}

impl Playlist<'_> {
    /// Writes the playlist into `out` (segment URIs from `uri`); returns its length.
    pub fn write(
        &self,
        out: &mut [u8],
        uri: impl Fn(u64, &mut dyn Write) -> fmt::Result,
    ) -> Result<usize, PlaylistTooLarge> {
        let mut w = SliceWriter { out, len: 0 };
        self.write_to(&mut w, uri).map_err(|_| PlaylistTooLarge)?;
        Ok(w.len)
    }

    fn write_to(&self, w: &mut dyn Write, uri: impl Fn(u64, &mut dyn Write) -> fmt::Result) -> fmt::Result {
        w.write_str("#EXTM3U\n#EXT-X-VERSION:3\n")?;
        if self.event {
            w.write_str("#EXT-X-PLAYLIST-TYPE:EVENT\n")?;
        }
        writeln!(w, "#EXT-X-TARGETDURATION:{}", self.target_s)?;
        writeln!(w, "#EXT-X-MEDIA-SEQUENCE:{}", self.media_sequence)?;
        if self.discontinuity_sequence > 0 {
            writeln!(w, "#EXT-X-DISCONTINUITY-SEQUENCE:{}", self.discontinuity_sequence)?;
        }
        for s in self.segments {
            if s.discontinuity {
                w.write_str("#EXT-X-DISCONTINUITY\n")?;
            }
            writeln!(w, "#EXTINF:{}.{:03},", s.duration_ms / 1000, s.duration_ms % 1000)?;
            uri(s.sequence, w)?;
            w.write_str("\n")?;
        }
        if self.ended {
            w.write_str("#EXT-X-ENDLIST\n")?;
        }
        Ok(())
    }
}

struct SliceWriter<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.out.get_mut(self.len..end).ok_or(fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
