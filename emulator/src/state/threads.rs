//! The threads of multi-agent sessions as the emulator keeps them: each session's thread ids,
//! each thread's object, each child thread's clock, and which child made which tool call. The
//! functions that also touch the sessions and their logs, and the routes, are in `threads`.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Every session's threads.
#[derive(Default)]
pub(crate) struct Threads {
    /// Each session's thread ids, primary first, then in the order they started.
    pub(crate) by_session: HashMap<String, Vec<String>>,
    /// Each thread's object (a primary thread's status, stats and usage are the session's).
    pub(crate) objects: HashMap<String, Value>,
    /// Each child thread's clock.
    pub(crate) clocks: HashMap<String, ThreadClock>,
    /// The child thread of each tool use a child made (by the tool use's event id).
    pub(crate) calls: HashMap<String, String>,
}

/// A child thread's time: when it started, and how long it has been running.
pub(crate) struct ThreadClock {
    /// When the thread started.
    pub(crate) created: Instant,
    /// How long it ran before its current run.
    pub(crate) active: Duration,
    /// When its current run began, while it runs.
    pub(crate) running_since: Option<Instant>,
}

impl ThreadClock {
    /// Returns the clock of a thread that starts running now.
    pub(crate) fn started() -> ThreadClock {
        ThreadClock {
            created: Instant::now(),
            active: Duration::ZERO,
            running_since: Some(Instant::now()),
        }
    }

    /// Returns how long the thread has run, its current run included.
    pub(crate) fn active(&self) -> Duration {
        self.active + self.running_since.map_or(Duration::ZERO, |r| r.elapsed())
    }
}

impl Threads {
    /// Adds a child thread of `session` (its object) with a running clock.
    pub(crate) fn add_child(&mut self, session: &str, id: &str, object: Value) {
        self.objects.insert(id.to_string(), object);
        self.by_session
            .entry(session.to_string())
            .or_default()
            .push(id.to_string());
        self.clocks.insert(id.to_string(), ThreadClock::started());
    }

    /// Sets a child thread's status (`running`, `idle`, `terminated`) at `now`, its clock,
    /// and (when it stops running) its usage.
    pub(crate) fn set_status(&mut self, thread: &str, status: &str, now: String) {
        if let Some(c) = self.clocks.get_mut(thread) {
            match (status, c.running_since) {
                ("running", None) => c.running_since = Some(Instant::now()),
                ("running", Some(_)) => {}
                (_, Some(since)) => {
                    c.active += since.elapsed();
                    c.running_since = None;
                }
                (_, None) => {}
            }
        }
        if let Some(t) = self.objects.get_mut(thread) {
            t["status"] = json!(status);
            t["updated_at"] = json!(now);
            if status != "running" && t["usage"].is_null() {
                t["usage"] = no_usage();
            }
        }
    }

    /// Returns a child thread's status (`None` for no such thread).
    pub(crate) fn status(&self, thread: &str) -> Option<String> {
        Some(self.objects.get(thread)?["status"].as_str()?.to_string())
    }

    /// Returns a session's child threads that are not archived, in the order they started.
    pub(crate) fn live_children(&self, session: &str) -> Vec<String> {
        let ids = self.by_session.get(session).map(Vec::as_slice);
        ids.unwrap_or_default()
            .iter()
            .skip(1)
            .filter(|id| {
                self.objects
                    .get(*id)
                    .is_some_and(|t| t["archived_at"].is_null())
            })
            .cloned()
            .collect()
    }

    /// Returns whether `thread` is one of `session`'s threads.
    pub(crate) fn of_session(&self, session: &str, thread: &str) -> bool {
        self.by_session
            .get(session)
            .is_some_and(|t| t.iter().any(|id| id == thread))
    }

    /// Adds tokens to a child thread's usage.
    pub(crate) fn add_usage(&mut self, thread: &str, input: i64, output: i64) {
        if let Some(t) = self.objects.get_mut(thread) {
            if t["usage"].is_null() {
                t["usage"] = no_usage();
            }
            let u = &mut t["usage"];
            for (k, n) in [("input_tokens", input), ("output_tokens", output)] {
                u[k] = json!(u[k].as_i64().unwrap_or(0) + n);
            }
        }
    }

    /// Notes that the tool use `event_id` was made by the child `thread`: its answer is routed
    /// there.
    pub(crate) fn note_call(&mut self, event_id: &str, thread: &str) {
        self.calls.insert(event_id.to_string(), thread.to_string());
    }

    /// Returns the child thread a user event answers (by its tool use id), if any: the server
    /// sets the event's `session_thread_id` to it.
    pub(crate) fn answered_thread(&self, event: &Value) -> Option<String> {
        let id = event["custom_tool_use_id"]
            .as_str()
            .or_else(|| event["tool_use_id"].as_str())?;
        self.calls.get(id).cloned()
    }
}

/// Returns a child thread's usage before it has used anything.
fn no_usage() -> Value {
    json!({"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0})
}
