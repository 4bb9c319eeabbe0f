//! The work poller: an iterator of work items claimed from one self-hosted environment.
//! Long-polls `GET /v1/environments/{id}/work/poll` (`block_ms` up to 999), sleeps a random
//! 1–3 s after an empty poll, backs off exponentially with jitter (capped at 60 s) on
//! transient failures, returns a fatal 4xx at once, and acknowledges each item before handing
//! it out — as the official SDKs' `iter_work` / `WorkPoller` do. An item whose ack fails is
//! neither handed out nor stopped (it goes back to the queue). With `auto_stop`, the item is
//! force-stopped with its own sessions token when the caller is done with it (falling back to
//! a plain stop with the environment key on a 401), unless its lease was lost
//! ([`WorkItem::mark_lease_lost`]). Stoppable from any thread.

use super::{
    call, call_json, is_transient, stop_work, uniform, StopSignal, WorkItem, HELPER_POLLER,
    WORK_REQUEST_TIMEOUT,
};
use crate::body::Body;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::operations::EnvironmentsWork;
use crate::request_options::RequestOptions;
use std::time::Duration;

/// The `block_ms` a poll asks for by default; the API accepts 1 to 999.
pub const POLL_BLOCK_MS: u32 = 999;

/// How a [`Poller`] polls. The defaults are the official SDKs'.
///
/// ```
/// use managed_agents::environments::PollerOptions;
/// use std::time::Duration;
///
/// let options = PollerOptions::new()
///     .environment_key("envkey-...")
///     .worker_id("build-box-7")
///     .reclaim_older_than_ms(30_000)
///     .drain(true);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct PollerOptions {
    pub(crate) environment_key: Option<String>,
    worker_id: Option<String>,
    block_ms: Option<u32>,
    reclaim_older_than_ms: Option<u64>,
    drain: bool,
    auto_stop: bool,
    empty_sleep: (Duration, Duration),
    backoff_base: Duration,
    backoff_cap: Duration,
    request: RequestOptions,
    stop: Option<StopSignal>,
}

impl Default for PollerOptions {
    fn default() -> Self {
        PollerOptions {
            environment_key: None,
            worker_id: None,
            block_ms: Some(POLL_BLOCK_MS),
            reclaim_older_than_ms: None,
            drain: false,
            auto_stop: true,
            empty_sleep: (Duration::from_secs(1), Duration::from_secs(3)),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
            request: RequestOptions::new(),
            stop: None,
        }
    }
}

impl PollerOptions {
    /// Returns the official defaults: `block_ms` 999, no reclaim, endless, items stopped when done.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the environment key the poll, ack and stop calls authenticate with (as
    /// `Authorization: Bearer`, no `x-api-key`). Unset: the client's own credential, which
    /// must then be an environment key ([`ClientBuilder::environment_key`](crate::ClientBuilder::environment_key)).
    pub fn environment_key(mut self, key: impl Into<String>) -> Self {
        self.environment_key = Some(key.into());
        self
    }

    /// Sets the `Anthropic-Worker-ID` every poll carries (default: the host name and a random
    /// suffix, [`default_worker_id`](super::default_worker_id)).
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = Some(id.into());
        self
    }

    /// Sets how long the server holds an empty poll open, 1 to 999 ms (default 999); `None` sends
    /// no `block_ms`, a poll that returns at once (the server refuses 0).
    pub fn block_ms(mut self, ms: Option<u32>) -> Self {
        self.block_ms = ms;
        self
    }

    /// Reclaims items acknowledged by no one for this long (`reclaim_older_than_ms`), so the
    /// work of a worker that died comes back (default: the server's, 5 s).
    pub fn reclaim_older_than_ms(mut self, ms: u64) -> Self {
        self.reclaim_older_than_ms = Some(ms);
        self
    }

    /// Ends the iteration at the first empty poll instead of polling again (default off).
    pub fn drain(mut self, drain: bool) -> Self {
        self.drain = drain;
        self
    }

    /// Sets whether the poller force-stops (`POST .../stop`) each item it handed out once the
    /// caller asks for the next one or drops the poller (default true, as the official
    /// poller), with the item's sessions token (a plain stop with the environment key if that
    /// is refused with 401) — never an item whose lease was lost
    /// ([`WorkItem::mark_lease_lost`]). Turn it off when something else owns the item, such
    /// as a [`LeaseHandle`](super::LeaseHandle).
    pub fn auto_stop(mut self, auto_stop: bool) -> Self {
        self.auto_stop = auto_stop;
        self
    }

    /// Sets the range of the random sleep after an empty poll (default 1 to 3 s).
    pub fn empty_poll_sleep(mut self, low: Duration, high: Duration) -> Self {
        self.empty_sleep = (low, high.max(low));
        self
    }

    /// Sets the backoff after the n-th failure in a row: `min(cap, base * 2^n)` plus up to `base`
    /// of jitter (default base 1 s, cap 60 s).
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap;
        self
    }

    /// Sets a signal of the caller's that ends the iteration when set (default: a new one, from
    /// [`Poller::stop_signal`]).
    pub fn stop_signal(mut self, signal: StopSignal) -> Self {
        self.stop = Some(signal);
        self
    }

    /// Sets the options for every poll, ack and stop call (deadline, retries, extra headers).
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request = options;
        self
    }
}

/// Claims work items from one environment: each `next()` long-polls until an item comes,
/// acknowledges it, and returns it.
///
/// Transient failures (connection errors, 408, 409, 429, 5xx) are retried with backoff and
/// never end the iteration; a fatal one (401, 403, 404, ...) is returned once, then the
/// iteration ends. In drain mode the iteration ends at the first empty poll. A
/// [`StopSignal`] from [`Poller::stop_signal`] ends it from any thread: a sleep ends at once,
/// a poll in flight within its `block_ms`.
///
/// ```no_run
/// use managed_agents::{environments::PollerOptions, Client};
///
/// let client = Client::from_env()?;
/// let options = PollerOptions::new().environment_key(std::env::var("ENVIRONMENT_KEY").unwrap());
/// for item in client.environments().work().poller("env_123", options)? {
///     let item = item?;
///     println!("claimed {} for session {:?}", item.id, item.session_id());
/// }
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct Poller {
    client: Client,
    environment_id: String,
    options: PollerOptions,
    worker_id: String,
    stop: StopSignal,
    pending_stop: Option<WorkItem>,
    poll_failures: u32,
    ack_failures: u32,
    done: bool,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("environment_id", &self.environment_id)
            .field("worker_id", &self.worker_id)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl EnvironmentsWork<'_> {
    /// Returns a [`Poller`] of this environment's work queue, as the official SDKs'
    /// `client.beta.environments.work.poller(..)`.
    ///
    /// Refuses an empty environment id, an empty key and a `block_ms` outside 1..=999.
    pub fn poller(&self, environment_id: &str, options: PollerOptions) -> Result<Poller> {
        Poller::new(self.client(), environment_id, options)
    }
}

impl Poller {
    /// Creates a poller of `environment_id`'s queue on `client` (see [`EnvironmentsWork::poller`]).
    pub fn new(client: &Client, environment_id: &str, options: PollerOptions) -> Result<Poller> {
        crate::path::path_segment("environment_id", environment_id)?;
        if let Some(ms) = options.block_ms {
            if !(1..=999).contains(&ms) {
                return Err(Error::invalid_input(
                    "block_ms",
                    format!("{ms} is outside 1..=999"),
                ));
            }
        }
        let client = match &options.environment_key {
            Some(key) => client.with_environment_key(key.clone())?,
            None => client.clone(),
        };
        let worker_id = options
            .worker_id
            .clone()
            .unwrap_or_else(super::default_worker_id);
        log::info!("poller starting environment_id={environment_id} worker_id={worker_id}");
        let stop = options.stop.clone().unwrap_or_default();
        Ok(Poller {
            client,
            environment_id: environment_id.to_string(),
            options,
            worker_id,
            stop,
            pending_stop: None,
            poll_failures: 0,
            ack_failures: 0,
            done: false,
        })
    }

    /// Returns the signal that ends the iteration: `set()` it from any thread.
    pub fn stop_signal(&self) -> StopSignal {
        self.stop.clone()
    }

    /// Returns the worker id the polls carry.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Returns the client the poller calls with (authenticated with the environment key), for the
    /// calls that follow a claim: heartbeats, stop.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Stops the last item handed out (when `auto_stop` is on) and ends the iteration.
    pub fn close(&mut self) {
        self.done = true;
        self.run_pending_stop();
    }

    fn request(&self, helper: &str) -> RequestOptions {
        self.options
            .request
            .clone()
            .header("x-stainless-helper", helper)
    }

    /// The `auto_stop` of the last item handed out: forced, with the item's sessions token
    /// when it has one; on a 401, a plain stop with the environment key. Never for an item
    /// whose lease was lost.
    fn run_pending_stop(&mut self) {
        let Some(item) = self.pending_stop.take() else {
            return;
        };
        if item.lease_lost() {
            log::info!("lease lost; not stopping the work item work_id={}", item.id);
            return;
        }
        let options = self.request(HELPER_POLLER);
        let env = if item.environment_id.is_empty() {
            self.environment_id.clone()
        } else {
            item.environment_id.clone()
        };
        // the item's own token is read from its secret with the `worker` feature (base64);
        // without it the stop goes with the environment key alone
        #[cfg(feature = "worker")]
        let token = super::sessions_token(item.secret.as_deref());
        #[cfg(not(feature = "worker"))]
        let token: Option<String> = None;
        let item_client = match token {
            Some(token) => self.client.with_environment_key(token),
            None => Ok(self.client.clone()),
        };
        let forced = item_client.and_then(|c| stop_work(&c, &env, &item.id, true, &options));
        match forced {
            Err(e) if e.status() == Some(401) => {
                // not forced: another worker may be serving the item by now
                if let Err(e) = stop_work(&self.client, &env, &item.id, false, &options) {
                    log::error!("stop failed work_id={} error={e}", item.id);
                }
            }
            Err(e) => log::error!("stop failed work_id={} error={e}", item.id),
            Ok(()) => {}
        }
    }

    /// The wait after the n-th failure in a row (n from 1).
    fn backoff(&self, failures: u32) -> Duration {
        let base = self.options.backoff_base;
        let exp = base
            .checked_mul(1u32 << failures.min(20))
            .unwrap_or(self.options.backoff_cap);
        exp.min(self.options.backoff_cap) + uniform(Duration::ZERO, base)
    }

    /// One poll: the item, or `None` when the queue had nothing.
    fn poll(&self) -> Result<Option<WorkItem>> {
        let mut query: Vec<(&'static str, String)> = Vec::new();
        if let Some(ms) = self.options.block_ms {
            query.push(("block_ms", ms.to_string()));
        }
        if let Some(ms) = self.options.reclaim_older_than_ms {
            query.push(("reclaim_older_than_ms", ms.to_string()));
        }
        let options = self
            .request(HELPER_POLLER)
            .header("Anthropic-Worker-ID", self.worker_id.clone());
        let response = call(
            &self.client,
            "environments.work.poll",
            &[("environment_id", &self.environment_id)],
            query,
            Body::Empty,
            &options,
        )?;
        let bytes = response.bytes()?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        // no excerpt: the body may hold the item's secret
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::decode(e, b""))?;
        WorkItem::from_json(value)
    }

    /// The ack, within 30 s (or the request options' shorter time limit); a 200 whose body is
    /// not JSON is a failure.
    fn ack(&self, item: &WorkItem) -> Result<()> {
        let mut options = self.request(HELPER_POLLER);
        options.timeout = Some(
            options
                .timeout
                .map_or(WORK_REQUEST_TIMEOUT, |t| t.min(WORK_REQUEST_TIMEOUT)),
        );
        call_json(
            &self.client,
            "environments.work.ack",
            &[
                ("environment_id", &self.environment_id),
                ("work_id", &item.id),
            ],
            Vec::new(),
            None,
            &options,
        )
        .map(drop)
    }
}

impl Iterator for Poller {
    type Item = Result<WorkItem>;

    fn next(&mut self) -> Option<Result<WorkItem>> {
        self.run_pending_stop();
        loop {
            if self.done || self.stop.is_set() {
                self.done = true;
                return None;
            }
            let item = match self.poll() {
                Err(e) if !is_transient(&e) => {
                    log::error!("poll failed permanently error={e}");
                    self.done = true;
                    return Some(Err(e));
                }
                Err(e) => {
                    self.poll_failures += 1;
                    let wait = self.backoff(self.poll_failures);
                    log::warn!(
                        "poll failed attempt={} backoff={wait:?} error={e}",
                        self.poll_failures
                    );
                    self.stop.wait(wait);
                    continue;
                }
                Ok(item) => item,
            };
            self.poll_failures = 0;
            let Some(item) = item else {
                if self.options.drain {
                    log::info!("queue drained environment_id={}", self.environment_id);
                    self.done = true;
                    return None;
                }
                log::debug!(
                    "poll returned no work environment_id={}",
                    self.environment_id
                );
                let (low, high) = self.options.empty_sleep;
                self.stop.wait(uniform(low, high));
                continue;
            };
            log::info!("claimed work work_id={} work_type={}", item.id, item.kind);
            match self.ack(&item) {
                Ok(()) => {}
                // neither handed out nor stopped, whatever the failure: the item goes back
                // to the queue when its claim lapses
                Err(e) => {
                    self.ack_failures += 1;
                    let wait = self.backoff(self.ack_failures);
                    log::warn!(
                        "ack failed, backing off work_id={} attempt={} backoff={wait:?} error={e}",
                        item.id,
                        self.ack_failures
                    );
                    self.stop.wait(wait);
                    continue;
                }
            }
            self.ack_failures = 0;
            if self.options.auto_stop {
                self.pending_stop = Some(item.clone());
            }
            return Some(Ok(item));
        }
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.run_pending_stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_to_a_60_second_cap_plus_up_to_a_second_of_jitter() {
        let client = Client::builder()
            .environment_key("k")
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let poller = Poller::new(&client, "env_1", PollerOptions::new()).unwrap();
        for (n, floor) in [
            (1, 2),
            (2, 4),
            (3, 8),
            (5, 32),
            (6, 60),
            (30, 60),
            (u32::MAX, 60),
        ] {
            let d = poller.backoff(n);
            let floor = Duration::from_secs(floor);
            assert!(
                d >= floor && d < floor + Duration::from_secs(1),
                "{n}: {d:?}"
            );
        }
    }
}
