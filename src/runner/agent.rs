//! Built-in tool calls: answering `agent.tool_use` events (bash, read, write, edit, glob,
//! grep of a self-hosted environment) with a `user.tool_result` from the user's handler.
//!
//! The guarantees are the custom tools' (see the module's notes), and a result is recorded in
//! [`Outcome::agent_tool_calls`](super::Outcome::agent_tool_calls). A call that needs a
//! confirmation (`evaluated_permission: ask`) runs only once it is allowed. This file holds the
//! handler that runs them with a local [`AgentToolset`](crate::toolset::AgentToolset).

#[cfg(feature = "toolset")]
use super::outcome::ToolCall;
use super::SessionRunner;

/// How often a bash call of [`SessionRunner::toolset`] looks at whether it ended, while it
/// waits for the run's cancel.
#[cfg(feature = "toolset")]
const CANCEL_WATCH: std::time::Duration = std::time::Duration::from_millis(50);

impl SessionRunner<'_> {
    /// Runs the agent's built-in tools with a local [`AgentToolset`](crate::toolset::AgentToolset)
    /// (see [`agent_tools`](Self::agent_tools)), each call by its [`ToolCall::deadline`].
    /// The toolset is shared: a call past its time limit keeps it until it returns. When a bash
    /// call is asked to stop ([`ToolCall::cancel`]: the run is cancelled, or the session no
    /// longer takes its result), the toolset is closed: the command and everything it started
    /// are killed (the next bash call starts a new shell).
    #[cfg(feature = "toolset")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toolset")))]
    pub fn toolset(self, toolset: std::sync::Arc<crate::toolset::AgentToolset>) -> Self {
        self.agent_tools(move |c: &ToolCall| {
            let done = crate::cancel::StopSignal::new();
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
}
