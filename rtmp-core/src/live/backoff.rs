//! When to try again after a connection failed.

use crate::time::Instant;
use core::time::Duration;

/// How a failure bears on the next try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The link failed (reset, close, stall, timeout) or the server refused
    /// something that heals by itself, such as `NetStream.Publish.BadName`
    /// from a server still holding our previous, stale connection.
    Transient,
    /// The server refused in a way retrying does not mend: a bad key
    /// (`NetConnection.Connect.Rejected`), `NetStream.Publish.Denied`.
    Permanent,
}

impl Failure {
    /// Classifies a server's status code. Codes that name a decision about
    /// us (rejected, denied, invalid app) are permanent; the rest, including
    /// `BadName` ("already publishing"), are transient.
    pub fn from_status_code(code: &str) -> Failure {
        match code {
            "NetConnection.Connect.Rejected"
            | "NetConnection.Connect.InvalidApp"
            | "NetConnection.Connect.AppShutdown"
            | "NetStream.Publish.Denied"
            | "NetStream.Publish.Rejected" => Failure::Permanent,
            _ => Failure::Transient,
        }
    }
}

/// Backoff settings; the defaults are a camera's: back within seconds of
/// its server, never hammering a dead one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    /// The wait before the second try (the first is at once).
    pub initial: Duration,
    /// Each further wait is this many times the previous one.
    pub factor: f32,
    /// No wait is longer.
    pub max: Duration,
    /// Each wait is scaled by a random factor in `1 ± jitter / 2`, so that
    /// cameras that lost the same server do not come back in step.
    pub jitter: f32,
    /// Tries after a failure before giving up: `None` tries for ever,
    /// `Some(0)` never retries.
    pub max_retries: Option<u32>,
    /// Consecutive [`Failure::Permanent`] refusals before giving up
    /// (a misconfigured key is not retried for ever).
    pub max_permanent: u32,
    /// A connection that stayed up this long resets the backoff; one that
    /// failed sooner counts as another failed try (a server that accepts
    /// and drops at once is not hammered).
    pub stable_after: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(500),
            factor: 1.5,
            max: Duration::from_secs(10),
            jitter: 0.2,
            max_retries: None,
            max_permanent: 3,
            stable_after: Duration::from_secs(10),
        }
    }
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this instant (it may be now).
    At(Instant),
    /// Stop: the retry limit or the permanent-refusal limit was reached.
    GiveUp,
}

/// Reconnect backoff on the caller's clock and random numbers: the first
/// retry at once (a fresh connection often just works), then `initial`,
/// growing by `factor` with jitter, capped at `max`.
///
/// ```
/// use core::time::Duration;
/// use rtmp_core::live::{Backoff, BackoffConfig, Failure, Retry};
/// use rtmp_core::time::Instant;
///
/// let mut b = Backoff::new(BackoffConfig { jitter: 0.0, ..BackoffConfig::default() });
/// let t = Instant::from_millis(1000);
/// assert_eq!(b.on_failure(t, Failure::Transient, 0), Retry::At(t));
/// assert_eq!(b.on_failure(t, Failure::Transient, 0), Retry::At(t + Duration::from_millis(500)));
/// assert_eq!(b.on_failure(t, Failure::Transient, 0), Retry::At(t + Duration::from_millis(750)));
/// ```
#[derive(Clone, Debug)]
pub struct Backoff {
    cfg: BackoffConfig,
    /// Failed tries since the last stable connection.
    failures: u32,
    /// Consecutive permanent refusals.
    permanent: u32,
    /// When the current connection came up.
    up_since: Option<Instant>,
}

impl Backoff {
    /// A backoff with no failures yet.
    pub fn new(cfg: BackoffConfig) -> Self {
        Backoff { cfg, failures: 0, permanent: 0, up_since: None }
    }

    /// The settings.
    pub fn config(&self) -> &BackoffConfig {
        &self.cfg
    }

    /// Failed tries since the last stable connection.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The stream is up again (publish accepted) at `now`.
    pub fn on_connected(&mut self, now: Instant) {
        self.up_since = Some(now);
        self.permanent = 0;
    }

    /// A try failed, or the live connection broke, at `now`; `random` is any
    /// random number (it sets the jitter). Returns when to try next.
    pub fn on_failure(&mut self, now: Instant, failure: Failure, random: u32) -> Retry {
        if let Some(up) = self.up_since.take() {
            if now - up >= self.cfg.stable_after {
                self.failures = 0;
            }
        }
        match failure {
            Failure::Permanent => self.permanent = self.permanent.saturating_add(1),
            Failure::Transient => self.permanent = 0,
        }
        if self.permanent >= self.cfg.max_permanent.max(1) {
            return Retry::GiveUp;
        }
        if self.cfg.max_retries.is_some_and(|max| self.failures >= max) {
            return Retry::GiveUp;
        }
        let delay = self.delay(self.failures, random);
        self.failures = self.failures.saturating_add(1);
        Retry::At(now + delay)
    }

    /// The wait before try `n + 1` after `n` failed tries.
    fn delay(&self, n: u32, random: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let max = self.cfg.max.as_secs_f32();
        let mut d = self.cfg.initial.as_secs_f32();
        for _ in 1..n {
            d *= self.cfg.factor.max(1.0);
            if d >= max {
                break;
            }
        }
        let jitter = if self.cfg.jitter.is_nan() { 0.0 } else { self.cfg.jitter.clamp(0.0, 1.0) };
        let unit = random as f32 / u32::MAX as f32; // 0..=1
        d *= 1.0 - jitter / 2.0 + jitter * unit;
        if d.is_nan() {
            // Only a NaN setting gets here; wait the longest rather than panic.
            return self.cfg.max;
        }
        Duration::try_from_secs_f32(d.clamp(0.0, max)).map_or(self.cfg.max, |d| d.min(self.cfg.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> BackoffConfig {
        BackoffConfig { jitter: 0.0, ..BackoffConfig::default() }
    }

    fn waits(b: &mut Backoff, n: usize) -> [u64; 12] {
        let mut out = [0; 12];
        let t = Instant::from_millis(0);
        for w in out.iter_mut().take(n) {
            match b.on_failure(t, Failure::Transient, u32::MAX / 2) {
                Retry::At(at) => *w = at.as_millis(),
                Retry::GiveUp => *w = u64::MAX,
            }
        }
        out
    }

    #[test]
    fn at_once_then_half_a_second_growing_to_ten() {
        let mut b = Backoff::new(no_jitter());
        let w = waits(&mut b, 12);
        assert_eq!(&w[..9], &[0, 500, 750, 1125, 1687, 2531, 3796, 5695, 8542]);
        assert_eq!(&w[9..], &[10_000, 10_000, 10_000]);
    }

    #[test]
    fn jitter_stays_within_bounds_and_under_the_cap() {
        let cfg = BackoffConfig::default();
        for random in [0, 1, u32::MAX / 3, u32::MAX / 2, u32::MAX] {
            let mut b = Backoff::new(cfg);
            let t = Instant::ZERO;
            let _ = b.on_failure(t, Failure::Transient, random);
            let Retry::At(second) = b.on_failure(t, Failure::Transient, random) else { panic!() };
            assert!((449..=550).contains(&second.as_millis()), "{second:?}");
            for _ in 0..20 {
                let Retry::At(at) = b.on_failure(t, Failure::Transient, random) else { panic!() };
                assert!(at.as_millis() <= 10_000);
            }
        }
        // Different random numbers give different waits.
        let mut a = Backoff::new(cfg);
        let mut b = Backoff::new(cfg);
        let _ =
            (a.on_failure(Instant::ZERO, Failure::Transient, 0), b.on_failure(Instant::ZERO, Failure::Transient, 0));
        assert_ne!(
            a.on_failure(Instant::ZERO, Failure::Transient, 0),
            b.on_failure(Instant::ZERO, Failure::Transient, u32::MAX)
        );
    }

    #[test]
    fn stable_connection_resets_a_flapping_one_does_not() {
        let mut b = Backoff::new(no_jitter());
        let t0 = Instant::from_millis(0);
        let _ = waits(&mut b, 4);
        assert_eq!(b.failures(), 4);
        // Up for one second, then down again: keeps growing.
        b.on_connected(t0);
        let Retry::At(at) = b.on_failure(t0 + Duration::from_secs(1), Failure::Transient, 0) else { panic!() };
        assert_eq!(at, t0 + Duration::from_secs(1) + Duration::from_micros(1_687_500));
        // Up for a minute: the next failure retries at once.
        let t1 = Instant::from_millis(100_000);
        b.on_connected(t1);
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!(b.on_failure(t2, Failure::Transient, 0), Retry::At(t2));
    }

    #[test]
    fn retry_limits() {
        let mut never = Backoff::new(BackoffConfig { max_retries: Some(0), ..no_jitter() });
        assert_eq!(never.on_failure(Instant::ZERO, Failure::Transient, 0), Retry::GiveUp);
        let mut two = Backoff::new(BackoffConfig { max_retries: Some(2), ..no_jitter() });
        assert!(matches!(two.on_failure(Instant::ZERO, Failure::Transient, 0), Retry::At(_)));
        assert!(matches!(two.on_failure(Instant::ZERO, Failure::Transient, 0), Retry::At(_)));
        assert_eq!(two.on_failure(Instant::ZERO, Failure::Transient, 0), Retry::GiveUp);
        // Unlimited by default.
        let mut b = Backoff::new(no_jitter());
        for _ in 0..10_000 {
            assert!(matches!(b.on_failure(Instant::ZERO, Failure::Transient, 7), Retry::At(_)));
        }
    }

    #[test]
    fn permanent_refusals_stop_after_a_few_tries() {
        let mut b = Backoff::new(no_jitter());
        assert!(matches!(b.on_failure(Instant::ZERO, Failure::Permanent, 0), Retry::At(_)));
        assert!(matches!(b.on_failure(Instant::ZERO, Failure::Permanent, 0), Retry::At(_)));
        assert_eq!(b.on_failure(Instant::ZERO, Failure::Permanent, 0), Retry::GiveUp);
        // A transient failure in between restarts the count.
        let mut b = Backoff::new(no_jitter());
        let _ = b.on_failure(Instant::ZERO, Failure::Permanent, 0);
        let _ = b.on_failure(Instant::ZERO, Failure::Permanent, 0);
        let _ = b.on_failure(Instant::ZERO, Failure::Transient, 0);
        assert!(matches!(b.on_failure(Instant::ZERO, Failure::Permanent, 0), Retry::At(_)));
    }

    #[test]
    fn status_codes() {
        assert_eq!(Failure::from_status_code("NetStream.Publish.BadName"), Failure::Transient);
        assert_eq!(Failure::from_status_code("NetConnection.Connect.Rejected"), Failure::Permanent);
        assert_eq!(Failure::from_status_code("NetStream.Publish.Denied"), Failure::Permanent);
        assert_eq!(Failure::from_status_code("NetConnection.Connect.Closed"), Failure::Transient);
    }
}
