//! Running the calls the session waits on: which ones to start (one per thread at a time, in
//! order, up to the run's limit across threads), the calls under way and their time limits,
//! and what becomes of a call when its handler returns, its time is up, or the run ends.

use super::handler::{self, Handler, Ran};
use super::outcome::{StopReason, ToolCall, ToolCallRecord, ToolOutput};
use super::state::{Running, State};
use super::view::Verdict;
use super::{post, Msg, SessionRunner};
use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use crate::types::*;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Instant;

/// How a call under way ended.
pub(super) enum End {
    Ran(Ran),
    TimedOut,
}

/// What the runner does with a call.
enum Owner {
    /// Runs it with this handler (for a custom tool it has no handler for, one that answers
    /// with an error).
    Runs(Handler, bool),
    /// Leaves it to another runner (limited to its own tools, it has no handler).
    Leaves,
    /// Not a call it answers: a built-in call without an agent tool handler, an MCP call.
    Ignores,
}

impl SessionRunner<'_> {
    /// Whether the runner answers this call (to know which earlier calls hold a later one back).
    pub(super) fn runs(&self, ev: &SessionEvent) -> bool {
        matches!(self.owner(ev), Owner::Runs(..))
    }

    fn owner(&self, ev: &SessionEvent) -> Owner {
        match ev {
            SessionEvent::AgentCustomToolUse(u) => match self.handlers.get(&u.name) {
                Some(h) => Owner::Runs(h.clone(), false),
                None if self.own_tools_only => Owner::Leaves,
                None => {
                    let name = u.name.clone();
                    Owner::Runs(
                        Arc::new(move |_: &ToolCall| {
                            Err(format!("no handler for the tool {name:?} in this runner"))
                        }),
                        false,
                    )
                }
            },
            SessionEvent::AgentToolUse(_) => match &self.agent {
                Some(h) => Owner::Runs(h.clone(), true),
                None => Owner::Ignores,
            },
            _ => Owner::Ignores,
        }
    }

    /// Acts on the view: decides the confirmations the policy answers, starts the calls the
    /// session waits on that may start, lets go of the calls it will not run, and asks the
    /// handlers of calls whose result the session no longer takes to stop.
    pub(super) fn act(&mut self, state: &mut State, tx: &Sender<Msg>) {
        if self.cancel.is_set() {
            return;
        }
        self.confirm_waiting(state);
        for (id, verdict) in state.view.allowed_or_denied() {
            let denied = verdict == Some(Verdict::Deny);
            if state.handled.contains(&id) {
                if denied {
                    state.view.forget(&id);
                }
                continue;
            }
            let Some(ev) = state.view.call(&id).and_then(|c| c.event.clone()) else {
                continue;
            };
            match self.owner(&ev) {
                Owner::Runs(h, builtin) if !denied => {
                    let runs = |e: &SessionEvent| self.runs(e);
                    if state.view.is_behind_unanswered_call(&id, &runs) {
                        continue;
                    }
                    let thread = thread_of(&ev);
                    if state.running.len() >= self.max_concurrent_calls
                        || state.running.contains_key(&thread)
                    {
                        continue;
                    }
                    if !state.view.is_waiting_on(&id) {
                        continue;
                    }
                    self.start(state, &ev, h, builtin, tx);
                }
                Owner::Runs(..) => {
                    log::info!("not running the denied call {id}");
                    state.handled.insert(&id);
                    state.view.forget(&id);
                }
                Owner::Leaves => {
                    state.handled.insert(&id);
                    state.view.forget(&id);
                    if let SessionEvent::AgentCustomToolUse(u) = &ev {
                        let call = self.tool_call(&u.id, &u.name, &u.input, &u.session_thread_id);
                        state.tool_calls.push(ToolCallRecord {
                            call,
                            output: String::new(),
                            is_error: false,
                            posted: false,
                            post_error: None,
                        });
                    }
                }
                Owner::Ignores => {
                    state.handled.insert(&id);
                    state.view.forget(&id);
                }
            }
        }
        // a call whose result would no longer be taken is asked to stop
        for r in state.running.values_mut() {
            if !r.stopped && state.view.is_resolved(&r.call.id) {
                log::info!(
                    "the session no longer waits for {} ({}); asking it to stop",
                    r.call.name,
                    r.call.id
                );
                r.stopped = true;
                r.call.cancel.set();
            }
        }
    }

    /// The call a handler gets for a tool use, with its time limit and a stop signal of its own.
    pub(super) fn tool_call(
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
            cancel: StopSignal::new(),
        }
    }

    fn start(
        &mut self,
        state: &mut State,
        ev: &SessionEvent,
        h: Handler,
        builtin: bool,
        tx: &Sender<Msg>,
    ) {
        let call = match ev {
            SessionEvent::AgentCustomToolUse(u) => {
                self.tool_call(&u.id, &u.name, &u.input, &u.session_thread_id)
            }
            SessionEvent::AgentToolUse(u) => {
                self.tool_call(&u.id, &u.name, &u.input, &u.session_thread_id)
            }
            _ => return,
        };
        log::info!("running tool {} tool_use_id={}", call.name, call.id);
        state.handled.insert(&call.id);
        let id = call.id.clone();
        #[cfg(feature = "tracing")]
        let span = state
            .turn
            .as_ref()
            .map(|turn| crate::trace::ToolSpan::start(turn, &self.session_id, &call, builtin));
        #[cfg(feature = "tracing")]
        let parent = span
            .as_ref()
            .map_or_else(Default::default, |s| crate::trace::Parent::of(&s.span));
        #[cfg(not(feature = "tracing"))]
        let parent = crate::trace::Parent::default();
        let started = handler::start(h, &call, parent, tx.clone());
        state.running.insert(
            call.session_thread_id.clone(),
            Running {
                call,
                builtin,
                stopped: false,
                #[cfg(feature = "tracing")]
                span,
            },
        );
        if let Err(e) = started {
            let out = ToolOutput::from(format!("the tool could not be started: {e}"));
            self.finish(state, &id, End::Ran((out, true)));
        }
    }

    /// Answers the calls whose time is up "timed out"; their handlers are left running.
    pub(super) fn expire_calls(&mut self, state: &mut State) {
        let expired: Vec<String> = state
            .running
            .values()
            .filter(|r| r.call.deadline.is_expired())
            .map(|r| r.call.id.clone())
            .collect();
        for id in expired {
            self.finish(state, &id, End::TimedOut);
        }
    }

    /// A call under way ended: its result is posted, unless the run was cancelled, its thread
    /// terminated or the session no longer waits for it, and recorded.
    pub(super) fn finish(&mut self, state: &mut State, id: &str, end: End) {
        let Some(thread) = state
            .running
            .iter()
            .find(|(_, r)| r.call.id == id)
            .map(|(t, _)| t.clone())
        else {
            // a call answered "timed out" before its handler returned
            return;
        };
        let Some(r) = state.running.remove(&thread) else {
            return;
        };
        state.active_at = Instant::now();
        let name = r.call.name.clone();
        let (output, is_error) = match end {
            End::TimedOut => {
                log::warn!(
                    "the handler of {name} ({id}) is still running past its time limit; the agent is told it timed out"
                );
                r.call.cancel.set();
                (ToolOutput::from(format!("tool '{name}' timed out")), true)
            }
            End::Ran((_, true)) if r.stopped => (
                ToolOutput::from(format!(
                    "tool '{name}' was stopped, and may have already done some or all of its work"
                )),
                true,
            ),
            End::Ran(ran) => ran,
        };
        #[cfg(feature = "tracing")]
        if let Some(span) = r.span {
            span.finish(&output.text_of(), is_error);
        }
        let records = if r.builtin {
            &mut state.agent_tool_calls
        } else {
            &mut state.tool_calls
        };
        let not_posted = |why: &str| ToolCallRecord {
            call: r.call.clone(),
            output: output.text_of(),
            is_error,
            posted: false,
            post_error: Some(why.to_string()),
        };
        if self.cancel.is_set() {
            records.push(ToolCallRecord::cancelled(r.call));
            return;
        }
        if state.view.has_terminated(thread.as_deref()) {
            log::info!("thread terminated; not posting the result of {name} ({id})");
            records.push(not_posted(
                "the call's thread terminated; nothing was posted",
            ));
            return;
        }
        if state.view.is_resolved(id) {
            log::info!("the session no longer waits for {name} ({id}); not posting its result");
            records.push(not_posted(
                "the session no longer waits for this call; nothing was posted",
            ));
            return;
        }
        let (output, is_error, sent) = post::send_result(
            self.client,
            &self.session_id,
            &r.call,
            r.builtin,
            output,
            is_error,
            &state.floor,
            self.deadline,
            &self.cancel,
        );
        if let Err(e) = &sent {
            log::error!("posting the result of {name} ({id}) failed: {e}");
        }
        records.push(ToolCallRecord {
            call: r.call,
            output: output.text_of(),
            is_error,
            posted: sent.is_ok(),
            post_error: sent.err().map(|e| e.to_string()),
        });
    }

    /// The run is over: the calls still under way are asked to stop and recorded as not
    /// posted (their handlers are not waited for).
    pub(super) fn let_go(&mut self, state: &mut State, reason: Option<&StopReason>) {
        for (_, r) in state.running.drain() {
            r.call.cancel.set();
            let records = if r.builtin {
                &mut state.agent_tool_calls
            } else {
                &mut state.tool_calls
            };
            if reason == Some(&StopReason::Cancelled) {
                records.push(ToolCallRecord::cancelled(r.call));
            } else {
                records.push(ToolCallRecord {
                    call: r.call,
                    output: String::new(),
                    is_error: true,
                    posted: false,
                    post_error: Some("the run ended while the tool ran; nothing was posted".into()),
                });
            }
        }
    }
}

/// The thread a call came from (`None`: the primary thread).
fn thread_of(ev: &SessionEvent) -> Option<String> {
    match ev {
        SessionEvent::AgentCustomToolUse(u) => u.session_thread_id.clone(),
        SessionEvent::AgentToolUse(u) => u.session_thread_id.clone(),
        _ => None,
    }
}
