//! `user.interrupt`: what an interrupt stops, and the waits of the scripted agent that it cuts
//! short.
//!
//! Without `session_thread_id` an interrupt stops the session's turn (the primary) and every
//! child thread that is not archived; with it, only the named thread. A turn or thread stops at
//! its next step: a call waiting for its result is abandoned, a pause ends, and it goes idle
//! with `end_turn` (the API has no other stop reason for it). An interrupt of an idle session
//! is recorded and does nothing else: it does not stop the next turn.

use super::reply::{not_found, ApiError};
use super::shared::Shared;
use super::state::State;
use super::threads;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Marks what the interrupt `ev` stops; returns the child thread it names (its stream gets the
/// event too). An unknown thread is a 404.
pub(crate) fn receive(
    s: &mut State,
    session: &str,
    ev: &Value,
) -> Result<Option<String>, ApiError> {
    let primary = threads::primary(s, session);
    match ev["session_thread_id"].as_str() {
        None => {
            mark_session(s, session);
            for child in s.threads.live_children(session) {
                mark_child(s, &child);
            }
            Ok(None)
        }
        Some(t) if primary.as_deref() == Some(t) => {
            mark_session(s, session);
            Ok(None)
        }
        Some(t) if s.threads.of_session(session, t) => {
            mark_child(s, t);
            Ok(Some(t.to_string()))
        }
        Some(t) => Err(not_found("session thread", t)),
    }
}

fn mark_session(s: &mut State, session: &str) {
    if let Some(log) = s.logs.get_mut(session).filter(|l| l.turns > 0) {
        log.interrupted = true;
    }
}

fn mark_child(s: &mut State, thread: &str) {
    if s.threads
        .status(thread)
        .is_some_and(|st| st != "terminated")
    {
        if let Some(log) = s.logs.get_mut(thread) {
            log.interrupted = true;
        }
    }
}

/// Returns whether the session's turn (a session id) or a child thread (its id) was interrupted.
pub(crate) fn is_set(s: &State, key: &str) -> bool {
    s.logs.get(key).is_some_and(|l| l.interrupted)
}

/// Counts a turn of `session` about to be played (counted before an interrupt in the same request
/// can look for it).
pub(crate) fn turn_started(s: &mut State, session: &str) {
    if let Some(log) = s.logs.get_mut(session) {
        log.turns += 1;
    }
}

/// Ends a turn of `session`; when it was the last, an interrupt no longer applies.
pub(crate) fn turn_ended(s: &mut State, session: &str) {
    if let Some(log) = s.logs.get_mut(session) {
        log.turns = log.turns.saturating_sub(1);
        if log.turns == 0 {
            log.interrupted = false;
        }
    }
}

/// Ends a turn of its session when dropped, however the turn returns.
pub(crate) struct Turn<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) session: &'a str,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        turn_ended(&mut self.shared.lock(), self.session);
    }
}

/// Pauses for `d` (a scripted pause), cut short when `key` (a session or a thread) is interrupted
/// or the emulator stops.
pub(crate) fn pause(shared: &Shared, key: &str, d: Duration) {
    let until = Instant::now() + d;
    let mut s = shared.lock();
    loop {
        let now = Instant::now();
        if now >= until || shared.stopped() || is_set(&s, key) {
            return;
        }
        s = shared
            .changed
            .wait_timeout(s, (until - now).min(Duration::from_millis(200)))
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}
