//! Message timestamps that never go backwards across reconnects and source restarts.

/// Keeps the timestamps a publisher sends monotonic when its source's do
/// not: after a reconnect whose source restarts its clock (a new file, an
/// encoder that was re-created), or when a source jumps by more than the
/// limits, the output continues from the highest timestamp sent so far
/// instead of restarting at 0 mid-stream. Audio and video share one offset,
/// so their sync is kept; small reorderings between them (audio a few
/// frames behind video) pass unchanged.
///
/// ```
/// use rtmp_core::live::TimestampContinuity;
///
/// let mut ts = TimestampContinuity::new();
/// assert_eq!(ts.map(1000), 1000);
/// assert_eq!(ts.map(1040), 1040);
/// // The source restarts at 0 after a reconnect: output continues.
/// ts.continue_after(40);
/// assert_eq!(ts.map(0), 1080);
/// assert_eq!(ts.map(40), 1120);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimestampContinuity {
    offset: u32,
    /// The highest input seen since the last rebase, and what it mapped to.
    high: Option<(u32, u32)>,
    /// The next input starts a new base, this many ms after the highest output.
    rebase: Option<u32>,
    /// A forward jump of more than this many ms is a discontinuity.
    pub max_forward_ms: u32,
    /// A backward step of more than this many ms is a discontinuity.
    pub max_backward_ms: u32,
    /// Where a detected discontinuity continues: this many ms after the highest output.
    pub step_ms: u32,
}

impl Default for TimestampContinuity {
    fn default() -> Self {
        Self::new()
    }
}

impl TimestampContinuity {
    /// Passes timestamps through until a discontinuity: a jump forward of
    /// more than 10 s, or back by more than 1 s (audio and video are never
    /// that far apart), continues 40 ms after the highest timestamp sent.
    pub const fn new() -> Self {
        TimestampContinuity {
            offset: 0,
            high: None,
            rebase: None,
            max_forward_ms: 10_000,
            max_backward_ms: 1_000,
            step_ms: 40,
        }
    }

    /// The source's clock restarts (or is unknown) from the next input on:
    /// that input maps to `gap_ms` after the highest timestamp sent, and the
    /// rest follow it. Use the real time the stream was away for live
    /// sources whose clock kept running elsewhere, or one frame's duration.
    pub fn continue_after(&mut self, gap_ms: u32) {
        self.rebase = Some(gap_ms);
    }

    /// The highest timestamp sent so far.
    pub fn highest(&self) -> Option<u32> {
        self.high.map(|(_, out)| out)
    }

    /// Maps a source timestamp (ms) to the one to send.
    pub fn map(&mut self, input: u32) -> u32 {
        let jump = match (self.rebase, self.high) {
            (Some(gap), _) => Some(gap),
            (None, Some((high_in, _))) => {
                let d = input.wrapping_sub(high_in) as i32;
                let far = d > 0 && d as u32 > self.max_forward_ms || d < 0 && d.unsigned_abs() > self.max_backward_ms;
                far.then_some(self.step_ms)
            }
            (None, None) => None,
        };
        if let Some(gap) = jump {
            self.rebase = None;
            if let Some((_, high_out)) = self.high {
                self.offset = high_out.wrapping_add(gap).wrapping_sub(input);
                self.high = None;
            }
        }
        let out = input.wrapping_add(self.offset);
        match self.high {
            Some((high_in, _)) if (input.wrapping_sub(high_in) as i32) <= 0 => {}
            _ => self.high = Some((input, out)),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_a_steady_source_through() {
        let mut t = TimestampContinuity::new();
        for i in 0..1000u32 {
            assert_eq!(t.map(500 + i * 33), 500 + i * 33);
        }
        // Audio slightly behind video passes unchanged.
        assert_eq!(t.map(500 + 999 * 33 - 60), 500 + 999 * 33 - 60);
        assert_eq!(t.highest(), Some(500 + 999 * 33));
    }

    #[test]
    fn a_live_clock_that_kept_running_keeps_its_gap() {
        // Camera timestamps keep counting through a 5 s outage; a reconnect
        // without a rebase passes them through (under the forward limit).
        let mut t = TimestampContinuity::new();
        assert_eq!(t.map(10_000), 10_000);
        assert_eq!(t.map(15_000), 15_000);
    }

    #[test]
    fn a_restarted_source_continues_from_the_highest() {
        let mut t = TimestampContinuity::new();
        for i in 0..=100 {
            t.map(i * 40);
        }
        t.continue_after(3000);
        assert_eq!(t.map(0), 4000 + 3000);
        assert_eq!(t.map(40), 7040);
        // Audio of the restarted source, behind its video by 20 ms.
        assert_eq!(t.map(20), 7020);
    }

    #[test]
    fn jumps_beyond_the_limits_are_discontinuities() {
        let mut t = TimestampContinuity::new();
        t.map(50_000);
        t.map(50_040);
        // Back to 0 without notice: continues one step on.
        assert_eq!(t.map(0), 50_080);
        assert_eq!(t.map(40), 50_120);
        // A jump 20 s ahead: the same.
        assert_eq!(t.map(20_040), 50_160);
        // Monotonic over a long mixed run.
        let mut prev = 0;
        for (i, src) in [0u32, 40, 80, 100_000, 100_040, 7, 47, 87].iter().enumerate() {
            let out = t.map(*src);
            assert!(out > prev || i == 0 && out >= prev, "{src} -> {out} after {prev}");
            prev = out;
        }
    }

    #[test]
    fn wraps_with_rtmp_timestamps() {
        let mut t = TimestampContinuity::new();
        let near = u32::MAX - 50;
        assert_eq!(t.map(near), near);
        assert_eq!(t.map(near.wrapping_add(100)), near.wrapping_add(100));
        t.continue_after(10);
        assert_eq!(t.map(0), near.wrapping_add(110));
    }

    #[test]
    fn rebase_before_any_output_is_harmless() {
        let mut t = TimestampContinuity::new();
        t.continue_after(1000);
        assert_eq!(t.map(5), 5);
    }
}
