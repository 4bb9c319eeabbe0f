//! Per-call options: a call's own deadline, retries, extra headers and query pairs, and what
//! of them `Debug` keeps out.

use crate::deadline::Deadline;
use std::fmt;
use std::time::Duration;

/// Per-call options, like the official SDKs' `with_options` and `extra_headers`.
///
/// ```
/// use managed_agents::RequestOptions;
/// use std::time::Duration;
///
/// let opts = RequestOptions::new()
///     .timeout(Duration::from_secs(5))
///     .max_retries(0)
///     .header("anthropic-workspace-id", "wrkspc_123");
/// # let _ = opts;
/// ```
#[derive(Clone, Default)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) deadline: Option<Deadline>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    /// The longest wait for a byte of the body (streams' idle timeout).
    pub(crate) read_timeout: Option<Duration>,
    /// Set when the caller no longer wants the answer: an attempt not yet sent is not sent
    /// (a stream's cancel signal, for its opening request).
    pub(crate) cancel: Option<crate::cancel::StopSignal>,
}

/// Headers whose values never appear in `Debug` output.
pub(crate) fn is_secret_header(name: &str) -> bool {
    [
        "x-api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    if is_secret_header(k) {
                        "<redacted>"
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("max_retries", &self.max_retries)
            .field("headers", &headers)
            .field("query", &self.query)
            .finish()
    }
}

impl RequestOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// This call's deadline, retries included.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Sets a deadline shared with other calls (the call ends at the earlier of it and `timeout`).
    pub fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// This call's number of retries.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Sets an extra header (a header of the same name set by the client is replaced).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets an extra query pair.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }
}
