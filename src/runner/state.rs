//! What a run remembers: the calls answered and acted on, the calls waiting, and a bounded
//! transcript of the events it saw.

use super::outcome::Outcome;
use crate::stream::Position;
use crate::types::*;
use std::collections::{HashMap, HashSet, VecDeque};

/// Events a run keeps by default.
pub(super) const DEFAULT_KEEP: usize = 1000;

#[derive(Default)]
pub(super) struct State {
    pub(super) outcome: Outcome,
    /// The transcript: the last `keep` events (all of them with `None`).
    pub(super) events: VecDeque<SessionEvent>,
    pub(super) keep: Option<usize>,
    /// Tool use ids whose result or confirmation is recorded.
    pub(super) answered: HashSet<String>,
    /// Tool use ids this runner acted on (or chose to leave).
    pub(super) handled: HashSet<String>,
    /// Tool uses seen and not answered yet, by id (to answer a `requires_action` that lists them).
    pub(super) tool_uses: HashMap<String, SessionEvent>,
    pub(super) terminated_threads: HashSet<String>,
    /// Built-in tool use ids whose `user.tool_result` is recorded.
    pub(super) results: HashSet<String>,
    /// Built-in tool use ids this runner ran (or chose to leave).
    pub(super) ran: HashSet<String>,
    /// Tool use ids whose confirmation allowed the tool.
    pub(super) allowed: HashSet<String>,
    /// Where the session's log ended when the run's stream opened.
    pub(super) floor: Position,
    /// An answer the API refused for good (a 4xx that is not retried): the call it answers
    /// will never be answered, so the run ends with this error.
    pub(super) refused: Option<crate::error::Error>,
}

impl State {
    /// Whether a call of this thread can no longer be answered: its thread was terminated.
    pub(super) fn thread_ended(&self, thread: Option<&String>) -> bool {
        thread.is_some_and(|t| self.terminated_threads.contains(t))
    }

    pub(super) fn new(keep: Option<usize>) -> State {
        State {
            keep,
            ..State::default()
        }
    }

    /// Adds an event to the transcript, forgetting the oldest past the limit.
    pub(super) fn record(&mut self, ev: &SessionEvent) {
        self.outcome.events_seen += 1;
        if self.keep == Some(0) {
            return;
        }
        if self.keep.is_some_and(|k| self.events.len() >= k) {
            self.events.pop_front();
        }
        self.events.push_back(ev.clone());
    }

    /// The outcome, with the transcript in it.
    pub(super) fn finish(mut self) -> Outcome {
        self.outcome.events = self.events.into();
        self.outcome
    }

    /// Records what an event says about the calls: a result or confirmation answers its tool
    /// use; a thread's termination closes its calls.
    pub(super) fn note(&mut self, ev: &SessionEvent) {
        let answered = match ev {
            SessionEvent::UserCustomToolResult(r) => &r.custom_tool_use_id,
            SessionEvent::UserToolConfirmation(c) => {
                if c.result == UserToolConfirmationEventResult::Allow {
                    self.allowed.insert(c.tool_use_id.clone());
                }
                &c.tool_use_id
            }
            SessionEvent::UserToolResult(r) => {
                self.tool_uses.remove(&r.tool_use_id);
                self.results.insert(r.tool_use_id.clone());
                return;
            }
            SessionEvent::SessionThreadStatusTerminated(t) => {
                self.terminated_threads.insert(t.session_thread_id.clone());
                return;
            }
            _ => return,
        };
        self.tool_uses.remove(answered);
        self.answered.insert(answered.clone());
    }
}
