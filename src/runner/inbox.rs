//! The run loop's mail: what the stream's reader and the call threads send it, and how often
//! it looks up from waiting for them.

use super::Msg;
use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

/// How often the loop looks at the cancel signal, the deadlines and the idle countdown.
pub(super) const TICK: Duration = Duration::from_millis(50);

/// The loop's mail: what came over the channel, and what was put aside while it waited for a
/// connection to open.
pub(super) struct Inbox {
    pub(super) tx: Sender<Msg>,
    pub(super) rx: Receiver<Msg>,
    pub(super) held: VecDeque<Msg>,
}

impl Inbox {
    /// Whether a message is there to be read at once (it is then held for [`next`](Self::next)).
    pub(super) fn has_ready(&mut self) -> bool {
        if !self.held.is_empty() {
            return true;
        }
        match self.rx.try_recv() {
            Ok(m) => {
                self.held.push_back(m);
                true
            }
            Err(_) => false,
        }
    }

    pub(super) fn next(&mut self, wait: Duration) -> Option<Msg> {
        if let Some(m) = self.held.pop_front() {
            return Some(m);
        }
        self.rx.recv_timeout(wait).ok()
    }
}
