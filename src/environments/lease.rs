//! The lease keeper: heartbeats for one claimed work item on a thread of its own, as the
//! official worker's heartbeat loop does. The first heartbeat sends
//! `expected_last_heartbeat=NO_HEARTBEAT`, each later one the `last_heartbeat` the server
//! returned; the interval is `max(1 s, min(ttl / 2, 30 s))`. The server saying `stopping` or
//! `stopped`, or not extending the lease, ends the item's run; a 412 means the lease is lost
//! (the item belongs to the queue or another worker and must not be stopped by us), and so
//! does a run of transient failures longer than the lease's TTL.

use super::{call, is_transient, stop_work, StopSignal, HELPER_WORKER};
use crate::client::{Client, RequestOptions};
use crate::error::{Error, Result};
use crate::transport::Body;
use crate::types::{SelfHostedWorkHeartbeatResponse, SelfHostedWorkHeartbeatResponseState};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The `expected_last_heartbeat` of an item's first heartbeat, claiming a lease no one holds.
pub const NO_HEARTBEAT: &str = "NO_HEARTBEAT";

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
    /// A heartbeat was refused for good (a 4xx other than 408, 409, 412, 429).
    Rejected {
        /// What the server answered.
        message: String,
    },
    /// No heartbeat succeeded for a whole TTL: the lease must be taken as lost.
    AssumedLost,
}

impl LeaseEnd {
    /// Whether the item now belongs to the queue or another worker (so it must not be stopped).
    pub fn is_lost(&self) -> bool {
        matches!(self, LeaseEnd::Lost { .. } | LeaseEnd::AssumedLost)
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
    initial_interval: Duration,
    initial_ttl: Duration,
    min_interval: Duration,
    max_interval: Duration,
    request: RequestOptions,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions {
            desired_ttl_seconds: None,
            initial_interval: Duration::from_secs(30),
            initial_ttl: Duration::from_secs(90),
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            request: RequestOptions::new(),
        }
    }
}

impl LeaseOptions {
    /// The official defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lease TTL to ask for (`desired_ttl_seconds`; default: the server's).
    pub fn desired_ttl_seconds(mut self, seconds: i64) -> Self {
        self.desired_ttl_seconds = Some(seconds);
        self
    }

    /// The TTL assumed until a heartbeat reports the real one (default 90 s), and the
    /// interval until then (default 30 s).
    pub fn initial(mut self, ttl: Duration, interval: Duration) -> Self {
        self.initial_ttl = ttl;
        self.initial_interval = interval;
        self
    }

    /// The bounds of the interval `ttl / 2` is clamped to (default 1 s to 30 s).
    pub fn interval_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_interval = min;
        self.max_interval = max.max(min);
        self
    }

    /// Options for every heartbeat and the stop (extra headers, retries). Each heartbeat's
    /// deadline is the interval, so a network black hole cannot outlast the lease.
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
}

struct Shared {
    state: Mutex<State>,
    /// Set when heartbeating ends, for whatever reason.
    ended: StopSignal,
}

impl Shared {
    /// Records why heartbeating ended; the first reason wins.
    fn finish(&self, end: LeaseEnd) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.end.is_none() {
            state.end = Some(end);
        }
        drop(state);
        self.ended.set();
    }

    fn end(&self) -> Option<LeaseEnd> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .end
            .clone()
    }
}

/// Starts the heartbeats of a claimed work item.
///
/// ```no_run
/// use managed_agents::{environments::{LeaseKeeper, LeaseOptions}, Client};
///
/// let client = Client::builder().environment_key("envkey-...").build()?;
/// let lease = LeaseKeeper::start(&client, "env_123", "work_456", LeaseOptions::new())?;
/// while !lease.should_stop() {
///     // run the item's session, watching lease.stop_signal()
/// #   break;
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
    /// sessions token).
    pub fn start(
        client: &Client,
        environment_id: &str,
        work_id: &str,
        options: LeaseOptions,
    ) -> Result<LeaseHandle> {
        crate::path::path_segment("environment_id", environment_id)?;
        crate::path::path_segment("work_id", work_id)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                end: None,
                ttl: None,
                last_heartbeat: None,
                heartbeats: 0,
            }),
            ended: StopSignal::new(),
        });
        let beat = Beat {
            client: client.clone(),
            environment_id: environment_id.to_string(),
            work_id: work_id.to_string(),
            options: options.clone(),
            shared: shared.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("lease-{work_id}"))
            .spawn(move || beat.run())
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
            thread: Some(thread),
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

impl Beat {
    fn run(self) {
        let opts = &self.options;
        let mut interval = opts.initial_interval;
        let mut ttl = opts.initial_ttl;
        let mut last = NO_HEARTBEAT.to_string();
        let mut last_success = Instant::now();
        let work_id = &self.work_id;
        while !self.shared.ended.is_set() {
            match self.heartbeat(&last, interval) {
                Ok(resp) => {
                    last = resp.last_heartbeat.clone();
                    last_success = Instant::now();
                    let reported = (resp.ttl_seconds > 0)
                        .then(|| Duration::from_secs(resp.ttl_seconds.unsigned_abs()));
                    if let Some(t) = reported {
                        ttl = t;
                        interval = (t / 2).clamp(opts.min_interval, opts.max_interval);
                    }
                    {
                        let mut state = self
                            .shared
                            .state
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        state.heartbeats += 1;
                        state.last_heartbeat = Some(last.clone());
                        if reported.is_some() {
                            state.ttl = reported;
                        }
                    }
                    let stopping = matches!(
                        resp.state,
                        SelfHostedWorkHeartbeatResponseState::Stopping
                            | SelfHostedWorkHeartbeatResponseState::Stopped
                    );
                    if stopping || !resp.lease_extended {
                        log::info!(
                            "heartbeat signals shutdown work_id={work_id} state={} lease_extended={}",
                            resp.state.as_str(),
                            resp.lease_extended
                        );
                        self.shared.finish(LeaseEnd::StopRequested {
                            state: resp.state.as_str().to_string(),
                            lease_extended: resp.lease_extended,
                        });
                        return;
                    }
                }
                Err(e) if e.status() == Some(412) => {
                    let current_state = lease_state(&e);
                    log::error!("lease lost: heartbeat precondition failed work_id={work_id} server_state={current_state:?}");
                    self.shared.finish(LeaseEnd::Lost { current_state });
                    return;
                }
                Err(e) if !is_transient(&e) => {
                    log::error!("permanent heartbeat failure work_id={work_id} error={e}");
                    self.shared.finish(LeaseEnd::Rejected {
                        message: e.to_string(),
                    });
                    return;
                }
                Err(e) => {
                    if last_success.elapsed() > ttl {
                        log::error!(
                            "lease assumed lost: no successful heartbeat in {ttl:?} work_id={work_id} error={e}"
                        );
                        self.shared.finish(LeaseEnd::AssumedLost);
                        return;
                    }
                    log::warn!("transient heartbeat failure work_id={work_id} error={e}");
                }
            }
            self.shared.ended.wait(interval);
        }
    }

    fn heartbeat(
        &self,
        expected: &str,
        interval: Duration,
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
            .timeout(interval)
            .header("x-stainless-helper", HELPER_WORKER);
        call(
            &self.client,
            "environments.work.heartbeat",
            &[
                ("environment_id", &self.environment_id),
                ("work_id", &self.work_id),
            ],
            query,
            Body::Empty,
            &options,
        )?
        .json()
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

/// A running lease: ask it whether the item's run must end, watch its [`StopSignal`], then
/// [`release`](LeaseHandle::release) or [`stop`](LeaseHandle::stop) it.
///
/// Dropping it ends the heartbeats (as `release`) without waiting for the thread.
pub struct LeaseHandle {
    client: Client,
    environment_id: String,
    work_id: String,
    request: RequestOptions,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
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
    /// The work item's id.
    pub fn work_id(&self) -> &str {
        &self.work_id
    }

    /// Whether the lease is lost (a 412, or no heartbeat for a whole TTL): the item is no
    /// longer ours, and [`stop`](LeaseHandle::stop) will not stop it.
    pub fn is_lost(&self) -> bool {
        self.shared.end().is_some_and(|e| e.is_lost())
    }

    /// Whether the item's run must end: the heartbeats ended (a stop asked for, the lease
    /// lost or refused).
    pub fn should_stop(&self) -> bool {
        self.shared.ended.is_set()
    }

    /// Why the heartbeats ended, once they have.
    pub fn end(&self) -> Option<LeaseEnd> {
        self.shared.end()
    }

    /// The signal set when the item's run must end; hand it to whatever runs the item.
    pub fn stop_signal(&self) -> StopSignal {
        self.shared.ended.clone()
    }

    /// The lease TTL the server last reported (none before the first heartbeat answered):
    /// how long a result may be retried while the lease lives.
    pub fn ttl(&self) -> Option<Duration> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ttl
    }

    /// How many heartbeats the server has answered.
    pub fn heartbeats(&self) -> u64 {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .heartbeats
    }

    /// Ends the heartbeats and waits for the thread; the item is left as it is (for one
    /// another process stops). Returns why the heartbeats ended.
    pub fn release(mut self) -> LeaseEnd {
        self.finish()
    }

    /// Ends the heartbeats, then stops the item (`force` for no graceful shutdown; a 409,
    /// already stopped, is success) — unless the lease was lost, when the item belongs to the
    /// queue or another worker and is left alone. Returns why the heartbeats ended.
    pub fn stop(mut self, force: bool) -> Result<LeaseEnd> {
        let end = self.finish();
        if end.is_lost() {
            log::info!(
                "lease lost; released work_id={} without stopping it",
                self.work_id
            );
            return Ok(end);
        }
        let options = self
            .request
            .clone()
            .header("x-stainless-helper", HELPER_WORKER);
        stop_work(
            &self.client,
            &self.environment_id,
            &self.work_id,
            force,
            &options,
        )?;
        Ok(end)
    }

    fn finish(&mut self) -> LeaseEnd {
        self.shared.finish(LeaseEnd::Released);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.end().unwrap_or(LeaseEnd::Released)
    }
}

impl Drop for LeaseHandle {
    fn drop(&mut self) {
        self.shared.finish(LeaseEnd::Released);
    }
}
