//! The work queues of self-hosted environments as the emulator keeps them: the items, their
//! leases, every hand-out of an item ([`WorkHolder`]), the graceful stops under way and the
//! workers that polled. The routes that change them are in `resources::work`.

use crate::store::{Clock, Table};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a gracefully stopped item stays `stopping` before it is `stopped`.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What the emulator keeps of a work item besides its JSON: its lease.
pub(crate) struct Lease {
    /// The last poll, ack or heartbeat that renewed it.
    pub(crate) touched: Instant,
    pub(crate) ttl: Duration,
    /// The `last_heartbeat` the next heartbeat must expect; `None` before the first.
    pub(crate) last_heartbeat: Option<String>,
}

/// One hand-out of a work item, as the emulator saw it: a worker held the item from its claim
/// (the first heartbeat that extended the lease) until the lease ran out or the item was
/// stopped, and made its session requests with the sessions token of this hand-out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WorkHolder {
    /// The work item.
    pub work_id: String,
    /// When a poll handed the item out.
    pub handed_out_at: Instant,
    /// When the first heartbeat extended the lease; `None` if none did.
    pub claimed_at: Option<Instant>,
    /// When the lease ended: the last extension's expiry, or the stop (or a later hand-out)
    /// if earlier; `None` while it runs or before a claim.
    pub lease_ended_at: Option<Instant>,
    /// When each session request (`/v1/sessions/...`) made with this hand-out's sessions
    /// token arrived, with its method.
    pub session_requests: Vec<(Instant, String)>,
    /// When a stop of the item (by anyone) ended the lease.
    pub stopped_at: Option<Instant>,
    /// When the lease first ran out while the holder still heartbeated it (extended late): a
    /// holder that believed it held the item then was wrong.
    pub lapsed_at: Option<Instant>,
    /// The hand-out's sessions token.
    pub(crate) token: String,
    /// When the lease runs out unless extended.
    pub(crate) expires_at: Option<Instant>,
    /// When a later hand-out ended it.
    pub(crate) ended_at: Option<Instant>,
}

impl WorkHolder {
    /// Returns the record as a test reads it: `lease_ended_at` settled from the expiry and
    /// the end.
    fn settled(&self) -> WorkHolder {
        let mut h = self.clone();
        let expired = self.expires_at.filter(|e| *e <= Instant::now());
        h.lease_ended_at = self.claimed_at.and(
            [expired, self.ended_at, self.stopped_at, self.lapsed_at]
                .into_iter()
                .flatten()
                .min(),
        );
        h
    }
}

/// Every environment's work queue: the items (as the API returns them) and their leases.
pub(crate) struct Queue {
    pub(crate) items: Table,
    pub(crate) leases: HashMap<String, Lease>,
    /// Every hand-out of every item, oldest first.
    pub(crate) holders: Vec<WorkHolder>,
    /// Heartbeats answered (for `heartbeat_error_every`).
    pub(crate) heartbeats: usize,
    /// Items stopped gracefully, and when.
    pub(crate) stopping: HashMap<String, Instant>,
    /// Per environment, the `Anthropic-Worker-ID`s of its polls and when each last polled.
    pub(crate) pollers: HashMap<String, HashMap<String, Instant>>,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            items: Table::new("work", "work_deleted", &["metadata"]),
            leases: HashMap::new(),
            holders: Vec::new(),
            heartbeats: 0,
            stopping: HashMap::new(),
            pollers: HashMap::new(),
        }
    }
}

impl Queue {
    /// Returns every hand-out of every item so far, oldest first.
    pub(crate) fn holders(&self) -> Vec<WorkHolder> {
        self.holders.iter().map(WorkHolder::settled).collect()
    }

    /// Notes a session request made with a sessions token, for the hand-out that token belongs
    /// to.
    pub(crate) fn observe(&mut self, token: &str, method: &str) {
        if let Some(h) = self.holders.iter_mut().rev().find(|h| h.token == token) {
            h.session_requests
                .push((Instant::now(), method.to_string()));
        }
    }

    /// Returns the current hand-out of an item.
    pub(crate) fn holder(&mut self, id: &str) -> Option<&mut WorkHolder> {
        self.holders.iter_mut().rev().find(|h| h.work_id == id)
    }

    /// Ends the graceful stops whose grace is over: those items are `stopped` now (on `clock`).
    pub(crate) fn settle(&mut self, clock: &mut Clock) {
        let over: Vec<String> = self
            .stopping
            .iter()
            .filter(|(_, at)| at.elapsed() >= STOP_GRACE)
            .map(|(id, _)| id.clone())
            .collect();
        for id in over {
            self.stopping.remove(&id);
            let now = clock.now();
            if let Ok(w) = self.items.get_mut(&id) {
                if w["state"] == "stopping" {
                    w["state"] = json!("stopped");
                    w["stopped_at"] = json!(now);
                }
            }
        }
    }
}
