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

use super::{
    call_json, is_transient, stop_work, StopSignal, WorkItem, HELPER_WORKER, WORK_REQUEST_TIMEOUT,
};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::types::{SelfHostedWorkHeartbeatResponse, SelfHostedWorkHeartbeatResponseState};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The `expected_last_heartbeat` of an item's first heartbeat, claiming a lease no one holds.
pub const NO_HEARTBEAT: &str = "NO_HEARTBEAT";

/// The longest interval between heartbeats.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// How long a heartbeat in flight may delay the end of a lease (its answer may say it was lost).
const HEARTBEAT_GRACE: Duration = Duration::from_secs(5);
/// The API's default lease TTL, assumed until a heartbeat reports the real one.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

/// Why an item's heartbeats ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseEnd {
    /// The caller released the lease or stopped the item; the lease was held throughout.
    Released,
    /// The server said `stopping` or `stopped`, or did not extend the lease: the run must end.
    StopRequested {
        /// The item's state as the heartbeat reported it.
        state: String,
        /// Whether that heartbeat extended the lease.
        lease_extended: bool,
    },
    /// A heartbeat was answered 412: the item was queued again or another worker holds it.
    Lost {
        /// The server's view of the lease (`error.details.current_state`), when it sent one.
        current_state: Option<serde_json::Value>,
    },
    /// A heartbeat (or the stop) was refused for good (401, 403, 404, or another 4xx but
    /// 408, 409, 412, 429): the item can no longer be held, so it is taken as lost.
    Rejected {
        /// What the server answered.
        message: String,
    },
    /// The lease expired with no heartbeat answered in time: it must be taken as lost.
    AssumedLost,
}

impl LeaseEnd {
    /// Returns whether the item may now belong to the queue or another worker (so it must not be
    /// stopped): a 412, a refused heartbeat, or an expired lease.
    pub fn is_lost(&self) -> bool {
        matches!(
            self,
            LeaseEnd::Lost { .. } | LeaseEnd::AssumedLost | LeaseEnd::Rejected { .. }
        )
    }
}

/// How a [`LeaseKeeper`] heartbeats. The defaults are the official worker's.
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
    desired_ttl_seconds: Option<i64>,
    assumed_ttl: Duration,
    min_interval: Duration,
    max_interval: Duration,
    retry_base: Duration,
    request_timeout: Duration,
    request: RequestOptions,
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

/// What the heartbeat thread and the handle share.
#[derive(Debug)]
struct State {
    end: Option<LeaseEnd>,
    ttl: Option<Duration>,
    last_heartbeat: Option<String>,
    heartbeats: u64,
    claimed: bool,
    /// When the lease runs out unless a heartbeat extends it.
    expires_at: Instant,
    /// Whether a heartbeat is in flight.
    in_flight: bool,
    /// Set once the heartbeat thread has returned.
    finished: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Set when heartbeating ends, for whatever reason: the run must end.
    ended: StopSignal,
    /// Set when the caller lets go of the lease: the heartbeat thread must end.
    released: StopSignal,
    /// Notified whenever `state` changes.
    changed: Condvar,
    /// The item whose lease this is, marked lost the moment it is
    /// ([`LeaseKeeper::start_item`]).
    item: Option<WorkItem>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records why heartbeating ended; the first reason wins.
    fn finish(&self, end: LeaseEnd) {
        let mut state = self.lock();
        if state.end.is_none() {
            state.end = Some(end);
        }
        let lost = state.end.as_ref().is_some_and(LeaseEnd::is_lost);
        drop(state);
        if lost {
            self.mark_lost();
        }
        self.ended.set();
        self.changed.notify_all();
    }

    /// Marks the item lost, if the lease keeps one.
    fn mark_lost(&self) {
        if let Some(item) = &self.item {
            item.mark_lease_lost();
        }
    }

    /// Changes the state and wakes whoever waits on it.
    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `done` holds of the state, or `until`; returns what `done` last said.
    fn wait_until(&self, until: Option<Instant>, done: impl Fn(&State) -> bool) -> bool {
        let mut state = self.lock();
        loop {
            if done(&state) {
                return true;
            }
            let left = match until {
                Some(t) => t.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if left.is_zero() {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn end(&self) -> Option<LeaseEnd> {
        let state = self.lock();
        match &state.end {
            Some(end) => Some(end.clone()),
            // the lease ran out while a heartbeat was still on its way: lost, to the instant
            None if Instant::now() >= state.expires_at => {
                drop(state);
                self.mark_lost();
                Some(LeaseEnd::AssumedLost)
            }
            None => None,
        }
    }
}

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

/// The heartbeat loop's own state.
struct Beat {
    client: Client,
    environment_id: String,
    work_id: String,
    options: LeaseOptions,
    shared: Arc<Shared>,
}

/// How one round of heartbeats (a heartbeat and its retries) ended.
enum Round {
    /// The lease was extended; the next heartbeat is due then.
    Extended(Instant),
    /// Heartbeating is over (the reason is recorded).
    Over,
}

impl Beat {
    fn run(&self) {
        let mut due = Instant::now();
        loop {
            let wait = due.saturating_duration_since(Instant::now());
            if self.shared.released.wait(wait) {
                return;
            }
            match self.extend() {
                Round::Extended(next) => due = next,
                Round::Over => return,
            }
        }
    }

    /// One heartbeat, retried on transient failures until it succeeds, fails for good, the
    /// caller lets go, or the lease expires.
    fn extend(&self) -> Round {
        let work_id = &self.work_id;
        let mut delay = self.options.retry_base;
        loop {
            let (expires_at, last) = {
                let s = self.shared.lock();
                let last = s
                    .last_heartbeat
                    .clone()
                    .unwrap_or_else(|| NO_HEARTBEAT.to_string());
                (s.expires_at, last)
            };
            let left = expires_at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log::error!("lease assumed lost: no heartbeat succeeded in time work_id={work_id}");
                self.shared.finish(LeaseEnd::AssumedLost);
                return Round::Over;
            }
            let sent_at = Instant::now();
            self.shared.update(|s| s.in_flight = true);
            let answer = self.heartbeat(&last, left.min(self.options.request_timeout));
            let error = match answer {
                Ok(resp) => {
                    let round = self.record(resp, sent_at);
                    self.shared.update(|s| s.in_flight = false);
                    return round;
                }
                Err(e) => e,
            };
            if error.status() == Some(412) {
                // a heartbeat of ours whose answer was lost causes the same 412 as another
                // worker's: either way the lease is not ours to keep
                let current_state = lease_state(&error);
                log::error!("lease lost: heartbeat precondition failed work_id={work_id} server_state={current_state:?}");
                self.shared.finish(LeaseEnd::Lost { current_state });
                return Round::Over;
            }
            if !is_transient(&error) {
                log::error!("permanent heartbeat failure; the lease is lost work_id={work_id} error={error}");
                self.shared.finish(LeaseEnd::Rejected {
                    message: error.to_string(),
                });
                return Round::Over;
            }
            log::warn!("transient heartbeat failure work_id={work_id} error={error}");
            self.shared.update(|s| s.in_flight = false);
            let wait = super::uniform(delay / 2, delay);
            delay = (delay * 2).min(self.options.max_interval.max(self.options.retry_base));
            let left = expires_at.saturating_duration_since(Instant::now());
            if self.shared.released.wait(wait.min(left)) {
                return Round::Over;
            }
        }
    }

    /// Takes in a heartbeat's answer: the lease extended from when it was sent, or ended.
    fn record(&self, resp: SelfHostedWorkHeartbeatResponse, sent_at: Instant) -> Round {
        let work_id = &self.work_id;
        let stopping = matches!(
            resp.state,
            SelfHostedWorkHeartbeatResponseState::Stopping
                | SelfHostedWorkHeartbeatResponseState::Stopped
        );
        let reported =
            (resp.ttl_seconds > 0).then(|| Duration::from_secs(resp.ttl_seconds.unsigned_abs()));
        let next = {
            let mut s = self.shared.lock();
            s.heartbeats += 1;
            if !resp.lease_extended {
                None
            } else {
                let ttl = reported.unwrap_or(self.options.assumed_ttl);
                s.ttl = Some(ttl);
                s.expires_at = sent_at + ttl;
                s.last_heartbeat = Some(resp.last_heartbeat.clone());
                s.claimed = true;
                let interval =
                    (ttl / 2).clamp(self.options.min_interval, self.options.max_interval);
                Some(sent_at + interval)
            }
        };
        self.shared.changed.notify_all();
        match next {
            Some(due) if !stopping => Round::Extended(due),
            _ => {
                log::info!(
                    "heartbeat signals shutdown work_id={work_id} state={} lease_extended={}",
                    resp.state.as_str(),
                    resp.lease_extended
                );
                self.shared.finish(LeaseEnd::StopRequested {
                    state: resp.state.as_str().to_string(),
                    lease_extended: resp.lease_extended,
                });
                Round::Over
            }
        }
    }

    fn heartbeat(
        &self,
        expected: &str,
        timeout: Duration,
    ) -> Result<SelfHostedWorkHeartbeatResponse> {
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some(ttl) = self.options.desired_ttl_seconds {
            query.push(("desired_ttl_seconds", ttl.to_string()));
        }
        query.push(("expected_last_heartbeat", expected.to_string()));
        let options = self
            .options
            .request
            .clone()
            .timeout(timeout)
            .max_retries(0)
            .header("x-stainless-helper", HELPER_WORKER);
        let value = call_json(
            &self.client,
            "environments.work.heartbeat",
            &[
                ("environment_id", &self.environment_id),
                ("work_id", &self.work_id),
            ],
            query,
            None,
            &options,
        )?;
        serde_json::from_value(value).map_err(|e| Error::decode(e, b""))
    }
}

/// `error.details.current_state` of a 412's body.
fn lease_state(e: &Error) -> Option<serde_json::Value> {
    let Error::Api { body, .. } = e else {
        return None;
    };
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("error")?
        .get("details")?
        .get("current_state")
        .filter(|s| s.is_object())
        .cloned()
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
