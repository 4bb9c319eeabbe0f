//! Deployments (an agent bound to an environment, resources, vaults and initial events; paused
//! and unpaused, by hand or by an error) and their runs: `run` creates a session as the
//! deployment says and records a `DeploymentRun` with the session or the error.

use super::reply::Request;
use super::reply::{
    bad, created_within, json_body, not_found, required_str, ApiError, Reply, Routed,
};
use super::shared::Shared;
use super::state::State;
use super::store::{check_text, metadata, update};
use super::{events, sessions};
use serde_json::{json, Value};
use std::sync::Arc;

/// The fields an update replaces (besides `agent`, and `metadata`, which it patches).
const FIELDS: &[&str] = &[
    "name",
    "description",
    "environment_id",
    "initial_events",
    "resources",
    "vault_ids",
    "schedule",
    "budget",
    "metadata",
];

/// Answers `/v1/deployments/...` (`segs` is what follows `deployments`).
pub(crate) fn route(shared: &Arc<Shared>, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            let q = r.query;
            let (agent, status) = (q.get("agent_id"), q.get("status"));
            if status.is_some() && q.get("include_archived") == Some("true") {
                return Err(bad("status and include_archived cannot be combined"));
            }
            s.deployments.list(q, |d| {
                agent.is_none_or(|a| d["agent"]["id"] == a)
                    && status.is_none_or(|st| d["status"] == st)
                    && created_within(q, d["created_at"].as_str().unwrap_or(""))
            })
        }
        ("POST", []) => {
            let body = json_body(r.body)?;
            let name = required_str(&body, "name")?.to_string();
            let agent = agent_reference(&s, body.get("agent"))?;
            let env = required_str(&body, "environment_id")?.to_string();
            s.environments.get(&env)?;
            let initial = initial_events(body.get("initial_events"))?;
            let id = s.id("depl");
            let now = s.now();
            let mut d = json!({
                "id": id, "type": "deployment", "name": name, "agent": agent,
                "environment_id": env, "initial_events": initial,
                "resources": resource_configs(body.get("resources")),
                "vault_ids": body.get("vault_ids").cloned().unwrap_or(json!([])),
                "metadata": metadata(&body), "status": "active", "paused_reason": null,
                "schedule": schedule(body.get("schedule")), "archived_at": null,
                "created_at": now, "updated_at": now,
            });
            for f in ["description", "budget"] {
                if let Some(v) = body.get(f).filter(|v| !v.is_null()) {
                    d[f] = v.clone();
                }
            }
            Ok(Reply::Json(s.deployments.insert(d)))
        }
        ("POST", [id]) => {
            let body = json_body(r.body)?;
            let now = s.now();
            let mut d = s.deployments.get(id)?.clone();
            if let Some(a) = body.get("agent") {
                d["agent"] = agent_reference(&s, Some(a))?;
            }
            if let Some(e) = body.get("environment_id") {
                s.environments.get(e.as_str().unwrap_or_default())?;
            }
            if body.get("initial_events").is_some() {
                initial_events(body.get("initial_events"))?;
            }
            check_text(&body)?;
            if body
                .get("name")
                .is_some_and(|n| n.as_str().is_none_or(str::is_empty))
            {
                return Err(bad("name: cannot be cleared"));
            }
            update(&mut d, &body, FIELDS, now);
            for f in ["resources", "vault_ids"] {
                if d.get(f).is_none_or(Value::is_null) {
                    d[f] = json!([]);
                }
            }
            d["resources"] = resource_configs(Some(&d["resources"]));
            d["schedule"] = schedule(d.get("schedule"));
            Ok(Reply::Json(s.deployments.insert(d)))
        }
        ("POST", [id, "pause"]) => {
            let now = s.now();
            set_paused(&mut s, id, Some(json!({"type": "manual"})), now)
        }
        ("POST", [id, "unpause"]) => {
            let now = s.now();
            set_paused(&mut s, id, None, now)
        }
        ("POST", [id, "run"]) => {
            let d = s.deployments.get(id)?.clone();
            if !d["archived_at"].is_null() {
                return Err(bad(format!("deployment {id} is archived")));
            }
            if d["status"] == "paused" {
                return Err(bad(format!(
                    "deployment {id} is paused; unpause it to run it"
                )));
            }
            drop(s);
            run(shared, &d).map(Reply::Json)
        }
        ("GET", [id]) => s.deployments.get(id).cloned().map(Reply::Json),
        ("POST", [id, "archive"]) => {
            // an archived deployment reports `active`, never fires again
            let now = s.now();
            let d = s.deployments.get_mut(id)?;
            d["status"] = json!("active");
            d["paused_reason"] = Value::Null;
            if d["schedule"].is_object() {
                d["schedule"]["upcoming_runs_at"] = json!([]);
            }
            d["updated_at"] = json!(now);
            s.deployments.archive(id, now).map(Reply::Json)
        }
        _ => Err(not_found("path", "deployments")),
    }
}

/// Answers `/v1/deployment_runs`: list (by deployment, outcome, trigger, time) and retrieve.
pub(crate) fn route_runs(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            let q = r.query;
            let has_error = match q.get("has_error") {
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => return Err(bad(format!("has_error: {other:?} is not a boolean"))),
                None => None,
            };
            s.deployment_runs.list(q, |run| {
                q.get("deployment_id")
                    .is_none_or(|d| run["deployment_id"] == d)
                    && has_error.is_none_or(|e| run["error"].is_null() != e)
                    && q.get("trigger_type")
                        .is_none_or(|t| run["trigger_context"]["type"] == t)
                    && created_within(q, run["created_at"].as_str().unwrap_or(""))
            })
        }
        ("GET", [id]) => s.deployment_runs.get(id).cloned().map(Reply::Json),
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Pauses (with a reason) or unpauses a deployment.
fn set_paused(s: &mut State, id: &str, reason: Option<Value>, now: String) -> Routed {
    let d = s.deployments.get_mut(id)?;
    if !d["archived_at"].is_null() {
        return Err(bad(format!("deployment {id} is archived")));
    }
    d["status"] = json!(if reason.is_some() { "paused" } else { "active" });
    d["paused_reason"] = reason.unwrap_or(Value::Null);
    d["updated_at"] = json!(now);
    Ok(Reply::Json(d.clone()))
}

/// Runs a deployment: a session from its agent, environment, resources, vaults and initial
/// events; the run records the session, or the error (which also pauses the deployment).
fn run(shared: &Arc<Shared>, d: &Value) -> Result<Value, ApiError> {
    let deployment_id = d["id"].as_str().unwrap_or_default().to_string();
    let created = {
        let mut s = shared.lock();
        match why_not_runnable(&s, d) {
            Some(error) => Err(error),
            None => {
                let mut body = json!({
                    "agent": d["agent"], "environment_id": d["environment_id"],
                    "resources": d["resources"], "vault_ids": d["vault_ids"],
                });
                if let Some(m) = d.get("metadata") {
                    body["metadata"] = m.clone();
                }
                match sessions::create(&mut s, &body) {
                    Ok(mut session) => {
                        session["deployment_id"] = json!(deployment_id);
                        let id = session["id"].as_str().unwrap_or_default().to_string();
                        if let Ok(o) = s.sessions.get_mut(&id) {
                            o["deployment_id"] = json!(deployment_id);
                        }
                        Ok(id)
                    }
                    Err(e) => Err(json!({"type": "unknown_error", "message": e.2})),
                }
            }
        }
    };
    if let Ok(session) = &created {
        let initial = d["initial_events"].clone();
        if let Err(e) = events::send(shared, session, &json!({"events": initial})) {
            log::warn!(
                "emulator: a deployment's initial events were refused: {}",
                e.2
            );
        }
    }
    let mut s = shared.lock();
    let id = s.id("drun");
    let now = s.now();
    let (session_id, error) = match created {
        Ok(session) => (json!(session), Value::Null),
        Err(error) => {
            let reason = json!({"type": "error", "error": {"type": error["type"]}});
            let _ = set_paused(&mut s, &deployment_id, Some(reason), now.clone());
            (Value::Null, error)
        }
    };
    let run = json!({
        "id": id, "type": "deployment_run", "deployment_id": deployment_id, "agent": d["agent"],
        "session_id": session_id, "error": error, "trigger_context": {"type": "manual"},
        "created_at": now,
    });
    Ok(s.deployment_runs.insert(run))
}

/// Returns the run error a deployment would meet now, as the API types it; `None` when it can run.
fn why_not_runnable(s: &State, d: &Value) -> Option<Value> {
    let error = |kind: &str, message: String| Some(json!({"type": kind, "message": message}));
    let env = d["environment_id"].as_str().unwrap_or_default();
    match s.environments.get(env) {
        Err(_) => {
            return error(
                "environment_not_found_error",
                format!("environment {env} not found"),
            )
        }
        Ok(e) if !e["archived_at"].is_null() => {
            return error(
                "environment_archived_error",
                format!("environment {env} is archived"),
            )
        }
        Ok(_) => {}
    }
    let agent = d["agent"]["id"].as_str().unwrap_or_default();
    if s.agents
        .get(agent)
        .is_ok_and(|a| !a["archived_at"].is_null())
    {
        return error("agent_archived_error", format!("agent {agent} is archived"));
    }
    for v in d["vault_ids"].as_array().into_iter().flatten() {
        let v = v.as_str().unwrap_or_default();
        match s.vaults.get(v) {
            Err(_) => return error("vault_not_found_error", format!("vault {v} not found")),
            Ok(x) if !x["archived_at"].is_null() => {
                return error("vault_archived_error", format!("vault {v} is archived"))
            }
            Ok(_) => {}
        }
    }
    for r in d["resources"].as_array().into_iter().flatten() {
        if let Some(f) = r["file_id"].as_str() {
            if s.files.get(f).is_err() {
                return error("file_not_found_error", format!("file {f} not found"));
            }
        }
        if let Some(m) = r["memory_store_id"].as_str() {
            match s.memory_stores.get(m) {
                Err(_) => {
                    return error(
                        "session_resource_not_found_error",
                        format!("memory store {m} not found"),
                    )
                }
                Ok(x) if !x["archived_at"].is_null() => {
                    return error(
                        "memory_store_archived_error",
                        format!("memory store {m} is archived"),
                    )
                }
                Ok(_) => {}
            }
        }
    }
    None
}

/// Resolves the agent a deployment pins: an id (its latest version) or `{type, id, version}`; the
/// agent must exist and not be archived.
fn agent_reference(s: &State, asked: Option<&Value>) -> Result<Value, ApiError> {
    let (id, version) = match asked {
        Some(Value::String(id)) => (id.as_str(), None),
        Some(Value::Object(o)) => (
            o.get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("agent.id: Field required"))?,
            o.get("version").and_then(Value::as_i64),
        ),
        _ => return Err(bad("agent: Field required")),
    };
    let agent = s.agents.get(id)?;
    if !agent["archived_at"].is_null() {
        return Err(bad(format!("agent {id} is archived")));
    }
    let latest = agent["version"].as_i64().unwrap_or(1);
    let version = version.unwrap_or(latest);
    if !(1..=latest).contains(&version) {
        return Err(not_found("agent version", &version.to_string()));
    }
    Ok(json!({"type": "agent", "id": id, "version": version}))
}

/// Checks the initial events of a create or update: 1 to 50 user or system events.
fn initial_events(asked: Option<&Value>) -> Result<Value, ApiError> {
    let events = asked
        .and_then(Value::as_array)
        .ok_or_else(|| bad("initial_events: Field required"))?;
    if events.is_empty() || events.len() > 50 {
        return Err(bad("initial_events: between 1 and 50 events"));
    }
    for e in events {
        let kind = e["type"].as_str().unwrap_or("");
        if !matches!(
            kind,
            "user.message" | "user.define_outcome" | "system.message"
        ) {
            return Err(bad(format!(
                "initial_events: {kind:?} cannot be an initial event"
            )));
        }
    }
    Ok(Value::Array(events.clone()))
}

/// Returns resources as a deployment echoes them: the input without write-only credentials.
fn resource_configs(asked: Option<&Value>) -> Value {
    let mut list = asked.and_then(Value::as_array).cloned().unwrap_or_default();
    for r in &mut list {
        if let Some(o) = r.as_object_mut() {
            o.remove("authorization_token");
        }
    }
    Value::Array(list)
}

/// Returns a schedule as the API returns it (with `upcoming_runs_at`, which the emulator leaves
/// empty: it never fires schedules by itself).
fn schedule(asked: Option<&Value>) -> Value {
    match asked {
        Some(s) if s.is_object() => {
            let mut s = s.clone();
            if s.get("type").is_none() {
                s["type"] = json!("cron");
            }
            if s.get("upcoming_runs_at").is_none() {
                s["upcoming_runs_at"] = json!([]);
            }
            s
        }
        _ => Value::Null,
    }
}
