//! Running one handler: on its own thread, under its time limit, a panic or an error turned
//! into an error result for the agent.

use super::outcome::{ToolCall, ToolOutput};
use std::sync::Arc;

pub(super) type Handler =
    Arc<dyn Fn(&ToolCall) -> std::result::Result<ToolOutput, String> + Send + Sync>;

/// Runs the handler until `call.deadline`; the output and whether it is an error. A handler
/// still running then is left to finish on its own thread, its result thrown away.
pub(super) fn run(handler: Handler, call: &ToolCall) -> (ToolOutput, bool) {
    let limit = call.deadline.remaining();
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
    let got = match limit {
        Some(limit) => rx.recv_timeout(limit).ok(),
        None => rx.recv().ok(),
    };
    match got {
        Some(Ok(Ok(out))) => (out, false),
        Some(Ok(Err(msg))) => (ToolOutput::from(msg), true),
        Some(Err(panic)) => {
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
        None => {
            log::warn!(
                "the handler of {} ({}) is still running past its deadline; the agent is told it timed out",
                call.name,
                call.id
            );
            (
                ToolOutput::from(format!(
                    "the tool timed out after {:?}",
                    limit.unwrap_or_default()
                )),
                true,
            )
        }
    }
}
