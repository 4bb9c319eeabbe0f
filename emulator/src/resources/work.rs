//! The work queue of self-hosted environments (`/v1/environments/{id}/work/...`): an item is
//! queued when a session of an environment with `config: {type: "self_hosted"}` is created, or
//! gets a user message while no item of it is open; workers long-poll for items, acknowledge
//! them, keep their lease alive with heartbeats and stop them. The stats count as
//! `workers_polling` the `Anthropic-Worker-ID`s that polled in the last 30 seconds.
//!
//! An item's state goes `queued` → `starting` (handed out by a poll) → `active` (acknowledged)
//! → `stopping` (a graceful stop; `stopped` 2 s later, or at once when forced) → `stopped`
//! (a forced stop, or a stop of an item nobody holds). A poll hands out the oldest queued item, else an item whose lease lapsed: one
//! acknowledged whose last heartbeat is older than its TTL, or one handed out but not
//! acknowledged for `reclaim_older_than_ms` (default 5000). A reclaimed item starts afresh
//! (no heartbeat), so its former holder's next heartbeat fails the compare-and-set with 412.
//!
//! **Holders.** Each hand-out of an item starts a holder record ([`WorkHolder`]): when its
//! first heartbeat claimed it, until when the lease ran, and when each session request made
//! with that hand-out's sessions token arrived, so a test can check that no item was ever
//! served by two workers at once.
//!
//! **Keys.** The emulator checks no credential: a worker may authenticate with any
//! `Authorization: Bearer` key as its environment key (or with `x-api-key`). The `secret` of an
//! item a poll hands out is, as the API's, base64url JSON (no padding) whose `sessions_token`
//! the worker may use for the session's calls; the emulator accepts that token like any other.
//! Retrieve and list answer `secret: null`, as the API does.

use super::super::reply::Request;
use super::super::reply::{bad, json_body, not_found, page, ApiError, Reply, Routed};
use super::super::shared::Shared;
use super::super::state::work::{Lease, WorkHolder};
use super::super::state::State;
use super::super::store::update;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The lease TTL when a heartbeat asks for none.
const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// How long a handed-out item may stay unacknowledged before a poll reclaims it, by default.
const DEFAULT_RECLAIM: Duration = Duration::from_millis(5000);
/// How long after its last poll a worker still counts in the stats' `workers_polling`.
const POLLING_WINDOW: Duration = Duration::from_secs(30);
/// The `expected_last_heartbeat` of a worker that has not yet heartbeated.
const NO_HEARTBEAT: &str = "NO_HEARTBEAT";

/// Ends the graceful stops whose grace is over.
fn settle(s: &mut State) {
    s.work.settle(&mut s.clock);
}

/// Returns whether the environment's config is self-hosted.
pub(crate) fn self_hosted(s: &State, environment_id: &str) -> bool {
    s.environments
        .get(environment_id)
        .is_ok_and(|e| e["config"]["type"] == "self_hosted")
}

/// Queues a work item for a session of a self-hosted environment, unless one of it is still
/// open (queued, handed out, or running); `true` when one was queued. The caller notifies.
pub(crate) fn enqueue(s: &mut State, session_id: &str) -> bool {
    let Some(env) = s
        .session(session_id)
        .and_then(|x| x["environment_id"].as_str())
    else {
        return false;
    };
    let env = env.to_string();
    if !self_hosted(s, &env) {
        return false;
    }
    settle(s);
    let open = s
        .work
        .items
        .values()
        .any(|w| w["data"]["id"] == session_id && w["state"] != "stopped");
    if open {
        return false;
    }
    let id = s.id("work");
    let now = s.now();
    s.work.items.insert(json!({
        "id": id, "type": "work", "environment_id": env,
        "data": {"type": "session", "id": session_id},
        "state": "queued", "metadata": {}, "secret": null,
        "created_at": now, "acknowledged_at": null, "started_at": null,
        "latest_heartbeat_at": null, "stop_requested_at": null, "stopped_at": null,
    }));
    true
}

/// Answers `/v1/environments/{env}/work/...` (`segs` is what follows `work`).
pub(crate) fn route(shared: &Shared, r: &Request, env: &str, segs: &[&str]) -> Routed {
    if let ("GET", ["poll"]) = (r.method, segs) {
        return poll(shared, r, env);
    }
    if let ("POST", [_, "ack"]) = (r.method, segs) {
        let slow = shared.lock().faults.slow_ack;
        if let Some(d) = slow {
            std::thread::sleep(d);
        }
    }
    let mut s = shared.lock();
    s.environments.get(env)?;
    settle(&mut s);
    match (r.method, segs) {
        ("GET", []) => {
            let mut items: Vec<Value> = s
                .work
                .items
                .values()
                .filter(|w| w["environment_id"] == env)
                .cloned()
                .collect();
            items.reverse();
            page(items, r.query)
        }
        ("GET", ["stats"]) => {
            let mine = || s.work.items.values().filter(|w| w["environment_id"] == env);
            let depth = mine().filter(|w| w["state"] == "queued").count();
            let pending = mine().filter(|w| w["state"] == "starting").count();
            let oldest = mine()
                .find(|w| w["state"] == "queued" || w["state"] == "starting")
                .map(|w| w["created_at"].clone());
            Ok(Reply::Json(
                json!({"type": "work_queue_stats", "depth": depth,
                "pending": pending, "oldest_queued_at": oldest,
                "workers_polling": workers_polling(&mut s, env)}),
            ))
        }
        ("GET", [id]) => Ok(Reply::Json(item(&s, env, id)?)),
        ("POST", [id]) => {
            item(&s, env, id)?;
            let body = json_body(r.body)?;
            if !body["metadata"].is_object() {
                return Err(bad("metadata: Field required"));
            }
            let now = s.now();
            let w = s.work.items.get_mut(id)?;
            update(w, &body, &["metadata"], now);
            if let Some(o) = w.as_object_mut() {
                o.remove("updated_at");
            }
            Ok(Reply::Json(w.clone()))
        }
        ("POST", [id, "ack"]) => {
            let w = item(&s, env, id)?;
            if w["state"] != "starting" {
                return Err(ApiError(
                    409,
                    "conflict_error",
                    format!("work {id} is {} and cannot be acknowledged", w["state"]),
                ));
            }
            let now = s.now();
            if let Some(l) = s.work.leases.get_mut(*id) {
                l.touched = Instant::now();
            }
            let w = s.work.items.get_mut(id)?;
            w["state"] = json!("active");
            w["acknowledged_at"] = json!(now);
            w["started_at"] = json!(now);
            Ok(Reply::Json(w.clone()))
        }
        ("POST", [id, "heartbeat"]) => heartbeat(&mut s, r, env, id),
        ("POST", [id, "stop"]) => {
            let w = item(&s, env, id)?;
            if w["state"] == "stopped" {
                return Err(ApiError(
                    409,
                    "conflict_error",
                    format!("work {id} is already stopped"),
                ));
            }
            let force = json_body(r.body)?["force"].as_bool().unwrap_or(false);
            let held = w["state"] == "starting" || w["state"] == "active";
            let now = s.now();
            let w = s.work.items.get_mut(id)?;
            w["stop_requested_at"] = json!(now);
            if force || !held {
                w["state"] = json!("stopped");
                w["stopped_at"] = json!(now);
            } else {
                w["state"] = json!("stopping");
            }
            if w["state"] == "stopping" {
                s.work
                    .stopping
                    .entry(id.to_string())
                    .or_insert_with(Instant::now);
            }
            if held {
                if let Some(h) = s.work.holder(id) {
                    h.stopped_at.get_or_insert_with(Instant::now);
                }
            }
            // the API answers a stop with 204 and no body
            Ok(Reply::NoContent)
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Returns the item as retrieve answers it (no secret), if it belongs to the environment.
fn item(s: &State, env: &str, id: &str) -> Result<Value, ApiError> {
    let w = s.work.items.get(id)?;
    if w["environment_id"] != env {
        return Err(not_found("work", id));
    }
    let mut w = w.clone();
    w["secret"] = Value::Null;
    Ok(w)
}

/// Reads a number of milliseconds from the query, within bounds.
fn millis(r: &Request, key: &str, max: u64) -> Result<Option<u64>, ApiError> {
    match r.query.get(key) {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(bad(format!("{key}: must be an integer from 1 to {max}"))),
        },
    }
}

/// Answers `GET .../work/poll`: the next item, waiting up to `block_ms` for one; `null` when none.
fn poll(shared: &Shared, r: &Request, env: &str) -> Routed {
    let block = Duration::from_millis(millis(r, "block_ms", 999)?.unwrap_or(0));
    let reclaim = millis(r, "reclaim_older_than_ms", u64::MAX)?
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_RECLAIM);
    let deadline = Instant::now() + block;
    let mut s = shared.lock();
    s.environments.get(env)?;
    if let Some(worker) = r.worker_id.filter(|w| !w.is_empty()) {
        s.work
            .pollers
            .entry(env.to_string())
            .or_default()
            .insert(worker.to_string(), Instant::now());
    }
    if s.faults.fail_polls > 0 {
        s.faults.fail_polls -= 1;
        return Err(ApiError(529, "overloaded_error", "injected fault".into()));
    }
    loop {
        if let Some(w) = claim(&mut s, env, reclaim) {
            return Ok(Reply::Json(w));
        }
        let now = Instant::now();
        if now >= deadline || shared.stopped() {
            return Ok(Reply::Json(Value::Null));
        }
        // a lease may lapse while we wait: look again at least every 50 ms
        let wait = (deadline - now).min(Duration::from_millis(50));
        s = shared
            .changed
            .wait_timeout(s, wait)
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

/// Returns the stats' `workers_polling`: as the API documents it, the workers (told apart by their
/// `Anthropic-Worker-ID`) that polled the environment in the last 30 seconds; `null` while no
/// poll of it has carried a worker id.
fn workers_polling(s: &mut State, env: &str) -> Value {
    let Some(pollers) = s.work.pollers.get_mut(env) else {
        return Value::Null;
    };
    pollers.retain(|_, at| at.elapsed() <= POLLING_WINDOW);
    json!(pollers.len())
}

/// Hands out the oldest queued item of the environment, else one whose lease lapsed.
fn claim(s: &mut State, env: &str, reclaim: Duration) -> Option<Value> {
    let lease_ttl = s.faults.lease_ttl;
    let lapsed = |w: &Value, l: Option<&Lease>| {
        let Some(l) = l else { return false };
        let idle = l.touched.elapsed();
        match w["state"].as_str() {
            Some("starting") => idle > reclaim.min(lease_ttl.unwrap_or(l.ttl)),
            Some("active") => idle > lease_ttl.unwrap_or(l.ttl),
            _ => false,
        }
    };
    let mine = |w: &&Value| w["environment_id"] == env;
    let id = s
        .work
        .items
        .values()
        .filter(mine)
        .find(|w| w["state"] == "queued")
        .or_else(|| {
            s.work
                .items
                .values()
                .filter(mine)
                .find(|w| lapsed(w, w["id"].as_str().and_then(|id| s.work.leases.get(id))))
        })?["id"]
        .as_str()?
        .to_string();
    let session = s.work.items.get(&id).ok()?["data"]["id"].clone();
    let token = format!("sk-ant-emu-sessions-{}", s.clock.stamp());
    if let Some(h) = s.work.holder(&id) {
        h.ended_at.get_or_insert_with(Instant::now);
    }
    s.work.holders.push(WorkHolder {
        work_id: id.clone(),
        handed_out_at: Instant::now(),
        claimed_at: None,
        lease_ended_at: None,
        session_requests: Vec::new(),
        stopped_at: None,
        lapsed_at: None,
        token: token.clone(),
        expires_at: None,
        ended_at: None,
    });
    let secret = encode_secret(&json!({"version": 1, "sessions_token": token,
        "session_id": session, "work_id": id}));
    s.work.leases.insert(
        id.clone(),
        Lease {
            touched: Instant::now(),
            ttl: lease_ttl.unwrap_or(DEFAULT_TTL),
            last_heartbeat: None,
        },
    );
    let w = s.work.items.get_mut(&id).ok()?;
    w["state"] = json!("starting");
    w["acknowledged_at"] = Value::Null;
    w["latest_heartbeat_at"] = Value::Null;
    let mut out = w.clone();
    out["secret"] = json!(secret);
    Some(out)
}

/// Encodes a secret as the API writes it: base64url JSON without padding.
fn encode_secret(payload: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string())
}

/// Answers `POST .../work/{id}/heartbeat`: renews the lease if `expected_last_heartbeat` is the
/// last one recorded; 412 with the lease's state otherwise.
fn heartbeat(s: &mut State, r: &Request, env: &str, id: &str) -> Routed {
    let w = item(s, env, id)?;
    let state = w["state"].as_str().unwrap_or("queued").to_string();
    let current = s.work.leases.get(id).and_then(|l| l.last_heartbeat.clone());
    let expected = r.query.get("expected_last_heartbeat");
    let matches = match expected {
        None => true,
        Some(e) if e.is_empty() || e == NO_HEARTBEAT => current.is_none(),
        Some(e) => current.as_deref() == Some(e),
    };
    s.work.heartbeats += 1;
    let every = s.faults.heartbeat_error_every;
    if s.faults.heartbeat_errors > 0 || (every > 0 && s.work.heartbeats.is_multiple_of(every)) {
        s.faults.heartbeat_errors = s.faults.heartbeat_errors.saturating_sub(1);
        let status = match s.faults.heartbeat_error_status {
            0 => 503,
            n => n,
        };
        return Err(ApiError(
            status,
            "api_error",
            "injected heartbeat fault".into(),
        ));
    }
    let injected = s.faults.fail_heartbeats > 0;
    if injected {
        s.faults.fail_heartbeats -= 1;
    }
    if injected || !matches || state == "queued" {
        // the lease as the server holds it, as the SDK's `BetaWorkLeaseState` reads it
        let ttl = s.work.leases.get(id).map_or(DEFAULT_TTL, |l| l.ttl);
        let body = json!({"type": "error", "error": {
            "type": "precondition_failed_error",
            "message": format!("work {id}: the lease is not held with that last heartbeat"),
            "details": {"error_code": "heartbeat_precondition_failed",
                "current_state": {"state": state, "last_heartbeat": current,
                    "lease_extended": false, "ttl_seconds": ttl_seconds(ttl)}}}});
        return Ok(Reply::Status(412, body));
    }
    let desired = match r.query.get("desired_ttl_seconds") {
        Some(t) => Some(
            t.parse::<u64>()
                .ok()
                .filter(|t| *t >= 1)
                .ok_or_else(|| bad("desired_ttl_seconds: must be a positive integer"))?,
        ),
        None => None,
    };
    let mut state = state;
    if s.faults.stop_heartbeats > 0 && (state == "starting" || state == "active") {
        s.faults.stop_heartbeats -= 1;
        // a graceful stop asked for by the server, as a stop of a held item makes it
        let now = s.now();
        let w = s.work.items.get_mut(id)?;
        w["stop_requested_at"] = json!(now);
        w["state"] = json!("stopping");
        s.work
            .stopping
            .entry(id.to_string())
            .or_insert_with(Instant::now);
        state = "stopping".to_string();
    }
    let mut extend = state == "starting" || state == "active";
    if extend && s.faults.unextended_heartbeats > 0 {
        s.faults.unextended_heartbeats -= 1;
        extend = false;
    }
    let now = s.now();
    let lease_ttl = s.faults.lease_ttl;
    let lease = s.work.leases.entry(id.to_string()).or_insert(Lease {
        touched: Instant::now(),
        ttl: DEFAULT_TTL,
        last_heartbeat: None,
    });
    if extend {
        lease.touched = Instant::now();
        if let Some(t) = desired {
            lease.ttl = Duration::from_secs(t);
        }
        if let Some(t) = lease_ttl {
            lease.ttl = t;
        }
        lease.last_heartbeat = Some(now.clone());
    }
    let ttl_seconds = ttl_seconds(lease.ttl);
    let last = lease.last_heartbeat.clone().unwrap_or_default();
    let expires = Instant::now() + lease.ttl;
    if extend {
        if let Ok(w) = s.work.items.get_mut(id) {
            w["latest_heartbeat_at"] = json!(now);
        }
        if let Some(h) = s.work.holder(id) {
            let now = Instant::now();
            h.claimed_at.get_or_insert(now);
            if let Some(was) = h.expires_at.filter(|e| *e < now) {
                h.lapsed_at.get_or_insert(was);
            }
            h.expires_at = Some(expires);
        }
    }
    let reported = if state == "starting" {
        "active"
    } else {
        &state
    };
    Ok(Reply::Json(
        json!({"type": "work_heartbeat", "last_heartbeat": last,
        "lease_extended": extend, "state": reported, "ttl_seconds": ttl_seconds}),
    ))
}

/// Returns a lease's TTL in whole seconds, at least 1.
fn ttl_seconds(ttl: Duration) -> u64 {
    ttl.as_secs_f64().ceil().max(1.0) as u64
}
