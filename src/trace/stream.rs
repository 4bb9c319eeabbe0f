//! The span of one event-stream connection while it is read: the `events.stream` call's
//! span, kept open with the events the connection delivered, the reconnects before it and
//! the time to its first event.

use super::fail;
use crate::error::Error;
use std::time::Instant;

/// The span of one event-stream connection while it is read: the API call's span, with
/// the events it delivered, how many reconnects came before it, and the time from the
/// call's start to its first event (`gen_ai.response.time_to_first_chunk`, seconds).
#[derive(Debug)]
pub(crate) struct ConnectionSpan {
    span: tracing::Span,
    started: Instant,
    events: i64,
}

impl ConnectionSpan {
    /// Takes over the span of the call that opened connection number `reconnects` + 1.
    pub(crate) fn new(
        span: Option<tracing::Span>,
        started: Instant,
        reconnects: u32,
    ) -> Option<Self> {
        let span = span.filter(|s| !s.is_disabled())?;
        span.record("anthropic.stream.reconnects", i64::from(reconnects));
        Some(ConnectionSpan {
            span,
            started,
            events: 0,
        })
    }

    /// Counts an event the connection delivered.
    pub(crate) fn event(&mut self) {
        if self.events == 0 {
            self.span.record(
                "gen_ai.response.time_to_first_chunk",
                self.started.elapsed().as_secs_f64(),
            );
        }
        self.events += 1;
    }

    /// Records the error that ended the connection.
    pub(crate) fn failed(&self, error: &Error) {
        fail(&self.span, error);
    }

    /// Records a connection that broke while it was read.
    pub(crate) fn dropped(&self) {
        self.span.record("otel.status_code", "error");
        self.span.record("error.type", "connection_error");
    }
}

impl Drop for ConnectionSpan {
    fn drop(&mut self) {
        self.span.record("anthropic.stream.events", self.events);
    }
}
