//! An event stream's connection: the request that opens it (its headers, deadline and read
//! timeout), the connection (from the client's pool, held) with its body read ahead, letting
//! go of it, and reconnecting (at once or after the backoff the server or the options set),
//! after which the stream catches up from a listing.

use super::read_ahead::ReadAhead;
use super::{reconcile, watch, EventStream};
use crate::error::{Error, Result};
use crate::request_options::RequestOptions;
use crate::types::{SessionsEventStreamParams, ThreadsEventStreamParams};
use reconcile::Source;
use std::time::Duration;

impl EventStream {
    pub(super) fn request_options(&self) -> RequestOptions {
        // `accept` as the official SDKs send it on a stream: the operation's (JSON)
        let mut o = RequestOptions::new().deadline(self.options.deadline);
        // the call's own deadline must not cut a long stream: the stream's deadline does
        o.timeout = Some(Duration::from_secs(100 * 365 * 24 * 3600));
        o.read_timeout = match self.options.cancel {
            // cut short, to see the signal while the connection is silent (see watch.rs)
            Some(_) => Some(
                self.options
                    .idle_timeout
                    .map_or(watch::CANCEL_POLL, |idle| idle.min(watch::CANCEL_POLL)),
            ),
            None => self.options.idle_timeout,
        };
        o.cancel = self.options.cancel.clone();
        o
    }

    /// Opens the SSE connection (an idle one of the client's pool when there is one), holding
    /// it so that letting go of the stream cuts it (which wakes the thread reading its body at
    /// once, and keeps a half-read connection out of the pool), and starts reading its body.
    pub(super) fn connect(&self) -> Result<ReadAhead> {
        let opts = self.request_options();
        let deltas = &self.options.event_deltas;
        #[cfg(feature = "tracing")]
        let started = std::time::Instant::now();
        let mut response = match &self.source {
            Source::Session(s) => {
                let mut params = SessionsEventStreamParams::default();
                if !deltas.is_empty() {
                    params = params.event_deltas(deltas.clone());
                }
                self.client
                    .sessions()
                    .events()
                    .stream_response_with(s, &params, &opts)?
            }
            Source::Thread(s, t) => {
                let mut params = ThreadsEventStreamParams::default();
                if !deltas.is_empty() {
                    params = params.event_deltas(deltas.clone());
                }
                self.client
                    .sessions()
                    .threads()
                    .events()
                    .stream_response_with(s, t, &params, &opts)?
            }
        };
        #[cfg(feature = "tracing")]
        let span = crate::trace::ConnectionSpan::new(
            response.take_span(),
            started,
            self.connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        let held = response.take_held();
        if held.as_ref().is_none_or(|h| !h.can_cut()) {
            // the pool's connector tracks every socket it opens: this is not expected
            log::warn!(
                "an event stream's connection cannot be cut; letting go of it waits for its body"
            );
        }
        let body: Box<dyn std::io::Read + Send> = match &self.options.cancel {
            Some(cancel) => Box::new(watch::Watched {
                inner: response.into_reader(),
                cancel: cancel.clone(),
                idle: self.options.idle_timeout,
                deadline: self.options.deadline,
                last: std::time::Instant::now(),
            }),
            None => Box::new(response.into_reader()),
        };
        #[allow(unused_mut)]
        let mut reader = ReadAhead::start(body, held).map_err(|e| Error::Io {
            message: "starting the event stream's reading thread".into(),
            source: e,
        })?;
        #[cfg(feature = "tracing")]
        {
            reader.span = span;
        }
        Ok(reader)
    }

    /// Lets go of the connection, keeping the reconnection time it set.
    pub(super) fn disconnect(&mut self) {
        if let Some(reader) = self.reader.take() {
            if let Some(retry) = reader.decoder().retry() {
                self.server_retry = Some(retry);
            }
        }
        self.backlog = None;
        self.pending = None;
    }

    /// After a drop: wait (unless `at_once`, for a connection that only went silent), reopen
    /// (stream first), then catch up. Each failure in a row waits longer.
    pub(super) fn reconnect(&mut self, why: &str, at_once: bool) -> Result<()> {
        self.disconnect();
        let mut wait = !at_once;
        loop {
            if wait {
                self.drops += 1;
                if self.drops > self.options.max_reconnects {
                    return Err(Error::connection(format!(
                        "the event stream dropped {} times in a row ({why}); {} events were delivered",
                        self.drops, self.delivered
                    )));
                }
                let delay = self.options.backoff(self.drops, self.server_retry);
                log::debug!(
                    "event stream dropped ({why}); reconnect {} in {delay:?}",
                    self.drops
                );
                let slept = match &self.options.cancel {
                    Some(cancel) => {
                        let left = self.options.deadline.remaining();
                        if cancel.wait(left.map_or(delay, |l| l.min(delay))) {
                            return Ok(());
                        }
                        left.is_none_or(|l| l >= delay)
                    }
                    None => self.options.deadline.sleep(delay),
                };
                if !slept {
                    return Err(self.deadline_error());
                }
            } else {
                log::debug!("event stream reconnects at once ({why})");
            }
            match self.reopen_now() {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retryable() => wait = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens a new connection now, then starts listing what happened since the position.
    pub(super) fn reopen_now(&mut self) -> Result<()> {
        let reader = self.connect()?;
        let backlog = reconcile::catch_up(
            &self.client,
            &self.source,
            &self.position,
            self.options.deadline,
        )?;
        self.reader = Some(reader);
        self.backlog = Some(backlog);
        self.listed_up_to = self.position.at().map(String::from);
        Ok(())
    }

    pub(super) fn deadline_error(&self) -> Error {
        Error::Timeout {
            message: format!(
                "event stream deadline passed; {} events were delivered",
                self.delivered
            ),
        }
    }
}
