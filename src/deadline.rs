//! Wall-clock deadlines on the monotonic clock.
//!
//! A per-read timeout is not a deadline: a server that sends one byte every second resets it
//! forever. A [`Deadline`] is a point in time; every wait of a call (connecting, each read,
//! each backoff sleep) is bounded by what is left of it.

use crate::error::{Error, Result};
use std::time::{Duration, Instant};

/// A point in time by which something must be done, or never.
///
/// ```
/// use managed_agents::Deadline;
/// use std::time::Duration;
///
/// let d = Deadline::after(Duration::from_secs(30));
/// assert!(!d.is_expired());
/// assert!(d.remaining().unwrap() <= Duration::from_secs(30));
/// assert_eq!(Deadline::never().remaining(), None);
/// ```
///
/// Deadlines order by when they come: an earlier one is less, and [`Deadline::never`] comes
/// after every real one, so `std::cmp::min` agrees with [`Deadline::min`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Deadline {
    at: Option<Instant>,
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.at, other.at) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    }
}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Deadline {
    /// `d` from now.
    pub fn after(d: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(d),
        }
    }

    /// At an instant.
    pub fn at(instant: Instant) -> Deadline {
        Deadline { at: Some(instant) }
    }

    /// No deadline.
    pub fn never() -> Deadline {
        Deadline { at: None }
    }

    /// Returns the instant, if there is one.
    pub fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// Returns the time left (zero once passed); `None` for no deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Returns whether the deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.remaining().is_some_and(|r| r.is_zero())
    }

    /// Returns the earlier of two deadlines.
    pub fn min(self, other: Deadline) -> Deadline {
        match (self.at, other.at) {
            (Some(a), Some(b)) => Deadline { at: Some(a.min(b)) },
            (Some(_), None) => self,
            _ => other,
        }
    }

    /// Returns the time left, or [`Error::Timeout`] naming what was under way when none is left.
    pub fn check(&self, what: impl FnOnce() -> String) -> Result<Option<Duration>> {
        match self.remaining() {
            Some(r) if r.is_zero() => Err(Error::Timeout { message: what() }),
            r => Ok(r),
        }
    }

    /// Sleeps for `d`, or until the deadline if that comes first; true if it slept all of `d`.
    pub fn sleep(&self, d: Duration) -> bool {
        match self.remaining() {
            Some(r) if r < d => {
                std::thread::sleep(r);
                false
            }
            _ => {
                std::thread::sleep(d);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_sorts_after_every_deadline_as_min_agrees() {
        let soon = Deadline::after(Duration::from_secs(1));
        let later = Deadline::after(Duration::from_secs(3600));
        assert!(soon < later);
        assert!(later < Deadline::never());
        assert!(soon < Deadline::never());
        assert_eq!(
            Deadline::never().cmp(&Deadline::never()),
            std::cmp::Ordering::Equal
        );
        let mut all = vec![Deadline::never(), later, soon];
        all.sort();
        assert_eq!(all, vec![soon, later, Deadline::never()]);
        for (a, b) in [
            (soon, later),
            (later, Deadline::never()),
            (Deadline::never(), soon),
        ] {
            assert_eq!(a.min(b), std::cmp::min(a, b));
        }
    }
}
