//! The tool-result loop: stream a session, answer its custom tool calls and tool
//! confirmations, and stop at the right place with an outcome.
//!
//! What it does, as the official runners do:
//! - it opens the stream before anything else, then reads the session's history and never runs
//!   a call whose result is already recorded (so a runner restarted after a crash runs each
//!   call at most once); if that read fails half way it dispatches nothing from it;
//! - each handler runs under a time limit, past which the agent gets an `is_error` "timed out"
//!   result; a handler's error or panic becomes an `is_error` result too, never a hung session;
//! - a result that cannot be posted (after retries, or refused) is reported in the outcome as
//!   not posted, never dropped silently;
//! - a call for a tool it has no handler for gets an `is_error` result, unless the runner is
//!   limited to its own tools (then another runner on the same session answers it);
//! - it stops on `end_turn` (after an optional grace period that any new event resets),
//!   termination, `retries_exhausted` and the other final stop reasons, or the deadline, and then
//!   waits out the moment in which the session may still report `running`.

use crate::client::{Client, RequestOptions};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::stream::StreamOptions;
use crate::types::*;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A call of a custom tool, as a handler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The `agent.custom_tool_use` event id (the result's `custom_tool_use_id`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The input the agent gave.
    pub input: Map<String, Value>,
    /// The thread the call came from, in a multi-agent session.
    pub session_thread_id: Option<String>,
}

impl std::ops::Index<&str> for ToolCall {
    type Output = Value;
    /// An input field, or `null` when absent: `call["test_path"]`.
    fn index(&self, key: &str) -> &Value {
        self.input.get(key).unwrap_or(&Value::Null)
    }
}

/// What a handler returns: text, or content blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput(Vec<UserCustomToolResultEventParamsContent>);

impl ToolOutput {
    /// Content blocks as they are.
    pub fn blocks(blocks: Vec<UserCustomToolResultEventParamsContent>) -> Self {
        ToolOutput(blocks)
    }

    fn text_of(&self) -> String {
        self.0
            .iter()
            .filter_map(|b| match b {
                UserCustomToolResultEventParamsContent::Text(t) => Some(t.text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl From<String> for ToolOutput {
    fn from(text: String) -> Self {
        ToolOutput(vec![TextBlockParam::new(text).into()])
    }
}

impl From<&str> for ToolOutput {
    fn from(text: &str) -> Self {
        ToolOutput::from(text.to_string())
    }
}

impl From<Value> for ToolOutput {
    /// JSON, as its text.
    fn from(v: Value) -> Self {
        ToolOutput::from(v.to_string())
    }
}

/// A tool use waiting for a confirmation (`evaluated_permission: ask`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmationRequest {
    /// The tool use event id (the confirmation's `tool_use_id`).
    pub tool_use_id: String,
    /// The tool's name.
    pub name: String,
    /// The MCP server, for an MCP tool.
    pub mcp_server_name: Option<String>,
    /// The input the agent gave.
    pub input: Map<String, Value>,
}

/// The answer to a confirmation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let the tool run.
    Allow,
    /// Refuse it, with a message for the agent.
    Deny(String),
}

type Decide = Arc<dyn Fn(&ConfirmationRequest) -> Decision + Send + Sync>;

/// How the runner answers tool uses that need a `user.tool_confirmation`.
#[derive(Clone, Default)]
pub enum Confirmation {
    /// Leave them to someone else (the default): the session waits in `requires_action`.
    #[default]
    Leave,
    /// Allow every one.
    Allow,
    /// Deny every one, with this message.
    Deny(String),
    /// Ask a function.
    With(Decide),
}

impl Confirmation {
    /// Decides with a function.
    pub fn with(f: impl Fn(&ConfirmationRequest) -> Decision + Send + Sync + 'static) -> Self {
        Confirmation::With(Arc::new(f))
    }

    fn decide(&self, req: &ConfirmationRequest) -> Option<Decision> {
        match self {
            Confirmation::Leave => None,
            Confirmation::Allow => Some(Decision::Allow),
            Confirmation::Deny(m) => Some(Decision::Deny(m.clone())),
            Confirmation::With(f) => Some(f(req)),
        }
    }
}

impl fmt::Debug for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Confirmation::Leave => f.write_str("Leave"),
            Confirmation::Allow => f.write_str("Allow"),
            Confirmation::Deny(m) => f.debug_tuple("Deny").field(m).finish(),
            Confirmation::With(_) => f.write_str("With(..)"),
        }
    }
}

/// Why the run stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// The agent ended its turn.
    EndTurn,
    /// The session gave up after retrying (`retries_exhausted`).
    RetriesExhausted,
    /// The session terminated.
    Terminated,
    /// The session was deleted.
    Deleted,
    /// Idle for another final reason (`budget_reached`, `refusal`, or one not known yet).
    Idle(SessionStatusIdleEventStopReason),
}

/// One custom tool call the runner handled (or saw and left).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCallRecord {
    /// The call.
    pub call: ToolCall,
    /// The text of the result sent (or that would have been sent).
    pub output: String,
    /// Whether the result was an error.
    pub is_error: bool,
    /// Whether the result reached the session. `false` with `post_error` when posting failed;
    /// `false` without it when the call was left to another runner.
    pub posted: bool,
    /// Why posting failed.
    pub post_error: Option<String>,
}

/// One confirmation the runner answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmationRecord {
    /// The request.
    pub request: ConfirmationRequest,
    /// The answer.
    pub decision: Decision,
    /// Whether the answer reached the session.
    pub posted: bool,
}

/// What happened in a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Why it stopped; `None` if it did not get to a stop (see [`RunError`]).
    pub stop_reason: Option<StopReason>,
    /// Every event seen, in order.
    pub events: Vec<SessionEvent>,
    /// The custom tool calls.
    pub tool_calls: Vec<ToolCallRecord>,
    /// The confirmations answered.
    pub confirmations: Vec<ConfirmationRecord>,
    /// The session's cumulative usage at the end, when it could be read.
    pub usage: Option<SessionUsage>,
}

impl Outcome {
    /// The text of every `agent.message`, joined.
    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                SessionEvent::AgentMessage(m) => Some(m.text()),
                _ => None,
            })
            .collect()
    }
}

/// A run that ended in an error, with everything that happened before it.
#[derive(Debug)]
pub struct RunError {
    /// What went wrong.
    pub error: Error,
    /// What happened until then.
    pub outcome: Box<Outcome>,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (after {} events, {} tool calls)",
            self.error,
            self.outcome.events.len(),
            self.outcome.tool_calls.len()
        )
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Error {
        e.error
    }
}

type Handler = Arc<dyn Fn(&ToolCall) -> std::result::Result<ToolOutput, String> + Send + Sync>;
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
    own_tools_only: bool,
    confirmation: Confirmation,
    on_event: Option<OnEvent<'a>>,
    deadline: Deadline,
    handler_timeout: Duration,
    grace: Duration,
    stream_options: StreamOptions,
}

impl Client {
    /// A tool-result loop for a session.
    pub fn run(&self, session_id: &str) -> SessionRunner<'_> {
        SessionRunner {
            client: self,
            session_id: session_id.to_string(),
            message: None,
            handlers: HashMap::new(),
            own_tools_only: false,
            confirmation: Confirmation::Leave,
            on_event: None,
            deadline: Deadline::never(),
            handler_timeout: Duration::from_secs(300),
            grace: Duration::ZERO,
            stream_options: StreamOptions::new(),
        }
    }
}

impl<'a> SessionRunner<'a> {
    /// A user message to send once the stream is open.
    pub fn message(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// The handler of a custom tool. Its error becomes an `is_error` result.
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

    /// The time a handler gets before its call is answered "timed out" (default 300 s).
    pub fn handler_timeout(mut self, d: Duration) -> Self {
        self.handler_timeout = d;
        self
    }

    /// After an `end_turn`, keep listening this long (reset by any new event) before
    /// returning, for events that follow the idle (default: none).
    pub fn grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// The options of the event stream (idle timeout, reconnects); its deadline is the run's.
    pub fn stream_options(mut self, options: StreamOptions) -> Self {
        self.stream_options = options;
        self
    }

    /// Runs until the turn ends, the session terminates, or the deadline passes.
    pub fn until_idle(mut self) -> std::result::Result<Outcome, RunError> {
        let mut state = State::default();
        match self.drive(&mut state) {
            Ok(reason) => {
                state.outcome.stop_reason = Some(reason);
                state.outcome.usage = self.settle();
                Ok(state.outcome)
            }
            Err(error) => Err(RunError {
                error,
                outcome: Box::new(state.outcome),
            }),
        }
    }

    fn drive(&mut self, state: &mut State) -> Result<StopReason> {
        // 1. stream first
        let options = self.stream_options.clone().deadline(self.deadline);
        let mut stream = self
            .client
            .sessions()
            .events()
            .stream(&self.session_id, options)?;
        // 2. the history: what is already answered, what is still pending
        let pending = self.history(state)?;
        for ev in pending {
            self.handle(state, &ev);
        }
        // 3. the message
        if let Some(text) = self.message.take() {
            self.client.sessions().events().send_with(
                &self.session_id,
                &EventSendParams::one(UserMessageEventParams::text(text)),
                &self.post_options(),
            )?;
        }
        // 4. the loop
        let mut ended: Option<StopReason> = None;
        loop {
            let ev = match stream.next() {
                Some(Ok(ev)) => ev,
                // the grace period passed with nothing new
                Some(Err(Error::Timeout { .. })) if ended.is_some() => {
                    return Ok(StopReason::EndTurn)
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return ended.ok_or_else(|| Error::connection("the event stream ended"));
                }
            };
            if let Some(f) = self.on_event.as_mut() {
                f(&ev);
            }
            state.outcome.events.push(ev.clone());
            self.handle(state, &ev);
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

    /// Reads the whole history; returns the tool uses still unanswered (none if a page fails).
    fn history(&self, state: &mut State) -> Result<Vec<SessionEvent>> {
        let opts = RequestOptions::new().deadline(self.deadline);
        let params = SessionsEventListParams::default()
            .order(EventsListOrder::Asc)
            .limit(1000);
        let mut all = Vec::new();
        let page = self
            .client
            .sessions()
            .events()
            .list_with(&self.session_id, &params, &opts)?;
        for ev in page {
            match ev {
                Ok(ev) => all.push(ev),
                Err(e) => {
                    log::warn!("reading the history of {} failed part way ({e}); dispatching nothing from it", self.session_id);
                    return Ok(Vec::new());
                }
            }
        }
        let mut pending = Vec::new();
        for ev in &all {
            state.note(ev);
            if matches!(
                ev,
                SessionEvent::AgentCustomToolUse(_)
                    | SessionEvent::AgentToolUse(_)
                    | SessionEvent::AgentMcpToolUse(_)
            ) {
                pending.push(ev.clone());
            }
        }
        pending.retain(|ev| ev.id().is_some_and(|id| !state.answered.contains(id)));
        Ok(pending)
    }

    fn post_options(&self) -> RequestOptions {
        RequestOptions::new().deadline(self.deadline).max_retries(5)
    }

    /// Answers a tool call or confirmation request, once.
    fn handle(&mut self, state: &mut State, ev: &SessionEvent) {
        state.note(ev);
        match ev {
            SessionEvent::AgentCustomToolUse(u) => {
                state.tool_uses.insert(u.id.clone(), ev.clone());
                if state.answered.contains(&u.id) || state.handled.contains(&u.id) {
                    return;
                }
                if u.session_thread_id
                    .as_ref()
                    .is_some_and(|t| state.terminated_threads.contains(t))
                {
                    return;
                }
                let call = ToolCall {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    input: u.input.clone(),
                    session_thread_id: u.session_thread_id.clone(),
                };
                let handler = self.handlers.get(&u.name).cloned();
                if handler.is_none() && self.own_tools_only {
                    state.handled.insert(u.id.clone());
                    state.outcome.tool_calls.push(ToolCallRecord {
                        call,
                        output: String::new(),
                        is_error: false,
                        posted: false,
                        post_error: None,
                    });
                    return;
                }
                state.handled.insert(u.id.clone());
                let (output, is_error) = match handler {
                    Some(h) => self.call(h, &call),
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
                let sent = self.client.sessions().events().send_with(
                    &self.session_id,
                    &EventSendParams::one(params),
                    &self.post_options(),
                );
                if sent.is_ok() {
                    state.answered.insert(call.id.clone());
                }
                state.outcome.tool_calls.push(ToolCallRecord {
                    call,
                    output: output.text_of(),
                    is_error,
                    posted: sent.is_ok(),
                    post_error: sent.err().map(|e| e.to_string()),
                });
            }
            SessionEvent::AgentToolUse(u)
                if u.evaluated_permission == Some(AgentEvaluatedPermission::Ask) =>
            {
                state.tool_uses.insert(u.id.clone(), ev.clone());
                let req = ConfirmationRequest {
                    tool_use_id: u.id.clone(),
                    name: u.name.clone(),
                    mcp_server_name: None,
                    input: u.input.clone(),
                };
                self.confirm_one(state, req);
            }
            SessionEvent::AgentMcpToolUse(u)
                if u.evaluated_permission == Some(AgentEvaluatedPermission::Ask) =>
            {
                state.tool_uses.insert(u.id.clone(), ev.clone());
                let req = ConfirmationRequest {
                    tool_use_id: u.id.clone(),
                    name: u.name.clone(),
                    mcp_server_name: Some(u.mcp_server_name.clone()),
                    input: u.input.clone(),
                };
                self.confirm_one(state, req);
            }
            _ => {}
        }
    }

    fn confirm_one(&mut self, state: &mut State, req: ConfirmationRequest) {
        if state.answered.contains(&req.tool_use_id) || state.handled.contains(&req.tool_use_id) {
            return;
        }
        let Some(decision) = self.confirmation.decide(&req) else {
            return;
        };
        state.handled.insert(req.tool_use_id.clone());
        let params = match &decision {
            Decision::Allow => UserToolConfirmationEventParams::new(
                UserToolConfirmationEventParamsResult::Allow,
                req.tool_use_id.clone(),
            ),
            Decision::Deny(m) => UserToolConfirmationEventParams::new(
                UserToolConfirmationEventParamsResult::Deny,
                req.tool_use_id.clone(),
            )
            .deny_message(m.clone()),
        };
        let sent = self.client.sessions().events().send_with(
            &self.session_id,
            &EventSendParams::one(params),
            &self.post_options(),
        );
        if sent.is_ok() {
            state.answered.insert(req.tool_use_id.clone());
        }
        state.outcome.confirmations.push(ConfirmationRecord {
            request: req,
            decision,
            posted: sent.is_ok(),
        });
    }

    /// Runs a handler on its own thread, under its time limit; a panic or error is an error result.
    fn call(&self, handler: Handler, call: &ToolCall) -> (ToolOutput, bool) {
        let limit = match self.deadline.remaining() {
            Some(r) => r.min(self.handler_timeout),
            None => self.handler_timeout,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let c = call.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("tool {}", call.name))
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&c)));
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            return (
                ToolOutput::from(format!("the tool could not be started: {e}")),
                true,
            );
        }
        match rx.recv_timeout(limit) {
            Ok(Ok(Ok(out))) => (out, false),
            Ok(Ok(Err(msg))) => (ToolOutput::from(msg), true),
            Ok(Err(panic)) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                (
                    ToolOutput::from(format!("the tool failed: it panicked: {msg}")),
                    true,
                )
            }
            Err(_) => (
                ToolOutput::from(format!("the tool timed out after {limit:?}")),
                true,
            ),
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

#[derive(Default)]
struct State {
    outcome: Outcome,
    /// Tool use ids whose result or confirmation is recorded.
    answered: HashSet<String>,
    /// Tool use ids this runner acted on (or chose to leave).
    handled: HashSet<String>,
    /// Tool uses seen, by id (to answer a `requires_action` that lists them).
    tool_uses: HashMap<String, SessionEvent>,
    terminated_threads: HashSet<String>,
}

impl State {
    /// Records what an event says about the calls: a result or confirmation answers its tool
    /// use; a thread's termination closes its calls.
    fn note(&mut self, ev: &SessionEvent) {
        match ev {
            SessionEvent::UserCustomToolResult(r) => {
                self.answered.insert(r.custom_tool_use_id.clone());
            }
            SessionEvent::UserToolConfirmation(c) => {
                self.answered.insert(c.tool_use_id.clone());
            }
            SessionEvent::SessionThreadStatusTerminated(t) => {
                self.terminated_threads.insert(t.session_thread_id.clone());
            }
            _ => {}
        }
    }
}
