//! Dead-link detection: a link that stops moving counts as failed before TCP notices.

use crate::time::Instant;
use core::fmt;
use core::time::Duration;

/// Why a link counts as dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadLink {
    /// Bytes were waiting, and the socket accepted none for the timeout.
    Stalled,
    /// The server, which had answered pings or acknowledged before, sent
    /// nothing for the timeout while we kept sending.
    Silent,
}

impl fmt::Display for DeadLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadLink::Stalled => f.write_str("link stalled: the socket accepted no bytes"),
            DeadLink::Silent => f.write_str("link silent: no acknowledgement or ping answer from the server"),
        }
    }
}

impl core::error::Error for DeadLink {}

/// Watches a publishing link on the caller's clock: progress of the bytes
/// the socket accepts, and signs of life from the server (acknowledgements,
/// ping answers, any input). Also says when to ping.
///
/// A server that never acknowledges nor answers pings is judged by the
/// socket alone (it cannot be told from a silent dead one); one that has
/// answered once is expected to keep answering.
///
/// ```
/// use core::time::Duration;
/// use rtmp_core::live::{DeadLink, LinkWatch};
/// use rtmp_core::time::Instant;
///
/// let t0 = Instant::from_millis(0);
/// let mut w = LinkWatch::new(t0, Duration::from_secs(10));
/// w.on_sent(t0 + Duration::from_secs(1));
/// assert_eq!(w.check(t0 + Duration::from_secs(5), true), None);
/// assert_eq!(w.check(t0 + Duration::from_secs(11), true), Some(DeadLink::Stalled));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LinkWatch {
    timeout: Duration,
    ping_every: Duration,
    last_sent: Instant,
    last_heard: Instant,
    last_ping: Instant,
    /// The server has shown it answers (an ack or a ping response).
    responsive: bool,
}

impl LinkWatch {
    /// Starts watching at `now`; `timeout` is how long a link may stop
    /// moving (default 10 s in the board). Pings go every third of it.
    pub fn new(now: Instant, timeout: Duration) -> Self {
        LinkWatch {
            timeout,
            ping_every: timeout / 3,
            last_sent: now,
            last_heard: now,
            last_ping: now,
            responsive: false,
        }
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The socket accepted bytes at `now`.
    pub fn on_sent(&mut self, now: Instant) {
        self.last_sent = self.last_sent.max(now);
    }

    /// The server sent bytes at `now`. `answer` when they include a ping
    /// response (the server answers pings, so its silence will mean
    /// something). Acknowledgements come only every window of bytes, which
    /// at a low bitrate may be rarer than the timeout: pass `false` for them.
    pub fn on_heard(&mut self, now: Instant, answer: bool) {
        self.last_heard = self.last_heard.max(now);
        self.responsive |= answer;
    }

    /// Whether a ping is due at `now`; if so it counts as sent.
    pub fn poll_ping(&mut self, now: Instant) -> bool {
        if now - self.last_ping >= self.ping_every {
            self.last_ping = now;
            return true;
        }
        false
    }

    /// When [`check`](Self::check) or [`poll_ping`](Self::poll_ping) next has something to say.
    pub fn next_deadline(&self) -> Instant {
        let dead = self.last_sent.min(if self.responsive { self.last_heard } else { self.last_sent }) + self.timeout;
        dead.min(self.last_ping + self.ping_every)
    }

    /// Is the link dead at `now`? `waiting` when bytes are waiting for the socket.
    pub fn check(&self, now: Instant, waiting: bool) -> Option<DeadLink> {
        if waiting && now - self.last_sent >= self.timeout {
            return Some(DeadLink::Stalled);
        }
        if self.responsive && now - self.last_heard >= self.timeout && self.last_sent > self.last_heard {
            return Some(DeadLink::Silent);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Instant {
        Instant::from_millis(n * 1000)
    }

    #[test]
    fn stalled_only_when_bytes_wait() {
        let mut w = LinkWatch::new(s(0), Duration::from_secs(10));
        w.on_sent(s(2));
        assert_eq!(w.check(s(30), false), None);
        assert_eq!(w.check(s(11), true), None);
        assert_eq!(w.check(s(12), true), Some(DeadLink::Stalled));
    }

    #[test]
    fn silence_counts_once_the_server_has_answered() {
        let mut w = LinkWatch::new(s(0), Duration::from_secs(10));
        // A server that never answers: sending alone keeps it alive.
        for t in 0..60 {
            w.on_sent(s(t));
            assert_eq!(w.check(s(t), false), None);
        }
        // It answers a ping at 60 s, then goes quiet while we keep sending.
        w.on_heard(s(60), true);
        for t in 60..70 {
            w.on_sent(s(t));
            assert_eq!(w.check(s(t), false), None, "{t}");
        }
        w.on_sent(s(70));
        assert_eq!(w.check(s(70), false), Some(DeadLink::Silent));
        // Answers keep it alive.
        w.on_heard(s(71), true);
        assert_eq!(w.check(s(71), false), None);
    }

    #[test]
    fn pings_every_third_of_the_timeout() {
        let mut w = LinkWatch::new(s(0), Duration::from_secs(9));
        let pings: u32 = (0..=30).map(|t| u32::from(w.poll_ping(s(t)))).sum();
        assert_eq!(pings, 10);
        assert!(w.next_deadline() <= s(33));
    }
}
