//! Session threads of multi-agent sessions: the thread objects (the primary thread and the
//! child threads the scripted coordinator starts), their routes under
//! `/v1/sessions/{id}/threads` (list, retrieve, archive, events, stream), and the routing of a
//! user's answer to the child thread whose call it answers.
//!
//! A session whose agent has a `multiagent` configuration has a primary thread (its status is
//! the session's, its events are the session's, and its own `session.thread_status_*` events
//! come before the session's status events) and a child thread for each delegation; a
//! single-agent session lists no threads. A child thread's events are kept in the session's
//! `logs` under the thread's id, so the live stream serves a thread as it serves a session.

use super::multiagent;
use super::reply::Request;
use super::reply::{bad, not_found, page, ApiError, Query, Reply, Routed};
use super::shared::Shared;
use super::state::{Log, State};
use serde_json::{json, Value};
use std::sync::Arc;

/// Returns the primary thread of a multi-agent session (made the first time it is asked for);
/// `None` for a single-agent session or a session that does not exist.
pub(crate) fn primary(s: &mut State, session: &str) -> Option<String> {
    if let Some(id) = s.threads.by_session.get(session).and_then(|t| t.first()) {
        return Some(id.clone());
    }
    if !multiagent::is_multiagent(s.session(session)?) {
        return None;
    }
    let object = s.session(session)?.clone();
    let id = s.id("sthr");
    let thread = json!({
        "id": id, "type": "session_thread", "session_id": session, "parent_thread_id": null,
        "agent": multiagent::thread_agent(&object["agent"]), "status": object["status"],
        "archived_at": null, "created_at": object["created_at"], "updated_at": object["created_at"],
        "stats": null, "usage": null
    });
    s.threads.objects.insert(id.clone(), thread);
    s.threads
        .by_session
        .insert(session.to_string(), vec![id.clone()]);
    Some(id)
}

/// Posts the primary thread's `session.thread_status_{status}` on the session's stream, before the
/// session's own status event (a multi-agent session only; its status is the session's).
pub(crate) fn primary_status(
    shared: &Shared,
    session: &str,
    status: &str,
    stop_reason: Option<&Value>,
) {
    let mut s = shared.lock();
    let Some(id) = primary(&mut s, session) else {
        return;
    };
    let name = s.session(session).map(|o| o["agent"]["name"].clone());
    let mut ev = json!({"type": format!("session.thread_status_{status}"),
        "session_thread_id": id, "agent_name": name.unwrap_or_default()});
    if let Some(r) = stop_reason {
        ev["stop_reason"] = r.clone();
    }
    s.push_event(session, ev);
    drop(s);
    shared.changed.notify_all();
}

/// Starts a child thread of `session` running `agent` (a callable agent's definition): its
/// object, running, and its empty log; returns its id.
pub(crate) fn start_child(s: &mut State, session: &str, parent: &str, agent: &Value) -> String {
    let id = s.id("sthr");
    let now = s.now();
    let thread = json!({
        "id": id, "type": "session_thread", "session_id": session, "parent_thread_id": parent,
        "agent": agent, "status": "running", "archived_at": null,
        "created_at": now, "updated_at": now,
        "stats": {"startup_seconds": 0.0, "active_seconds": 0.0, "duration_seconds": 0.0},
        "usage": null
    });
    s.threads.add_child(session, &id, thread);
    s.logs.insert(id.clone(), Log::default());
    id
}

/// Forgets a deleted session's threads and their logs.
pub(crate) fn forget(s: &mut State, session: &str) {
    for id in s.threads.by_session.remove(session).unwrap_or_default() {
        s.threads.objects.remove(&id);
        s.threads.clocks.remove(&id);
        s.logs.remove(&id);
    }
    s.threads.calls.retain(|_, t| s.logs.contains_key(t));
}

/// Returns a thread as the API shows it: a primary thread's status, stats and usage are the
/// session's; a child's stats run on its clock.
fn view(s: &State, session: &Value, id: &str) -> Option<Value> {
    let mut t = s.threads.objects.get(id)?.clone();
    if t["parent_thread_id"].is_null() {
        t["status"] = session["status"].clone();
        t["updated_at"] = session["updated_at"].clone();
        let u = &session["usage"];
        t["usage"] = json!({"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"],
            "cache_read_input_tokens": u["cache_read_input_tokens"].as_i64().unwrap_or(0)});
        t["stats"] = json!({"startup_seconds": 0.0,
            "active_seconds": session["stats"]["active_seconds"],
            "duration_seconds": session["stats"]["duration_seconds"]});
    } else if let Some(c) = s.threads.clocks.get(id) {
        let active = c.active();
        let stats = &mut t["stats"];
        stats["active_seconds"] = json!(active.as_secs_f64());
        if t["archived_at"].is_null() {
            t["stats"]["duration_seconds"] = json!(c.created.elapsed().as_secs_f64());
        }
        if !t["usage"].is_null() {
            t["usage"]["active_seconds"] = json!(active.as_secs_f64());
        }
    }
    Some(t)
}

/// Answers `/v1/sessions/{id}/threads/...` (`segs` is what follows `threads`).
pub(crate) fn route(shared: &Arc<Shared>, r: &Request, session: &str, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    let object = s.sessions.get(session)?.clone();
    primary(&mut s, session);
    let ids = s
        .threads
        .by_session
        .get(session)
        .cloned()
        .unwrap_or_default();
    let thread = |tid: &str| -> Result<String, ApiError> {
        ids.iter()
            .find(|t| *t == tid)
            .cloned()
            .ok_or_else(|| not_found("session thread", tid))
    };
    match (r.method, segs) {
        ("GET", []) => {
            let mut statuses = r.query.all("statuses[]");
            statuses.extend(r.query.all("statuses"));
            let list: Vec<Value> = ids
                .iter()
                .filter_map(|id| view(&s, &object, id))
                .filter(|t| statuses.is_empty() || statuses.iter().any(|x| t["status"] == *x))
                .collect();
            // this list pages 1,000 by default
            match r.query.get("limit") {
                Some(_) => page(list, r.query),
                None => {
                    let p = r.query.get("page").map(|p| format!("&page={p}"));
                    page(
                        list,
                        &Query::parse(&format!("limit=1000{}", p.unwrap_or_default())),
                    )
                }
            }
        }
        ("GET", [tid]) => {
            let id = thread(tid)?;
            view(&s, &object, &id)
                .map(Reply::Json)
                .ok_or_else(|| not_found("session thread", tid))
        }
        ("POST", [tid, "archive"]) => {
            let id = thread(tid)?;
            let archived = archive(&mut s, &object, &id)?;
            drop(s);
            shared.changed.notify_all();
            Ok(Reply::Json(archived))
        }
        ("GET", [tid, "events"]) => {
            let id = thread(tid)?;
            let key = if Some(&id) == ids.first() {
                session
            } else {
                &id
            };
            let events: Vec<&Value> = s
                .logs
                .get(key)
                .into_iter()
                .flat_map(|l| &l.events)
                .collect();
            page(events, r.query)
        }
        ("GET", [tid, "stream"]) => {
            let id = thread(tid)?;
            let key = if Some(&id) == ids.first() {
                session.to_string()
            } else {
                id
            };
            Ok(Reply::Stream {
                session: key,
                previews: r.query.all("event_deltas[]").contains(&"agent.message"),
            })
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Archives a child thread that is not running: it terminates
/// (`session.thread_status_terminated` on its stream and the primary's). Archiving it again
/// answers it as it is.
fn archive(s: &mut State, session: &Value, id: &str) -> Result<Value, ApiError> {
    let t = view(s, session, id).ok_or_else(|| not_found("session thread", id))?;
    if t["parent_thread_id"].is_null() {
        return Err(bad(
            "the primary thread cannot be archived; archive the session",
        ));
    }
    if !t["archived_at"].is_null() {
        return Ok(t);
    }
    if t["status"] == "running" {
        return Err(bad(format!(
            "thread {id} is running; interrupt it before archiving it"
        )));
    }
    let was_terminated = t["status"] == "terminated";
    let now = s.now();
    if let Some(o) = s.threads.objects.get_mut(id) {
        o["archived_at"] = json!(now);
        // its duration stops here
        o["stats"]["duration_seconds"] = t["stats"]["duration_seconds"].clone();
    }
    if !was_terminated {
        let now = s.now();
        s.threads.set_status(id, "terminated", now);
        let name = t["agent"]["name"].clone();
        let ev = json!({"type": "session.thread_status_terminated", "session_thread_id": id,
            "agent_name": name});
        let ev = s.push_event(id, ev);
        let session_id = session["id"].as_str().unwrap_or_default();
        s.push_event(session_id, ev);
    }
    view(s, session, id).ok_or_else(|| not_found("session thread", id))
}
