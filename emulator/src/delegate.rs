//! The scripted coordinator's delegation ([`Step::Delegate`]): a child thread that runs a
//! callable agent of the session's `multiagent` roster, plays its own [`Script`] on its own
//! stream, and reports back to the primary thread.
//!
//! What each stream shows, as the API writes it:
//! - the primary (the session's stream): `session.thread_created`, the task as
//!   `agent.thread_message_sent`, the child's `session.thread_status_*` events, its custom tool
//!   calls and permission requests (with `session_thread_id`), and its report as
//!   `agent.thread_message_received`;
//! - the child's own stream: the task as `agent.thread_message_received`, its status events,
//!   everything it does (no `session_thread_id` on its own calls), the answers routed to it,
//!   and its report as `agent.thread_message_sent`.
//!
//! The coordinator waits for the child's report before its next step. While the child waits
//! for a tool result or a confirmation nothing runs: the session goes idle with
//! `requires_action` naming the child's call, as for a call of its own.

use super::acts::{idle, input_for, running, text_of, write_file};
use super::script::{Script, Step};
use super::shared::Shared;
use super::{interrupt, multiagent, threads};
use serde_json::{json, Value};
use std::time::Duration;

/// One child thread being played.
struct Child<'a> {
    shared: &'a Shared,
    session: &'a str,
    thread: String,
    name: Value,
    agent: Value,
}

/// Plays a delegation step; `None` when the session ended meanwhile (the turn stops).
pub(crate) fn run(
    shared: &Shared,
    session: &str,
    who: &str,
    message: &str,
    script: &Script,
) -> Option<()> {
    let content = json!([{"type": "text", "text": message}]);
    let child = {
        let mut s = shared.lock();
        let object = s.session(session)?.clone();
        let agent = multiagent::find(&object, who);
        let primary = threads::primary(&mut s, session);
        let (Some(agent), Some(primary)) = (agent, primary) else {
            drop(s);
            error(
                shared,
                session,
                &format!("no callable agent {who:?} on this session's roster"),
            );
            return Some(());
        };
        let thread = threads::start_child(&mut s, session, &primary, &agent);
        let name = agent["name"].clone();
        s.push_event(
            session,
            json!({"type": "session.thread_created", "session_thread_id": thread, "agent_name": name}),
        );
        s.push_event(
            session,
            json!({"type": "agent.thread_message_sent", "to_session_thread_id": thread,
                "to_agent_name": name, "content": content}),
        );
        s.push_event(
            &thread,
            json!({"type": "agent.thread_message_received", "from_session_thread_id": primary,
                "content": content}),
        );
        Child {
            shared,
            session,
            thread,
            name,
            agent,
        }
    };
    child.status("running", None);
    let report = child.play(message, script)?;
    let Some(text) = report else {
        child.resume_coordinator();
        return Some(());
    };
    let content = json!([{"type": "text", "text": text}]);
    let mut s = shared.lock();
    let primary = threads::primary(&mut s, session).unwrap_or_default();
    s.push_event(
        &child.thread,
        json!({"type": "agent.thread_message_sent", "to_session_thread_id": primary,
            "content": content}),
    );
    s.push_event(
        session,
        json!({"type": "agent.thread_message_received", "from_session_thread_id": child.thread,
            "from_agent_name": child.name, "content": content}),
    );
    drop(s);
    child.status("idle", Some(json!({"type": "end_turn"})));
    Some(())
}

/// Posts a `session.error` on the session's stream (a step that cannot be played).
fn error(shared: &Shared, session: &str, message: &str) {
    shared.lock().push_event(
        session,
        json!({"type": "session.error", "error": {"type": "unknown_error", "message": message,
            "retry_status": {"type": "terminal"}}}),
    );
    shared.changed.notify_all();
}

impl Child<'_> {
    /// Adds an event to the child's stream; with `cross_post`, the same event (with
    /// `session_thread_id` when the thread's own copy has none) to the primary's. A tool use
    /// is noted as the child's before anyone can see it, so that its answer is routed here.
    fn push(&self, event: Value, cross_post: bool) -> Value {
        let mut s = self.shared.lock();
        let ev = s.push_event(&self.thread, event);
        if ev["type"] == "agent.custom_tool_use" || ev["type"] == "agent.tool_use" {
            s.threads
                .note_call(ev["id"].as_str().unwrap_or_default(), &self.thread);
        }
        if cross_post {
            let mut copy = ev.clone();
            if copy.get("session_thread_id").is_none() {
                copy["session_thread_id"] = json!(self.thread);
            }
            s.push_event(self.session, copy);
        }
        drop(s);
        self.shared.changed.notify_all();
        ev
    }

    /// Changes the thread's status: its status and its `session.thread_status_*` event, on its
    /// stream and the primary's.
    fn status(&self, status: &str, stop_reason: Option<Value>) {
        let mut s = self.shared.lock();
        let now = s.now();
        s.threads.set_status(&self.thread, status, now);
        drop(s);
        let mut ev = json!({"type": format!("session.thread_status_{status}"),
            "session_thread_id": self.thread, "agent_name": self.name});
        if let Some(r) = stop_reason {
            ev["stop_reason"] = r;
        }
        self.push(ev, true);
    }

    /// Plays the child's script: `Some(Some(report))` when it ends its turn (the report is its
    /// last message), `Some(None)` when it ended otherwise, `None` when the session ended.
    fn play(&self, task: &str, script: &Script) -> Option<Option<String>> {
        std::thread::sleep(Duration::from_millis(50));
        let mut last = None;
        for step in &script.steps {
            if self.shared.stopped() {
                return None;
            }
            if !self.alive() {
                return self.session_alive().then_some(None);
            }
            if self.stopped_by_interrupt() {
                return Some(None);
            }
            match step {
                Step::Say(text) => last = Some(self.say(text)),
                Step::Echo => last = Some(self.say(&format!("You said: {task}"))),
                Step::Think => {
                    self.push(json!({"type": "agent.thinking"}), false);
                }
                Step::CallTool { name, input } => {
                    self.call(
                        json!({"type": "agent.custom_tool_use", "name": name, "input": input}),
                    )?;
                }
                Step::CallFirstCustomTool => {
                    let tools = self.agent["tools"].as_array().cloned().unwrap_or_default();
                    let Some(tool) = tools.iter().find(|t| t["type"] == "custom") else {
                        continue;
                    };
                    let name = tool["name"].as_str().unwrap_or("tool").to_string();
                    let input = input_for(&tool["input_schema"]);
                    let ev = json!({"type": "agent.custom_tool_use", "name": name, "input": input});
                    let Some(answer) = self.call(ev)? else {
                        continue;
                    };
                    let said = format!("The {name} tool said: {}", text_of(&answer["content"]));
                    last = Some(self.say(&said));
                }
                Step::AgentTool { name, input } => {
                    self.call(
                        json!({"type": "agent.tool_use", "name": name, "input": input,
                        "evaluated_permission": "allow"}),
                    )?;
                }
                Step::AskConfirmation { name, input } => {
                    let ev = json!({"type": "agent.tool_use", "name": name, "input": input,
                        "evaluated_permission": "ask"});
                    let (id, answer) = self.call_with_id(ev)?;
                    if answer.is_some_and(|a| a["result"] == "allow") {
                        self.push(
                            json!({"type": "agent.tool_result", "tool_use_id": id,
                            "content": [{"type": "text", "text": "done"}]}),
                            false,
                        );
                    }
                }
                Step::WriteFile { name, content } => {
                    write_file(self.shared, self.session, name, content.clone())
                }
                Step::Pause(d) => interrupt::pause(self.shared, &self.thread, *d),
                Step::Delegate { .. } => {
                    let message = "a callable agent cannot delegate (one level of delegation only)";
                    self.push(
                        json!({"type": "session.error", "error": {"type": "unknown_error",
                        "message": message, "retry_status": {"type": "terminal"}}}),
                        false,
                    );
                }
                Step::FailRetriesExhausted => {
                    self.push(json!({"type": "session.error", "error": {"type": "model_overloaded_error",
                        "message": "The model stayed overloaded.", "retry_status": {"type": "exhausted"}}}), false);
                    self.status("idle", Some(json!({"type": "retries_exhausted"})));
                    return Some(None);
                }
                Step::Terminate => {
                    self.status("terminated", None);
                    return Some(None);
                }
            }
        }
        if !self.alive() {
            return self.session_alive().then_some(None);
        }
        if self.stopped_by_interrupt() {
            return Some(None);
        }
        Some(Some(last.unwrap_or_else(|| "Done.".to_string())))
    }

    /// Returns true when the thread was interrupted: it goes idle (`end_turn`) and stops.
    fn stopped_by_interrupt(&self) -> bool {
        if !interrupt::is_set(&self.shared.lock(), &self.thread) {
            return false;
        }
        self.status("idle", Some(json!({"type": "end_turn"})));
        true
    }

    /// Lets the coordinator go on after the thread stopped without a report (running again if
    /// it waited on the thread's call) unless it was interrupted too.
    fn resume_coordinator(&self) {
        let waiting = {
            let s = self.shared.lock();
            s.session(self.session)
                .is_some_and(|o| o["status"] == "idle")
                && !interrupt::is_set(&s, self.session)
        };
        if waiting {
            std::thread::sleep(Duration::from_millis(50));
            running(self.shared, self.session);
        }
    }

    fn say(&self, text: &str) -> String {
        self.push(
            json!({"type": "agent.message", "content": [{"type": "text", "text": text}]}),
            false,
        );
        let words = text.split_whitespace().count() as i64;
        let mut s = self.shared.lock();
        s.add_usage(self.session, 12 + words, words + 1);
        s.threads.add_usage(&self.thread, 12 + words, words + 1);
        text.to_string()
    }

    /// Makes a call and waits for its answer; `Some(None)` when the thread terminated meanwhile,
    /// `None` when the session ended.
    fn call(&self, use_event: Value) -> Option<Option<Value>> {
        self.call_with_id(use_event).map(|(_, a)| a)
    }

    fn call_with_id(&self, use_event: Value) -> Option<(String, Option<Value>)> {
        let ev = self.push(use_event, true);
        let id = ev["id"].as_str().unwrap_or_default().to_string();
        let waiting = json!({"type": "requires_action", "event_ids": [id]});
        self.status("idle", Some(waiting.clone()));
        idle(self.shared, self.session, waiting);
        let Some(answer) = self.wait_answer(&id)? else {
            // archived or interrupted: the thread stops at its next step
            return Some((id, None));
        };
        std::thread::sleep(Duration::from_millis(50));
        running(self.shared, self.session);
        self.status("running", None);
        Some((id, Some(answer)))
    }

    /// Waits for the answer to `id`: `Some(None)` if the thread terminates first (it was
    /// archived) or is interrupted, `None` if the session ends.
    fn wait_answer(&self, id: &str) -> Option<Option<Value>> {
        let mut s = self.shared.lock();
        loop {
            if self.shared.stopped() || s.session(self.session)?["status"] == "terminated" {
                return None;
            }
            if let Some(a) = s.logs.get(self.session)?.answers.get(id) {
                return Some(Some(a.clone()));
            }
            if s.threads
                .status(&self.thread)
                .is_none_or(|st| st == "terminated")
                || interrupt::is_set(&s, &self.thread)
            {
                return Some(None);
            }
            s = self
                .shared
                .changed
                .wait_timeout(s, Duration::from_millis(200))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Returns whether the thread can still run (it was not archived or terminated).
    fn alive(&self) -> bool {
        self.shared
            .lock()
            .threads
            .status(&self.thread)
            .is_some_and(|s| s != "terminated")
    }

    fn session_alive(&self) -> bool {
        let s = self.shared.lock();
        s.session(self.session)
            .is_some_and(|o| o["status"] != "terminated")
    }
}
