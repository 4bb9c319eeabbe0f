//! Built-in tool calls: answering `agent.tool_use` events (bash, read, write, edit, glob,
//! grep of a self-hosted environment) with a `user.tool_result` from the user's handler.
//!
//! The guarantees are the custom tools': a call whose result is in the session's log is never
//! run again, the handler runs under its time limit on a thread of its own, a panic or an
//! error becomes an `is_error` result, and a result that could not be posted is recorded as
//! such in [`Outcome::agent_tool_calls`](super::Outcome::agent_tool_calls). A call that needs a
//! confirmation (`evaluated_permission: ask`) runs only once it is allowed. Also the handler that
//! runs them with a local [`AgentToolset`](crate::toolset::AgentToolset).

use super::outcome::{ConfirmationRequest, ToolCall, ToolCallRecord};
use super::state::State;
use super::{handler, post, SessionRunner};
use crate::types::*;

/// How often a bash call of [`SessionRunner::toolset`] looks at whether it ended, while it
/// waits for the run's cancel.
#[cfg(feature = "toolset")]
const CANCEL_WATCH: std::time::Duration = std::time::Duration::from_millis(50);

impl SessionRunner<'_> {
    /// Runs the agent's built-in tools with a local [`AgentToolset`](crate::toolset::AgentToolset)
    /// (see [`agent_tools`](Self::agent_tools)), each call by its [`ToolCall::deadline`].
    /// The toolset is shared: a call past its time limit keeps it until it returns. When the
    /// run is cancelled during a bash call, the toolset is closed: the command and everything
    /// it started are killed (the next bash call starts a new shell).
    #[cfg(feature = "toolset")]
    pub fn toolset(self, toolset: std::sync::Arc<crate::toolset::AgentToolset>) -> Self {
        self.agent_tools(move |c: &ToolCall| {
            let done = crate::environments::StopSignal::new();
            if c.name == "bash" {
                let (toolset, cancel, done) = (toolset.clone(), c.cancel.clone(), done.clone());
                let _ = std::thread::Builder::new()
                    .name("bash cancel".into())
                    .spawn(move || {
                        while !done.is_set() {
                            if cancel.wait(CANCEL_WATCH) {
                                toolset.close();
                                return;
                            }
                        }
                    });
            }
            let r = toolset.call(&c.name, &c.input, c.deadline);
            done.set();
            if r.is_error {
                Err(r.text())
            } else {
                Ok(super::ToolOutput::blocks(r.content))
            }
        })
    }

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
            self.confirm_one(state, ev, ConfirmationRequest::of_tool_use(u));
            if !state.allowed.contains(&u.id) {
                return;
            }
        }
        if state.results.contains(&u.id) || state.ran.contains(&u.id) {
            return;
        }
        state.tool_uses.insert(u.id.clone(), ev.clone());
        if state.thread_ended(u.session_thread_id.as_ref()) {
            return;
        }
        let call = self.tool_call(&u.id, &u.name, &u.input, &u.session_thread_id);
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
