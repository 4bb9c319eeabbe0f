//! What the session waits on, as the runner reads it from the session's history and its
//! stream (the official runner's `SessionView`): the open tool calls in the order of their
//! events, which of them the session waits for, their confirmations, the threads that ended,
//! and whether the session's turn (or the session) is over.
//!
//! A call runs only when the session waits for it: an idle `requires_action` listed it, it is
//! a subagent thread's call, or it is a built-in call that carries `evaluated_permission`. An
//! idle with another stop reason releases every call (but `retries_exhausted`, after which the
//! session still takes the results it waited for). A call whose `evaluated_permission` is
//! `ask`, or a value this version does not know, waits for the first `user.tool_confirmation`;
//! anything but `allow` denies it.
//!
//! Its memory is bounded: a call leaves when its result is read (or the runner is done with
//! it), and the ids of the calls that left are kept for the last [`DONE_IDS`] of them only.

use super::bounded_set::BoundedSet;
use super::outcome::StopReason;
use crate::types::*;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Ids of calls that left the view, remembered so that an idle listing one again does not
/// bring it back.
const DONE_IDS: usize = 4096;
/// Calls known only from an idle that listed them (their event not read yet) kept at most.
const MAX_PLACEHOLDERS: usize = 1000;
/// Idle and thread-status events whose first reading time is carried from one view to the next.
const FIRST_READS: usize = 64;

/// A confirmation's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Allow,
    Deny,
}

/// One tool call the session made (or an idle listed before its event was read).
#[derive(Debug)]
pub(super) struct TrackedCall {
    pub(super) id: String,
    /// The `agent.tool_use`, `agent.custom_tool_use` or `agent.mcp_tool_use` event.
    pub(super) event: Option<SessionEvent>,
    /// Whether the call was made or listed by an idle since the session last ended a turn;
    /// `None` until that shows.
    session_waits: Option<bool>,
    /// How many events were read when an idle last listed the call.
    listed_at: u64,
    /// Set when the call is a subagent's and the latest idle or termination of its thread does
    /// not list it.
    thread_stop_reason: Option<String>,
    /// The first confirmation's verdict (an unknown result counts as a denial).
    pub(super) confirmation: Option<Verdict>,
}

impl TrackedCall {
    fn new(id: &str) -> TrackedCall {
        TrackedCall {
            id: id.to_string(),
            event: None,
            session_waits: None,
            listed_at: 0,
            thread_stop_reason: None,
            confirmation: None,
        }
    }

    /// The thread the call came from (`None`: the primary thread).
    pub(super) fn thread(&self) -> Option<&str> {
        match &self.event {
            Some(SessionEvent::AgentToolUse(u)) => u.session_thread_id.as_deref(),
            Some(SessionEvent::AgentCustomToolUse(u)) => u.session_thread_id.as_deref(),
            Some(SessionEvent::AgentMcpToolUse(u)) => u.session_thread_id.as_deref(),
            _ => None,
        }
    }

    fn permission(&self) -> Option<&AgentEvaluatedPermission> {
        match &self.event {
            Some(SessionEvent::AgentToolUse(u)) => u.evaluated_permission.as_ref(),
            Some(SessionEvent::AgentMcpToolUse(u)) => u.evaluated_permission.as_ref(),
            _ => None,
        }
    }

    fn is_waited_on(&self) -> bool {
        self.session_waits == Some(true) && self.thread_stop_reason.is_none()
    }

    pub(super) fn is_denied(&self) -> bool {
        self.event.is_some()
            && (self.permission() == Some(&AgentEvaluatedPermission::Deny)
                || self.confirmation == Some(Verdict::Deny))
    }

    pub(super) fn is_unconfirmed(&self) -> bool {
        self.confirmation.is_none()
            && !matches!(
                self.permission(),
                None | Some(AgentEvaluatedPermission::Allow) | Some(AgentEvaluatedPermission::Deny)
            )
    }

    /// Whether the session can hold back the result of a later call of `thread` until this
    /// one has its own: it is a call the runner runs, not denied, and not known to be released.
    fn is_unanswered(&self, thread: Option<&str>, runs: &dyn Fn(&SessionEvent) -> bool) -> bool {
        let Some(ev) = &self.event else { return false };
        if self.thread() != thread || !runs(ev) {
            return false;
        }
        !self.is_denied()
            && (self.session_waits.is_none() || (self.is_waited_on() && self.is_unconfirmed()))
    }
}

/// The session as the runner reads it.
#[derive(Debug, Default)]
pub(super) struct View {
    /// The first thread a thread status names: the primary one.
    pub(super) primary_thread: Option<String>,
    /// When the idle that ended the turn (or a later idle or termination of a thread) was
    /// first read; `None` unless the newest session status is an idle that ends the turn.
    pub(super) idle_since: Option<Instant>,
    /// How that idle ended the turn.
    pub(super) turn_end: Option<StopReason>,
    /// The session ended (`session.status_terminated`, `session.deleted`).
    pub(super) ended: Option<StopReason>,
    /// The runner sent a message and its turn has not shown in the stream yet (no
    /// `user.message` nor `session.status_running` since): an idle read now is the end of the
    /// turn before it (an interrupted one's idle, say, arriving late), not of this one.
    pub(super) awaiting_turn: bool,
    /// For each thread with a status, whether its newest one is a termination.
    terminated: HashMap<String, bool>,
    /// The open calls, oldest first.
    calls: VecDeque<TrackedCall>,
    /// Events applied.
    read: u64,
    done: BoundedSet,
    /// When idle and thread-status events were first read, by any view.
    first_read: VecDeque<(String, Instant)>,
}

impl View {
    pub(super) fn new() -> View {
        View {
            done: BoundedSet::new(DONE_IDS),
            ..View::default()
        }
    }

    /// A view to read a new connection's history into: it keeps only when events were first
    /// read (so a reconnect does not restart the idle countdown) and which calls left.
    pub(super) fn without_events(&self) -> View {
        View {
            first_read: self.first_read.clone(),
            done: self.done.clone(),
            ..View::default()
        }
    }

    pub(super) fn call(&self, id: &str) -> Option<&TrackedCall> {
        self.calls.iter().find(|c| c.id == id)
    }

    fn call_mut(&mut self, id: &str) -> Option<&mut TrackedCall> {
        self.calls.iter_mut().find(|c| c.id == id)
    }

    /// Lets a call go (its result is read, or the runner is done with it).
    pub(super) fn forget(&mut self, id: &str) {
        if let Some(i) = self.calls.iter().position(|c| c.id == id) {
            self.calls.remove(i);
        }
        self.done.insert(id);
    }

    pub(super) fn is_waiting_on(&self, id: &str) -> bool {
        self.call(id).is_some_and(TrackedCall::is_waited_on)
    }

    /// Whether the session no longer takes a result for a call that was read.
    pub(super) fn is_resolved(&self, id: &str) -> bool {
        self.call(id).is_none_or(|c| {
            c.thread_stop_reason
                .as_deref()
                .is_some_and(|r| r != "retries_exhausted")
        })
    }

    /// Whether the thread's newest status is a termination (late input can make it run again).
    pub(super) fn has_terminated(&self, thread: Option<&str>) -> bool {
        thread.is_some_and(|t| self.terminated.get(t) == Some(&true))
    }

    /// Whether an earlier call of the same thread that the runner runs may still get its
    /// result: the session would hold this one back until then.
    pub(super) fn is_behind_unanswered_call(
        &self,
        id: &str,
        runs: &dyn Fn(&SessionEvent) -> bool,
    ) -> bool {
        let Some(call) = self.call(id) else {
            return false;
        };
        let thread = call.thread();
        // a thread that sends no status events never shows that the earlier call stopped waiting
        if thread.is_some_and(|t| !self.terminated.contains_key(t)) {
            return false;
        }
        self.calls
            .iter()
            .take_while(|c| c.id != id)
            // an idle that lists only the later call ends the wait for the earlier one
            .any(|c| c.is_unanswered(thread, runs) && c.listed_at >= call.listed_at)
    }

    /// The calls the session waits on that are confirmed or need no confirmation, and the
    /// denied ones, oldest first, with their verdict (`None`: none needed).
    pub(super) fn allowed_or_denied(&self) -> Vec<(String, Option<Verdict>)> {
        self.calls
            .iter()
            .filter(|c| c.event.is_some() && !self.has_terminated(c.thread()))
            .filter_map(|c| {
                if c.is_denied() {
                    Some((c.id.clone(), Some(Verdict::Deny)))
                } else if c.is_waited_on() && !c.is_unconfirmed() {
                    Some((c.id.clone(), c.confirmation))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The calls the session waits on that wait for a confirmation.
    pub(super) fn unconfirmed(&self) -> Vec<&TrackedCall> {
        self.calls
            .iter()
            .filter(|c| c.event.is_some() && c.is_waited_on() && c.is_unconfirmed())
            .collect()
    }

    /// When an event was first read (by this view or one before it).
    fn first_read_of(&mut self, ev: &SessionEvent, now: Instant) -> Instant {
        let Some(id) = ev.id() else { return now };
        if let Some((_, at)) = self.first_read.iter().find(|(i, _)| i == id) {
            return *at;
        }
        if self.first_read.len() >= FIRST_READS {
            self.first_read.pop_front();
        }
        self.first_read.push_back((id.to_string(), now));
        now
    }

    /// Reads one event into the view.
    pub(super) fn apply(&mut self, ev: &SessionEvent) {
        self.read += 1;
        let now = Instant::now();
        match ev {
            SessionEvent::AgentToolUse(u) => self.apply_call(
                &u.id,
                ev,
                u.evaluated_permission.is_some() || u.session_thread_id.is_some(),
            ),
            SessionEvent::AgentMcpToolUse(u) => self.apply_call(
                &u.id,
                ev,
                u.evaluated_permission.is_some() || u.session_thread_id.is_some(),
            ),
            // a custom call runs only once an idle lists it: the server never lists one it refused
            SessionEvent::AgentCustomToolUse(u) => {
                self.apply_call(&u.id, ev, u.session_thread_id.is_some())
            }
            SessionEvent::UserToolResult(r) => self.apply_result(&r.tool_use_id),
            SessionEvent::AgentToolResult(r) => self.apply_result(&r.tool_use_id),
            SessionEvent::AgentMcpToolResult(r) => self.apply_result(&r.mcp_tool_use_id),
            SessionEvent::UserCustomToolResult(r) => self.apply_result(&r.custom_tool_use_id),
            SessionEvent::UserToolConfirmation(c) => {
                let verdict = if c.result == UserToolConfirmationEventResult::Allow {
                    Verdict::Allow
                } else {
                    Verdict::Deny
                };
                for call in self.calls_among(std::slice::from_ref(&c.tool_use_id)) {
                    if let Some(call) = self.call_mut(&call) {
                        call.confirmation = call.confirmation.or(Some(verdict));
                    }
                }
            }
            SessionEvent::SessionStatusTerminated(_) => {
                self.ended = Some(StopReason::Terminated);
                self.idle_since = None;
            }
            SessionEvent::SessionDeleted(_) => self.ended = Some(StopReason::Deleted),
            SessionEvent::SessionStatusIdle(_) if self.awaiting_turn => {}
            SessionEvent::SessionStatusIdle(idle) => {
                let at = self.first_read_of(ev, now);
                self.apply_session_idle(&idle.stop_reason, at);
            }
            SessionEvent::UserMessage(_) => self.awaiting_turn = false,
            SessionEvent::SessionStatusRunning(_) | SessionEvent::SessionStatusRescheduled(_) => {
                self.awaiting_turn = false;
                self.idle_since = None;
            }
            SessionEvent::SessionThreadStatusRunning(t) => {
                self.apply_thread_status(&t.session_thread_id, false)
            }
            SessionEvent::SessionThreadStatusRescheduled(t) => {
                self.apply_thread_status(&t.session_thread_id, false)
            }
            SessionEvent::SessionThreadStatusIdle(t) => {
                self.apply_thread_status(&t.session_thread_id, false);
                let at = self.first_read_of(ev, now);
                let listed = match &t.stop_reason {
                    SessionThreadStatusIdleEventStopReason::RequiresAction(ra) => {
                        Some(ra.event_ids.as_slice())
                    }
                    _ => None,
                };
                let reason = t.stop_reason.tag().unwrap_or("unknown").to_string();
                self.apply_thread_idle_or_terminated(&t.session_thread_id, reason, listed, at);
            }
            SessionEvent::SessionThreadStatusTerminated(t) => {
                self.apply_thread_status(&t.session_thread_id, true);
                let at = self.first_read_of(ev, now);
                self.apply_thread_idle_or_terminated(
                    &t.session_thread_id,
                    "session.thread_status_terminated".into(),
                    None,
                    at,
                );
            }
            _ => {}
        }
    }

    fn apply_call(&mut self, id: &str, ev: &SessionEvent, waits: bool) {
        if self.done.contains(id) {
            return;
        }
        // moved to the end, so that the calls stay in the order of their events
        let mut call = match self.calls.iter().position(|c| c.id == id) {
            Some(i) => self.calls.remove(i).unwrap_or_else(|| TrackedCall::new(id)),
            None => TrackedCall::new(id),
        };
        call.event = Some(ev.clone());
        if waits {
            call.session_waits = Some(true);
        }
        self.calls.push_back(call);
    }

    fn apply_result(&mut self, id: &str) {
        // a denied call is kept until the runner is done with it
        if self.call(id).is_some_and(|c| !c.is_denied()) {
            self.forget(id);
        } else if self.call(id).is_none() {
            self.done.insert(id);
        }
    }

    fn apply_session_idle(&mut self, reason: &SessionStatusIdleEventStopReason, at: Instant) {
        let end = match reason {
            SessionStatusIdleEventStopReason::RequiresAction(ra) => {
                self.idle_since = None;
                self.turn_end = None;
                self.apply_listed(&ra.event_ids);
                return;
            }
            SessionStatusIdleEventStopReason::EndTurn(_) => StopReason::EndTurn,
            SessionStatusIdleEventStopReason::RetriesExhausted(_) => StopReason::RetriesExhausted,
            other => StopReason::Idle(other.clone()),
        };
        self.idle_since = Some(at);
        // after `retries_exhausted` the session still takes the results of the calls it waited on
        let keep = end == StopReason::RetriesExhausted;
        for call in self.calls.iter_mut() {
            call.session_waits = Some(keep && call.session_waits == Some(true));
        }
        self.turn_end = Some(end);
    }

    fn apply_thread_status(&mut self, thread: &str, terminated: bool) {
        if self.primary_thread.is_none() {
            self.primary_thread = Some(thread.to_string());
        }
        self.terminated.insert(thread.to_string(), terminated);
    }

    fn apply_thread_idle_or_terminated(
        &mut self,
        thread: &str,
        reason: String,
        listed: Option<&[String]>,
        at: Instant,
    ) {
        // this can make the primary thread run again, so the countdown starts over
        if let Some(since) = self.idle_since {
            self.idle_since = Some(since.max(at));
        }
        // a subagent's results stay on its own thread, so its idle is the sign
        for call in self.calls.iter_mut() {
            if call.event.is_some() && call.thread() == Some(thread) {
                call.thread_stop_reason = Some(reason.clone());
            }
        }
        if let Some(ids) = listed {
            for id in self.apply_listed(ids) {
                if let Some(c) = self.call_mut(&id) {
                    c.thread_stop_reason = None;
                }
            }
        }
    }

    /// The listed calls wait; returns their ids.
    fn apply_listed(&mut self, ids: &[String]) -> Vec<String> {
        let listed = self.calls_among(ids);
        let read = self.read;
        for id in &listed {
            if let Some(c) = self.call_mut(id) {
                c.session_waits = Some(true);
                c.listed_at = read;
            }
        }
        listed
    }

    /// The calls with these ids; an id not known yet can be that of a later call.
    fn calls_among(&mut self, ids: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for id in ids {
            if self.call(id).is_none() {
                if self.done.contains(id) {
                    continue;
                }
                self.prune_placeholders();
                self.calls.push_back(TrackedCall::new(id));
            }
            out.push(id.clone());
        }
        out
    }

    /// Keeps the calls known only from a listing under [`MAX_PLACEHOLDERS`], the oldest let go.
    fn prune_placeholders(&mut self) {
        let placeholders = self.calls.iter().filter(|c| c.event.is_none()).count();
        if placeholders >= MAX_PLACEHOLDERS {
            if let Some(i) = self.calls.iter().position(|c| c.event.is_none()) {
                self.calls.remove(i);
            }
        }
    }

    /// How many calls the view holds (for tests of its bound).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.calls.len()
    }
}

#[cfg(test)]
mod tests;
