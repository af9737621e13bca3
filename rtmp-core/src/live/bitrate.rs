//! The link's throughput, and the encoder bitrate that fits it.

use crate::time::Instant;
use core::time::Duration;

const SAMPLES: usize = 64;

/// The link's throughput over a sliding window, from a running count of
/// bytes delivered (bytes the socket accepted less those still unsent in
/// it, or bytes the server acknowledged): the slope between the oldest and
/// newest samples in the window.
#[derive(Clone, Debug)]
pub struct ThroughputEstimator {
    window: Duration,
    samples: heapless::Deque<(Instant, u64), SAMPLES>,
}

impl ThroughputEstimator {
    /// An estimator over `window` (1 to 2 s suits a camera: long enough to
    /// span a keyframe, short enough to follow a 4G cell).
    pub fn new(window: Duration) -> Self {
        ThroughputEstimator { window, samples: heapless::Deque::new() }
    }

    /// Forgets every sample (a new connection).
    pub fn reset(&mut self) {
        self.samples.clear();
    }

    /// `delivered` bytes in all, at `now`. Samples closer together than a
    /// 64th of the window replace the newest, so the window is always covered.
    pub fn sample(&mut self, now: Instant, delivered: u64) {
        let spacing = self.window / SAMPLES as u32;
        if let Some(&(t, d)) = self.samples.back() {
            if delivered < d || now < t {
                // A new count or clock: start over.
                self.samples.clear();
            } else if now - t < spacing && self.samples.len() > 1 {
                let _ = self.samples.pop_back();
            }
        }
        if self.samples.is_full() {
            let _ = self.samples.pop_front();
        }
        let _ = self.samples.push_back((now, delivered));
        // Keep one sample at or before the window's start.
        while self.samples.len() > 2 && self.samples.iter().nth(1).is_some_and(|&(t, _)| now - t >= self.window) {
            let _ = self.samples.pop_front();
        }
    }

    /// Bits per second over the window, once it spans at least half of it.
    pub fn bits_per_second(&self) -> Option<u64> {
        let (&(t0, d0), &(t1, d1)) = (self.samples.front()?, self.samples.back()?);
        let span = t1 - t0;
        if span < self.window / 2 {
            return None;
        }
        Some((d1 - d0).saturating_mul(8).saturating_mul(1_000_000) / span.as_micros().max(1) as u64)
    }
}

/// Adaptive-bitrate settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitrateConfig {
    /// The bitrate the user asked for (bit/s): the ceiling.
    pub target: u32,
    /// Never below this (bit/s; default 100 kbit/s).
    pub floor: u32,
    /// A queue deeper than this (ms) is congestion (default 200).
    pub congested_ms: u32,
    /// Bits per second the estimate carries besides video (audio, headers).
    pub reserved: u32,
    /// How long the queue must stay clean before each step up (default 4 s).
    pub step_up_after: Duration,
    /// Each step up adds this share of `target`, in percent (default 10).
    pub step_up_percent: u32,
    /// After a step down, wait this long for the queue to drain before
    /// stepping down again (default 1 s).
    pub hold_after_down: Duration,
}

impl BitrateConfig {
    /// Defaults around `target` bit/s.
    pub fn new(target: u32) -> Self {
        BitrateConfig {
            target,
            floor: 100_000,
            congested_ms: 200,
            reserved: 0,
            step_up_after: Duration::from_secs(4),
            step_up_percent: 10,
            hold_after_down: Duration::from_secs(1),
        }
    }
}

/// The encoder bitrate to set: down to what the link carries when video
/// queues up, back up in steps when the queue stays clean.
///
/// ```
/// use core::time::Duration;
/// use rtmp_core::live::{BitrateConfig, BitrateController};
/// use rtmp_core::time::Instant;
///
/// let mut c = BitrateController::new(BitrateConfig::new(1_000_000));
/// let t = Instant::from_millis(10_000);
/// // 300 ms queued, the link carries 500 kbit/s: down to 90% of it, less
/// // what drains the queue in 2 s (1 Mbit/s * 0.3 s / 2).
/// assert_eq!(c.update(t, 300, Some(500_000)), Some(300_000));
/// // Clean for 4 s: up by 10% of the target.
/// assert_eq!(c.update(t + Duration::from_secs(4), 0, Some(500_000)), Some(400_000));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BitrateController {
    cfg: BitrateConfig,
    current: u32,
    /// When the last change was made, or the queue was last congested.
    since: Option<Instant>,
    last_down: Option<Instant>,
}

impl BitrateController {
    /// Starts at the target.
    pub fn new(cfg: BitrateConfig) -> Self {
        BitrateController { cfg, current: cfg.target.max(cfg.floor), since: None, last_down: None }
    }

    /// The bitrate the encoder should have now.
    pub fn current(&self) -> u32 {
        self.current
    }

    /// The settings.
    pub fn config(&self) -> &BitrateConfig {
        &self.cfg
    }

    /// At `now` the queue is `queue_ms` deep and the link's estimate is
    /// `estimate` bit/s (when known). Returns a new encoder bitrate when it
    /// should change.
    pub fn update(&mut self, now: Instant, queue_ms: u32, estimate: Option<u64>) -> Option<u32> {
        let since = *self.since.get_or_insert(now);
        if queue_ms > self.cfg.congested_ms {
            self.since = Some(now);
            let held = self.last_down.is_some_and(|t| now - t < self.cfg.hold_after_down);
            let estimate = estimate?;
            if held {
                return None;
            }
            // 90% of what the link carried, less what is not video and less
            // what drains the queue in 2 s, rounded down to 10 kbit/s.
            let drain = u64::from(self.current) * u64::from(queue_ms) / 2000;
            let video =
                (estimate.saturating_mul(9) / 10).saturating_sub(u64::from(self.cfg.reserved)).saturating_sub(drain);
            let next = (video.min(u64::from(u32::MAX)) as u32 / 10_000 * 10_000).max(self.cfg.floor);
            if next < self.current {
                self.current = next;
                self.last_down = Some(now);
                return Some(next);
            }
            return None;
        }
        let ceiling = self.cfg.target.max(self.cfg.floor);
        // Clean is under half the congestion threshold; in between, hold.
        if queue_ms > self.cfg.congested_ms / 2 {
            self.since = Some(now);
            return None;
        }
        if self.current < ceiling && now - since >= self.cfg.step_up_after {
            let step = (u64::from(self.cfg.target) * u64::from(self.cfg.step_up_percent) / 100).max(10_000) as u32;
            self.current = self.current.saturating_add(step).min(ceiling);
            self.since = Some(now);
            return Some(self.current);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    #[test]
    fn estimator_follows_a_rate_change() {
        let mut e = ThroughputEstimator::new(Duration::from_millis(1500));
        assert_eq!(e.bits_per_second(), None);
        let mut delivered = 0u64;
        // 1 Mbit/s for 5 s, sampled every 10 ms.
        for i in 0..500 {
            delivered += 1250;
            e.sample(ms(i * 10), delivered);
        }
        let r = e.bits_per_second().unwrap();
        assert!((990_000..=1_010_000).contains(&r), "{r}");
        // Then 400 kbit/s, sampled every 33 ms: within 2 s the estimate says so.
        for i in 0..61 {
            delivered += 1650;
            e.sample(ms(5000 + i * 33), delivered);
        }
        let r = e.bits_per_second().unwrap();
        assert!((390_000..=410_000).contains(&r), "{r}");
    }

    #[test]
    fn estimator_starts_over_on_a_new_count() {
        let mut e = ThroughputEstimator::new(Duration::from_secs(1));
        e.sample(ms(0), 1_000_000);
        e.sample(ms(900), 1_100_000);
        assert!(e.bits_per_second().is_some());
        e.sample(ms(1000), 10);
        assert_eq!(e.bits_per_second(), None);
    }

    /// A link of `link` bit/s and an encoder following the controller, on a
    /// simulated clock in 100 ms steps: the queue is what the encoder made
    /// beyond what the link carried, in ms the link needs to carry it (how
    /// long the frame at its head has waited).
    fn simulate(c: &mut BitrateController, link: impl Fn(u64) -> u64, steps: u64, probe: u64) -> (u32, u32) {
        let mut backlog_bits = 0f64;
        let mut worst_queue = 0;
        let mut at_probe = 0;
        let mut e = ThroughputEstimator::new(Duration::from_secs(1));
        let mut delivered = 0u64;
        for i in 0..steps {
            let now = ms(i * 100);
            backlog_bits += f64::from(c.current()) / 10.0;
            let carried = (link(i * 100) as f64 / 10.0).min(backlog_bits);
            backlog_bits -= carried;
            delivered += (carried / 8.0) as u64;
            e.sample(now, delivered);
            let queue_ms = (backlog_bits / link(i * 100) as f64 * 1000.0) as u32;
            worst_queue = worst_queue.max(queue_ms);
            c.update(now, queue_ms, e.bits_per_second());
            if i * 100 == probe {
                at_probe = c.current();
            }
        }
        (at_probe, worst_queue)
    }

    #[test]
    fn follows_a_throttle_down_and_back_up() {
        let mut c = BitrateController::new(BitrateConfig::new(1_000_000));
        // 40% of the target for 30 s after 5 s, then 35 s unthrottled.
        let link = |t: u64| if (5_000..35_000).contains(&t) { 400_000 } else { 10_000_000 };
        let (rate, worst) = simulate(&mut c, link, 700, 34_900);
        assert!((300_000..=400_000).contains(&rate), "{rate}");
        assert!(worst < 1000, "queue {worst} ms");
        // Back to the target in 4 s steps of 10% once the throttle ends.
        assert_eq!(c.current(), 1_000_000);
    }

    #[test]
    fn never_below_the_floor() {
        let mut c = BitrateController::new(BitrateConfig::new(1_000_000));
        assert_eq!(c.update(ms(0), 5000, Some(10_000)), Some(100_000));
        assert_eq!(c.update(ms(5000), 5000, Some(10_000)), None);
        assert_eq!(c.current(), 100_000);
    }

    #[test]
    fn holds_between_steps_down_and_without_an_estimate() {
        let mut c = BitrateController::new(BitrateConfig::new(1_000_000));
        assert_eq!(c.update(ms(0), 500, None), None);
        // 720 kbit/s less 1 Mbit/s * 0.5 s / 2 s.
        assert_eq!(c.update(ms(100), 500, Some(800_000)), Some(470_000));
        assert_eq!(c.update(ms(500), 500, Some(500_000)), None);
        // 450 kbit/s less 470 kbit/s * 0.1 s / 2 s.
        assert_eq!(c.update(ms(1200), 100 + 101, Some(500_000)), Some(400_000));
        // A queue between clean and congested holds the rate.
        assert_eq!(c.update(ms(10_000), 150, Some(5_000_000)), None);
        assert_eq!(c.update(ms(13_000), 0, Some(5_000_000)), None);
        assert_eq!(c.update(ms(14_000), 0, Some(5_000_000)), Some(500_000));
    }
}
