//! The tool-result loop: stream a session, run the tool calls it waits on, answer tool
//! confirmations, and stop at the right place with an outcome. It follows the official
//! runner (Python `SessionToolRunner`, 2.17):
//!
//! - on every (re)connect it opens the stream first, then reads the session, then lists the
//!   session's history of tool and status events (`types[]`, `limit=1000`), each request under
//!   a timeout of 15 s that doubles with each failed attempt up to 240 s (see `connect.rs`). A
//!   session found `terminated`, or a `session.status_terminated` / `session.deleted`, ends
//!   the run; a read the API refuses for good (a 404) ends it with that error. A listing that
//!   fails half way is thrown away whole: nothing is dispatched from it;
//! - it runs only the calls the session waits on (see `view.rs`): those an idle
//!   `requires_action` lists, the calls of subagent threads, and built-in calls that carry
//!   `evaluated_permission`; one that asks for a confirmation waits for the first
//!   `user.tool_confirmation`, and anything but `allow` is a denial. A call it ran is never run
//!   again, even when its result could not be posted and a reconnect finds it still open;
//! - one call per thread at a time, in order; at most [`max_concurrent_calls`] across threads
//!   (1 by default). Each handler runs on a thread of its own under a time limit (325 s by
//!   default), which it sees as [`ToolCall::deadline`]; past it the agent gets an `is_error`
//!   "timed out" result and the handler's thread is left running, detached. A call whose
//!   result the session would no longer take is asked to stop ([`ToolCall::cancel`]) and
//!   nothing is posted for it; a handler's error or panic becomes an `is_error` result;
//! - a result the API refuses (400, 413) is replaced by an `is_error` result carrying the API's
//!   message; a result that cannot be posted (after retries) is reported in the outcome as not
//!   posted, unless the session's log shows that it arrived; nothing is posted to a thread that
//!   terminated, nor once the run is cancelled (see `post.rs`);
//! - a call for a tool it has no handler for gets an `is_error` result, unless the runner is
//!   limited to its own tools (then another runner on the same session answers it);
//! - it stops when the session's turn is over (an idle that is not `requires_action`) and the
//!   [`max_idle`] period (none by default) passed with no call under way, on termination, at
//!   the deadline, or on its cancel signal ([`SessionRunner::cancel`]: within 50 ms, posting
//!   nothing for a call under way);
//! - its memory is bounded: the last 1,000 events (all of them if asked), the last 1,000
//!   records of each kind, and the ids of the calls it handled for the last 10,000 of them.
//!
//! [`max_concurrent_calls`]: SessionRunner::max_concurrent_calls
//! [`max_idle`]: SessionRunner::max_idle

mod agent;
mod bounded_set;
mod calls;
mod confirm;
mod connect;
mod drive;
mod handler;
mod inbox;
mod outcome;
mod post;
mod state;
mod view;

pub use outcome::{
    Confirmation, ConfirmationRecord, ConfirmationRequest, Decision, Outcome, RunError, StopReason,
    ToolCall, ToolCallRecord, ToolOutput,
};

use crate::cancel::StopSignal;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::request_options::RequestOptions;
use crate::stream::{Position, StreamOptions};
use crate::types::*;
use handler::{Handler, Ran};
use state::State;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The default time limit of a tool call: longer than the bash tool's own (295 s), so that
/// bash reports its own timeout.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(325);

/// What the run's loop hears: from the reader of a connection, and from the handlers.
pub(super) enum Msg {
    /// The connection's stream opened: where the log ended then, or why it did not open.
    Opened(u64, crate::error::Result<Position>),
    /// An event of the connection.
    Event(u64, Box<SessionEvent>),
    /// The connection ended: cleanly after the session's turn or end, or with an error.
    Closed(u64, Option<Error>),
    /// A handler returned.
    Done(String, Ran),
}

type OnEvent<'a> = Box<dyn FnMut(&SessionEvent) + 'a>;

/// Runs a session's tool-result loop; made by [`Client::run`].
///
/// ```no_run
/// use managed_agents::runner::Confirmation;
/// use managed_agents::{types::SessionEvent, Client};
/// use std::time::Duration;
///
/// let client = Client::from_env()?;
/// let outcome = client
///     .run("sesn_011CZx")
///     .message("Review the auth module")
///     .tool("run_tests", |call| Ok::<_, String>(format!("All tests passed for {}", call["test_path"])))
///     .confirm(Confirmation::Allow)
///     .on_event(|ev| if let SessionEvent::AgentMessage(m) = ev { print!("{}", m.text()) })
///     .deadline(Duration::from_secs(600))
///     .until_idle()?;
/// println!("\n{:?}, {} tool calls", outcome.stop_reason, outcome.tool_calls.len());
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct SessionRunner<'a> {
    client: &'a Client,
    session_id: String,
    message: Option<String>,
    handlers: HashMap<String, Handler>,
    agent: Option<Handler>,
    own_tools_only: bool,
    confirmation: Confirmation,
    on_event: Option<OnEvent<'a>>,
    deadline: Deadline,
    handler_timeout: Duration,
    grace: Duration,
    stream_options: StreamOptions,
    keep: Option<usize>,
    cancel: StopSignal,
    max_concurrent_calls: usize,
}

impl Client {
    /// Creates a tool-result loop for a session.
    pub fn run(&self, session_id: &str) -> SessionRunner<'_> {
        SessionRunner {
            client: self,
            session_id: session_id.to_string(),
            message: None,
            handlers: HashMap::new(),
            agent: None,
            own_tools_only: false,
            confirmation: Confirmation::Leave,
            on_event: None,
            deadline: Deadline::never(),
            handler_timeout: TOOL_TIMEOUT,
            grace: Duration::ZERO,
            stream_options: StreamOptions::new(),
            keep: Some(state::DEFAULT_KEEP),
            cancel: StopSignal::new(),
            max_concurrent_calls: 1,
        }
    }
}

impl<'a> SessionRunner<'a> {
    /// Sets a user message to send once the stream is open.
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// Sets the handler of a custom tool. Its error becomes an `is_error` result. It runs on a
    /// thread of its own and should finish by [`ToolCall::deadline`] (see there for what
    /// happens to one that does not).
    pub fn tool<T, E, F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        F: Fn(&ToolCall) -> std::result::Result<T, E> + Send + Sync + 'static,
        T: Into<ToolOutput>,
        E: fmt::Display,
    {
        self.handlers.insert(
            name.into(),
            Arc::new(move |c| f(c).map(Into::into).map_err(|e| e.to_string())),
        );
        self
    }

    /// Sets the handler of the agent's built-in tools (`agent.tool_use`: bash, read, write, edit,
    /// glob, grep), for a session whose environment is self-hosted: each call's result is
    /// posted as a `user.tool_result`, with the guarantees of [`tool`](Self::tool). A call that
    /// needs a confirmation runs once the [`confirm`](Self::confirm) policy allows it.
    pub fn agent_tools<T, E, F>(mut self, f: F) -> Self
    where
        F: Fn(&ToolCall) -> std::result::Result<T, E> + Send + Sync + 'static,
        T: Into<ToolOutput>,
        E: fmt::Display,
    {
        self.agent = Some(Arc::new(move |c| {
            f(c).map(Into::into).map_err(|e| e.to_string())
        }));
        self
    }

    /// Answers only the tools it has handlers for, leaving other calls to another runner.
    pub fn own_tools_only(mut self) -> Self {
        self.own_tools_only = true;
        self
    }

    /// Sets how tool uses that need confirming are answered (default: left to someone else).
    pub fn confirm(mut self, policy: Confirmation) -> Self {
        self.confirmation = policy;
        self
    }

    /// Called with every event as it arrives (for live output).
    pub fn on_event(mut self, f: impl FnMut(&SessionEvent) + 'a) -> Self {
        self.on_event = Some(Box::new(f));
        self
    }

    /// Sets the deadline of the whole run, from now.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Deadline::after(d);
        self
    }

    /// Sets the time a handler gets before its call is answered "timed out" (default
    /// [`TOOL_TIMEOUT`], 325 s); the handler sees when that is as [`ToolCall::deadline`].
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.handler_timeout = d;
        self
    }

    /// After the session's turn ends (an idle that is not `requires_action`: `end_turn`,
    /// `retries_exhausted`, ...), keep running this long before returning, for what follows
    /// the idle (default: none; the official runner's `max_idle`). The period counts only while
    /// no call is under way, from the idle or from the end of the last call, whichever is
    /// later; the session running again stops it, a later idle starts it again. A server that
    /// closes the stream after the idle ends the wait at once.
    pub fn max_idle(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// [`max_idle`](Self::max_idle), by the name this crate first gave it.
    pub fn grace(self, d: Duration) -> Self {
        self.max_idle(d)
    }

    /// Sets how many calls may run at once (default 1): calls of one thread always run one at a
    /// time, in order; with more than 1, calls of different session threads run side by side,
    /// so every handler must be safe to call concurrently. 0 counts as 1.
    pub fn max_concurrent_calls(mut self, n: usize) -> Self {
        self.max_concurrent_calls = n.max(1);
        self
    }

    /// Sets the options of the event stream (idle timeout, previews); its deadline is the run's,
    /// and it always starts where the session's log ends
    /// ([`StreamOptions::from_beginning`] does not apply: the history is read separately).
    /// The runner reconnects by itself (see the module's notes); `max_reconnects` is how many
    /// connections in a row may fail before the run ends with the error.
    pub fn stream_options(mut self, options: StreamOptions) -> Self {
        self.stream_options = options;
        self
    }

    /// Keeps the last `n` events in [`Outcome::events`] (default 1,000; 0 keeps none).
    pub fn keep_events(mut self, n: usize) -> Self {
        self.keep = Some(n);
        self
    }

    /// Ends the run when `signal` is set (from any thread): within 50 ms the run stops
    /// reading the stream, a handler under way is no longer waited for (it sees the signal
    /// as [`ToolCall::cancel`]) and nothing is posted for its call, and the run returns with
    /// [`StopReason::Cancelled`]. A self-hosted worker sets it when an item's
    /// lease is lost or its stop is asked for.
    pub fn cancel(mut self, signal: StopSignal) -> Self {
        self.cancel = signal;
        self
    }

    /// Keeps every event in [`Outcome::events`]: its memory grows with the run.
    pub fn keep_all_events(mut self) -> Self {
        self.keep = None;
        self
    }

    /// Runs until the turn ends, the session terminates, or the deadline passes.
    pub fn until_idle(mut self) -> std::result::Result<Outcome, RunError> {
        let mut state = State::new(self.keep);
        #[cfg(feature = "tracing")]
        let turn = {
            let turn = crate::trace::TurnSpan::start(
                self.client,
                &self.session_id,
                self.message.as_deref(),
            );
            let span = turn.span.clone();
            state.turn = Some(turn);
            span
        };
        #[cfg(feature = "tracing")]
        let _entered = turn.enter();
        let result = self.drive(&mut state);
        let reason = match &result {
            Ok(r) => Some(r.clone()),
            Err(_) => None,
        };
        self.let_go(&mut state, reason.as_ref());
        match result {
            Ok(reason) => {
                if reason != StopReason::Cancelled {
                    state.outcome.usage = self.settle();
                }
                #[cfg(feature = "tracing")]
                if let Some(turn) = state.turn.take() {
                    turn.finish(state.outcome.usage.as_ref(), None);
                }
                state.outcome.stop_reason = Some(reason);
                Ok(state.finish())
            }
            Err(error) => {
                #[cfg(feature = "tracing")]
                if let Some(turn) = state.turn.take() {
                    turn.finish(None, Some(&error));
                }
                Err(RunError {
                    error,
                    outcome: Box::new(state.finish()),
                })
            }
        }
    }

    /// The session's usage once it no longer reports `running` (it may, for a moment, after
    /// its idle event); gives up after a few seconds or at the deadline.
    fn settle(&self) -> Option<SessionUsage> {
        let until = Deadline::after(Duration::from_secs(5)).min(self.deadline);
        let opts = RequestOptions::new().deadline(until);
        let mut wait = Duration::from_millis(50);
        loop {
            let session = self
                .client
                .sessions()
                .retrieve_with(&self.session_id, &opts)
                .ok()?;
            if !matches!(
                session.status,
                SessionStatus::Running | SessionStatus::Rescheduling
            ) {
                return Some(session.usage);
            }
            if !until.sleep(wait) {
                return Some(session.usage);
            }
            wait = (wait * 2).min(Duration::from_secs(1));
        }
    }
}
