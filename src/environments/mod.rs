//! Self-hosted environments: the blocking helpers on top of the generated
//! `environments().work()` operations, as the official SDKs ship them. The [`Poller`] claims
//! work items (long-poll, ack, backoff, drain), the [`LeaseKeeper`] keeps an item's lease
//! alive on its own thread (heartbeats with `expected_last_heartbeat`, 412 = lease lost),
//! and the `EnvironmentWorker` (feature `worker`) composes them around a session handler.
//! This file owns what both share: the claimed [`WorkItem`], the worker id, the error
//! classes and the raw calls whose answers the generated types cannot hold (a poll that finds
//! nothing, a stop answered 204, an item of a kind this version does not know).
//!
//! Every call here authenticates with the environment key (`Authorization: Bearer`, no
//! `x-api-key`): build the client with [`ClientBuilder::environment_key`](crate::ClientBuilder::environment_key)
//! or [`Client::with_environment_key`], or give the key in [`PollerOptions::environment_key`].

#[cfg(feature = "worker")]
mod context;
#[cfg(feature = "worker")]
mod default_session;
#[cfg(feature = "worker")]
mod folder;
#[cfg(feature = "worker")]
mod handover;
mod lease;
#[cfg(feature = "worker")]
mod memory;
mod poller;
#[cfg(feature = "worker")]
mod skills;
#[cfg(feature = "worker")]
mod worker;
#[cfg(feature = "worker")]
mod workspace;

pub use crate::cancel::StopSignal;
#[cfg(feature = "worker")]
#[cfg_attr(docsrs, doc(cfg(feature = "worker")))]
pub use context::{SessionHandler, WorkContext};
#[cfg(feature = "worker")]
#[cfg_attr(docsrs, doc(cfg(feature = "worker")))]
pub use handover::sessions_token;
pub use lease::{LeaseEnd, LeaseHandle, LeaseKeeper, LeaseOptions, NO_HEARTBEAT};
#[cfg(feature = "worker")]
#[cfg_attr(docsrs, doc(cfg(feature = "worker")))]
pub use memory::{
    MemoryDeleteMode, DEFAULT_MEMORY_SYNC_INTERVAL, DELETE_CORROBORATION, MARKER_PATH,
    MEMORY_FLUSH_TIMEOUT, MEMORY_REQUEST_TIMEOUT, MIN_MEMORY_SYNC_INTERVAL,
};
pub use poller::{Poller, PollerOptions, POLL_BLOCK_MS};
#[cfg(feature = "worker")]
#[cfg_attr(docsrs, doc(cfg(feature = "worker")))]
pub use skills::{
    MAX_SKILL_ENTRIES, MAX_SKILL_ENTRY_RATIO, MAX_SKILL_UNPACKED_BYTES, SKILLS_DIR,
    SKILL_ENTRY_RATIO_FREE_BYTES,
};
#[cfg(feature = "worker")]
#[cfg_attr(docsrs, doc(cfg(feature = "worker")))]
pub use worker::{Disposition, EnvironmentWorker, ItemReport, WorkerStats};

use crate::body::Body;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::response::Response;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The `x-stainless-helper` value the official SDKs tag the poller's calls with.
const HELPER_POLLER: &str = "environments-work-poller";
/// The `x-stainless-helper` value the official SDKs tag the worker's heartbeats and stops with.
const HELPER_WORKER: &str = "environments-worker";

/// A work item claimed from a self-hosted environment's queue (already acknowledged when a
/// [`Poller`] hands it out).
///
/// Kept as the server sent it: an item whose `data.type` this version does not model (the
/// queue also sends `healthcheck` items) is still an item, never a decode error. The
/// `secret` never appears in `Debug`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct WorkItem {
    /// The work item's id (`work_...`).
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// `data.type`: `session` for a session to run; other kinds are skipped by a worker.
    pub kind: String,
    /// `data.id`: for a `session` item, the session's id.
    pub data_id: String,
    /// The item's state when it was read (`queued`, `starting`, `active`, ...).
    pub state: String,
    /// The item's metadata.
    pub metadata: BTreeMap<String, String>,
    /// The per-item credential payload a poll may carry (opaque; never log it).
    pub secret: Option<String>,
    /// The whole item as the server sent it, its secret included.
    raw: Value,
    /// Set when the item's lease was lost; shared by the item's clones.
    lease_lost: LeaseLostMark,
}

/// Whether an item's lease was lost, seen by every clone of the item (the poller that handed
/// it out keeps one, so that its `auto_stop` never stops an item another worker may hold).
#[derive(Clone, Default)]
struct LeaseLostMark(std::sync::Arc<std::sync::atomic::AtomicBool>);

/// Items are equal by what the server sent, whatever became of their leases.
impl PartialEq for LeaseLostMark {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for WorkItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkItem")
            .field("id", &self.id)
            .field("environment_id", &self.environment_id)
            .field("kind", &self.kind)
            .field("data_id", &self.data_id)
            .field("state", &self.state)
            .field("metadata", &self.metadata)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl WorkItem {
    /// Returns the item from a poll's JSON body: `None` for an empty poll (`null`, an empty body, or
    /// an object without an id), an error naming what is missing for anything else malformed.
    pub fn from_json(value: Value) -> Result<Option<WorkItem>> {
        let Value::Object(map) = &value else {
            return match value {
                Value::Null => Ok(None),
                other => Err(Error::Decode {
                    message: "a work item is not a JSON object".into(),
                    excerpt: excerpt(&other),
                }),
            };
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("");
        let id = text("id");
        if id.is_empty() {
            return Ok(None);
        }
        let data = map.get("data");
        let data_text = |key: &str| {
            data.and_then(|d| d.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let metadata = map
            .get("metadata")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(WorkItem {
            id: id.to_string(),
            environment_id: text("environment_id").to_string(),
            kind: data_text("type").to_string(),
            data_id: data_text("id").to_string(),
            state: text("state").to_string(),
            metadata,
            secret: map
                .get("secret")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from),
            raw: value,
            lease_lost: LeaseLostMark::default(),
        }))
    }

    /// Records that the item's lease was lost (a heartbeat answered 412 or refused, the lease
    /// expired, a stop answered 401): the item may belong to another worker now, and nothing
    /// holding this item or a clone of it — a [`Poller`]'s `auto_stop` included — stops it.
    pub fn mark_lease_lost(&self) {
        self.lease_lost
            .0
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Returns whether [`mark_lease_lost`](WorkItem::mark_lease_lost) was called on this item or a
    /// clone of it.
    pub fn lease_lost(&self) -> bool {
        self.lease_lost.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Returns the whole item as the server sent it. It holds the item's `secret`: never log it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Returns whether the item is a session to run (`data.type == "session"`).
    pub fn is_session(&self) -> bool {
        self.kind == "session"
    }

    /// Returns the session to run, for a `session` item.
    pub fn session_id(&self) -> Option<&str> {
        (self.is_session() && !self.data_id.is_empty()).then_some(self.data_id.as_str())
    }
}

/// The start of a JSON value, for an error message.
fn excerpt(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

/// Whether a failure is worth trying again (connection errors, timeouts, 408, 409, 429, 5xx,
/// an answer that did not decode); anything else — a 401, 403, 404, a refused argument — is
/// fatal, as the official helpers decide it.
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Api { status, .. } => {
            !(400..500).contains(status) || matches!(status, 408 | 409 | 429)
        }
        Error::Connection { .. } | Error::Timeout { .. } | Error::Decode { .. } => true,
        Error::BodyTooLarge { .. } => true,
        _ => false,
    }
}

/// Returns the official SDKs' default worker id: the host name and a random suffix, since many
/// workers can share a host and the API documents the id as unique.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "managed-agents-worker".to_string());
    format!("{host}-{}", random_suffix())
}

/// Twelve random hex digits, to keep a name apart from its neighbours' (a worker id, a
/// temporary file or folder).
pub(crate) fn random_suffix() -> String {
    format!(
        "{:012x}",
        (crate::retry::jitter() * (1u64 << 48) as f64) as u64
    )
}

/// A random duration in `[low, high)`.
pub(crate) fn uniform(low: std::time::Duration, high: std::time::Duration) -> std::time::Duration {
    if high <= low {
        return low;
    }
    low + (high - low).mul_f64(crate::retry::jitter())
}

/// Sends one work-queue operation by its id, with its path parameters filled in, and returns
/// the answer unread: the generated methods decode bodies the server does not always send.
pub(crate) fn call(
    client: &Client,
    op_id: &str,
    params: &[(&str, &str)],
    query: Vec<(&'static str, String)>,
    body: Body,
    options: &RequestOptions,
) -> Result<Response> {
    let op = crate::operations::OPERATIONS
        .iter()
        .find(|op| op.id == op_id)
        .ok_or_else(|| Error::invalid_input("operation", format!("{op_id} is not known")))?;
    let mut path = op.path.to_string();
    for (name, value) in params {
        path = path.replace(
            &format!("{{{name}}}"),
            &crate::path::path_segment(name, value)?,
        );
    }
    let span = crate::trace::dynamic_call_span(op, params);
    client.execute(op, span, path, query, body, options)
}

/// The time limit of a work-queue call whose lateness would cost the lease (an ack, a
/// heartbeat, the read of a session): the client's own can be longer than the lease.
pub(crate) const WORK_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How many times a stop is tried again.
const STOP_RETRIES: u32 = 5;
/// The time limit of each try of a stop.
const STOP_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The time limit of a stop, its tries together.
const STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`call`], and the answer's JSON body: a 200 whose body is not JSON (a proxy's page, a body
/// cut off) is a connection error, tried again as the transport tries one (up to the call's
/// `max_retries`, else the client's). An answer with no body (204) is `null`.
pub(crate) fn call_json(
    client: &Client,
    op_id: &str,
    params: &[(&str, &str)],
    query: Vec<(&'static str, String)>,
    body: Option<&Value>,
    options: &RequestOptions,
) -> Result<Value> {
    let retries = options.max_retries.unwrap_or(client.inner.max_retries);
    let deadline = options
        .timeout
        .map(crate::deadline::Deadline::after)
        .unwrap_or_else(crate::deadline::Deadline::never)
        .min(
            options
                .deadline
                .unwrap_or_else(crate::deadline::Deadline::never),
        );
    let mut retry = 0;
    loop {
        let mut opts = options.clone();
        if let Some(left) = deadline.remaining() {
            if left.is_zero() {
                return Err(Error::Timeout {
                    message: format!("{op_id}: no time left for a try"),
                });
            }
            opts = opts.timeout(left);
        }
        let send = match body {
            Some(v) => Body::json(v)?,
            None => Body::Empty,
        };
        let response = call(client, op_id, params, query.clone(), send, &opts)?;
        let status = response.status();
        let bytes = response.bytes()?;
        if bytes.iter().all(u8::is_ascii_whitespace) && status != 200 {
            return Ok(Value::Null);
        }
        // no excerpt in the error: the body may hold an item's secret
        match serde_json::from_slice(&bytes) {
            Ok(v) => return Ok(v),
            Err(_) if retry < retries => {
                log::warn!("{op_id}: the response is not JSON; trying again");
                retry += 1;
                if !deadline.sleep(crate::retry::backoff(retry - 1)) {
                    return Err(Error::connection(format!(
                        "{op_id}: the response is not JSON"
                    )));
                }
            }
            Err(_) => {
                return Err(Error::connection(format!(
                    "{op_id}: the response is not JSON"
                )))
            }
        }
    }
}

/// `POST .../work/{id}/stop` with `{"force": ..}`, as the official poller's `stop`: tried up
/// to 6 times, each within 10 s, all within 60 s; a 409 (already stopped) is success; a 200
/// whose body is not JSON is a failure tried again. A 401 comes back as it is (the caller
/// takes the lease as lost).
pub(crate) fn stop_work(
    client: &Client,
    environment_id: &str,
    work_id: &str,
    force: bool,
    options: &RequestOptions,
) -> Result<()> {
    let body = if force {
        serde_json::json!({ "force": true })
    } else {
        serde_json::json!({})
    };
    let deadline = crate::deadline::Deadline::after(STOP_TIMEOUT).min(
        options
            .deadline
            .unwrap_or_else(crate::deadline::Deadline::never),
    );
    let mut retry = 0;
    loop {
        let left = deadline.check(|| format!("stopping work {work_id}"))?;
        let attempt = options
            .clone()
            .timeout(left.map_or(STOP_ATTEMPT_TIMEOUT, |l| l.min(STOP_ATTEMPT_TIMEOUT)))
            .max_retries(0);
        let error = match call_json(
            client,
            "environments.work.stop",
            &[("environment_id", environment_id), ("work_id", work_id)],
            Vec::new(),
            Some(&body),
            &attempt,
        ) {
            Ok(_) => return Ok(()),
            Err(e) if e.status() == Some(409) => {
                log::debug!("work item already stopped work_id={work_id}");
                return Ok(());
            }
            Err(e) => e,
        };
        if !is_transient(&error) || retry >= STOP_RETRIES {
            log::error!("stop failed work_id={work_id} error={error}");
            return Err(error);
        }
        log::warn!("stop failed, trying again work_id={work_id} error={error}");
        if !deadline.sleep(crate::retry::backoff(retry)) {
            return Err(error);
        }
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_of_an_unknown_kind_is_kept_and_an_empty_poll_is_none() {
        let item = WorkItem::from_json(serde_json::json!({
            "id": "work_1", "environment_id": "env_1", "type": "work", "state": "queued",
            "data": {"type": "healthcheck", "id": "hc_1"}, "metadata": {"a": "b"}, "secret": "s3cr3t"
        }))
        .unwrap()
        .unwrap();
        assert_eq!(item.kind, "healthcheck");
        assert!(!item.is_session());
        assert_eq!(item.session_id(), None);
        assert_eq!(item.metadata["a"], "b");
        assert!(!format!("{item:?}").contains("s3cr3t"));
        assert_eq!(WorkItem::from_json(Value::Null).unwrap(), None);
        assert_eq!(WorkItem::from_json(serde_json::json!({})).unwrap(), None);
        assert!(WorkItem::from_json(serde_json::json!([1])).is_err());
    }

    #[test]
    fn worker_ids_are_unique_per_call() {
        let (a, b) = (default_worker_id(), default_worker_id());
        assert_ne!(a, b);
        assert!(!a.is_empty());
    }

    #[test]
    fn fatal_and_transient_failures_follow_the_official_split() {
        let api = |status| Error::Api {
            status,
            error_type: None,
            message: String::new(),
            request_id: None,
            body: String::new(),
        };
        for s in [401, 403, 404, 400, 412, 422] {
            assert!(!is_transient(&api(s)), "{s}");
        }
        for s in [408, 409, 429, 500, 503, 529] {
            assert!(is_transient(&api(s)), "{s}");
        }
        assert!(is_transient(&Error::connection("reset")));
        assert!(!is_transient(&Error::invalid_input("x", "y")));
    }
}
