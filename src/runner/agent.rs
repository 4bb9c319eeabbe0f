//! Built-in tool calls: answering `agent.tool_use` events (bash, read, write, edit, glob,
//! grep of a self-hosted environment) with a `user.tool_result` from the user's handler.
//!
//! The guarantees are the custom tools': a call whose result is in the session's log is never
//! run again, the handler runs under its time limit on a thread of its own, a panic or an
//! error becomes an `is_error` result, and a result that could not be posted is recorded as
//! such in [`Outcome::agent_tool_calls`](super::Outcome::agent_tool_calls). A call that needs a
//! confirmation (`evaluated_permission: ask`) runs only once it is allowed.

use super::outcome::{ConfirmationRequest, ToolCall, ToolCallRecord};
use super::state::State;
use super::{handler, post, SessionRunner};
use crate::deadline::Deadline;
use crate::types::*;

impl SessionRunner<'_> {
    /// Whether a built-in call needs nothing more from this runner: its result is recorded,
    /// or its confirmation denied it.
    pub(super) fn agent_settled(state: &State, id: &str) -> bool {
        state.results.contains(id) || (state.answered.contains(id) && !state.allowed.contains(id))
    }

    /// Runs a built-in tool call with the agent tool handler and posts its result, once.
    pub(super) fn agent_tool(
        &mut self,
        state: &mut State,
        ev: &SessionEvent,
        u: &AgentToolUseEvent,
    ) {
        let Some(h) = self.agent.clone() else {
            return;
        };
        if u.evaluated_permission == Some(AgentEvaluatedPermission::Ask)
            && !state.allowed.contains(&u.id)
        {
            let req = ConfirmationRequest {
                tool_use_id: u.id.clone(),
                name: u.name.clone(),
                mcp_server_name: None,
                input: u.input.clone(),
            };
            self.confirm_one(state, ev, req);
            if !state.allowed.contains(&u.id) {
                return;
            }
        }
        if state.results.contains(&u.id) || state.ran.contains(&u.id) {
            return;
        }
        state.tool_uses.insert(u.id.clone(), ev.clone());
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
            deadline: Deadline::after(self.handler_timeout).min(self.deadline),
            cancel: self.cancel.clone(),
        };
        state.ran.insert(u.id.clone());
        let Some((output, is_error)) = handler::run(h, &call) else {
            state
                .outcome
                .agent_tool_calls
                .push(ToolCallRecord::cancelled(call));
            return;
        };
        let params = UserToolResultEventParams::new(call.id.clone())
            .content(output.0.clone())
            .is_error(is_error);
        let sent = post::send_answer(
            self.client,
            &self.session_id,
            EventSendParams::one(params),
            &call.id,
            &state.floor,
            self.deadline,
        );
        if sent.is_ok() {
            state.tool_uses.remove(&call.id);
            state.results.insert(call.id.clone());
        }
        state.outcome.agent_tool_calls.push(ToolCallRecord {
            call,
            output: output.text_of(),
            is_error,
            posted: sent.is_ok(),
            post_error: sent.err().map(|e| e.to_string()),
        });
    }
}
