//! Running one handler: on a thread of its own, a panic or an error turned into an error
//! result for the agent, its end reported to the run's loop, which keeps its time limit.

use super::outcome::{ToolCall, ToolOutput};
use super::Msg;
use std::sync::mpsc::Sender;
use std::sync::Arc;

pub(super) type Handler =
    Arc<dyn Fn(&ToolCall) -> std::result::Result<ToolOutput, String> + Send + Sync>;

/// What a handler gave: its output and whether it is an error.
pub(super) type Ran = (ToolOutput, bool);

/// Starts the handler on a thread of its own; its result (or the panic it raised) is sent to
/// the run's loop as [`Msg::Done`]. Err: the thread could not be started.
/// The handler runs with `parent` current, so that its own spans are the call's children.
pub(super) fn start(
    handler: Handler,
    call: &ToolCall,
    parent: crate::trace::Parent,
    done: Sender<Msg>,
) -> std::io::Result<()> {
    let c = call.clone();
    std::thread::Builder::new()
        .name(format!("tool {}", call.name))
        .spawn(move || {
            let result = parent
                .run(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&c))));
            let ran = match result {
                Ok(Ok(out)) => (out, false),
                Ok(Err(msg)) => (ToolOutput::from(msg), true),
                Err(panic) => {
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
            };
            // the run may be over: then nobody waits for it
            let _ = done.send(Msg::Done(c.id, ran));
        })
        .map(|_| ())
}
