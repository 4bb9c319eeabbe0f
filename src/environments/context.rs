//! What the environment worker hands a session handler for one claimed `session` work item:
//! the item, its session, a client authenticated for it, the work directory, and the lease's
//! and the worker's stop signals.

use super::{StopSignal, WorkItem};
use crate::client::Client;
use crate::error::Result;
use crate::types::Session;
use std::path::Path;
use std::time::Duration;

/// What a session handler gets for one claimed `session` work item.
pub struct WorkContext<'a> {
    pub(super) item: &'a WorkItem,
    pub(super) session: &'a Session,
    pub(super) client: &'a Client,
    pub(super) workdir: &'a Path,
    pub(super) lease: &'a super::LeaseHandle,
    pub(super) worker_stop: &'a StopSignal,
}

impl std::fmt::Debug for WorkContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkContext")
            .field("item", self.item)
            .field("session_id", &self.session.id)
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

impl WorkContext<'_> {
    /// Returns the claimed work item.
    pub fn item(&self) -> &WorkItem {
        self.item
    }

    /// Returns the session to run, as retrieved when the item was claimed.
    pub fn session(&self) -> &Session {
        self.session
    }

    /// Returns a client authenticated for this item (its sessions token, else the environment key):
    /// use it for the session's events.
    pub fn client(&self) -> &Client {
        self.client
    }

    /// Returns the worker's work directory, where the session's tools run.
    pub fn workdir(&self) -> &Path {
        self.workdir
    }

    /// Set when the run must end: the server asked for a stop, or the lease was lost.
    pub fn stop_signal(&self) -> StopSignal {
        self.lease.stop_signal()
    }

    /// Returns the worker's own stop signal: set when the worker is asked to stop (a Ctrl-C handler),
    /// for a handler that ends its item early then rather than finishing it.
    pub fn worker_stop_signal(&self) -> StopSignal {
        self.worker_stop.clone()
    }

    /// Returns whether the run must end now.
    pub fn should_stop(&self) -> bool {
        self.lease.should_stop()
    }

    /// Returns the lease TTL the server last reported: how long a result may be retried.
    pub fn lease_ttl(&self) -> Option<Duration> {
        self.lease.ttl()
    }
}

/// Runs one session of a claimed item: the worker's per-session work.
pub type SessionHandler = dyn Fn(&WorkContext<'_>) -> Result<()> + Send + Sync;
