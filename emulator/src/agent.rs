//! The emulator's scripted agent: plays its [`Script`] for each user message, as events on
//! the session (messages, tool calls and the waits for their answers, files, failures). Each
//! message is one model call with its list cost; a session whose cost has reached its budget
//! stops before its next step and goes idle with `budget_reached`.

use super::acts::{idle, input_for, push, running, text_of, write_file};
use super::interrupt;
use super::script::{Script, Step};
use super::shared::Shared;
use serde_json::{json, Value};
use std::time::Duration;

/// How long the agent takes before it starts a turn or goes on after a tool result.
pub(crate) const THINKING: Duration = Duration::from_millis(150);

/// Waits until the answer to `tool_use_id` is posted; `None` if the session ends or the turn
/// is interrupted first.
fn wait_answer(shared: &Shared, session: &str, tool_use_id: &str) -> Option<Value> {
    let mut store = shared.lock();
    loop {
        if shared.stopped() || interrupt::is_set(&store, session) {
            return None;
        }
        if store.session(session)?["status"] == "terminated" {
            return None;
        }
        if let Some(a) = store.logs.get(session)?.answers.get(tool_use_id) {
            return Some(a.clone());
        }
        store = shared
            .changed
            .wait_timeout(store, Duration::from_millis(200))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

/// Plays one turn for a user message (on its own thread). An interrupt stops it at its next
/// step; it goes idle with `end_turn`.
pub(crate) fn run_turn(shared: &Shared, session: &str, user_text: &str) {
    let _turn = interrupt::Turn { shared, session };
    let (script, custom_tool) = {
        let store = shared.lock();
        let script = store.script.clone().unwrap_or_else(Script::default_turn);
        let tool = store.session(session).and_then(|s| {
            s["agent"]["tools"]
                .as_array()?
                .iter()
                .find(|t| t["type"] == "custom")
                .cloned()
        });
        (script, tool)
    };
    std::thread::sleep(shared.thinking());
    running(shared, session);
    for step in script.steps {
        if shared.stopped() {
            return;
        }
        if interrupt::is_set(&shared.lock(), session) {
            break;
        }
        if shared.lock().budget_reached(session) {
            usage_snapshot(shared, session);
            idle(shared, session, json!({"type": "budget_reached"}));
            return;
        }
        match step {
            Step::Say(text) => say(shared, session, &text),
            Step::Echo => say(shared, session, &format!("You said: {user_text}")),
            Step::Think => {
                push(shared, session, json!({"type": "agent.thinking"}));
            }
            Step::CallTool { name, input } => {
                if call_tool(shared, session, &name, input).is_none() {
                    break;
                }
            }
            Step::AgentTool { name, input } => {
                let use_event = json!({"type": "agent.tool_use", "name": name, "input": input,
                    "evaluated_permission": "allow"});
                if wait_tool(shared, session, use_event).is_none() {
                    break;
                }
            }
            Step::CallFirstCustomTool => {
                let Some(tool) = &custom_tool else { continue };
                let name = tool["name"].as_str().unwrap_or("tool").to_string();
                let Some(result) =
                    call_tool(shared, session, &name, input_for(&tool["input_schema"]))
                else {
                    break;
                };
                say(
                    shared,
                    session,
                    &format!("The {name} tool said: {}", text_of(&result["content"])),
                );
            }
            Step::AskConfirmation { name, input } => {
                let ev = push(
                    shared,
                    session,
                    json!({"type": "agent.tool_use", "name": name, "input": input, "evaluated_permission": "ask"}),
                );
                let id = ev["id"].as_str().unwrap_or_default().to_string();
                idle(
                    shared,
                    session,
                    json!({"type": "requires_action", "event_ids": [id]}),
                );
                let Some(answer) = wait_answer(shared, session, &id) else {
                    break;
                };
                running(shared, session);
                if answer["result"] == "allow" {
                    push(
                        shared,
                        session,
                        json!({"type": "agent.tool_result", "tool_use_id": id, "content": [{"type": "text", "text": "done"}]}),
                    );
                }
            }
            Step::WriteFile { name, content } => write_file(shared, session, &name, content),
            Step::Delegate {
                agent,
                message,
                script,
            } => {
                if super::delegate::run(shared, session, &agent, &message, &script).is_none() {
                    break;
                }
            }
            Step::FailRetriesExhausted => {
                push(
                    shared,
                    session,
                    json!({"type": "session.error", "error": {"type": "model_overloaded_error", "message": "The model stayed overloaded.", "retry_status": {"type": "exhausted"}}}),
                );
                idle(shared, session, json!({"type": "retries_exhausted"}));
                return;
            }
            Step::Terminate => {
                shared.lock().set_status(session, "terminated");
                push(
                    shared,
                    session,
                    json!({"type": "session.status_terminated"}),
                );
                return;
            }
            Step::Pause(d) => interrupt::pause(shared, session, d),
        }
    }
    // the turn ends: its steps are played or it was interrupted (nothing more if the session
    // ended meanwhile)
    let ended = shared
        .lock()
        .session(session)
        .is_none_or(|o| o["status"] == "terminated");
    if shared.stopped() || ended {
        return;
    }
    usage_snapshot(shared, session);
    idle(shared, session, json!({"type": "end_turn"}));
}

/// Posts a `session.usage` snapshot (the usage so far and the budget) when the session has a
/// budget.
fn usage_snapshot(shared: &Shared, session: &str) {
    let event = {
        let store = shared.lock();
        let Some(s) = store.session(session) else {
            return;
        };
        if s["budget"].is_null() {
            return;
        }
        json!({"type": "session.usage", "usage": s["usage"], "budget": s["budget"]})
    };
    push(shared, session, event);
}

/// Posts an `agent.message` with `text`, and its usage.
fn say(shared: &Shared, session: &str, text: &str) {
    push(
        shared,
        session,
        json!({"type": "agent.message", "content": [{"type": "text", "text": text}]}),
    );
    let words = text.split_whitespace().count() as i64;
    shared.lock().add_usage(session, 12 + words, words + 1);
}

/// Makes a custom tool call and waits for its result; `None` if the session ended meanwhile.
fn call_tool(shared: &Shared, session: &str, name: &str, input: Value) -> Option<Value> {
    wait_tool(
        shared,
        session,
        json!({"type": "agent.custom_tool_use", "name": name, "input": input}),
    )
}

/// Posts a tool use event and waits for its result; `None` if the session ended meanwhile.
fn wait_tool(shared: &Shared, session: &str, use_event: Value) -> Option<Value> {
    let ev = push(shared, session, use_event);
    let id = ev["id"].as_str().unwrap_or_default().to_string();
    idle(
        shared,
        session,
        json!({"type": "requires_action", "event_ids": [id]}),
    );
    let answer = wait_answer(shared, session, &id)?;
    // the model takes a moment to read a result (clients that reopen their stream after
    // posting, as the reference loop does, see what follows)
    std::thread::sleep(shared.thinking());
    running(shared, session);
    Some(answer)
}
