//! The signals that end a command as Ctrl-C does (SIGINT, SIGTERM, SIGHUP), handled on a
//! thread of their own, and the exit status each gives: 128 + its number, as a shell reports
//! a process the signal ended (130, 143, 129).

use crate::exit::Exit;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::sync::atomic::{AtomicI32, Ordering};

/// The first stop signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// A stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop(i32);

impl Stop {
    /// Returns the exit status of a command it ended.
    pub fn code(self) -> Exit {
        match self.0 {
            SIGTERM => Exit::Terminate,
            SIGHUP => Exit::Hangup,
            _ => Exit::Interrupted,
        }
    }

    /// Returns the signal's number (to pass it on to a child).
    pub fn number(self) -> i32 {
        self.0
    }

    /// Returns how it is named in messages.
    pub fn name(self) -> &'static str {
        match self.0 {
            SIGTERM => "SIGTERM",
            SIGHUP => "SIGHUP",
            _ => "Ctrl-C",
        }
    }
}

/// Returns the first stop signal received, if any.
pub fn received() -> Option<Stop> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(Stop(n)),
    }
}

/// Calls `f` from a thread of its own on each SIGINT, SIGTERM and SIGHUP from now on (each
/// then no longer ends the process by itself).
pub fn on_stop(f: impl FnMut(Stop) + Send + 'static) {
    on(&[SIGINT, SIGTERM, SIGHUP], f);
}

/// Does as [`on_stop`], for SIGTERM and SIGHUP only (a command that handles Ctrl-C its own way).
pub fn on_termination(f: impl FnMut(Stop) + Send + 'static) {
    on(&[SIGTERM, SIGHUP], f);
}

fn on(which: &[i32], mut f: impl FnMut(Stop) + Send + 'static) {
    let mut signals = match Signals::new(which) {
        Ok(s) => s,
        Err(e) => {
            log::warn!("cannot handle the signals {which:?}: {e}");
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                f(Stop(sig));
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot start the signal thread: {e}");
    }
}
