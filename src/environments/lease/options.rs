//! How a lease keeper heartbeats: its options, whose defaults are the official worker's.

use crate::environments::WORK_REQUEST_TIMEOUT;
use crate::request_options::RequestOptions;
use std::time::Duration;

/// The longest interval between heartbeats.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// The API's default lease TTL, assumed until a heartbeat reports the real one.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

/// How a [`LeaseKeeper`](super::LeaseKeeper) heartbeats. The defaults are the official worker's.
///
/// ```
/// use managed_agents::environments::LeaseOptions;
/// use std::time::Duration;
///
/// let options = LeaseOptions::new().desired_ttl_seconds(120);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct LeaseOptions {
    pub(super) desired_ttl_seconds: Option<i64>,
    pub(super) assumed_ttl: Duration,
    pub(super) min_interval: Duration,
    pub(super) max_interval: Duration,
    pub(super) retry_base: Duration,
    pub(super) request_timeout: Duration,
    pub(super) request: RequestOptions,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            desired_ttl_seconds: None,
            assumed_ttl: CLAIM_TIMEOUT,
            min_interval: Duration::ZERO,
            max_interval: HEARTBEAT_INTERVAL,
            retry_base: Duration::from_secs(1),
            request_timeout: WORK_REQUEST_TIMEOUT,
            request: RequestOptions::new(),
        }
    }
}

impl LeaseOptions {
    /// Returns the official defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the lease TTL to ask for (`desired_ttl_seconds`; default: the server's).
    pub fn desired_ttl_seconds(mut self, seconds: i64) -> Self {
        self.desired_ttl_seconds = Some(seconds);
        self
    }

    /// Sets the TTL assumed until a heartbeat reports the real one (default 300 s, the API's).
    pub fn assumed_ttl(mut self, ttl: Duration) -> Self {
        self.assumed_ttl = ttl;
        self
    }

    /// Sets the bounds of the interval `ttl / 2` is clamped to (default 0 to 30 s).
    pub fn interval_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_interval = min;
        self.max_interval = max.max(min);
        self
    }

    /// Sets the first wait after a failed heartbeat: a random time in `[base / 2, base)`, doubling
    /// with each failure in a row up to the interval's upper bound (default 1 s: 0.5-1 s,
    /// then 1-2 s, ...). The retries never outlast the lease.
    pub fn retry_backoff(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// Sets the time limit of each heartbeat (default 30 s; never past the lease's expiry).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the options for every heartbeat and the stop (extra headers). A heartbeat is sent once
    /// (the keeper retries it itself) within its own time limit.
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request = options;
        self
    }
}
