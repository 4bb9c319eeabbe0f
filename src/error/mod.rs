//! The crate's one error type: its variants, how it reads (`Display`) and whether a call may be
//! tried again. Each failure becomes it in one place: `transport` for the connection's failures,
//! `api` for the API's error answers.

mod api;
mod transport;

pub use crate::types::{ErrorCode, ErrorType};
pub(crate) use api::request_id;
use std::fmt;
pub(crate) use transport::is_timeout;

/// What can go wrong with a call.
///
/// `Display` reads well in a log; nothing here ever holds the API key.
///
/// ```
/// use managed_agents::Error;
///
/// let err = Error::invalid_input("session_id", "must not be empty");
/// assert_eq!(err.to_string(), "invalid session_id: must not be empty");
/// assert!(!err.is_retryable());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with a non-2xx status.
    #[non_exhaustive]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error's `type` (`not_found_error`, `rate_limit_error`, ...), when the body had one.
        error_type: Option<ErrorType>,
        /// The error's message, or the start of the body when it was not the API's error JSON.
        message: String,
        /// The `request-id` header.
        request_id: Option<String>,
        /// The raw body (at most 64 KiB of it).
        body: String,
    },
    /// An error the server reported inside an event stream that had opened with 200 (an SSE
    /// `error` frame). An `overloaded_error`, `api_error`, `rate_limit_error` or
    /// `timeout_error` is retryable: the stream reconnects and catches up by itself.
    #[non_exhaustive]
    Stream {
        /// The error's `type` (`overloaded_error`, ...), when the frame had one.
        error_type: Option<ErrorType>,
        /// The error's message, or the start of the frame's data.
        message: String,
        /// The `request_id` the frame carried.
        request_id: Option<String>,
        /// The frame's data.
        body: String,
    },
    /// The connection could not be made, or broke.
    ///
    /// [`std::error::Error::source`] gives the cause when there is one (for a refused
    /// connection, an [`std::io::Error`] of kind `ConnectionRefused`).
    #[non_exhaustive]
    Connection {
        /// What happened.
        message: String,
        /// What kind of failure it was: name lookup, refused, TLS, closed, other.
        kind: ConnectionKind,
        /// The cause.
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The call's deadline passed.
    #[non_exhaustive]
    Timeout {
        /// What was under way.
        message: String,
    },
    /// A body did not decode into the expected type.
    #[non_exhaustive]
    Decode {
        /// What was wrong.
        message: String,
        /// The start of the offending body.
        excerpt: String,
    },
    /// An argument was refused before any request was sent.
    #[non_exhaustive]
    InvalidInput {
        /// The parameter.
        param: String,
        /// Why.
        message: String,
    },
    /// A JSON answer was larger than the client's limit (64 MiB unless
    /// [`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size) says otherwise).
    /// Downloads are streamed and have no limit.
    #[non_exhaustive]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The `request-id` header.
        request_id: Option<String>,
    },
    /// Reading or writing a local file or stream failed.
    #[non_exhaustive]
    Io {
        /// What was being done, naming the file when there is one.
        message: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// `Result<T, managed_agents::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error::Connection`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionKind {
    /// The host name did not resolve.
    Dns,
    /// Nothing listens there: the connection was refused.
    Refused,
    /// The TLS handshake or the certificate failed.
    Tls,
    /// The peer closed or reset the connection (before the answer, or in the middle of it).
    Closed,
    /// Anything else.
    Other,
}

impl Error {
    /// Creates an [`Error::Timeout`]: a deadline passed while `message` was under way.
    ///
    /// ```
    /// let e = managed_agents::Error::timeout("creating the session");
    /// assert!(e.to_string().contains("creating the session"));
    /// ```
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::Timeout {
            message: message.into(),
        }
    }

    /// Creates an [`Error::Io`]: reading or writing a local file or stream failed while `message` was
    /// being done.
    ///
    /// ```
    /// let cause = std::io::Error::from(std::io::ErrorKind::NotFound);
    /// let e = managed_agents::Error::io("reading data.csv", cause);
    /// assert!(e.to_string().contains("data.csv"));
    /// ```
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            message: message.into(),
            source,
        }
    }

    /// Creates an [`Error::InvalidInput`] for a parameter.
    pub fn invalid_input(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            param: param.into(),
            message: message.into(),
        }
    }

    /// Creates an [`Error::Connection`] of kind [`ConnectionKind::Other`] with no cause, for code that
    /// finds a connection broken in its own way (a stream that ended too early).
    ///
    /// ```
    /// use managed_agents::{ConnectionKind, Error};
    ///
    /// let e = Error::connection("the event stream ended");
    /// assert_eq!(e.connection_kind(), Some(ConnectionKind::Other));
    /// assert!(e.is_retryable());
    /// ```
    pub fn connection(message: impl Into<String>) -> Self {
        Error::Connection {
            message: message.into(),
            kind: ConnectionKind::Other,
            source: None,
        }
    }

    /// Returns the kind of an [`Error::Connection`].
    pub fn connection_kind(&self) -> Option<ConnectionKind> {
        match self {
            Error::Connection { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    pub(crate) fn decode(message: impl fmt::Display, body: &[u8]) -> Self {
        Error::Decode {
            message: message.to_string(),
            excerpt: excerpt(body, 512),
        }
    }

    /// Returns the HTTP status of an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Returns the `request-id` of an [`Error::Api`] or [`Error::BodyTooLarge`], to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::BodyTooLarge { request_id, .. }
            | Error::Stream { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Returns whether trying the same call again may succeed, by the official SDKs' rule: connection
    /// errors, timeouts, and statuses 408, 409, 429 and 5xx; in a stream, the error types of
    /// those statuses (`overloaded_error`, `api_error`, `rate_limit_error`, `timeout_error`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => matches!(status, 408 | 409 | 429) || *status >= 500,
            Error::Stream { error_type, .. } => matches!(
                error_type,
                Some(
                    ErrorType::OverloadedError
                        | ErrorType::ApiError
                        | ErrorType::RateLimitError
                        | ErrorType::TimeoutError
                )
            ),
            Error::Connection { .. } | Error::Timeout { .. } => true,
            _ => false,
        }
    }
}

/// The first `max` bytes of a body, as text.
pub(crate) fn excerpt(body: &[u8], max: usize) -> String {
    let cut = body.len().min(max);
    let mut s = String::from_utf8_lossy(&body[..cut]).into_owned();
    if body.len() > max {
        s.push('…');
    }
    s
}

/// What an API error body said, after the kind of error:
/// ` type (code): message (request-id id)`.
fn write_error_body(
    f: &mut fmt::Formatter<'_>,
    error_type: &Option<ErrorType>,
    error_code: Option<&ErrorCode>,
    message: &str,
    request_id: &Option<String>,
) -> fmt::Result {
    if let Some(t) = error_type {
        write!(f, " {t}")?;
    }
    if let Some(c) = error_code {
        write!(f, " ({c})")?;
    }
    write!(f, ": {message}")?;
    if let Some(id) = request_id {
        write!(f, " (request-id {id})")?;
    }
    Ok(())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api {
                status,
                error_type,
                message,
                request_id,
                ..
            } => {
                write!(f, "API error {status}")?;
                let code = self.error_code();
                write_error_body(f, error_type, code.as_ref(), message, request_id)
            }
            Error::Stream {
                error_type,
                message,
                request_id,
                ..
            } => {
                write!(f, "event stream error")?;
                write_error_body(f, error_type, None, message, request_id)
            }
            Error::Connection { message, .. } => write!(f, "connection error: {message}"),
            Error::Timeout { message } => write!(f, "deadline exceeded: {message}"),
            Error::Decode { message, excerpt } => write!(
                f,
                "could not decode the body: {message}; body starts: {excerpt}"
            ),
            Error::BodyTooLarge { limit, request_id } => {
                write!(f, "the answer's body is over the limit of {limit} bytes (ClientBuilder::max_body_size sets it)")?;
                if let Some(id) = request_id {
                    write!(f, " (request-id {id})")?;
                }
                Ok(())
            }
            Error::InvalidInput { param, message } => write!(f, "invalid {param}: {message}"),
            Error::Io { message, source } => write!(f, "{message}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Connection {
                source: Some(source),
                ..
            } => Some(source.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_stays_small_enough_for_a_result() {
        // clippy's `result_large_err` fires at 128 bytes, in every program that returns one
        assert!(
            std::mem::size_of::<Error>() < 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
