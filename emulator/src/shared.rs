//! What the emulator's threads share: its state behind one lock, the condition variable that
//! signals every change, and the stop flag.

use crate::state::State;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The emulator's state and what its threads share besides: the signal of a change, the
/// stop flag, the stream's heartbeat and the agent's pace.
pub(crate) struct Shared {
    /// Everything the emulator keeps in memory.
    pub(crate) state: Mutex<State>,
    /// Notified whenever an event is added anywhere.
    pub(crate) changed: Condvar,
    /// Set when the emulator stops.
    pub(crate) stopped: AtomicBool,
    /// How often a live stream with nothing to send sends a `ping`.
    pub(crate) heartbeat: Duration,
    /// How long the scripted agent takes before a turn and after a tool result, in µs.
    pub(crate) thinking_us: AtomicU64,
}

impl Shared {
    /// Returns whether the emulator stopped.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Returns how long the scripted agent takes before a turn and after a tool result.
    pub(crate) fn thinking(&self) -> Duration {
        Duration::from_micros(self.thinking_us.load(Ordering::Relaxed))
    }

    /// Locks the state, even after a thread panicked holding it.
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
