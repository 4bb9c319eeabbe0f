//! A session's events: listing with filters and order, sending user events (which wake the
//! scripted agent, and queue work for a self-hosted session without an open item), and opening
//! the live stream.

use super::reply::Request;
use super::reply::{bad, created_within, json_body, not_found, page, ApiError, Reply, Routed};
use super::resources::work;
use super::shared::Shared;
use super::{acts, agent, interrupt};
use serde_json::{json, Value};
use std::sync::Arc;

/// The user events a client may send.
const USER_EVENTS: &[&str] = &[
    "user.message",
    "user.interrupt",
    "user.custom_tool_result",
    "user.tool_confirmation",
    "user.tool_result",
    "user.define_outcome",
    "system.message",
];

/// Answers `/v1/sessions/{id}/events/...` (`segs` is what follows `events`).
pub(crate) fn route(shared: &Arc<Shared>, r: &Request, session: &str, segs: &[&str]) -> Routed {
    match (r.method, segs) {
        ("GET", []) => {
            let s = shared.lock();
            let types = r.query.all("types[]");
            let mut events: Vec<&Value> = s
                .logs
                .get(session)
                .into_iter()
                .flat_map(|l| l.events.iter())
                .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t))
                .filter(|e| created_within(r.query, e["processed_at"].as_str().unwrap_or("")))
                .collect();
            if r.query.get("order") == Some("desc") {
                events.reverse();
            }
            page(events, r.query)
        }
        ("POST", []) => {
            let sent = send(shared, session, &json_body(r.body)?)?;
            Ok(Reply::Json(json!({"data": sent})))
        }
        ("GET", ["stream"]) => Ok(Reply::Stream {
            session: session.to_string(),
            previews: r.query.all("event_deltas[]").contains(&"agent.message"),
        }),
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Gives an outcome its server id (`outc_`), and the session a `pending` evaluation of it.
fn define_outcome(s: &mut super::state::State, session: &str, ev: &mut Value) {
    let outcome = s.id("outc");
    ev["outcome_id"] = json!(outcome);
    let evaluation = json!({"type": "outcome_evaluation", "outcome_id": outcome,
        "description": ev["description"], "iteration": 0, "result": "pending",
        "completed_at": null, "explanation": null});
    if let Ok(o) = s.sessions.get_mut(session) {
        if let Some(list) = o["outcome_evaluations"].as_array_mut() {
            list.push(evaluation);
        }
    }
}

/// Records user events, wakes the agent, and starts a turn for each user message.
pub(crate) fn send(
    shared: &Arc<Shared>,
    session: &str,
    body: &Value,
) -> Result<Vec<Value>, ApiError> {
    let events = body["events"]
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad("events: Field required"))?;
    let mut turns = Vec::new();
    let mut sent = Vec::new();
    {
        let mut s = shared.lock();
        if s.sessions.get(session)?["status"] == "terminated" {
            return Err(bad("the session is terminated and accepts no events"));
        }
        let results = events.iter().any(|e| {
            matches!(
                e["type"].as_str(),
                Some("user.custom_tool_result" | "user.tool_result")
            )
        });
        if results && s.faults.refuse_results > 0 {
            s.faults.refuse_results -= 1;
            return Err(match s.faults.refuse_status {
                400 => bad("events: the tool result is not valid"),
                _ => ApiError(
                    413,
                    "request_too_large",
                    "the tool result is over the size limit".into(),
                ),
            });
        }
        for ev in events {
            let kind = ev["type"].as_str().unwrap_or("");
            if !USER_EVENTS.contains(&kind) {
                return Err(bad(format!("events: unknown event type {kind:?}")));
            }
            let required: &[&str] = match kind {
                "user.message" | "system.message" => &["content"],
                "user.custom_tool_result" => &["custom_tool_use_id"],
                "user.tool_confirmation" => &["tool_use_id", "result"],
                "user.tool_result" => &["tool_use_id"],
                "user.define_outcome" => &["description", "rubric"],
                _ => &[],
            };
            if let Some(f) = required
                .iter()
                .find(|f| ev.get(**f).is_none_or(Value::is_null))
            {
                return Err(bad(format!("events: {kind}.{f}: Field required")));
            }
            let mut ev = ev.clone();
            if kind == "user.define_outcome" {
                define_outcome(&mut s, session, &mut ev);
            }
            // an answer to a child thread's call (or an interrupt of it) is routed to that thread
            let mut child = s.threads.answered_thread(&ev);
            if kind == "user.interrupt" {
                child = interrupt::receive(&mut s, session, &ev)?;
            }
            if let Some(t) = &child {
                ev["session_thread_id"] = json!(t);
            }
            let recorded = s.push_event(session, ev.clone());
            if let Some(t) = child {
                s.push_event(&t, recorded.clone());
            }
            let answered = match kind {
                "user.custom_tool_result" => ev["custom_tool_use_id"].as_str(),
                "user.tool_confirmation" | "user.tool_result" => ev["tool_use_id"].as_str(),
                _ => None,
            };
            if let (Some(id), Some(log)) = (answered, s.logs.get_mut(session)) {
                log.answers.insert(id.to_string(), recorded.clone());
            }
            if kind == "user.message" {
                // a self-hosted session with no open work item gets one: a worker must run it
                work::enqueue(&mut s, session);
                interrupt::turn_started(&mut s, session);
                turns.push(acts::text_of(&ev["content"]));
            }
            sent.push(recorded);
        }
    }
    shared.changed.notify_all();
    for text in turns {
        let (agent_shared, id) = (shared.clone(), session.to_string());
        let spawned = std::thread::Builder::new()
            .name("emulator agent".into())
            .spawn(move || agent::run_turn(&agent_shared, &id, &text));
        if spawned.is_err() {
            interrupt::turn_ended(&mut shared.lock(), session);
        }
    }
    Ok(sent)
}
