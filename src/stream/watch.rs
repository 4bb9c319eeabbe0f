//! The body of a stream that has a cancel signal: its reads are cut short (every
//! [`CANCEL_POLL`]) so the signal is seen while the connection is silent, and a read cut short
//! is read again at once, until the signal is set, the idle timeout has passed since the last
//! byte, or the deadline is near. Only then does the stream see the timeout. Once the signal
//! is set, nothing more is read, however busy the connection.

use super::DEADLINE_SLACK;
use crate::cancel::StopSignal;
use crate::deadline::Deadline;
use std::io::{self, Read};
use std::time::{Duration, Instant};

/// How long one read of a stream with a cancel signal waits at most.
pub(super) const CANCEL_POLL: Duration = Duration::from_millis(200);

/// A stream's body, watching its cancel signal.
pub(super) struct Watched<R> {
    pub(super) inner: R,
    pub(super) cancel: StopSignal,
    pub(super) idle: Option<Duration>,
    pub(super) deadline: Deadline,
    /// When the last byte came (or the connection opened).
    pub(super) last: Instant,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // a connection that never falls silent (comments, heartbeats) must not hide the
            // signal: once it is set, no more is read
            if self.cancel.is_set() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the stream was cancelled",
                ));
            }
            match self.inner.read(buf) {
                Ok(n) => {
                    self.last = Instant::now();
                    return Ok(n);
                }
                Err(e) if crate::transport::is_timeout(&e) && self.read_again() => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R> Watched<R> {
    /// After a read cut short: whether to read again rather than report the timeout.
    fn read_again(&self) -> bool {
        !self.cancel.is_set()
            && self.idle.is_none_or(|idle| self.last.elapsed() < idle)
            && self
                .deadline
                .remaining()
                .is_none_or(|left| left >= DEADLINE_SLACK)
    }
}
