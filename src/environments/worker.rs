//! The environment worker: claims work items with the [`Poller`], and for each `session` item
//! keeps its lease with the [`LeaseKeeper`] (started before anything slow), retrieves the
//! session (a terminated one is stopped at once), hands it to the caller's session handler,
//! then force-stops the item unless the lease was lost — as the official `EnvironmentWorker`
//! does. N items at once on threads; one bad item fails that item, not the worker.
//!
//! Each item's calls authenticate with the sessions token from the item's `secret` (a
//! base64url JSON payload) when it has one, else with the environment key.

use super::context::{SessionHandler, WorkContext};
use super::default_session::{run_session, ToolFn};
use super::handover::sessions_token;
use super::memory::MemoryOptions;
use super::{
    LeaseEnd, LeaseHandle, LeaseKeeper, LeaseOptions, Poller, PollerOptions, StopSignal, WorkItem,
    WORK_REQUEST_TIMEOUT,
};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::types::{Session, SessionStatus};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How one item went.
#[derive(Debug)]
#[non_exhaustive]
pub struct ItemReport {
    /// The work item's id.
    pub work_id: String,
    /// The session's id (`data.id`).
    pub session_id: String,
    /// What was done with it.
    pub disposition: Disposition,
    /// Why its heartbeats ended (none when no lease was taken).
    pub lease_end: Option<LeaseEnd>,
    /// Whether the item was stopped (`POST .../stop`); never after a lost lease.
    pub stopped: bool,
}

/// What the worker did with an item.
#[derive(Debug)]
#[non_exhaustive]
pub enum Disposition {
    /// Not a session item (`data.type` was something else): stopped without running.
    Skipped,
    /// The session had terminated: stopped without running.
    Terminated,
    /// The session handler ran and returned `Ok`.
    Ran,
    /// The session retrieval or the handler failed, or the handler panicked.
    Failed(Error),
    /// The first heartbeat did not claim the item (another worker holds it, the heartbeat
    /// was refused, or the server said stop): nothing was read or run, and the item was
    /// stopped only if its lease was not lost.
    NotClaimed,
}

/// What [`EnvironmentWorker::run`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Items claimed.
    pub claimed: u64,
    /// Items whose session handler ran and returned `Ok`.
    pub ran: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items skipped (not sessions, or terminated sessions).
    pub skipped: u64,
    /// Items whose lease was lost.
    pub lost: u64,
}

/// A self-hosted environment worker, blocking, on threads.
///
/// ```no_run
/// use managed_agents::Client;
///
/// let client = Client::from_env()?;
/// let worker = client
///     .environments()
///     .work()
///     .worker()
///     .environment_id("env_123")
///     .environment_key(std::env::var("ENVIRONMENT_KEY").unwrap())
///     .concurrency(4)
///     .on_session(|ctx| {
///         println!("running {}", ctx.session().id);
///         Ok(())
///     });
/// let stop = worker.stop_signal(); // set it from another thread (a Ctrl-C handler) to end run()
/// # let _ = stop;
/// let stats = worker.run()?;
/// println!("{} items", stats.claimed);
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct EnvironmentWorker {
    client: Client,
    environment_id: Option<String>,
    environment_key: Option<String>,
    worker_id: Option<String>,
    workdir: PathBuf,
    concurrency: usize,
    poller: PollerOptions,
    lease: LeaseOptions,
    handler: Option<Arc<SessionHandler>>,
    tools: Vec<(String, ToolFn)>,
    on_report: Option<Arc<OnReport>>,
    stop: StopSignal,
    memory: MemoryOptions,
    extra_headers: Vec<(String, String)>,
}

/// What [`EnvironmentWorker::on_report`] calls.
type OnReport = dyn Fn(&WorkItem, &Result<ItemReport>) + Send + Sync;

impl std::fmt::Debug for EnvironmentWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvironmentWorker")
            .field("environment_id", &self.environment_id)
            .field(
                "environment_key",
                &self.environment_key.as_ref().map(|_| "<redacted>"),
            )
            .field("workdir", &self.workdir)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl crate::operations::EnvironmentsWork<'_> {
    /// Returns an [`EnvironmentWorker`] on this client, as the official SDKs'
    /// `client.beta.environments.work.worker(..)`.
    pub fn worker(&self) -> EnvironmentWorker {
        EnvironmentWorker::new(self.client())
    }
}

impl EnvironmentWorker {
    /// Creates a worker on `client` (any credential: every call the worker makes uses the environment
    /// key or an item's sessions token, never the client's API key). The work directory is
    /// the current directory now.
    pub fn new(client: &Client) -> EnvironmentWorker {
        EnvironmentWorker {
            client: client.clone(),
            environment_id: None,
            environment_key: None,
            worker_id: None,
            workdir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            concurrency: 1,
            poller: PollerOptions::new().auto_stop(false),
            lease: LeaseOptions::new(),
            handler: None,
            tools: Vec::new(),
            on_report: None,
            stop: StopSignal::new(),
            memory: MemoryOptions::default(),
            extra_headers: Vec::new(),
        }
    }

    /// Sets the environment to poll (needed by [`run`](Self::run)).
    pub fn environment_id(mut self, id: impl Into<String>) -> Self {
        self.environment_id = Some(id.into());
        self
    }

    /// Sets the environment key: the worker's standing credential.
    pub fn environment_key(mut self, key: impl Into<String>) -> Self {
        self.environment_key = Some(key.into());
        self
    }

    /// Sets the `Anthropic-Worker-ID` of the polls (default: host name and a random suffix).
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = Some(id.into());
        self
    }

    /// Sets the directory the sessions' tools run in.
    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.workdir = dir.into();
        self
    }

    /// Sets how many items run at once, each on its own thread (default 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets how the poller polls (sleeps, backoff, reclaim, drain). Its `auto_stop` is always off
    /// (the worker stops each item itself) and its key and worker id are the worker's.
    pub fn poller_options(mut self, options: PollerOptions) -> Self {
        self.poller = options;
        self
    }

    /// Sets a header sent on every call the worker makes: poll, ack, heartbeat and stop, the read
    /// of the session, the skill and memory requests, and the session runner's (as the
    /// official worker's `extra_headers`; for caller passthrough such as trace ids, not auth:
    /// credential headers are not carried).
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Sets how each item's lease is kept.
    pub fn lease_options(mut self, options: LeaseOptions) -> Self {
        self.lease = options;
        self
    }

    /// Sets the handler of a custom tool for the default session handler (see
    /// [`on_session`](Self::on_session)); as [`SessionRunner::tool`](crate::runner::SessionRunner::tool).
    pub fn tool<T, E, F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(&crate::runner::ToolCall) -> std::result::Result<T, E> + Send + Sync + 'static,
        T: Into<crate::runner::ToolOutput>,
        E: std::fmt::Display,
    {
        self.tools.push((
            name.into(),
            Arc::new(move |c| f(c).map(Into::into).map_err(|e| e.to_string())),
        ));
        self
    }

    /// Called by [`run`](Self::run) with each item it claimed once the item is done (from the
    /// thread that served it): for progress output.
    pub fn on_report(
        mut self,
        f: impl Fn(&WorkItem, &Result<ItemReport>) + Send + Sync + 'static,
    ) -> Self {
        self.on_report = Some(Arc::new(f));
        self
    }

    /// Sets the per-session work, run for each claimed `session` item while its lease is kept.
    /// Return when the session is done or [`WorkContext::should_stop`] says so.
    ///
    /// Without one, each item runs the default: a work directory of its own under
    /// [`workdir`](Self::workdir) (named after the item) holding the agent's skills in
    /// `skills/<name>/` and the session's memory stores (synced back as the session runs and
    /// at its end), the local agent toolset there for
    /// the built-in tools, the handlers given to [`tool`](Self::tool) for custom tools, the
    /// session's runner until it is idle or the lease (or the worker) says stop.
    pub fn on_session(
        mut self,
        handler: impl Fn(&WorkContext<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// Sets how often the default handler syncs the session's memory stores back while it runs
    /// (default [`DEFAULT_MEMORY_SYNC_INTERVAL`](super::DEFAULT_MEMORY_SYNC_INTERVAL), at
    /// least [`MIN_MEMORY_SYNC_INTERVAL`](super::MIN_MEMORY_SYNC_INTERVAL)); `None` runs the
    /// sessions without their memory stores.
    pub fn memory_sync_interval(mut self, interval: Option<Duration>) -> Self {
        self.memory.interval = interval;
        self
    }

    /// Sets whether a file deleted in a memory store's folder deletes the memory on the server
    /// (default [`MemoryDeleteMode::Enabled`](super::MemoryDeleteMode::Enabled)).
    pub fn memory_sync_deletions(mut self, mode: super::MemoryDeleteMode) -> Self {
        self.memory.deletions = mode;
        self
    }

    /// Returns the signal that ends [`run`](Self::run): no new item is claimed once it is set, and
    /// `run` returns when the items under way are done.
    pub fn stop_signal(&self) -> StopSignal {
        self.stop.clone()
    }

    /// Polls the environment and serves each claimed item until the stop signal is set (or,
    /// with a draining poller, the queue is empty). A fatal poll failure (a bad key, a
    /// missing environment) ends it with that error; a failed item does not.
    pub fn run(&self) -> Result<WorkerStats> {
        self.memory.check()?;
        let environment_id = self.environment_id.as_deref().ok_or_else(|| {
            Error::invalid_input(
                "environment_id",
                "EnvironmentWorker::run needs an environment id",
            )
        })?;
        let key = self.environment_key.clone().ok_or_else(|| {
            Error::invalid_input(
                "environment_key",
                "EnvironmentWorker::run needs the environment key",
            )
        })?;
        let mut options = self
            .poller
            .clone()
            .environment_key(key)
            .auto_stop(false)
            .stop_signal(self.stop.clone());
        if let Some(id) = &self.worker_id {
            options = options.worker_id(id.clone());
        }
        let client = self.client.with_headers(&self.extra_headers);
        let poller = Mutex::new(Poller::new(&client, environment_id, options)?);
        let stats = Mutex::new(WorkerStats::default());
        let fatal: Mutex<Option<Error>> = Mutex::new(None);
        // the items' spans are children of the caller's, if it has one
        let parent = crate::trace::Parent::current();
        std::thread::scope(|scope| {
            for _ in 0..self.concurrency {
                scope.spawn(|| {
                    parent.run(|| loop {
                        let next = poller.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let item = match next {
                            None => return,
                            Some(Err(e)) => {
                                *fatal.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                                self.stop.set();
                                return;
                            }
                            Some(Ok(item)) => item,
                        };
                        let report = self.serve(&item, self.environment_key.as_deref());
                        if let Some(f) = &self.on_report {
                            f(&item, &report);
                        }
                        let mut s = stats.lock().unwrap_or_else(PoisonError::into_inner);
                        s.claimed += 1;
                        match &report {
                            Ok(r) => {
                                if r.lease_end.as_ref().is_some_and(LeaseEnd::is_lost) {
                                    s.lost += 1;
                                }
                                match &r.disposition {
                                    Disposition::Ran => s.ran += 1,
                                    Disposition::NotClaimed => {}
                                    Disposition::Failed(e) => {
                                        log::error!(
                                            "work item failed work_id={} error={e}",
                                            item.id
                                        );
                                        s.failed += 1
                                    }
                                    _ => s.skipped += 1,
                                }
                            }
                            Err(e) => {
                                log::error!("work item failed work_id={} error={e}", item.id);
                                s.failed += 1;
                            }
                        }
                    })
                });
            }
        });
        if let Some(e) = fatal.into_inner().unwrap_or_else(PoisonError::into_inner) {
            return Err(e);
        }
        Ok(stats.into_inner().unwrap_or_else(PoisonError::into_inner))
    }

    /// Serves one already-claimed item (from [`WorkItem::from_env`], or a poller of one's
    /// own): lease, session, handler, stop. The environment key is this worker's, else
    /// `ANTHROPIC_ENVIRONMENT_KEY`; it is needed only when the item's secret carries no
    /// sessions token.
    pub fn handle_item(&self, item: &WorkItem) -> Result<ItemReport> {
        self.memory.check()?;
        let key = self.environment_key.clone().or_else(|| {
            std::env::var("ANTHROPIC_ENVIRONMENT_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        });
        self.serve(item, key.as_deref())
    }

    /// The user's session handler, or the default one: run the session's tools until idle.
    fn handler(&self) -> Arc<SessionHandler> {
        match &self.handler {
            Some(h) => h.clone(),
            None => {
                let tools = self.tools.clone();
                let memory = self.memory.clone();
                Arc::new(move |ctx: &WorkContext<'_>| run_session(ctx, &tools, &memory))
            }
        }
    }

    /// [`Self::serve_item`] in the item's `anthropic.environment.work` span (feature
    /// `tracing`).
    fn serve(&self, item: &WorkItem, environment_key: Option<&str>) -> Result<ItemReport> {
        crate::trace::in_work_span(item, || self.serve_item(item, environment_key))
    }

    fn serve_item(&self, item: &WorkItem, environment_key: Option<&str>) -> Result<ItemReport> {
        let handler = self.handler();
        let token = sessions_token(item.secret.as_deref());
        if item.secret.is_some() && token.is_none() {
            log::warn!(
                "work item carried a secret but no sessions token; falling back to the environment key work_id={}",
                item.id
            );
        }
        let credential = token.or(environment_key.map(String::from)).ok_or_else(|| {
            Error::invalid_input(
                "environment_key",
                format!("work item {}: its secret yields no sessions token and no environment key is set", item.id),
            )
        })?;
        let client = self
            .client
            .with_environment_key(credential)?
            .with_headers(&self.extra_headers);
        let mut report = ItemReport {
            work_id: item.id.clone(),
            session_id: item.data_id.clone(),
            disposition: Disposition::Skipped,
            lease_end: None,
            stopped: false,
        };
        // claim before serving: nothing is read or run before the first heartbeat extends
        // the lease
        let lease = LeaseKeeper::start_item(&client, item, self.lease.clone())?;
        if let Err(end) = lease.wait_claim() {
            log::warn!(
                "the work item was not claimed work_id={} end={end:?}",
                item.id
            );
            report.disposition = Disposition::NotClaimed;
        } else if let Some(session_id) = item.session_id() {
            report.disposition = match read_session(&client, session_id, &lease) {
                Err(e) => Disposition::Failed(e),
                Ok(session) if session.status == SessionStatus::Terminated => {
                    log::info!("skipping the work item of a terminated session work_id={} session_id={session_id}", item.id);
                    Disposition::Terminated
                }
                Ok(session) => {
                    let ctx = WorkContext {
                        item,
                        session: &session,
                        client: &client,
                        workdir: &self.workdir,
                        lease: &lease,
                        worker_stop: &self.stop,
                    };
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&ctx))) {
                        Ok(Ok(())) => Disposition::Ran,
                        Ok(Err(e)) => Disposition::Failed(e),
                        Err(panic) => Disposition::Failed(Error::invalid_input(
                            "on_session",
                            format!("the session handler panicked: {}", panic_text(&*panic)),
                        )),
                    }
                }
            };
        } else {
            log::debug!(
                "skipping non-session work item work_id={} type={}",
                item.id,
                item.kind
            );
        }
        let end = match lease.stop(true) {
            Ok(end) => {
                report.stopped = !end.is_lost();
                end
            }
            Err(e) => {
                log::error!("force-stop on exit failed work_id={} error={e}", item.id);
                // the lease was held; the item goes back to the queue when its TTL runs out
                LeaseEnd::Released
            }
        };
        if end.is_lost() {
            item.mark_lease_lost();
            if let Disposition::Failed(e) = &report.disposition {
                log::error!(
                    "work item failed after its lease was lost work_id={} error={e}",
                    item.id
                );
            }
        }
        report.lease_end = Some(end);
        Ok(report)
    }
}

/// Reads the item's session; a failed read would stop the item, so a transient failure is
/// tried again (with backoff, each try within 30 s) while the lease lasts.
fn read_session(client: &Client, session_id: &str, lease: &LeaseHandle) -> Result<Session> {
    let options = worker_request().timeout(WORK_REQUEST_TIMEOUT);
    let mut retry = 0;
    loop {
        let error = match client.sessions().retrieve_with(session_id, &options) {
            Ok(session) => return Ok(session),
            Err(e) => e,
        };
        if !super::is_transient(&error) || lease.should_stop() {
            return Err(error);
        }
        let wait = crate::retry::backoff(retry);
        log::warn!("reading the session failed, trying again in {wait:?} session_id={session_id} error={error}");
        if lease.stop_signal().wait(wait) {
            return Err(error);
        }
        retry += 1;
    }
}

/// Options of the worker's own calls (the stops), tagged as the official worker tags them.
fn worker_request() -> crate::RequestOptions {
    crate::RequestOptions::new().header("x-stainless-helper", super::HELPER_WORKER)
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
