//! Link policies for a stream that stays up on a bad network, as sans-IO
//! types on the caller's clock and random numbers, so firmware driving the
//! core with its own I/O gets the same behaviour as the board:
//!
//! * [`Backoff`]: when to reconnect after a failure (at once, then 0.5 s
//!   growing x1.5 with jitter, capped at 10 s; refusals that cannot heal
//!   stop after a few tries).
//! * [`TimestampContinuity`]: timestamps that never restart at 0 mid-stream.
//! * [`DropPolicy`]: drop-by-priority on a queue measured in milliseconds.
//! * [`ThroughputEstimator`] and [`BitrateController`]: the link's rate and
//!   the encoder bitrate that fits it.
//! * [`LinkWatch`]: a link that stops moving counts as dead before TCP
//!   notices; when to ping.

mod backoff;
mod bitrate;
mod congestion;
mod link;
mod timestamps;

pub use backoff::{Backoff, BackoffConfig, Failure, Retry};
pub use bitrate::{BitrateConfig, BitrateController, ThroughputEstimator};
pub use congestion::{DropCounts, DropKind, DropPolicy, FrameKind, Verdict};
pub use link::{DeadLink, LinkWatch};
pub use timestamps::TimestampContinuity;
