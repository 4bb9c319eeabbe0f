//! The rate-limit fault: a token bucket of `limit` requests a window (a minute, as the API
//! states its limits, or shorter for tests), refilled continuously as the API's is, and the
//! wait it names in the `retry-after` of a 429.

use crate::faults::Faults;
use std::time::{Duration, Instant};

/// The window of a limit when the faults give none: a minute, as the API's limits are stated.
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

/// A token bucket: `limit` requests at once when full, one more every `window / limit`.
#[derive(Debug)]
pub(crate) struct Bucket {
    limit: usize,
    window: Duration,
    /// Requests that may go now (fractions of one accrue).
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl Bucket {
    /// A full bucket of `limit` requests a `window`.
    pub(crate) fn new(limit: usize, window: Duration, now: Instant) -> Bucket {
        Bucket {
            limit,
            window,
            tokens: limit as f64,
            at: now,
        }
    }

    /// Returns whether this bucket counts `limit` requests a `window` (else the faults changed).
    pub(crate) fn is(&self, limit: usize, window: Duration) -> bool {
        self.limit == limit && self.window == window
    }

    /// Takes one request's token: `Ok` when the request may go, else `Err` with how long until
    /// a token is there. A refused request takes nothing.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let per_token = self.window.as_secs_f64() / self.limit.max(1) as f64;
        let accrued = now.saturating_duration_since(self.at).as_secs_f64() / per_token;
        self.tokens = (self.tokens + accrued).min(self.limit as f64);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) * per_token))
        }
    }
}

/// Takes a token for a request under the faults' limit: `Ok` when there is no limit or the
/// request may go, else `Err` with the wait until it may. The bucket starts full, and starts
/// again full when the limit or its window changes.
pub(crate) fn admit(
    bucket: &mut Option<Bucket>,
    faults: &Faults,
    now: Instant,
) -> Result<(), Duration> {
    if faults.rate_limit == 0 {
        *bucket = None;
        return Ok(());
    }
    let window = faults
        .rate_limit_window
        .filter(|w| !w.is_zero())
        .unwrap_or(DEFAULT_WINDOW);
    match bucket {
        Some(b) if b.is(faults.rate_limit, window) => b.take(now),
        _ => bucket
            .insert(Bucket::new(faults.rate_limit, window, now))
            .take(now),
    }
}

/// Returns the `retry-after` of a wait, as the API writes it: whole seconds, rounded up, at
/// least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_lets_limit_requests_through_then_names_the_wait_for_the_next() {
        let t0 = Instant::now();
        let mut b = Bucket::new(3, Duration::from_secs(60), t0);
        for _ in 0..3 {
            assert_eq!(b.take(t0), Ok(()));
        }
        // one token every 20 s
        assert_eq!(b.take(t0), Err(Duration::from_secs(20)));
        let later = t0 + Duration::from_secs(15);
        let wait = b.take(later).unwrap_err();
        assert!(wait.abs_diff(Duration::from_secs(5)) < Duration::from_millis(1));
        assert_eq!(b.take(t0 + Duration::from_secs(20)), Ok(()));
        // refilled up to the limit, never past it
        let much_later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(b.take(much_later), Ok(()));
        }
        assert!(b.take(much_later).is_err());
        assert!(b.is(3, Duration::from_secs(60)) && !b.is(3, Duration::from_secs(1)));
    }

    #[test]
    fn the_bucket_follows_the_faults() {
        let t0 = Instant::now();
        let mut bucket = None;
        let mut f = Faults::default();
        assert_eq!(admit(&mut bucket, &f, t0), Ok(()));
        assert!(bucket.is_none());
        f.rate_limit = 1;
        f.rate_limit_window = Some(Duration::from_secs(2));
        assert_eq!(admit(&mut bucket, &f, t0), Ok(()));
        assert_eq!(admit(&mut bucket, &f, t0), Err(Duration::from_secs(2)));
        // a new window: a new, full bucket
        f.rate_limit_window = None;
        assert_eq!(admit(&mut bucket, &f, t0), Ok(()));
        assert_eq!(admit(&mut bucket, &f, t0), Err(DEFAULT_WINDOW));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(100)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(20)), 20);
        assert_eq!(retry_after_secs(Duration::from_millis(20_001)), 21);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
