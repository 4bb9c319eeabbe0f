//! The worker's default session handler: run the session's tools until it is idle, in a work
//! directory of the item's own, with the local agent toolset for the built-in tools and the
//! user's custom tool handlers, until the session idles or the item's lease (or the worker)
//! says stop.

use super::memory::MemoryOptions;
use super::workspace::Workspace;
use super::{StopSignal, WorkContext};
use crate::error::{Error, Result};
use crate::runner::{StopReason, ToolCall, ToolOutput};
use crate::toolset::{AgentToolContext, AgentToolset};
use crate::types::{EventSendParams, UserInterruptEventParams};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A custom tool handler the worker hands to each item's runner.
pub(super) type ToolFn =
    Arc<dyn Fn(&ToolCall) -> std::result::Result<ToolOutput, String> + Send + Sync>;

/// How often the stop signals are looked at while the runner works.
const WATCH: Duration = Duration::from_millis(100);
/// How long a cancelled runner gets to come back (it notices the cancel within 200 ms, and its
/// calls under way fail at once) before it is left to end on its own and the item failed.
const JOIN_LIMIT: Duration = Duration::from_secs(10);
/// How long the interrupt of a session the worker's stop cut short may take.
const INTERRUPT_LIMIT: Duration = Duration::from_secs(10);

/// The item's work directory under `workdir`: its id, with anything but letters, digits,
/// `-` and `_` replaced.
fn item_dir(ctx: &WorkContext<'_>) -> std::path::PathBuf {
    let name: String = ctx
        .item()
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ctx.workdir().join(name)
}

/// Runs the item's session until idle. The runner works on a thread of its own, on
/// connections of its own; when the lease's or the worker's stop signal is set, the runner is
/// cancelled (a tool under way is no longer waited for, and nothing is posted for it), its
/// connections are shut down (a post or read under way fails at once, and nothing more is
/// sent with the item's credential), no memory sync starts, the toolset is closed (its shell
/// and every process it started killed), the runner's thread is joined and the memory stores
/// settled, leaving the worker to stop the item. A runner that still has not come back
/// after [`JOIN_LIMIT`] is left behind, the workspace settled all the same, and the item
/// fails. When the worker's own stop signal (not the lease's) ended the run before the turn
/// did, the session is sent `user.interrupt` and the item fails.
pub(super) fn run_session(
    ctx: &WorkContext<'_>,
    tools: &[(String, ToolFn)],
    memory: &MemoryOptions,
) -> Result<()> {
    let dir = item_dir(ctx);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating the work directory {}", dir.display()), e))?;
    // the skills and memory stores, before the first tool runs
    let workspace = Workspace::prepare(ctx, &dir, memory)?;
    if ctx.should_stop() || ctx.worker_stop_signal().is_set() {
        log::info!(
            "stop signalled while the work directory was prepared work_id={}",
            ctx.item().id
        );
        workspace.settle(false);
        return Ok(());
    }
    let toolset = match AgentToolset::new(workspace.tool_context(AgentToolContext::new(&dir))) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            workspace.settle(false);
            return Err(Error::io(
                format!("opening the work directory {}", dir.display()),
                e,
            ));
        }
    };
    let cancel = StopSignal::new();
    let sync = {
        let mut sync = workspace.syncer();
        let cancel = cancel.clone();
        move |event: &crate::types::SessionEvent| {
            if !cancel.is_set() {
                sync(event)
            }
        }
    };
    // the runner's own connections, shut down at its cancel
    let client = ctx.client().with_own_connections();
    let runner_client = client.clone();
    let session_id = ctx.session().id.clone();
    let tools = tools.to_vec();
    let ts = toolset.clone();
    let runner_cancel = cancel.clone();
    let (tx, rx) = mpsc::channel();
    // the run is a child of the item's span
    let parent = crate::trace::Parent::current();
    let thread = std::thread::Builder::new()
        .name(format!("runner {session_id}"))
        .spawn(move || {
            let mut runner = runner_client
                .run(&session_id)
                .toolset(ts)
                .on_event(sync)
                .cancel(runner_cancel);
            for (name, h) in tools {
                runner = runner.tool(name, move |c: &ToolCall| h(c));
            }
            let _ = tx.send(parent.run(|| runner.until_idle()));
        })
        .map_err(|e| Error::io("starting the session runner", e))?;
    let lease_stop = ctx.stop_signal();
    let worker_stop = ctx.worker_stop_signal();
    let mut clean_end = false;
    let mut limit = None;
    // the worker's own stop (not the lease's, nor the server's) cancelled the run
    let mut by_worker = false;
    let result = loop {
        let wait = limit.map_or(WATCH, |until: Instant| {
            until.saturating_duration_since(Instant::now())
        });
        match rx.recv_timeout(wait) {
            Ok(Ok(outcome)) => {
                // a cancelled run did not end cleanly: the memory stores get the flush only
                clean_end = outcome.stop_reason != Some(StopReason::Cancelled);
                let failed = outcome
                    .tool_calls
                    .iter()
                    .chain(&outcome.agent_tool_calls)
                    .filter(|r| r.post_error.is_some())
                    .count();
                if failed > 0 {
                    log::warn!(
                        "{failed} tool result(s) were not posted work_id={}",
                        ctx.item().id
                    );
                }
                if by_worker && !clean_end {
                    break Err(interrupt(ctx));
                }
                break Ok(());
            }
            Ok(Err(e)) => break Err(e.error),
            Err(RecvTimeoutError::Timeout) if limit.is_some() => {
                log::error!(
                    "the session runner did not end within {JOIN_LIMIT:?} of its cancel; leaving it work_id={}",
                    ctx.item().id
                );
                toolset.close();
                workspace.settle(false);
                if by_worker {
                    let _ = interrupt(ctx);
                }
                return Err(Error::connection(format!(
                    "the session runner did not end within {JOIN_LIMIT:?} of its cancel"
                )));
            }
            Err(RecvTimeoutError::Timeout) => {
                if lease_stop.is_set() || worker_stop.is_set() || ctx.should_stop() {
                    log::info!("stop signalled; ending the run work_id={}", ctx.item().id);
                    // only the worker's own stop: a lost or ended lease is not ours to interrupt
                    by_worker = worker_stop.is_set() && !lease_stop.is_set() && !ctx.should_stop();
                    cancel.set();
                    client.shut_down();
                    toolset.close();
                    limit = Some(Instant::now() + JOIN_LIMIT);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                break Err(Error::connection(
                    "the session runner ended without an outcome",
                ))
            }
        }
    };
    toolset.close();
    let _ = thread.join();
    workspace.settle(clean_end);
    result
}

/// The worker was stopped before the session's turn ended: the session is sent
/// `user.interrupt`, so that it does not wait for a tool result nobody will post (its lease
/// goes with the item's stop, and no other worker takes the turn over), and the item fails.
fn interrupt(ctx: &WorkContext<'_>) -> Error {
    let id = &ctx.session().id;
    let options = crate::RequestOptions::new().deadline(crate::Deadline::after(INTERRUPT_LIMIT));
    let interrupt = EventSendParams::one(UserInterruptEventParams::new());
    let what = match ctx
        .client()
        .sessions()
        .events()
        .send_with(id, &interrupt, &options)
    {
        Ok(_) => "the session was interrupted".to_string(),
        Err(e) => format!("interrupting the session failed: {e}"),
    };
    Error::io(
        format!("the worker was stopped before the session's turn ended; {what}"),
        std::io::Error::from(std::io::ErrorKind::Interrupted),
    )
}
