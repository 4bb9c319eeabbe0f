//! [`StreamOptions`]: previews, where the stream starts, deadlines and reconnection.

use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use crate::types::DeltaType;
use std::time::Duration;

/// The longest wait before a reconnect, whatever the server asks for with `retry:` (the
/// official SDKs cap their stream backoff at 10 s too).
pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);

/// How a stream behaves: previews, where it starts, deadlines, reconnection.
///
/// ```
/// use managed_agents::StreamOptions;
/// use managed_agents::types::DeltaType;
/// use std::time::Duration;
///
/// let opts = StreamOptions::new()
///     .previews(vec![DeltaType::AgentMessage])
///     .idle_timeout(Duration::from_secs(60))
///     .timeout(Duration::from_secs(600))
///     .max_reconnects(5);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct StreamOptions {
    pub(crate) event_deltas: Vec<DeltaType>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) deadline: Deadline,
    pub(crate) max_reconnects: u32,
    pub(crate) reconnect_delay: Duration,
    pub(crate) from_beginning: bool,
    pub(crate) cancel: Option<StopSignal>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            event_deltas: Vec::new(),
            idle_timeout: Some(Duration::from_secs(120)),
            deadline: Deadline::never(),
            max_reconnects: 10,
            reconnect_delay: Duration::from_millis(250),
            from_beginning: false,
            cancel: None,
        }
    }
}

impl StreamOptions {
    /// No previews, from now on, a 120 s idle timeout, no overall deadline, 10 reconnects in
    /// a row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends the stream (the iterator returns `None`) once `signal` is set, from any thread:
    /// it is looked at before each frame, every 200 ms while the connection is silent, and
    /// it wakes a reconnect's backoff sleep at once.
    pub fn cancel(mut self, signal: StopSignal) -> Self {
        self.cancel = Some(signal);
        self
    }

    /// Asks for previews (`event_start` / `event_delta`) of these event types.
    pub fn previews(mut self, types: Vec<DeltaType>) -> Self {
        self.event_deltas = types;
        self
    }

    /// Delivers the session's (or thread's) whole log, from its first event, then the live
    /// events: for replaying a session on purpose.
    ///
    /// By default a stream delivers only the events that come after it opens: opening it
    /// reads where the log ends (the newest event), and nothing from before that point is
    /// delivered, not even after a reconnect. With this option opening it lists the log from
    /// its start (a page at a time, after connecting, so nothing falls in between), then goes
    /// on with the live connection.
    pub fn from_beginning(mut self) -> Self {
        self.from_beginning = true;
        self
    }

    /// Sets the longest time without a byte (heartbeats count) before the connection is taken for
    /// dead (a connection behind a NAT that forgot it goes silent): the stream reconnects and
    /// lists what it missed. `None` waits for ever. Only the overall deadline ends a stream.
    pub fn idle(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// [`Self::idle`] with a duration.
    pub fn idle_timeout(self, idle: Duration) -> Self {
        self.idle(Some(idle))
    }

    /// Sets an overall deadline from now.
    pub fn timeout(self, d: Duration) -> Self {
        self.deadline(Deadline::after(d))
    }

    /// Sets an overall deadline: past it the stream ends with [`Error::Timeout`](crate::Error::Timeout).
    pub fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets how many failed reconnects in a row (without a new event between them) before giving
    /// up. A connection that idles out and is replaced at once does not count.
    pub fn max_reconnects(mut self, n: u32) -> Self {
        self.max_reconnects = n;
        self
    }

    /// Sets the first wait before reconnecting (default 250 ms); it doubles with each failure in a
    /// row. The server's `retry:` field, when it sends one, takes its place. Either way no wait
    /// is longer than [`MAX_RECONNECT_DELAY`] (10 s), nor goes past the deadline.
    pub fn reconnect_delay(mut self, d: Duration) -> Self {
        self.reconnect_delay = d;
        self
    }

    /// The wait before reconnect number `attempt` (1, 2, ...), given the server's `retry:`.
    pub(crate) fn backoff(&self, attempt: u32, server_retry: Option<Duration>) -> Duration {
        let base = server_retry
            .unwrap_or(self.reconnect_delay)
            .min(MAX_RECONNECT_DELAY);
        base.saturating_mul(1 << attempt.saturating_sub(1).min(6))
            .min(MAX_RECONNECT_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_cannot_ask_for_a_wait_past_the_cap() {
        let o = StreamOptions::new();
        let hour = Some(Duration::from_secs(3600));
        assert_eq!(o.backoff(1, hour), MAX_RECONNECT_DELAY);
        assert_eq!(o.backoff(1, None), Duration::from_millis(250));
        assert_eq!(o.backoff(3, None), Duration::from_millis(1000));
        assert_eq!(o.backoff(30, None), MAX_RECONNECT_DELAY);
        assert_eq!(
            o.backoff(1, Some(Duration::from_millis(5))),
            Duration::from_millis(5)
        );
    }
}
