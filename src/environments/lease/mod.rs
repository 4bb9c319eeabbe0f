//! The lease keeper: heartbeats for one work item on a thread of its own, as the official
//! 2.17 `Lease` keeps them. The first heartbeat (`expected_last_heartbeat=NO_HEARTBEAT`) is the
//! claim: nothing may serve the item before it extends the lease. Each later heartbeat sends
//! the `last_heartbeat` the server returned, `min(ttl / 2, 30 s)` after the last successful
//! one was sent; the TTL is taken as 300 s until the server says. A transient failure is
//! retried at once with a short backoff (0.5-1 s, then 1-2 s, ...), every request within
//! 30 s and within the lease; the lease is lost exactly when it expires with no heartbeat
//! answered, or when a heartbeat is answered 412 or refused for good (401, 403, ...). A
//! heartbeat that does not extend the lease ends the run (shutdown). A lost item is never
//! stopped by us: it belongs to the queue or another worker.

mod heartbeat;
mod options;

pub use heartbeat::{LeaseEnd, NO_HEARTBEAT};
pub use options::LeaseOptions;

use super::{stop_work, StopSignal, WorkItem, HELPER_WORKER};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use heartbeat::{Beat, Shared, State, HEARTBEAT_GRACE};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Starts the heartbeats of a work item: the first one claims it.
///
/// ```no_run
/// use managed_agents::{environments::{LeaseKeeper, LeaseOptions}, Client};
///
/// let client = Client::builder().environment_key("envkey-...").build()?;
/// let lease = LeaseKeeper::start(&client, "env_123", "work_456", LeaseOptions::new())?;
/// if lease.wait_claim().is_ok() {
///     while !lease.should_stop() {
///         // run the item's session, watching lease.stop_signal()
/// #       break;
///     }
/// }
/// let end = lease.stop(true)?; // stops the item unless the lease was lost
/// # let _ = end;
/// # Ok::<(), managed_agents::Error>(())
/// ```
#[derive(Debug)]
pub struct LeaseKeeper;

impl LeaseKeeper {
    /// Heartbeats `work_id` on a new thread until the handle is released or stopped, or the
    /// lease ends. `client` must authenticate with the environment key (or the item's
    /// sessions token). Serve the item only once [`LeaseHandle::wait_claim`] says the first
    /// heartbeat claimed it.
    pub fn start(
        client: &Client,
        environment_id: &str,
        work_id: &str,
        options: LeaseOptions,
    ) -> Result<LeaseHandle> {
        Self::start_with(client, environment_id, work_id, options, None)
    }

    /// [`start`](LeaseKeeper::start) for `item`, which is marked lost
    /// ([`WorkItem::mark_lease_lost`]) the moment its lease is: a [`Poller`](super::Poller)
    /// that handed it out with `auto_stop` then leaves it alone.
    pub fn start_item(
        client: &Client,
        item: &WorkItem,
        options: LeaseOptions,
    ) -> Result<LeaseHandle> {
        Self::start_with(
            client,
            &item.environment_id,
            &item.id,
            options,
            Some(item.clone()),
        )
    }

    fn start_with(
        client: &Client,
        environment_id: &str,
        work_id: &str,
        options: LeaseOptions,
        item: Option<WorkItem>,
    ) -> Result<LeaseHandle> {
        crate::path::path_segment("environment_id", environment_id)?;
        crate::path::path_segment("work_id", work_id)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                end: None,
                ttl: None,
                last_heartbeat: None,
                heartbeats: 0,
                claimed: false,
                expires_at: Instant::now() + options.assumed_ttl,
                in_flight: false,
                finished: false,
            }),
            ended: StopSignal::new(),
            released: StopSignal::new(),
            changed: Condvar::new(),
            item,
        });
        let beat = Beat {
            client: client.clone(),
            environment_id: environment_id.to_string(),
            work_id: work_id.to_string(),
            options: options.clone(),
            shared: shared.clone(),
        };
        std::thread::Builder::new()
            .name(format!("lease-{work_id}"))
            .spawn(move || {
                beat.run();
                beat.shared.update(|s| {
                    s.finished = true;
                    s.in_flight = false;
                });
            })
            .map_err(|e| Error::Io {
                message: "starting the heartbeat thread".into(),
                source: e,
            })?;
        Ok(LeaseHandle {
            client: client.clone(),
            environment_id: environment_id.to_string(),
            work_id: work_id.to_string(),
            request: options.request,
            shared,
        })
    }
}

/// A running lease: wait for its claim, ask it whether the item's run must end, watch its
/// [`StopSignal`], then [`release`](LeaseHandle::release) or [`stop`](LeaseHandle::stop) it.
///
/// Dropping it ends the heartbeats (as `release`) without waiting.
pub struct LeaseHandle {
    client: Client,
    environment_id: String,
    work_id: String,
    request: RequestOptions,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LeaseHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseHandle")
            .field("environment_id", &self.environment_id)
            .field("work_id", &self.work_id)
            .field("end", &self.shared.end())
            .finish_non_exhaustive()
    }
}

impl LeaseHandle {
    /// Returns the work item's id.
    pub fn work_id(&self) -> &str {
        &self.work_id
    }

    /// Waits until the first heartbeat claimed the item (`Ok`), or the heartbeats ended
    /// before it did (`Err` with why: lost to another holder, refused, or the server said
    /// stop). Serve the item only after `Ok`.
    pub fn wait_claim(&self) -> std::result::Result<(), LeaseEnd> {
        self.shared
            .wait_until(None, |s| s.claimed || s.end.is_some() || s.finished);
        let s = self.shared.lock();
        if s.claimed {
            return Ok(());
        }
        Err(s.end.clone().unwrap_or(LeaseEnd::Released))
    }

    /// Returns whether the first heartbeat has claimed the item.
    pub fn is_claimed(&self) -> bool {
        self.shared.lock().claimed
    }

    /// Returns whether the lease is lost (a 412, a refused heartbeat, or it expired with no heartbeat
    /// answered, to the instant): the item is no longer ours, and
    /// [`stop`](LeaseHandle::stop) will not stop it.
    pub fn is_lost(&self) -> bool {
        self.shared.end().is_some_and(|e| e.is_lost())
    }

    /// Returns whether the item's run must end: the heartbeats ended (a stop asked for, the lease
    /// lost or refused) or the lease expired.
    pub fn should_stop(&self) -> bool {
        self.shared.ended.is_set() || self.is_lost()
    }

    /// Returns why the heartbeats ended, once they have.
    pub fn end(&self) -> Option<LeaseEnd> {
        self.shared.end()
    }

    /// Returns the signal set when the item's run must end; hand it to whatever runs the item.
    pub fn stop_signal(&self) -> StopSignal {
        self.shared.ended.clone()
    }

    /// Returns the lease TTL the server last reported (none before the first heartbeat answered):
    /// how long a result may be retried while the lease lives.
    pub fn ttl(&self) -> Option<Duration> {
        self.shared.lock().ttl
    }

    /// Returns how many heartbeats the server has answered.
    pub fn heartbeats(&self) -> u64 {
        self.shared.lock().heartbeats
    }

    /// Ends the heartbeats and returns why they ended; the item is left as it is (for one
    /// another process stops). A heartbeat in flight is waited for at most 5 s, since its
    /// answer may say the lease was lost.
    pub fn release(self) -> LeaseEnd {
        self.finish()
    }

    /// Ends the heartbeats (as [`release`](LeaseHandle::release)), then stops the item
    /// (`force` for no graceful shutdown; a 409, already stopped, is success) — unless the
    /// lease was lost, when the item belongs to the queue or another worker and is left
    /// alone. A stop refused with 401 means the lease was lost too. Returns why the
    /// heartbeats ended.
    pub fn stop(self, force: bool) -> Result<LeaseEnd> {
        let end = self.finish();
        if end.is_lost() {
            log::info!(
                "lease lost; not stopping the work item work_id={}",
                self.work_id
            );
            return Ok(end);
        }
        let options = self
            .request
            .clone()
            .header("x-stainless-helper", HELPER_WORKER);
        match stop_work(
            &self.client,
            &self.environment_id,
            &self.work_id,
            force,
            &options,
        ) {
            Ok(()) => Ok(end),
            Err(e) if e.status() == Some(401) => {
                log::error!(
                    "stop refused (401); the lease is lost work_id={}",
                    self.work_id
                );
                self.shared.mark_lost();
                Ok(LeaseEnd::Rejected {
                    message: e.to_string(),
                })
            }
            Err(e) => Err(e),
        }
    }

    fn finish(&self) -> LeaseEnd {
        self.shared.released.set();
        let grace = Instant::now() + HEARTBEAT_GRACE;
        if !self
            .shared
            .wait_until(Some(grace), |s| s.finished || !s.in_flight)
        {
            log::warn!(
                "a heartbeat still in flight after {HEARTBEAT_GRACE:?}; going on without its answer work_id={}",
                self.work_id
            );
        }
        // what ended the lease, else released; an expiry counts whatever the thread saw
        let end = self.shared.end().unwrap_or(LeaseEnd::Released);
        self.shared.finish(end.clone());
        end
    }
}

impl Drop for LeaseHandle {
    fn drop(&mut self) {
        self.shared.released.set();
    }
}
