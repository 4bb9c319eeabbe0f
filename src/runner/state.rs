//! What a run remembers, all of it bounded: the view of the session, the calls it ran or
//! decided on, the calls under way, the records of the outcome and a transcript of the events
//! it saw, each kept for the latest so many.

use super::bounded_set::BoundedSet;
use super::outcome::ToolCall;
use super::outcome::{ConfirmationRecord, Outcome, ToolCallRecord};
use super::view::View;
use crate::stream::Position;
use crate::types::*;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Events a run keeps by default.
pub(super) const DEFAULT_KEEP: usize = 1000;
/// Records of each kind (custom calls, built-in calls, confirmations) a run keeps by default.
pub(super) const RECORDS_KEPT: usize = 1000;
/// Ids of the calls a run ran or decided on that it remembers: a call whose result could not
/// be posted is not run again while its id is among them.
const HANDLED_IDS: usize = 10_000;
/// Ids of the latest events read, to tell an event read twice (in the history and on the
/// stream that opened before it) from a new one.
const RECENT_IDS: usize = 4096;

/// A bounded list of records: the latest `cap` (all with `None`), and how many there were.
#[derive(Debug)]
pub(super) struct Records<T> {
    items: VecDeque<T>,
    cap: Option<usize>,
    pub(super) seen: u64,
}

impl<T> Records<T> {
    fn new(cap: Option<usize>) -> Records<T> {
        Records {
            items: VecDeque::new(),
            cap,
            seen: 0,
        }
    }

    pub(super) fn push(&mut self, item: T) {
        self.seen += 1;
        if self.cap == Some(0) {
            return;
        }
        if self.cap.is_some_and(|c| self.items.len() >= c) {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    fn take(self) -> Vec<T> {
        self.items.into()
    }
}

pub(super) struct State {
    pub(super) outcome: Outcome,
    /// The span of the turn, with the usage it started from.
    #[cfg(feature = "tracing")]
    pub(super) turn: Option<crate::trace::TurnSpan>,
    /// The transcript: the last `keep` events (all of them with `None`).
    events: Records<SessionEvent>,
    pub(super) tool_calls: Records<ToolCallRecord>,
    pub(super) agent_tool_calls: Records<ToolCallRecord>,
    pub(super) confirmations: Records<ConfirmationRecord>,
    /// The session as read from the current connection.
    pub(super) view: View,
    /// Calls this runner ran or decided on (whatever became of their result).
    pub(super) handled: BoundedSet,
    /// Calls whose confirmation this runner decided.
    pub(super) confirmed: BoundedSet,
    /// The latest events read into the view.
    pub(super) recent: BoundedSet,
    /// The latest events handed to the caller and the transcript.
    pub(super) transcribed: BoundedSet,
    /// The calls under way, by thread (`None`: the primary thread).
    pub(super) running: HashMap<Option<String>, Running>,
    /// Where the transcript is: an event of a history read after a reconnect joins it only
    /// when it is newer.
    pub(super) seen: Position,
    /// Where the session's log ended when the run's first stream opened.
    pub(super) floor: Position,
    /// When a call last finished, or a connection found the session running: the idle
    /// countdown counts from there or from the idle, whichever is later.
    pub(super) active_at: Instant,
}

impl State {
    pub(super) fn new(keep: Option<usize>) -> State {
        let records = keep.map(|_| RECORDS_KEPT);
        State {
            outcome: Outcome::default(),
            #[cfg(feature = "tracing")]
            turn: None,
            events: Records::new(keep),
            tool_calls: Records::new(records),
            agent_tool_calls: Records::new(records),
            confirmations: Records::new(records),
            view: View::new(),
            handled: BoundedSet::new(HANDLED_IDS),
            confirmed: BoundedSet::new(HANDLED_IDS),
            recent: BoundedSet::new(RECENT_IDS),
            transcribed: BoundedSet::new(RECENT_IDS),
            running: HashMap::new(),
            seen: Position::default(),
            floor: Position::default(),
            active_at: Instant::now(),
        }
    }

    /// Adds an event to the transcript, forgetting the oldest past the limit.
    pub(super) fn record(&mut self, ev: &SessionEvent) {
        self.seen.pass(ev.id(), ev.processed_at());
        self.events.push(ev.clone());
    }

    /// The outcome, with the transcript and the records in it.
    pub(super) fn finish(mut self) -> Outcome {
        self.outcome.events_seen = self.events.seen;
        self.outcome.events = self.events.take();
        self.outcome.tool_calls_seen = self.tool_calls.seen;
        self.outcome.tool_calls = self.tool_calls.take();
        self.outcome.agent_tool_calls_seen = self.agent_tool_calls.seen;
        self.outcome.agent_tool_calls = self.agent_tool_calls.take();
        self.outcome.confirmations_seen = self.confirmations.seen;
        self.outcome.confirmations = self.confirmations.take();
        self.outcome
    }
}

/// A call under way.
pub(super) struct Running {
    pub(super) call: ToolCall,
    /// A built-in tool's call (answered with `user.tool_result`).
    pub(super) builtin: bool,
    /// Its handler was asked to stop: the session no longer takes its result.
    pub(super) stopped: bool,
    /// The call's span, ended when its result is known.
    #[cfg(feature = "tracing")]
    pub(super) span: Option<crate::trace::ToolSpan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_the_latest_and_count_all() {
        let mut r = Records::new(Some(2));
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.seen, 5);
        assert_eq!(r.take(), [3, 4]);
    }
}
