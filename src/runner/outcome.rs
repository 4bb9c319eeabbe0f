//! What a runner's handlers and policies see and answer, and what a run reports.

use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use crate::error::Error;
use crate::types::*;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// A call of a custom tool (or of a built-in tool, for an agent tool handler), as a handler
/// sees it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolCall {
    /// The `agent.custom_tool_use` event id (the result's `custom_tool_use_id`), or the
    /// `agent.tool_use` event id (the result's `tool_use_id`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The input the agent gave.
    pub input: Map<String, Value>,
    /// The thread the call came from, in a multi-agent session.
    pub session_thread_id: Option<String>,
    /// When the handler's time is up (the runner's handler timeout, or the run's deadline if
    /// that comes first). A handler that may run long should check it
    /// ([`Deadline::is_expired`], [`Deadline::remaining`]) and give up in time: past it the
    /// runner stops waiting, answers the agent with an `is_error` "timed out" result, and
    /// leaves the handler's thread running, detached, its eventual result thrown away. Rust
    /// cannot stop a thread from outside, so whatever the handler started (a child process, a
    /// lock it holds) lives on until the handler returns.
    pub deadline: Deadline,
    /// Set when the handler should give up: the run is cancelled
    /// ([`SessionRunner::cancel`](super::SessionRunner::cancel): a self-hosted item's lease was
    /// lost or its stop asked for), the session no longer takes the call's result (its thread
    /// went idle without it, or someone else answered it), the run ended, or the time limit
    /// passed. A long handler should watch it ([`StopSignal::is_set`], [`StopSignal::wait`]).
    /// The runner stops waiting for the handler at once then and posts nothing for the call
    /// (past the time limit it posts "timed out").
    pub cancel: StopSignal,
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
pub struct ToolOutput(pub(super) Vec<UserCustomToolResultEventParamsContent>);

impl ToolOutput {
    /// Content blocks as they are.
    pub fn blocks(blocks: Vec<UserCustomToolResultEventParamsContent>) -> Self {
        ToolOutput(blocks)
    }

    pub(super) fn text_of(&self) -> String {
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
#[non_exhaustive]
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

impl ConfirmationRequest {
    /// The request a built-in tool use asking for confirmation makes.
    pub(super) fn of_tool_use(u: &AgentToolUseEvent) -> ConfirmationRequest {
        ConfirmationRequest {
            tool_use_id: u.id.clone(),
            name: u.name.clone(),
            mcp_server_name: None,
            input: u.input.clone(),
        }
    }
}

/// The answer to a confirmation request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Let the tool run.
    Allow,
    /// Refuse it, with a message for the agent.
    Deny(String),
}

type Decide = Arc<dyn Fn(&ConfirmationRequest) -> Decision + Send + Sync>;

/// How the runner answers tool uses that need a `user.tool_confirmation`.
#[derive(Clone, Default)]
#[non_exhaustive]
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

    pub(super) fn decide(&self, req: &ConfirmationRequest) -> Option<Decision> {
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
#[non_exhaustive]
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
    /// The run's cancel signal was set ([`SessionRunner::cancel`](super::SessionRunner::cancel)):
    /// it ended where it was, with nothing posted for a call under way.
    Cancelled,
}

/// One custom tool call the runner handled (or saw and left).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolCallRecord {
    /// The call.
    pub call: ToolCall,
    /// The text of the result sent (or that would have been sent).
    pub output: String,
    /// Whether the result was an error.
    pub is_error: bool,
    /// Whether the result reached the session: also when the answer to posting it was lost
    /// and the session's log shows it recorded (a retry the server refused as a duplicate).
    /// `false` with `post_error` when posting failed; `false` without it when the call was
    /// left to another runner.
    pub posted: bool,
    /// Why posting failed.
    pub post_error: Option<String>,
}

impl ToolCallRecord {
    /// A call the run was cancelled under: no result, nothing posted.
    pub(super) fn cancelled(call: ToolCall) -> ToolCallRecord {
        ToolCallRecord {
            call,
            output: String::new(),
            is_error: true,
            posted: false,
            post_error: Some("the run was cancelled while the tool ran; nothing was posted".into()),
        }
    }
}

/// One confirmation the runner answered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConfirmationRecord {
    /// The request.
    pub request: ConfirmationRequest,
    /// The answer.
    pub decision: Decision,
    /// Whether the answer reached the session (as for [`ToolCallRecord::posted`]).
    pub posted: bool,
}

/// What happened in a run.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Outcome {
    /// Why it stopped; `None` if it did not get to a stop (see [`RunError`]).
    pub stop_reason: Option<StopReason>,
    /// The events seen, in order: the last 1,000 of them unless the runner was asked to keep
    /// more ([`keep_events`](super::SessionRunner::keep_events),
    /// [`keep_all_events`](super::SessionRunner::keep_all_events)).
    pub events: Vec<SessionEvent>,
    /// How many events the run saw, kept or not.
    pub events_seen: u64,
    /// The custom tool calls: the last 1,000 of them (all with
    /// [`keep_all_events`](super::SessionRunner::keep_all_events)).
    pub tool_calls: Vec<ToolCallRecord>,
    /// How many custom tool calls the run recorded, kept or not.
    pub tool_calls_seen: u64,
    /// The built-in tool calls (`agent.tool_use`) answered by the runner's agent tool handler:
    /// the last 1,000, as for [`tool_calls`](Self::tool_calls).
    pub agent_tool_calls: Vec<ToolCallRecord>,
    /// How many built-in tool calls the run recorded, kept or not.
    pub agent_tool_calls_seen: u64,
    /// The confirmations answered: the last 1,000, as for [`tool_calls`](Self::tool_calls).
    pub confirmations: Vec<ConfirmationRecord>,
    /// How many confirmations the run answered, kept or not.
    pub confirmations_seen: u64,
    /// The session's cumulative usage at the end, when it could be read.
    pub usage: Option<SessionUsage>,
}

impl Outcome {
    /// Returns the text of every `agent.message` in [`events`](Self::events), joined.
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
#[non_exhaustive]
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
            self.outcome.events_seen,
            self.outcome.tool_calls_seen + self.outcome.agent_tool_calls_seen
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
