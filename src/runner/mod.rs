//! The tool-result loop: stream a session, answer its custom tool calls and tool
//! confirmations, and stop at the right place with an outcome.
//!
//! What it does, as the official runners do:
//! - it opens the stream before anything else (the stream starts where the session's log ends,
//!   so an earlier turn's `end_turn` never stops it), then reads the session's history and never
//!   runs a call whose result is already recorded (so a runner restarted after a crash runs
//!   each call at most once); if that read fails half way it dispatches nothing from it;
//! - each handler runs under a time limit, which it sees as [`ToolCall::deadline`]; past it the
//!   agent gets an `is_error` "timed out" result and the handler's thread is left running,
//!   detached. A handler's error or panic becomes an `is_error` result too, never a hung session;
//! - a result that cannot be posted (after retries, or refused) is reported in the outcome as
//!   not posted, never dropped silently, unless the session's log shows that it arrived (the
//!   answer to an earlier attempt was lost); one the API refuses for good (a 4xx that is not
//!   retried) ends the run at once with that error, since the session would wait for it until
//!   the deadline; the user message is sent again after a failure only when the log shows it
//!   did not arrive (see `post.rs`);
//! - a call for a tool it has no handler for gets an `is_error` result, unless the runner is
//!   limited to its own tools (then another runner on the same session answers it);
//! - an event that does not read never stops it (the stream delivers it as `Unknown`, or skips
//!   a frame that is not an event);
//! - it stops on `end_turn` (after an optional grace period that any new event resets),
//!   termination, `retries_exhausted` and the other final stop reasons, or the deadline, and then
//!   waits out the moment in which the session may still report `running`;
//! - it keeps the last 1,000 events it saw (all of them if asked), so a long run's memory is flat.
//! - given no message, on a session whose log ends with its turn over (an idle that is not
//!   `requires_action`, or a termination) and with nothing left to answer, it returns at once
//!   (after the grace period), as the official runner's idle clock does;
//! - a cancel signal ([`SessionRunner::cancel`]) ends it where it is, within 200 ms while it
//!   waits on the stream, at once while it waits for a handler (which sees
//!   [`ToolCall::cancel`]), posting nothing for that call.

mod agent;
mod confirm;
mod handler;
mod history;
mod outcome;
mod post;
mod state;

pub use outcome::{
    Confirmation, ConfirmationRecord, ConfirmationRequest, Decision, Outcome, RunError, StopReason,
    ToolCall, ToolCallRecord, ToolOutput,
};

use crate::client::{Client, RequestOptions};
use crate::deadline::Deadline;
use crate::environments::StopSignal;
use crate::error::{Error, Result};
use crate::stream::StreamOptions;
use crate::types::*;
use handler::Handler;
use state::State;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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
}

impl Client {
    /// A tool-result loop for a session.
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
            handler_timeout: Duration::from_secs(300),
            grace: Duration::ZERO,
            stream_options: StreamOptions::new(),
            keep: Some(state::DEFAULT_KEEP),
            cancel: StopSignal::new(),
        }
    }
}

impl<'a> SessionRunner<'a> {
    /// A user message to send once the stream is open.
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// The handler of a custom tool. Its error becomes an `is_error` result. It runs on a
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

    /// The handler of the agent's built-in tools (`agent.tool_use`: bash, read, write, edit,
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

    /// How tool uses that need confirming are answered (default: left to someone else).
    pub fn confirm(mut self, policy: Confirmation) -> Self {
        self.confirmation = policy;
        self
    }

    /// Called with every event as it arrives (for live output).
    pub fn on_event(mut self, f: impl FnMut(&SessionEvent) + 'a) -> Self {
        self.on_event = Some(Box::new(f));
        self
    }

    /// The deadline of the whole run, from now.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Deadline::after(d);
        self
    }

    /// The time a handler gets before its call is answered "timed out" (default 300 s); the
    /// handler sees when that is as [`ToolCall::deadline`].
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.handler_timeout = d;
        self
    }

    /// After an `end_turn`, keep listening this long (reset by any new event) before
    /// returning, for events that follow the idle (default: none). A server that closes the
    /// stream after the idle ends the wait at once.
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// The options of the event stream (idle timeout, reconnects); its deadline is the run's,
    /// and it always starts where the session's log ends
    /// ([`StreamOptions::from_beginning`] does not apply: the history is read separately).
    pub fn stream_options(mut self, options: StreamOptions) -> Self {
        self.stream_options = options;
        self
    }

    /// Keeps the last `n` events in [`Outcome::events`] (default 1,000; 0 keeps none).
    pub fn keep_events(mut self, n: usize) -> Self {
        self.keep = Some(n);
        self
    }

    /// Ends the run when `signal` is set (from any thread): the stream is left within 200 ms
    /// (see [`StreamOptions::cancel`]), a handler under way is no longer waited for
    /// (it sees the signal as [`ToolCall::cancel`]) and nothing is posted for its call, and the
    /// run returns with [`StopReason::Cancelled`]. A self-hosted worker sets it when an item's
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

    /// Runs until the turn ends, the session terminates, the deadline passes, or the API
    /// refuses an answer for good (its error, with the outcome so far).
    pub fn until_idle(mut self) -> std::result::Result<Outcome, RunError> {
        let mut state = State::new(self.keep);
        match self.drive(&mut state) {
            Ok(reason) => {
                if reason != StopReason::Cancelled {
                    state.outcome.usage = self.settle();
                }
                state.outcome.stop_reason = Some(reason);
                Ok(state.finish())
            }
            Err(error) => Err(RunError {
                error,
                outcome: Box::new(state.finish()),
            }),
        }
    }

    fn drive(&mut self, state: &mut State) -> Result<StopReason> {
        // 1. stream first; it starts where the log ends now
        let mut options = self
            .stream_options
            .clone()
            .deadline(self.deadline)
            .cancel(self.cancel.clone());
        options.from_beginning = false;
        let mut stream = self
            .client
            .sessions()
            .events()
            .stream(&self.session_id, options)?;
        stream.end_with_turn();
        state.floor = stream.floor().clone();
        // 2. the history: what is already answered, what is still pending
        let (pending, last_end) = self.history(state)?;
        for ev in pending {
            self.handle(state, &ev);
            if let Some(e) = state.refused.take() {
                return Err(e);
            }
            if self.cancel.is_set() {
                return Ok(StopReason::Cancelled);
            }
        }
        let mut ended: Option<StopReason> = None;
        // 3. the message; or, when the session's turn is over and nothing waits for an
        // answer, nothing to do: the run ends (after the grace period)
        if let Some(text) = self.message.take() {
            post::send_message(
                self.client,
                &self.session_id,
                &text,
                &state.floor,
                self.deadline,
            )?;
        } else if let Some(reason) = last_end.filter(|_| state.tool_uses.is_empty()) {
            if self.grace.is_zero()
                || matches!(reason, StopReason::Terminated | StopReason::Deleted)
            {
                return Ok(reason);
            }
            ended = Some(reason);
            stream.set_deadline(Deadline::after(self.grace).min(self.deadline));
        }
        // 4. the loop
        loop {
            let ev = match stream.next() {
                _ if self.cancel.is_set() => return Ok(StopReason::Cancelled),
                Some(Ok(ev)) => ev,
                // the grace period passed with nothing new
                Some(Err(Error::Timeout { .. })) if ended.is_some() => {
                    return Ok(ended.unwrap_or(StopReason::EndTurn))
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return ended.ok_or_else(|| Error::connection("the event stream ended"));
                }
            };
            if let Some(f) = self.on_event.as_mut() {
                f(&ev);
            }
            state.record(&ev);
            self.handle(state, &ev);
            if let Some(e) = state.refused.take() {
                return Err(e);
            }
            if self.cancel.is_set() {
                return Ok(StopReason::Cancelled);
            }
            match &ev {
                SessionEvent::SessionStatusTerminated(_) => return Ok(StopReason::Terminated),
                SessionEvent::SessionDeleted(_) => return Ok(StopReason::Deleted),
                SessionEvent::SessionStatusIdle(idle) => match &idle.stop_reason {
                    SessionStatusIdleEventStopReason::RequiresAction(ra) => {
                        // answer whatever it waits for that we know of and have not answered
                        for id in &ra.event_ids {
                            if let Some(pending) = state.tool_uses.get(id).cloned() {
                                self.handle(state, &pending);
                            }
                        }
                        if let Some(e) = state.refused.take() {
                            return Err(e);
                        }
                        if ended.take().is_some() {
                            stream.set_deadline(self.deadline);
                        }
                    }
                    SessionStatusIdleEventStopReason::EndTurn(_) => {
                        if self.grace.is_zero() {
                            return Ok(StopReason::EndTurn);
                        }
                        ended = Some(StopReason::EndTurn);
                        stream.set_deadline(Deadline::after(self.grace).min(self.deadline));
                    }
                    SessionStatusIdleEventStopReason::RetriesExhausted(_) => {
                        return Ok(StopReason::RetriesExhausted)
                    }
                    other => return Ok(StopReason::Idle(other.clone())),
                },
                // any other event in the grace period starts it again
                _ if ended.is_some() => {
                    stream.set_deadline(Deadline::after(self.grace).min(self.deadline))
                }
                _ => {}
            }
        }
    }

    /// The call a handler gets for a tool use, with its time limit and the run's cancel.
    fn tool_call(
        &self,
        id: &str,
        name: &str,
        input: &serde_json::Map<String, serde_json::Value>,
        thread: &Option<String>,
    ) -> ToolCall {
        ToolCall {
            id: id.to_string(),
            name: name.to_string(),
            input: input.clone(),
            session_thread_id: thread.clone(),
            deadline: Deadline::after(self.handler_timeout).min(self.deadline),
            cancel: self.cancel.clone(),
        }
    }

    /// Answers a tool call or confirmation request, once.
    fn handle(&mut self, state: &mut State, ev: &SessionEvent) {
        state.note(ev);
        match ev {
            SessionEvent::AgentCustomToolUse(u) => {
                if state.answered.contains(&u.id) || state.handled.contains(&u.id) {
                    return;
                }
                state.tool_uses.insert(u.id.clone(), ev.clone());
                if state.thread_ended(u.session_thread_id.as_ref()) {
                    return;
                }
                let call = self.tool_call(&u.id, &u.name, &u.input, &u.session_thread_id);
                let handler = self.handlers.get(&u.name).cloned();
                state.handled.insert(u.id.clone());
                if handler.is_none() && self.own_tools_only {
                    state.tool_uses.remove(&u.id);
                    state.outcome.tool_calls.push(ToolCallRecord {
                        call,
                        output: String::new(),
                        is_error: false,
                        posted: false,
                        post_error: None,
                    });
                    return;
                }
                let (output, is_error) = match handler {
                    Some(h) => match handler::run(h, &call) {
                        Some(ran) => ran,
                        None => {
                            state
                                .outcome
                                .tool_calls
                                .push(ToolCallRecord::cancelled(call));
                            return;
                        }
                    },
                    None => (
                        ToolOutput::from(format!(
                            "no handler for the tool {:?} in this runner",
                            call.name
                        )),
                        true,
                    ),
                };
                let params = UserCustomToolResultEventParams::new(call.id.clone())
                    .content(output.0.clone())
                    .is_error(is_error);
                let sent = self.answer(state, EventSendParams::one(params), &call.id);
                state.outcome.tool_calls.push(ToolCallRecord {
                    call,
                    output: output.text_of(),
                    is_error,
                    posted: sent.is_ok(),
                    post_error: sent.err().map(|e| e.to_string()),
                });
            }
            SessionEvent::AgentToolUse(u) if self.agent.is_some() => self.agent_tool(state, ev, u),
            SessionEvent::AgentToolUse(u)
                if u.evaluated_permission == Some(AgentEvaluatedPermission::Ask) =>
            {
                self.confirm_one(state, ev, ConfirmationRequest::of_tool_use(u));
            }
            SessionEvent::AgentMcpToolUse(u)
                if u.evaluated_permission == Some(AgentEvaluatedPermission::Ask) =>
            {
                let req = ConfirmationRequest {
                    tool_use_id: u.id.clone(),
                    name: u.name.clone(),
                    mcp_server_name: Some(u.mcp_server_name.clone()),
                    input: u.input.clone(),
                };
                self.confirm_one(state, ev, req);
            }
            _ => {}
        }
    }

    /// Posts a result or confirmation; on success the call is answered.
    fn answer(&self, state: &mut State, params: EventSendParams, tool_use_id: &str) -> Result<()> {
        let sent = post::send_answer(
            self.client,
            &self.session_id,
            params,
            tool_use_id,
            &state.floor,
            self.deadline,
        );
        match &sent {
            Ok(()) => {
                state.tool_uses.remove(tool_use_id);
                state.answered.insert(tool_use_id.to_string());
            }
            // refused for good: the session would wait for this answer until the deadline
            Err(Error::Api {
                status,
                request_id,
                body,
                ..
            }) if !sent.as_ref().is_err_and(Error::is_retryable) && state.refused.is_none() => {
                state.refused = Some(Error::from_api_body(
                    *status,
                    request_id.clone(),
                    body.as_bytes(),
                ));
            }
            Err(_) => {}
        }
        sent
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
