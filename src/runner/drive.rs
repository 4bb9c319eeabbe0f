//! The run's loop: connect (see `connect.rs`), send the message once, read the connection's
//! events and the handlers' ends, act on the view after each, and reconnect after a backoff
//! (0.5 s doubling to 10 s, with jitter; any event read resets it) until the run stops: the
//! turn is over and the idle period passed with no call under way, the session ended, the
//! cancel signal, the deadline, or an error that trying again will not fix.

use super::connect::{is_permanent, Connected, Connection, BACKOFF_CAP, BACKOFF_START};
use super::inbox::{Inbox, TICK};
use super::outcome::StopReason;
use super::state::State;
use super::{Msg, SessionRunner};
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Events read together before the loop acts on them, at most.
const MAX_BURST: usize = 256;
enum Read {
    Stop(StopReason),
    /// The connection ended; whether it had delivered an event.
    Reconnect(String, bool),
}

impl SessionRunner<'_> {
    /// Connects, sends the message, and reads, reconnecting until the run stops.
    pub(super) fn drive(&mut self, state: &mut State) -> Result<StopReason> {
        let (tx, rx) = mpsc::channel();
        let mut inbox = Inbox {
            tx,
            rx,
            held: VecDeque::new(),
        };
        let mut conn_id = 0;
        let mut attempt = 0;
        let mut fails = 0;
        let mut delay = BACKOFF_START;
        let mut first = true;
        loop {
            if self.cancel.is_set() {
                return Ok(StopReason::Cancelled);
            }
            conn_id += 1;
            let why = match self.connect(state, conn_id, attempt, first, &mut inbox) {
                Ok(Connected::Ended(reason)) => return Ok(reason),
                Ok(Connected::Live(conn)) => {
                    attempt = 0;
                    if std::mem::take(&mut first) {
                        if let Some(text) = self.message.take() {
                            super::post::send_message(
                                self.client,
                                &self.session_id,
                                &text,
                                &state.floor,
                                self.deadline,
                            )?;
                            // the session runs again: an idle from before is not this turn's end,
                            // nor one read before the stream shows this turn begin
                            state.view.idle_since = None;
                            state.view.awaiting_turn = true;
                            state.active_at = Instant::now();
                        }
                    }
                    match self.read(state, &conn, &mut inbox)? {
                        Read::Stop(reason) => return Ok(reason),
                        Read::Reconnect(why, delivered) => {
                            if delivered {
                                fails = 0;
                                delay = BACKOFF_START;
                            }
                            why
                        }
                    }
                }
                Err(e) if self.deadline.is_expired() => return Err(e),
                Err(e) if is_permanent(&e) => {
                    log::error!(
                        "reading the session {} failed permanently: {e}",
                        self.session_id
                    );
                    return Err(e);
                }
                Err(e) => {
                    attempt += 1;
                    e.to_string()
                }
            };
            if self.deadline.is_expired() {
                // the stream ended at the run's deadline: nothing to reconnect for
                return Err(Error::timeout(format!(
                    "the run's deadline passed while reading the session {} ({why})",
                    self.session_id
                )));
            }
            fails += 1;
            if fails > self.stream_options.max_reconnects {
                return Err(Error::connection(format!(
                    "the session's events could not be read {fails} times in a row (last: {why})"
                )));
            }
            let wait = delay.mul_f64(0.5 + 0.5 * crate::retry::jitter());
            log::warn!(
                "reading the session {} failed, reconnecting in {wait:?}: {why}",
                self.session_id
            );
            let left = self.deadline.remaining();
            if self.cancel.wait(left.map_or(wait, |l| l.min(wait))) {
                return Ok(StopReason::Cancelled);
            }
            if self.deadline.is_expired() {
                return Err(deadline_passed());
            }
            delay = (delay * 2).min(BACKOFF_CAP);
        }
    }

    /// Reads a live connection until the run stops or the connection ends.
    fn read(&mut self, state: &mut State, conn: &Connection, inbox: &mut Inbox) -> Result<Read> {
        self.act(state, &inbox.tx);
        // only reads that began after the countdown ended can tell that the session is still idle
        if let Some(reason) = self.idle_over(state, conn.reads_began) {
            return Ok(Read::Stop(reason));
        }
        let mut delivered = false;
        let mut burst = 0;
        loop {
            if self.cancel.is_set() {
                return Ok(Read::Stop(StopReason::Cancelled));
            }
            if self.deadline.is_expired() {
                return Err(deadline_passed());
            }
            self.expire_calls(state);
            if let Some(reason) = self.idle_over(state, Instant::now()) {
                return Ok(Read::Stop(reason));
            }
            let Some(msg) = inbox.next(self.next_wake(state)) else {
                continue;
            };
            match msg {
                Msg::Event(i, ev) if i == conn.id => {
                    let ev = *ev;
                    delivered = true;
                    self.transcribe(state, &ev);
                    // read in the history already (the stream opened before it was listed)
                    if ev.id().is_some_and(|id| !state.recent.insert(id)) {
                        continue;
                    }
                    state.view.apply(&ev);
                    if let Some(reason) = state.view.ended.clone() {
                        log::info!("session {} ended: {reason:?}", self.session_id);
                        return Ok(Read::Stop(reason));
                    }
                    // the events read together with a call can release or deny it: all of
                    // them first, then act
                    burst += 1;
                    if burst >= MAX_BURST || !inbox.has_ready() {
                        burst = 0;
                        self.act(state, &inbox.tx);
                    }
                }
                Msg::Closed(i, end) if i == conn.id => {
                    return match end {
                        // the server ended the stream after the turn: nothing more will come
                        None if state.view.idle_since.is_some() && state.running.is_empty() => Ok(
                            Read::Stop(state.view.turn_end.clone().unwrap_or(StopReason::EndTurn)),
                        ),
                        None => Ok(Read::Reconnect(
                            "the server closed the stream".into(),
                            delivered,
                        )),
                        Some(e) if is_permanent(&e) => Err(e),
                        Some(e) => Ok(Read::Reconnect(e.to_string(), delivered)),
                    };
                }
                Msg::Done(call, ran) => {
                    self.finish(state, &call, super::calls::End::Ran(ran));
                    self.act(state, &inbox.tx);
                }
                // an earlier connection's
                _ => {}
            }
        }
    }

    /// How the turn ended, once it is over and the idle period passed by `now` with no call
    /// under way.
    fn idle_over(&self, state: &State, now: Instant) -> Option<StopReason> {
        if !state.running.is_empty() {
            return None;
        }
        let since = state.view.idle_since?.max(state.active_at);
        (now >= since + self.grace)
            .then(|| state.view.turn_end.clone().unwrap_or(StopReason::EndTurn))
    }

    /// How long the loop may wait for mail: until the next tick, time limit or idle end.
    fn next_wake(&self, state: &State) -> Duration {
        let mut wait = TICK;
        for r in state.running.values() {
            if let Some(left) = r.call.deadline.remaining() {
                wait = wait.min(left);
            }
        }
        if state.running.is_empty() {
            if let Some(since) = state.view.idle_since {
                let end = since.max(state.active_at) + self.grace;
                wait = wait.min(end.saturating_duration_since(Instant::now()));
            }
        }
        wait
    }
}

/// The error of a run whose deadline passed.
fn deadline_passed() -> Error {
    Error::Timeout {
        message: "the run's deadline passed".into(),
    }
}
