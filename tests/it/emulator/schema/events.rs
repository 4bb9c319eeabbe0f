//! Every kind of event the emulator records, checked in the event list against the
//! `SessionEvent` schema: what the scripted agent says, thinks, calls and fails with, and every
//! user event a client can send (a message, an interrupt, tool results and confirmations, an
//! outcome, a system message), as the API records them (with ids and `processed_at`).

use super::{id, Api};
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The session's events, once the last one is a `session.status_idle` (or `terminated`).
fn settled(api: &Api, session: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = api.ok("sessions.events.list", &[session], "limit=1000", ());
        let events = page["data"].as_array().cloned().unwrap_or_default();
        let idle = events.last().is_some_and(|e| {
            e["type"] == "session.status_idle" || e["type"] == "session.status_terminated"
        });
        let idles = events
            .iter()
            .filter(|e| e["type"] == "session.status_idle")
            .count();
        if idle && idles >= count {
            return events;
        }
        assert!(Instant::now() < deadline, "{session} never settled: {page}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn last_tool_use(events: &[Value], kind: &str) -> String {
    events
        .iter()
        .rev()
        .find(|e| e["type"] == kind)
        .map(id)
        .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
}

pub(crate) fn check(api: &Api) {
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "ev"})));
    let agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "E", "model": "claude-opus-4-5", "tools": [{"type": "custom",
            "name": "run_tests", "description": "Run", "input_schema": {"type": "object",
            "properties": {"path": {"type": "string"}}}}]}),
    ));
    let s = id(&api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": agent, "environment_id": env}),
    ));
    let send = |events: Value| {
        api.ok(
            "sessions.events.send",
            &[&s],
            "",
            json!({ "events": events }),
        );
    };
    // each kind of event the fields it must have
    for bad in [
        json!({"type": "user.message"}),
        json!({"type": "user.custom_tool_result", "content": []}),
        json!({"type": "user.tool_confirmation", "tool_use_id": "sevt_x"}),
        json!({"type": "user.tool_result"}),
        json!({"type": "user.define_outcome", "description": "d"}),
        json!({"type": "system.message"}),
    ] {
        api.err(
            "sessions.events.send",
            &[&s],
            "",
            json!({ "events": [bad] }),
            400,
        );
    }
    api.emu.set_script(
        Script::new()
            .step(managed_agents_emulator::Step::Think)
            .say("thinking done")
            .step(managed_agents_emulator::Step::CallFirstCustomTool)
            .ask_confirmation("bash", json!({"command": "ls"}))
            .agent_tool("read", json!({"file_path": "a.txt"}))
            .fail(),
    );
    send(json!([{"type": "user.message", "content": [{"type": "text", "text": "go"}]}]));
    let events = settled(api, &s, 1);
    let call = last_tool_use(&events, "agent.custom_tool_use");
    send(
        json!([{"type": "user.custom_tool_result", "custom_tool_use_id": call,
        "content": [{"type": "text", "text": "passed"}]}]),
    );
    let events = settled(api, &s, 2);
    let ask = last_tool_use(&events, "agent.tool_use");
    send(json!([{"type": "user.tool_confirmation", "tool_use_id": ask, "result": "allow"}]));
    let events = settled(api, &s, 3);
    let read = last_tool_use(&events, "agent.tool_use");
    send(json!([{"type": "user.tool_result", "tool_use_id": read,
        "content": [{"type": "text", "text": "contents"}]}]));
    settled(api, &s, 4);
    // the user events that start no tool: an interrupt, an outcome, a system message
    api.emu.set_script(Script::new().say("ok"));
    send(json!([{"type": "user.interrupt"}]));
    send(json!([
        {"type": "user.message", "content": [{"type": "text", "text": "with context"}]},
        {"type": "system.message", "content": [{"type": "text", "text": "be brief"}]}
    ]));
    settled(api, &s, 5);
    send(
        json!([{"type": "user.define_outcome", "description": "a report",
        "rubric": {"type": "text", "content": "complete"}, "max_iterations": 2}]),
    );
    // the session keeps an evaluation of the outcome, under the id the event was given
    let session = api.ok("sessions.retrieve", &[&s], "", ());
    let listed = api.ok(
        "sessions.events.list",
        &[&s],
        "types[]=user.define_outcome",
        (),
    );
    let outcome = &listed["data"][0]["outcome_id"];
    assert!(
        outcome.as_str().is_some_and(|o| o.starts_with("outc_")),
        "{listed}"
    );
    assert_eq!(
        session["outcome_evaluations"][0]["outcome_id"], *outcome,
        "{session}"
    );
    api.emu.set_script(Script::new().terminate());
    send(json!([{"type": "user.message", "content": [{"type": "text", "text": "end"}]}]));
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let page = api.ok("sessions.events.list", &[&s], "limit=1000", ());
        let events = page["data"].as_array().cloned().unwrap_or_default();
        if events
            .iter()
            .any(|e| e["type"] == "session.status_terminated")
        {
            break events;
        }
        assert!(Instant::now() < deadline, "never terminated");
        std::thread::sleep(Duration::from_millis(20));
    };
    api.emu.set_script(Script::new().say("hello"));
    let mut kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for k in [
        "agent.thinking",
        "agent.message",
        "agent.custom_tool_use",
        "agent.tool_use",
        "agent.tool_result",
        "session.error",
        "session.status_running",
        "session.status_idle",
        "session.status_terminated",
        "user.message",
        "user.custom_tool_result",
        "user.tool_confirmation",
        "user.tool_result",
        "user.interrupt",
        "user.define_outcome",
        "system.message",
    ] {
        assert!(kinds.contains(&k), "no {k} among {kinds:?}");
    }
}
