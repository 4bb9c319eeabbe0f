//! One lease's heartbeats on a thread of their own: the loop, each round (a heartbeat and its
//! retries), what an answer means for the lease, and the state the loop shares with the
//! handle.

use super::options::LeaseOptions;
use crate::client::Client;
use crate::environments::{call_json, is_transient, StopSignal, WorkItem, HELPER_WORKER};
use crate::error::{Error, Result};
use crate::types::{SelfHostedWorkHeartbeatResponse, SelfHostedWorkHeartbeatResponseState};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The `expected_last_heartbeat` of an item's first heartbeat, claiming a lease no one holds.
pub const NO_HEARTBEAT: &str = "NO_HEARTBEAT";

/// How long a heartbeat in flight may delay the end of a lease (its answer may say it was lost).
pub(super) const HEARTBEAT_GRACE: Duration = Duration::from_secs(5);

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

/// What the heartbeat thread and the handle share.
#[derive(Debug)]
pub(super) struct State {
    pub(super) end: Option<LeaseEnd>,
    pub(super) ttl: Option<Duration>,
    pub(super) last_heartbeat: Option<String>,
    pub(super) heartbeats: u64,
    pub(super) claimed: bool,
    /// When the lease runs out unless a heartbeat extends it.
    pub(super) expires_at: Instant,
    /// Whether a heartbeat is in flight.
    pub(super) in_flight: bool,
    /// Set once the heartbeat thread has returned.
    pub(super) finished: bool,
}

pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Set when heartbeating ends, for whatever reason: the run must end.
    pub(super) ended: StopSignal,
    /// Set when the caller lets go of the lease: the heartbeat thread must end.
    pub(super) released: StopSignal,
    /// Notified whenever `state` changes.
    pub(super) changed: Condvar,
    /// The item whose lease this is, marked lost the moment it is
    /// ([`LeaseKeeper::start_item`]).
    pub(super) item: Option<WorkItem>,
}

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records why heartbeating ended; the first reason wins.
    pub(super) fn finish(&self, end: LeaseEnd) {
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
    pub(super) fn mark_lost(&self) {
        if let Some(item) = &self.item {
            item.mark_lease_lost();
        }
    }

    /// Changes the state and wakes whoever waits on it.
    pub(super) fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `done` holds of the state, or `until`; returns what `done` last said.
    pub(super) fn wait_until(&self, until: Option<Instant>, done: impl Fn(&State) -> bool) -> bool {
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

    pub(super) fn end(&self) -> Option<LeaseEnd> {
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

/// The heartbeat loop's own state.
pub(super) struct Beat {
    pub(super) client: Client,
    pub(super) environment_id: String,
    pub(super) work_id: String,
    pub(super) options: LeaseOptions,
    pub(super) shared: Arc<Shared>,
}

/// How one round of heartbeats (a heartbeat and its retries) ended.
enum Round {
    /// The lease was extended; the next heartbeat is due then.
    Extended(Instant),
    /// Heartbeating is over (the reason is recorded).
    Over,
}

impl Beat {
    pub(super) fn run(&self) {
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
            let wait = crate::environments::uniform(delay / 2, delay);
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
