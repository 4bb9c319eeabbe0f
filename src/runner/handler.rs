//! Running one handler: on its own thread, under its time limit, a panic or an error turned
//! into an error result for the agent.

use super::outcome::{ToolCall, ToolOutput};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

pub(super) type Handler =
    Arc<dyn Fn(&ToolCall) -> std::result::Result<ToolOutput, String> + Send + Sync>;

/// How often a wait for a handler looks at the run's cancel signal.
const CANCEL_CHECK: Duration = Duration::from_millis(50);

/// Runs the handler until `call.deadline`; the output and whether it is an error, or `None`
/// when `call.cancel` was set first. A handler still running then is left to finish on its own
/// thread, its result thrown away.
pub(super) fn run(handler: Handler, call: &ToolCall) -> Option<(ToolOutput, bool)> {
    if call.cancel.is_set() {
        return None;
    }
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
        return Some((
            ToolOutput::from(format!("the tool could not be started: {e}")),
            true,
        ));
    }
    // wait in slices, to see a cancel in time
    let got = loop {
        let slice = call
            .deadline
            .remaining()
            .map_or(CANCEL_CHECK, |left| left.min(CANCEL_CHECK));
        match rx.recv_timeout(slice) {
            // a handler that saw the cancel and returned: its result is not posted either
            Ok(_) if call.cancel.is_set() => return None,
            Ok(got) => break Some(got),
            Err(RecvTimeoutError::Disconnected) => break None,
            Err(RecvTimeoutError::Timeout) => {
                if call.cancel.is_set() {
                    log::info!(
                        "the run was cancelled while {} ({}) ran; nothing is posted for it",
                        call.name,
                        call.id
                    );
                    return None;
                }
                if call.deadline.is_expired() {
                    break None;
                }
            }
        }
    };
    Some(match got {
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
    })
}
