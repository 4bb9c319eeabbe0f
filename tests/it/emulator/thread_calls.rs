//! The calls of child threads in a multi-agent session on the emulator: runners limited to
//! their own tools answer only their calls, a runner for every tool answers a call it has no
//! handler for with an error, and a child archived while it waits for a call ends there.

use super::threads::{
    delegating, kind, multiagent_session, researching, session_events, thread_events, threads,
    wait_child,
};
use crate::support::emulated::setup;
use managed_agents::runner::Outcome;
use managed_agents::types::*;
use managed_agents::{Client, Error};
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The coordinator's and the child's calls, answered by two runners each limited to its own
/// tool; every call answered once, by the runner that has its handler.
#[test]
fn runners_limited_to_their_own_tools_answer_only_their_calls() {
    let (emu, c) = setup();
    emu.set_script(delegating(researching()));
    let s = multiagent_session(&c);
    let worker = {
        let (c, id) = (c.clone(), s.id.clone());
        std::thread::spawn(move || {
            c.run(&id)
                .tool("lookup", |call| {
                    Ok::<_, String>(format!(
                        "May 4 (from {})",
                        call.session_thread_id.clone().unwrap_or_default()
                    ))
                })
                .own_tools_only()
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    let lead = c
        .run(&s.id)
        .message("When is the release?")
        .tool("plan", |_| Ok::<_, String>("ask".to_string()))
        .own_tools_only()
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    let worker = worker.join().unwrap().unwrap();
    let posted = |o: &Outcome| -> Vec<String> {
        o.tool_calls
            .iter()
            .filter(|t| t.posted)
            .map(|t| t.call.name.clone())
            .collect()
    };
    assert_eq!(posted(&lead), ["plan"]);
    assert_eq!(posted(&worker), ["lookup"]);
    // the lead saw the child's call and left it
    assert!(lead
        .tool_calls
        .iter()
        .any(|t| t.call.name == "lookup" && !t.posted && t.call.session_thread_id.is_some()));
    let results: Vec<Value> = session_events(&c, &s.id)
        .into_iter()
        .filter(|e| matches!(e, SessionEvent::UserCustomToolResult(_)))
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{results:?}");
    let child = wait_child(&c, &s.id);
    assert!(results[1]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains(&child.id));
    assert_eq!(results[1]["session_thread_id"], child.id.as_str());
}

/// A runner for every tool answers a child's call it has no handler for with an error, and
/// the child goes on.
#[test]
fn a_runner_for_all_tools_answers_a_childs_unknown_call_with_an_error() {
    let (emu, c) = setup();
    emu.set_script(delegating(researching()));
    let s = multiagent_session(&c);
    let outcome = c
        .run(&s.id)
        .message("go")
        .tool("plan", |_| Ok::<_, String>("ask".to_string()))
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    let lookup = outcome
        .tool_calls
        .iter()
        .find(|t| t.call.name == "lookup")
        .unwrap();
    assert!(lookup.is_error && lookup.posted, "{lookup:?}");
    let child = wait_child(&c, &s.id);
    let answered = thread_events(&c, &s.id, &child.id)
        .into_iter()
        .find_map(|e| match e {
            SessionEvent::UserCustomToolResult(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(answered.is_error, Some(true));
    assert_eq!(child.status, SessionThreadStatus::Idle);
}

#[test]
fn archiving_a_thread_terminates_it_and_only_an_idle_child_can_be_archived() {
    let (emu, c) = setup();
    emu.set_script(delegating(researching()));
    let s = multiagent_session(&c);
    let primary = threads(&c, &s.id).remove(0);
    let e = c
        .sessions()
        .threads()
        .archive(&s.id, &primary.id)
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e}");
    // the child waits for `lookup` (requires_action counts as idle): archive it there
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let plan = wait_for(
        &c,
        &s.id,
        |e| matches!(e, SessionEvent::AgentCustomToolUse(u) if u.name == "plan"),
    );
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserCustomToolResultEventParams::new(plan.id().unwrap())),
        )
        .unwrap();
    wait_for(
        &c,
        &s.id,
        |e| matches!(e, SessionEvent::AgentCustomToolUse(u) if u.name == "lookup"),
    );
    let child = wait_child(&c, &s.id);
    let archived = c.sessions().threads().archive(&s.id, &child.id).unwrap();
    assert_eq!(archived.status, SessionThreadStatus::Terminated);
    assert!(archived.archived_at.is_some());
    // again: as it is, its duration frozen
    let again = c.sessions().threads().archive(&s.id, &child.id).unwrap();
    assert_eq!(again.archived_at, archived.archived_at);
    let lived = |t: &SessionThread| t.stats.as_ref().and_then(|s| s.duration_seconds);
    assert!(lived(&archived).unwrap() > 0.0, "{:?}", archived.stats);
    assert_eq!(lived(&again), lived(&archived));
    // the coordinator goes on without a report
    let end = wait_for(&c, &s.id, |e| e.ends_turn());
    assert!(matches!(end, SessionEvent::SessionStatusIdle(_)), "{end:?}");
    let kinds: Vec<String> = thread_events(&c, &s.id, &child.id)
        .iter()
        .map(kind)
        .collect();
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("session.thread_status_terminated")
    );
    assert!(!kinds.contains(&"agent.thread_message_sent".to_string()));
}

/// The first event of the session's log that `pick` takes, once it is there.
fn wait_for(c: &Client, session: &str, pick: impl Fn(&SessionEvent) -> bool) -> SessionEvent {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(e) = session_events(c, session).into_iter().find(|e| pick(e)) {
            return e;
        }
        assert!(Instant::now() < until, "the event did not come");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child's permission request reaches the session's stream; the runner's confirmation is
/// routed to the child, which runs the tool.
#[test]
fn a_childs_permission_request_is_confirmed_from_the_sessions_stream() {
    let (emu, c) = setup();
    let child = Script::new()
        .ask_confirmation("bash", json!({"command": "ls"}))
        .say("Listed.");
    emu.set_script(Script::new().delegate("Researcher", "List the files.", child));
    let s = multiagent_session(&c);
    let outcome = c
        .run(&s.id)
        .message("go")
        .confirm(managed_agents::runner::Confirmation::Allow)
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.confirmations.len(), 1);
    assert!(outcome.confirmations[0].posted);
    let child = wait_child(&c, &s.id);
    let kinds: Vec<String> = thread_events(&c, &s.id, &child.id)
        .iter()
        .map(kind)
        .collect();
    let at = kinds
        .iter()
        .position(|k| k == "user.tool_confirmation")
        .unwrap();
    // the tool ran once, after the confirmation reached the child
    let results: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == "agent.tool_result")
        .collect();
    assert!(results.len() == 1 && results[0] > at, "{kinds:?}");
    assert!(kinds.contains(&"agent.thread_message_sent".to_string()));
}

/// A runner started while a child waits for its call finds the call in the session's history,
/// answers it once, and follows the session to the end of the turn.
#[test]
fn a_runner_started_late_answers_a_childs_pending_call_from_the_history() {
    let (emu, c) = setup();
    emu.set_script(
        Script::new()
            .delegate("Researcher", "Find it.", researching())
            .say("Done."),
    );
    let s = multiagent_session(&c);
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    wait_for(
        &c,
        &s.id,
        |e| matches!(e, SessionEvent::AgentCustomToolUse(u) if u.name == "lookup"),
    );
    let outcome = c
        .run(&s.id)
        .tool("lookup", |_| Ok::<_, String>("May 4".to_string()))
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    let child = wait_child(&c, &s.id);
    assert_eq!(outcome.tool_calls.len(), 1);
    assert_eq!(
        outcome.tool_calls[0].call.session_thread_id.as_deref(),
        Some(child.id.as_str())
    );
    assert_eq!(outcome.text(), "Done.");
    let results = thread_events(&c, &s.id, &child.id)
        .iter()
        .filter(|e| matches!(e, SessionEvent::UserCustomToolResult(_)))
        .count();
    assert_eq!(results, 1);
}
