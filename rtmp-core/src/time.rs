//! Time as the caller gives it.
//!
//! The core has no clock. Every input carries an [`Instant`] read by the caller
//! from whatever monotonic clock the platform has (a `std::time::Instant`, an
//! embassy `Instant`, a hardware timer). RTMP message timestamps are a separate
//! thing: 32-bit millisecond counters that wrap, modelled by [`RtmpTimestamp`].

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;

/// A point on the caller's monotonic clock, in microseconds since an epoch the
/// caller chooses (boot, process start). Only differences are meaningful.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The epoch of the caller's clock.
    pub const ZERO: Instant = Instant(0);

    /// An instant `micros` microseconds after the caller's epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// An instant `millis` milliseconds after the caller's epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1000))
    }

    /// Microseconds since the caller's epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since the caller's epoch.
    pub const fn as_millis(self) -> u64 {
        if cfg!(target_pointer_width = "64") {
            self.0 / 1000
        } else {
            div_1000_narrow(self.0)
        }
    }

    /// Time elapsed since `earlier`, or zero if `earlier` is later than `self`.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the end of time instead of overflowing.
    pub fn saturating_add(self, d: Duration) -> Instant {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(micros))
    }
}

/// `x / 1000` in three 32-bit divisions: on 32-bit targets a 64-bit
/// division is a library routine (about 1 KiB of Cortex-M flash, for the
/// one place the publisher needs it). Long division in 16-bit digits: each
/// partial dividend is below `1000 << 16`, so it fits 32 bits.
const fn div_1000_narrow(x: u64) -> u64 {
    let (hi, lo) = ((x >> 32) as u32, x as u32);
    let t1 = ((hi % 1000) << 16) | (lo >> 16);
    let t2 = ((t1 % 1000) << 16) | (lo & 0xffff);
    (((hi / 1000) as u64) << 32) | (((t1 / 1000) << 16) | (t2 / 1000)) as u64
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturating addition: a timeout far in the future never wraps into the past.
    fn add(self, rhs: Duration) -> Instant {
        self.saturating_add(rhs)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating difference; see [`Instant::saturating_duration_since`].
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// An RTMP message timestamp: milliseconds in 32 bits that wrap after about
/// 49.7 days (RTMP spec 5.3.1, "timestamps ... roll over").
///
/// Arithmetic wraps. Ordering follows serial-number arithmetic (RFC 1982): `a < b`
/// when `b` is less than 2^31 ms ahead of `a`, so ordering holds across the wrap.
/// Two timestamps exactly 2^31 apart are unordered, which is why this type is
/// `PartialOrd` and not `Ord`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RtmpTimestamp(pub u32);

impl RtmpTimestamp {
    /// Timestamp zero.
    pub const ZERO: RtmpTimestamp = RtmpTimestamp(0);

    /// Builds a timestamp from milliseconds, keeping the low 32 bits (wrapping).
    pub const fn from_millis(ms: u64) -> Self {
        RtmpTimestamp(ms as u32)
    }

    /// The raw 32-bit value.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// `self + ms`, wrapping.
    pub const fn wrapping_add(self, ms: u32) -> Self {
        RtmpTimestamp(self.0.wrapping_add(ms))
    }

    /// The signed distance from `earlier` to `self` in milliseconds, the short way
    /// round the 32-bit circle.
    pub const fn delta_since(self, earlier: RtmpTimestamp) -> i32 {
        self.0.wrapping_sub(earlier.0) as i32
    }
}

impl PartialOrd for RtmpTimestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        let d = self.delta_since(*other);
        match d {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d > 0 => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}

impl fmt::Debug for RtmpTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

impl fmt::Display for RtmpTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_division_by_1000_equals_the_wide_one() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let edges = [0, 999, 1000, 1001, u32::MAX as u64, 1 << 32, (1 << 32) + 999, u64::MAX - 1, u64::MAX];
        for v in edges.into_iter().chain((0..100_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x >> (x % 64)
        })) {
            assert_eq!(div_1000_narrow(v), v / 1000, "{v}");
        }
    }

    #[test]
    fn wraps_and_orders_across_the_wrap() {
        let before = RtmpTimestamp(u32::MAX - 10);
        let after = before.wrapping_add(30);
        assert_eq!(after, RtmpTimestamp(19));
        assert!(after > before);
        assert!(before < after);
        assert_eq!(after.delta_since(before), 30);
        assert_eq!(before.delta_since(after), -30);
    }

    #[test]
    fn half_circle_is_unordered() {
        let a = RtmpTimestamp(0);
        let b = RtmpTimestamp(1 << 31);
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!(b.partial_cmp(&a), None);
        assert!(RtmpTimestamp((1 << 31) - 1) > a);
    }

    #[test]
    fn instant_saturates() {
        let t = Instant::from_millis(5);
        assert_eq!(t.as_micros(), 5000);
        assert_eq!(Instant::ZERO - t, Duration::ZERO);
        assert_eq!(t - Instant::ZERO, Duration::from_millis(5));
        assert_eq!(Instant::from_micros(u64::MAX - 1) + Duration::from_secs(10), Instant::from_micros(u64::MAX));
    }
}
