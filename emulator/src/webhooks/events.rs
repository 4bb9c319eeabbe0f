//! Which changes make which webhook events: a session's status and thread events as they are
//! recorded (`session.status_idle` on the stream is `session.status_idled` here), and the
//! objects the API's routes create, update, archive, delete, pause and unpause, read from each
//! answered request (its method, path and answer), so that no resource's code knows of
//! webhooks.

use super::super::reply::{Reply, Routed};
use super::super::state::State;
use super::super::Shared;
use super::emit;
use serde_json::Value;

/// The events recorded on a session that make webhook events.
pub(super) const SESSION_EVENTS: &[&str] = &[
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "span.outcome_evaluation_end",
    "session.thread_created",
    "session.thread_status_idle",
    "session.thread_status_terminated",
];

/// The webhook kind of an event recorded on a session, and whether it names a thread.
pub(super) fn session_kind(event_type: &str) -> Option<(&'static str, bool)> {
    Some(match event_type {
        "session.status_running" => ("session.status_run_started", false),
        "session.status_idle" => ("session.status_idled", false),
        "session.status_rescheduled" => ("session.status_rescheduled", false),
        "session.status_terminated" => ("session.status_terminated", false),
        "span.outcome_evaluation_end" => ("session.outcome_evaluation_ended", false),
        "session.thread_created" => ("session.thread_created", true),
        "session.thread_status_idle" => ("session.thread_idled", true),
        "session.thread_status_terminated" => ("session.thread_terminated", true),
        _ => return None,
    })
}

/// Called for every event recorded on a session or on a child thread's own stream (`event`
/// has its `processed_at`). Only the session's own stream makes webhook events: a child
/// thread's events reach it as copies, and a webhook event names the session.
pub(crate) fn session_event(s: &mut State, session: &str, event: &Value) {
    if !s.webhooks.enabled() || s.session(session).is_none() {
        return;
    }
    let Some((kind, threaded)) = event["type"].as_str().and_then(session_kind) else {
        return;
    };
    let at = event["processed_at"].as_str().map(str::to_string);
    let thread = event["session_thread_id"].as_str().unwrap_or_default();
    if threaded && thread.is_empty() {
        return;
    }
    let extra: &[(&str, &str)] = if threaded {
        &[("session_thread_id", thread)]
    } else {
        &[]
    };
    emit(s, kind, session, at.as_deref(), extra);
}

/// The `type` prefix of the objects of a top-level collection that has webhook events.
fn kind_of(collection: &str) -> Option<&'static str> {
    Some(match collection {
        "agents" => "agent",
        "deployments" => "deployment",
        "environments" => "environment",
        "memory_stores" => "memory_store",
        "sessions" => "session",
        "vaults" => "vault",
        _ => return None,
    })
}

/// The kinds the routes make (the spec's, for the objects the emulator keeps).
pub(super) const ROUTE_KINDS: &[&str] = &[
    "agent.created",
    "agent.updated",
    "agent.archived",
    "agent.deleted",
    "deployment.created",
    "deployment.updated",
    "deployment.archived",
    "deployment.deleted",
    "deployment.paused",
    "deployment.unpaused",
    "environment.created",
    "environment.updated",
    "environment.archived",
    "environment.deleted",
    "memory_store.created",
    "memory_store.archived",
    "memory_store.deleted",
    // `session.created` is sent where a session is made, a deployment's run included
    "session.updated",
    "session.archived",
    "session.deleted",
    "vault.created",
    "vault.archived",
    "vault.deleted",
    "vault_credential.created",
    "vault_credential.archived",
    "vault_credential.deleted",
];

/// What a request must know before it is answered: for an agent's update, the version the
/// agent had (only a new version is `agent.updated`). `None` when no endpoint is set.
pub(crate) fn observe_before(shared: &Shared, method: &str, segs: &[&str]) -> Option<Value> {
    if method == "GET" {
        return None;
    }
    let s = shared.lock();
    if !s.webhooks.enabled() {
        return None;
    }
    Some(match (method, segs) {
        ("POST", ["agents", id]) => s
            .agents
            .get(id)
            .map(|a| a["version"].clone())
            .unwrap_or_default(),
        _ => Value::Null,
    })
}

/// Posts the webhook events of an answered request (`before` from [`observe_before`]).
pub(crate) fn observe_after(
    shared: &Shared,
    method: &str,
    segs: &[&str],
    before: Option<Value>,
    routed: &Routed,
) {
    let (Some(before), Ok(Reply::Json(answer))) = (before, routed) else {
        return;
    };
    let mut s = shared.lock();
    let str_of = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
    let (verb, collection, id, at) = match (method, segs) {
        ("POST", ["vaults", vault, "credentials"]) => {
            let (id, at) = (str_of(answer, "id"), str_of(answer, "created_at"));
            return credential(&mut s, "created", id, at, vault);
        }
        ("POST", ["vaults", vault, "credentials", _, "archive"]) => {
            let (id, at) = (str_of(answer, "id"), str_of(answer, "archived_at"));
            return credential(&mut s, "archived", id, at, vault);
        }
        ("DELETE", ["vaults", vault, "credentials", id]) => {
            return credential(&mut s, "deleted", Some(id.to_string()), None, vault);
        }
        ("POST", [c]) => (
            "created",
            *c,
            str_of(answer, "id"),
            str_of(answer, "created_at"),
        ),
        ("POST", [c, id]) => {
            if *c == "agents" && answer["version"] == before {
                // an update that made no new version
                return;
            }
            (
                "updated",
                *c,
                Some(id.to_string()),
                str_of(answer, "updated_at"),
            )
        }
        ("POST", [c, id, "archive"]) => (
            "archived",
            *c,
            Some(id.to_string()),
            str_of(answer, "archived_at"),
        ),
        ("DELETE", [c, id]) => ("deleted", *c, Some(id.to_string()), None),
        ("POST", ["deployments", id, "pause"]) => (
            "paused",
            "deployments",
            Some(id.to_string()),
            str_of(answer, "updated_at"),
        ),
        ("POST", ["deployments", id, "unpause"]) => (
            "unpaused",
            "deployments",
            Some(id.to_string()),
            str_of(answer, "updated_at"),
        ),
        ("POST", ["deployments", id, "run"]) => {
            // a run that failed for good pauses its deployment
            let paused = s
                .deployments
                .get(id)
                .ok()
                .filter(|d| !answer["error"].is_null() && d["status"] == "paused")
                .map(|d| str_of(d, "updated_at"));
            let Some(at) = paused else { return };
            ("paused", "deployments", Some(id.to_string()), at)
        }
        _ => return,
    };
    let (Some(prefix), Some(id)) = (kind_of(collection), id) else {
        return;
    };
    let kind = format!("{prefix}.{verb}");
    if ROUTE_KINDS.contains(&kind.as_str()) {
        emit(&mut s, &kind, &id, at.as_deref(), &[]);
    }
}

/// Posts a `vault_credential.{verb}` event.
fn credential(s: &mut State, verb: &str, id: Option<String>, at: Option<String>, vault: &str) {
    if let Some(id) = id {
        let kind = format!("vault_credential.{verb}");
        emit(s, &kind, &id, at.as_deref(), &[("vault_id", vault)]);
    }
}
