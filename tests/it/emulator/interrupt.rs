//! `user.interrupt` on the emulator: a running turn stops at its next step, a call waiting for
//! its result is abandoned, an idle session is not affected, and an interrupt naming a child
//! thread stops that thread only (one without a thread stops them all).

use super::session;
use super::threads::{multiagent_session, thread_events, threads, wait_child};
use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents::StreamOptions;
use managed_agents_emulator::{Script, Step};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Longer than any test waits: a pause the interrupt must cut short.
const LONG: Duration = Duration::from_secs(120);

fn interrupt(c: &Client, session: &str, thread: Option<&str>) -> managed_agents::Result<()> {
    let mut params = UserInterruptEventParams::new();
    if let Some(t) = thread {
        params = params.session_thread_id(t);
    }
    c.sessions()
        .events()
        .send(session, &EventSendParams::one(params))
        .map(|_| ())
}

fn message(c: &Client, session: &str, text: &str) {
    c.sessions()
        .events()
        .send(
            session,
            &EventSendParams::one(UserMessageEventParams::text(text)),
        )
        .unwrap();
}

/// Each event as JSON.
fn json_of(events: &[SessionEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn logged(c: &Client, session: &str) -> Vec<Value> {
    let page = c
        .sessions()
        .events()
        .list(session, &Default::default())
        .unwrap();
    let all: Vec<SessionEvent> = page.auto_paging().map(Result::unwrap).collect();
    json_of(&all)
}

fn said(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "agent.message")
        .map(|e| e["content"][0]["text"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Polls the session's log until `done` holds (20 s at most).
fn wait_log(c: &Client, session: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let events = logged(c, session);
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < until, "never {what}: {events:#?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn idle_with(events: &[Value], reason: &str) -> bool {
    events
        .iter()
        .any(|e| e["type"] == "session.status_idle" && e["stop_reason"]["type"] == reason)
}

#[test]
fn an_interrupt_stops_a_running_turn_at_its_next_step() {
    let (emu, c) = setup();
    emu.set_script(
        Script::new()
            .say("Starting.")
            .step(Step::Pause(LONG))
            .say("Never said."),
    );
    let s = session(&c, false);
    let stream = c
        .sessions()
        .events()
        .stream(&s.id, StreamOptions::new())
        .unwrap();
    message(&c, &s.id, "go");
    let mut seen = Vec::new();
    for ev in stream.until_idle() {
        let ev = serde_json::to_value(ev.unwrap()).unwrap();
        if ev["type"] == "agent.message" {
            interrupt(&c, &s.id, None).unwrap();
        }
        seen.push(ev);
    }
    let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "user.message",
            "session.status_running",
            "agent.message",
            "user.interrupt",
            "session.status_idle"
        ]
    );
    assert_eq!(seen[4]["stop_reason"], json!({"type": "end_turn"}));
    assert_eq!(
        c.sessions().retrieve(&s.id).unwrap().status,
        SessionStatus::Idle
    );
    // the log has what the stream showed, and the next turn runs in full
    assert_eq!(logged(&c, &s.id), seen);
    emu.set_script(Script::new().say("Again."));
    message(&c, &s.id, "again");
    let events = wait_log(&c, &s.id, "ended the second turn", |e| {
        e.iter()
            .filter(|e| e["type"] == "session.status_idle")
            .count()
            == 2
    });
    assert_eq!(said(&events), ["Starting.", "Again."]);
}

#[test]
fn an_interrupt_abandons_the_call_waiting_for_its_result() {
    let (emu, c) = setup();
    emu.set_script(
        Script::new()
            .call_tool("run_tests", json!({}))
            .say("Tests ran."),
    );
    let s = session(&c, true);
    message(&c, &s.id, "go");
    let events = wait_log(&c, &s.id, "waited for the call", |e| {
        idle_with(e, "requires_action")
    });
    let call = events
        .iter()
        .find(|e| e["type"] == "agent.custom_tool_use")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    interrupt(&c, &s.id, None).unwrap();
    let events = wait_log(&c, &s.id, "ended the turn", |e| idle_with(e, "end_turn"));
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "user.message",
            "session.status_running",
            "agent.custom_tool_use",
            "session.status_idle",
            "user.interrupt",
            "session.status_idle"
        ]
    );
    // a result posted late resumes nothing
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserCustomToolResultEventParams::text(call, "ok")),
        )
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let after = logged(&c, &s.id);
    assert_eq!(after.len(), events.len() + 1, "{after:#?}");
    assert!(said(&after).is_empty(), "{after:#?}");
    assert_eq!(
        c.sessions().retrieve(&s.id).unwrap().status,
        SessionStatus::Idle
    );
}

#[test]
fn an_interrupt_of_an_idle_session_is_recorded_and_stops_nothing_later() {
    let (emu, c) = setup();
    emu.set_script(
        Script::new()
            .say("One.")
            .step(Step::Pause(Duration::from_millis(300)))
            .say("Two."),
    );
    let s = session(&c, false);
    interrupt(&c, &s.id, None).unwrap();
    let events = logged(&c, &s.id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "user.interrupt");
    assert_eq!(
        c.sessions().retrieve(&s.id).unwrap().status,
        SessionStatus::Idle
    );
    let outcome = c
        .run(&s.id)
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.text(), "One.Two.");
    // an interrupt naming a thread a single-agent session does not have
    let err = interrupt(&c, &s.id, Some("sthr_nope")).unwrap_err();
    assert_eq!(err.status(), Some(404));
}

/// The coordinator delegates to a child that pauses, then says "Without it.".
fn coordinating() -> Script {
    Script::new()
        .delegate(
            "Researcher",
            "Find the release date.",
            Script::new()
                .say("Looking it up.")
                .step(Step::Pause(LONG))
                .say("It is May 4."),
        )
        .say("Without it.")
}

/// Starts the coordinator's turn; returns the child thread once it has spoken.
fn child_pausing(c: &Client, session: &str) -> SessionThread {
    message(c, session, "When is the release?");
    let child = wait_child(c, session);
    wait_log(c, session, "heard the child", |e| {
        e.iter().any(|e| {
            e["type"] == "session.thread_status_running"
                && e["session_thread_id"] == child.id.as_str()
        })
    });
    let until = Instant::now() + Duration::from_secs(20);
    while said(&json_of(&thread_events(c, session, &child.id))).is_empty() {
        assert!(Instant::now() < until, "the child never spoke");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn an_interrupt_naming_a_child_thread_stops_that_thread_only() {
    let (emu, c) = setup();
    emu.set_script(coordinating());
    let s = multiagent_session(&c);
    let child = child_pausing(&c, &s.id);
    interrupt(&c, &s.id, Some(&child.id)).unwrap();
    let events = wait_log(&c, &s.id, "ended the turn", |e| idle_with(e, "end_turn"));
    // the coordinator went on without a report
    assert_eq!(said(&events), ["Without it."]);
    assert!(!events
        .iter()
        .any(|e| e["type"] == "agent.thread_message_received"));
    let own = json_of(&thread_events(&c, &s.id, &child.id));
    assert_eq!(said(&own), ["Looking it up."]);
    let kinds: Vec<&str> = own.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["user.interrupt", "session.thread_status_idle"],
        "{own:#?}"
    );
    assert_eq!(
        own.last().unwrap()["stop_reason"],
        json!({"type": "end_turn"})
    );
    // the session's copy of the interrupt names the thread
    let sent = events
        .iter()
        .find(|e| e["type"] == "user.interrupt")
        .unwrap();
    assert_eq!(sent["session_thread_id"], child.id.as_str());
    let listed = threads(&c, &s.id);
    assert_eq!(listed[1].status, SessionThreadStatus::Idle);
    assert_eq!(
        c.sessions().retrieve(&s.id).unwrap().status,
        SessionStatus::Idle
    );
    let err = interrupt(&c, &s.id, Some("sthr_nope")).unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[test]
fn an_interrupt_of_the_session_stops_its_child_threads_too() {
    let (emu, c) = setup();
    emu.set_script(coordinating());
    let s = multiagent_session(&c);
    let child = child_pausing(&c, &s.id);
    interrupt(&c, &s.id, None).unwrap();
    let events = wait_log(&c, &s.id, "ended the turn", |e| idle_with(e, "end_turn"));
    assert!(said(&events).is_empty(), "{events:#?}");
    let primary = &threads(&c, &s.id)[0];
    // the child stops, then the primary: each goes idle once, with end_turn
    let idles: Vec<(&str, &Value)> = events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().ends_with("status_idle"))
        .map(|e| {
            (
                e["session_thread_id"].as_str().unwrap_or("session"),
                &e["stop_reason"],
            )
        })
        .collect();
    let end_turn = json!({"type": "end_turn"});
    assert_eq!(
        idles,
        [
            (child.id.as_str(), &end_turn),
            (primary.id.as_str(), &end_turn),
            ("session", &end_turn)
        ]
    );
    let own = json_of(&thread_events(&c, &s.id, &child.id));
    assert_eq!(said(&own), ["Looking it up."]);
}
