//! [`UntilIdle`]: a stream read up to the event that ends the agent's turn.

use super::EventStream;
use crate::error::Result;
use crate::types::SessionEvent;

impl EventStream {
    /// Stops after the event that ends the agent's turn: `session.status_terminated`,
    /// `session.deleted`, or `session.status_idle` with a stop reason other than
    /// `requires_action` (which waits for your tool results or confirmations).
    pub fn until_idle(mut self) -> UntilIdle {
        self.end_with_turn();
        UntilIdle {
            stream: self,
            done: false,
        }
    }
}

/// The iterator of [`EventStream::until_idle`].
#[derive(Debug)]
pub struct UntilIdle {
    stream: EventStream,
    done: bool,
}

impl UntilIdle {
    /// Returns the stream underneath.
    pub fn stream(&mut self) -> &mut EventStream {
        &mut self.stream
    }
}

impl Iterator for UntilIdle {
    type Item = Result<SessionEvent>;

    fn next(&mut self) -> Option<Result<SessionEvent>> {
        if self.done {
            return None;
        }
        let item = self.stream.next()?;
        if let Ok(ev) = &item {
            self.done = ev.ends_turn();
        }
        Some(item)
    }
}
