//! A run's connections, as the official runner (2.17) connects: on every
//! (re)connect the stream opens first (so an event too new for the history arrives on it),
//! then the session is read (archiving a session adds no event, only its status shows it),
//! then its history of tool and status events is listed, each request under a timeout of 15 s
//! that doubles with each failed attempt since the last good connection, up to 240 s (after a
//! reconnect, the events from where the transcript ends are listed too, so that nothing the
//! session said while the run was away is missing from it or from `on_event`). A
//! connection that fails or drops is made again by the run's loop (see `drive.rs`).
//!
//! The connection's stream is read on a thread of its own, which hands its events to the loop;
//! the handlers report to the same loop, so calls of several threads can run while the stream
//! is read. A stream that does not open within the request timeout is given up (its thread
//! ends when the open does).

use super::outcome::StopReason;
use super::post::request_timeout;
use super::state::State;
use super::{Msg, SessionRunner};
use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::types::*;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// The wait before a reconnect: it doubles with each failure in a row.
pub(super) const BACKOFF_START: Duration = Duration::from_millis(500);
pub(super) const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// The events the view acts on, listed on each connection (`session.deleted` is only
/// streamed). Besides the official runner's kinds, the MCP tool calls whose confirmation this
/// runner may decide, and their results.
pub(super) const HISTORY_TYPES: [SessionEventType; 16] = [
    SessionEventType::AgentToolUse,
    SessionEventType::AgentCustomToolUse,
    SessionEventType::AgentMcpToolUse,
    SessionEventType::AgentToolResult,
    SessionEventType::AgentMcpToolResult,
    SessionEventType::UserToolResult,
    SessionEventType::UserCustomToolResult,
    SessionEventType::UserToolConfirmation,
    SessionEventType::SessionStatusIdle,
    SessionEventType::SessionStatusRunning,
    SessionEventType::SessionStatusRescheduled,
    SessionEventType::SessionStatusTerminated,
    SessionEventType::SessionThreadStatusRunning,
    SessionEventType::SessionThreadStatusRescheduled,
    SessionEventType::SessionThreadStatusIdle,
    SessionEventType::SessionThreadStatusTerminated,
];

/// Whether an error of a read will not go away by trying again: a 4xx other than 408, 409
/// and 429, or a request that was wrong before it was sent.
pub(super) fn is_permanent(e: &Error) -> bool {
    !(e.is_retryable() || matches!(e, Error::Decode { .. }))
}

/// A live connection: its id, and the signal that ends its reader.
pub(super) struct Connection {
    pub(super) id: u64,
    stop: StopSignal,
    /// When the reads of the session and its history began.
    pub(super) reads_began: Instant,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop.set();
    }
}

pub(super) enum Connected {
    Live(Connection),
    Ended(StopReason),
}

impl SessionRunner<'_> {
    /// Opens the stream (on a reader thread), reads the session and its history into a new
    /// view, and acts on it. A session that ended ends the run.
    pub(super) fn connect(
        &mut self,
        state: &mut State,
        id: u64,
        attempt: u32,
        first: bool,
        inbox: &mut super::inbox::Inbox,
    ) -> Result<Connected> {
        let timeout = request_timeout(attempt);
        let conn = Connection {
            id,
            stop: StopSignal::new(),
            reads_began: Instant::now(),
        };
        let mut options = self
            .stream_options
            .clone()
            .deadline(self.deadline)
            .cancel(conn.stop.clone())
            .max_reconnects(0);
        options.from_beginning = false;
        let (client, session, tx) = (
            self.client.clone(),
            self.session_id.clone(),
            inbox.tx.clone(),
        );
        std::thread::Builder::new()
            .name(format!("runner stream {session}"))
            .spawn({
                let parent = crate::trace::Parent::current();
                move || parent.run(|| read_stream(client, session, options, id, tx))
            })
            .map_err(|e| Error::io("starting the runner's stream reader", e))?;
        // 1. the stream: wait for it to open, keeping what else comes meanwhile
        let opened = Deadline::after(timeout).min(self.deadline);
        let floor = loop {
            if self.cancel.is_set() {
                return Ok(Connected::Ended(StopReason::Cancelled));
            }
            let tick = super::inbox::TICK;
            let wait = opened.remaining().map_or(tick, |l| l.min(tick));
            match inbox.rx.recv_timeout(wait) {
                Ok(Msg::Opened(i, opened)) if i == id => break opened?,
                Ok(Msg::Done(call, ran)) => inbox.held.push_back(Msg::Done(call, ran)),
                Ok(_) => {}
                Err(_) if opened.is_expired() => {
                    return Err(Error::Timeout {
                        message: format!("the event stream did not open within {timeout:?}"),
                    })
                }
                Err(_) => {}
            }
        };
        if first {
            state.seen = floor.clone();
            state.floor = floor;
        }
        let opts = RequestOptions::new()
            .timeout(timeout)
            .deadline(self.deadline);
        // 2. the session
        let session = self
            .client
            .sessions()
            .retrieve_with(&self.session_id, &opts)?;
        #[cfg(feature = "tracing")]
        if let Some(turn) = state.turn.as_mut() {
            turn.session_read(&session);
        }
        // 3. its history, read whole before the view is replaced
        let params = SessionsEventListParams::default()
            .order(EventsListOrder::Asc)
            .limit(1000)
            .types(HISTORY_TYPES.to_vec());
        let page = self
            .client
            .sessions()
            .events()
            .list_with(&self.session_id, &params, &opts)?;
        let mut view = state.view.without_events();
        for ev in page {
            let ev = ev?;
            if let Some(i) = ev.id() {
                state.recent.insert(i);
            }
            view.apply(&ev);
        }
        // after a reconnect, whatever happened while the run was away (messages too, which the
        // history above leaves out) joins the transcript
        if !first {
            let mut params = SessionsEventListParams::default()
                .order(EventsListOrder::Asc)
                .limit(100);
            params.created_at_gte = state.seen.at().map(String::from);
            let page =
                self.client
                    .sessions()
                    .events()
                    .list_with(&self.session_id, &params, &opts)?;
            for ev in page.auto_paging() {
                let ev = ev?;
                if self.is_new(state, &ev) {
                    self.transcribe(state, &ev);
                }
            }
        }
        if let Some(reason) = view.ended.clone() {
            log::info!("session {} ended: {reason:?}", self.session_id);
            return Ok(Connected::Ended(reason));
        }
        if session.status == SessionStatus::Terminated {
            log::info!("session {} is terminated", self.session_id);
            return Ok(Connected::Ended(StopReason::Terminated));
        }
        // the newest status event can be an idle while a subagent still runs
        if session.status != SessionStatus::Idle {
            state.active_at = Instant::now();
        }
        state.view = view;
        Ok(Connected::Live(conn))
    }

    /// Whether an event read in a history is newer than the transcript.
    fn is_new(&self, state: &State, ev: &SessionEvent) -> bool {
        ev.id().is_none_or(|i| !state.transcribed.contains(i))
            && state.seen.is_ahead(ev.id(), ev.processed_at())
    }

    /// Hands an event to the caller and the transcript, once.
    pub(super) fn transcribe(&mut self, state: &mut State, ev: &SessionEvent) {
        if let Some(i) = ev.id() {
            if !state.transcribed.insert(i) {
                return;
            }
        }
        if let Some(f) = self.on_event.as_mut() {
            f(ev);
        }
        state.record(ev);
    }
}

/// A connection's reader: opens the stream, says so, and hands on its events until it ends.
fn read_stream(
    client: crate::Client,
    session: String,
    options: crate::stream::StreamOptions,
    id: u64,
    tx: Sender<Msg>,
) {
    let mut stream = match client.sessions().events().stream(&session, options) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Msg::Opened(id, Err(e)));
            return;
        }
    };
    stream.end_with_turn();
    if tx
        .send(Msg::Opened(id, Ok(stream.floor().clone())))
        .is_err()
    {
        return;
    }
    for item in stream.by_ref() {
        let msg = match item {
            Ok(ev) => Msg::Event(id, Box::new(ev)),
            Err(e) => {
                let _ = tx.send(Msg::Closed(id, Some(e)));
                return;
            }
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::Closed(id, None));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeouts_double_from_15_s_to_240_s() {
        let t: Vec<u64> = (0..7).map(|a| request_timeout(a).as_secs()).collect();
        assert_eq!(t, [15, 30, 60, 120, 240, 240, 240]);
        assert_eq!(request_timeout(u32::MAX).as_secs(), 240);
    }
}
