//! Sessions: create (the agent snapshot, resources, vaults, initial events), the status rules
//! of update and delete, session resources, and the routes of a session's events and stream.
//! A session of a self-hosted environment gets a work item when it is created.

use super::reply::Request;
use super::reply::{bad, json_body, not_found, page, required_str, ApiError, Reply, Routed};
use super::resources::{agents, work};
use super::shared::Shared;
use super::state::{Log, State};
use super::store::metadata;
use super::{events, threads};
use serde_json::{json, Value};
use std::sync::Arc;

/// Answers `/v1/sessions/...` (`segs` is what follows `sessions`).
pub(crate) fn route(shared: &Arc<Shared>, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            let q = r.query;
            s.sessions.list(q, |x| {
                q.get("agent_id").is_none_or(|a| x["agent"]["id"] == a)
                    && q.get("deployment_id")
                        .is_none_or(|d| x["deployment_id"] == d)
            })
        }
        ("POST", []) => {
            let body = json_body(r.body)?;
            let object = create(&mut s, &body)?;
            let id = object["id"].as_str().unwrap_or_default();
            work::enqueue(&mut s, id);
            drop(s);
            shared.changed.notify_all();
            let initial = body["initial_events"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !initial.is_empty() {
                let id = object["id"].as_str().unwrap_or_default();
                events::send(shared, id, &json!({"events": initial}))?;
            }
            Ok(Reply::Json(object))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            let status = s.sessions.get(id)?["status"].clone();
            match (m, rest) {
                ("DELETE", []) => {
                    if status == "running" {
                        return Err(bad(
                            "a running session cannot be deleted; interrupt it first",
                        ));
                    }
                    s.logs.remove(*id);
                    threads::forget(&mut s, id);
                    let done = s.sessions.delete(id);
                    drop(s);
                    shared.changed.notify_all();
                    done
                }
                ("POST", []) => {
                    let body = json_body(r.body)?;
                    update(&mut s, id, &body, now)
                }
                (_, ["events", ..]) => {
                    drop(s);
                    events::route(shared, r, id, &rest[1..])
                }
                (_, ["threads", ..]) => {
                    drop(s);
                    threads::route(shared, r, id, &rest[1..])
                }
                ("GET", ["resources"]) => {
                    let list = s.sessions.get(id)?["resources"].as_array().cloned();
                    page(list.unwrap_or_default(), r.query)
                }
                ("POST", ["resources"]) => {
                    let body = json_body(r.body)?;
                    if body["type"] != "file" {
                        return Err(bad("type: only file resources can be added to a session"));
                    }
                    let res = resource(&mut s, &body)?;
                    let session = s.sessions.get_mut(id)?;
                    if let Some(list) = session["resources"].as_array_mut() {
                        list.push(res.clone());
                    }
                    Ok(Reply::Json(res))
                }
                (m, ["resources", rid]) => {
                    let session = s.sessions.get_mut(id)?;
                    let list = session["resources"]
                        .as_array_mut()
                        .ok_or_else(|| not_found("resource", rid))?;
                    let pos = list
                        .iter()
                        .position(|r| r["id"] == *rid)
                        .ok_or_else(|| not_found("resource", rid))?;
                    match m {
                        "DELETE" => {
                            list.remove(pos);
                            Ok(Reply::Json(
                                json!({"id": rid, "type": "session_resource_deleted"}),
                            ))
                        }
                        "POST" => {
                            // only a repository's token can be rotated; it is write-only
                            let body = json_body(r.body)?;
                            required_str(&body, "authorization_token")?;
                            if list[pos]["type"] != "github_repository" {
                                return Err(bad(
                                    "only github_repository resources support token rotation",
                                ));
                            }
                            list[pos]["updated_at"] = json!(now);
                            Ok(Reply::Json(list[pos].clone()))
                        }
                        "GET" => Ok(Reply::Json(list[pos].clone())),
                        _ => Err(not_found("path", rid)),
                    }
                }
                _ => s
                    .sessions
                    .object_routes(id, m, rest, r.body, now)
                    .unwrap_or_else(|| Err(not_found("path", &rest.join("/")))),
            }
        }
        _ => Err(not_found("path", "sessions")),
    }
}

/// Updates a session: `title`, `metadata` (a patch), `budget` (replaced or removed, never
/// added), and the agent's `tools` and `mcp_servers` while the session is not running;
/// `vault_ids` cannot be changed yet.
fn update(s: &mut State, id: &str, body: &Value, now: String) -> Routed {
    let session = s.sessions.get(id)?;
    if body.get("vault_ids").is_some() {
        return Err(bad(
            "vault_ids: changing a session's vaults is not supported yet",
        ));
    }
    if body.get("budget").is_some_and(|b| !b.is_null()) {
        if session["status"] == "terminated" {
            return Err(bad("budget: the session is terminated"));
        }
        if session.get("budget").is_none_or(Value::is_null) {
            return Err(bad(
                "budget: a budget cannot be added to a session created without one (budget_create_only)",
            ));
        }
    }
    let agent = body.get("agent").filter(|a| !a.is_null());
    if agent.is_some() && session["status"] == "running" {
        return Err(bad("agent: a running session's agent cannot be updated"));
    }
    let mut updated = s.sessions.update(id, body, now)?;
    if let Some(a) = agent {
        if a.get("tools").is_some() {
            updated["agent"]["tools"] = agents::resolve_tools(a.get("tools"));
        }
        if let Some(m) = a.get("mcp_servers") {
            updated["agent"]["mcp_servers"] = m.clone();
        }
        s.sessions.insert(updated.clone());
    }
    Ok(Reply::Json(updated))
}

/// Creates a new idle session from a create body.
pub(crate) fn create(s: &mut State, body: &Value) -> Result<Value, ApiError> {
    let env = required_str(body, "environment_id")?;
    if !s.environments.get(env)?["archived_at"].is_null() {
        return Err(bad(format!("environment {env} is archived")));
    }
    let agent = agents::session_agent(s, body.get("agent").unwrap_or(&Value::Null))?;
    if let Some(id) = agent["id"].as_str() {
        if !s.agents.get(id)?["archived_at"].is_null() {
            return Err(bad(format!("agent {id} is archived")));
        }
    }
    let vault_ids = body.get("vault_ids").cloned().unwrap_or(json!([]));
    if !vault_ids.is_array() {
        return Err(bad("vault_ids: must be a list of vault ids"));
    }
    for v in vault_ids.as_array().into_iter().flatten() {
        let v = v
            .as_str()
            .ok_or_else(|| bad("vault_ids: must be a list of vault ids"))?;
        if !s.vaults.get(v)?["archived_at"].is_null() {
            return Err(bad(format!("vault {v} is archived")));
        }
    }
    let mut resources = Vec::new();
    for r in body["resources"].as_array().into_iter().flatten() {
        resources.push(resource(s, r)?);
    }
    let id = s.id("sesn");
    let now = s.now();
    let mut object = json!({
        "id": id, "type": "session", "agent": agent, "environment_id": env, "status": "idle",
        "metadata": metadata(body), "outcome_evaluations": [], "resources": resources,
        "stats": {"active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "vault_ids": vault_ids,
        "created_at": now, "updated_at": now
    });
    for f in ["title", "budget"] {
        if let Some(v) = body.get(f).filter(|v| !v.is_null()) {
            object[f] = v.clone();
        }
    }
    s.logs.insert(id.clone(), Log::default());
    s.emit_webhook("session.created", &id, Some(&now), &[]);
    Ok(s.sessions.insert(object))
}

/// Makes a session resource from its create body (a file, a repository, a memory store).
fn resource(s: &mut State, r: &Value) -> Result<Value, ApiError> {
    let id = s.id("sesrsc");
    let now = s.now();
    match r["type"].as_str() {
        Some("file") => {
            let file_id = required_str(r, "file_id")?;
            s.files.get(file_id)?;
            let mount = r["mount_path"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("/mnt/session/uploads/{file_id}"));
            Ok(
                json!({"id": id, "type": "file", "file_id": file_id, "mount_path": mount,
                "created_at": now, "updated_at": now}),
            )
        }
        Some("github_repository") => {
            let url = required_str(r, "url")?;
            let repo = url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("repo");
            let mount = r["mount_path"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("/workspace/{repo}"));
            let mut out = json!({"id": id, "type": "github_repository", "url": url,
                "mount_path": mount, "created_at": now, "updated_at": now});
            if r["checkout"].is_object() {
                out["checkout"] = r["checkout"].clone();
            }
            Ok(out)
        }
        Some("memory_store") => {
            let ms = required_str(r, "memory_store_id")?;
            let store = s.memory_stores.get(ms)?;
            if !store["archived_at"].is_null() {
                return Err(bad(format!("memory store {ms} is archived")));
            }
            let access = r.get("access").cloned().unwrap_or(json!("read_write"));
            // the API derives the mount path from the store's name
            let slug: String = store["name"]
                .as_str()
                .unwrap_or(ms)
                .chars()
                .map(|c| match c {
                    c if c.is_ascii_alphanumeric() || c == '-' || c == '_' => {
                        c.to_ascii_lowercase()
                    }
                    _ => '-',
                })
                .collect();
            let mut out = json!({"type": "memory_store", "memory_store_id": ms,
                "name": store["name"], "description": store["description"], "access": access,
                "mount_path": format!("/mnt/memory/{slug}")});
            if let Some(i) = r.get("instructions").filter(|i| i.is_string()) {
                out["instructions"] = i.clone();
            }
            Ok(out)
        }
        _ => Err(bad("resources: unknown resource type")),
    }
}
