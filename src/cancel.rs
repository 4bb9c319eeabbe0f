//! Cancellation: a one-way stop signal shared between threads, set once, seen by every clone,
//! and waited on with a time limit, so a sleeping stream, runner, poller or heartbeat loop
//! wakes the moment it is set. It sits beside [`Deadline`](crate::Deadline), below everything
//! that uses it; `environments` re-exports it where it was.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A signal that, once set, stays set; cheap to clone, `Send + Sync`.
///
/// A [`Poller`](crate::environments::Poller) ends when its signal is set (from any thread), and a
/// [`LeaseHandle`](crate::environments::LeaseHandle) sets its own when the item's run must end (the server
/// asked for a stop, or the lease was lost): whoever runs the item watches it.
///
/// ```
/// use managed_agents::StopSignal;
/// use std::time::Duration;
///
/// let signal = StopSignal::new();
/// let other = signal.clone();
/// std::thread::spawn(move || other.set());
/// assert!(signal.wait(Duration::from_secs(60)));
/// assert!(signal.is_set());
/// ```
#[derive(Clone, Default)]
pub struct StopSignal {
    inner: Arc<(Mutex<bool>, Condvar)>,
}

/// Two signals are equal when they are the same signal (clones of one another).
impl PartialEq for StopSignal {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopSignal")
            .field("set", &self.is_set())
            .finish()
    }
}

impl StopSignal {
    /// Creates a signal not yet set.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Sets the signal and wakes every waiter.
    pub fn set(&self) {
        let (flag, cond) = &*self.inner;
        *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cond.notify_all();
    }

    /// Returns whether the signal is set.
    pub fn is_set(&self) -> bool {
        *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the signal is set or `timeout` has passed; true if it is set.
    pub fn wait(&self, timeout: Duration) -> bool {
        let (flag, cond) = &*self.inner;
        let end = Instant::now().checked_add(timeout);
        let mut set = flag.lock().unwrap_or_else(PoisonError::into_inner);
        while !*set {
            let left = match end {
                Some(end) => end.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                break;
            }
            set = cond
                .wait_timeout(set, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *set
    }
}
