//! The crate's one error type.

use std::fmt;

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
    Api {
        /// The HTTP status.
        status: u16,
        /// The error's `type` (`not_found_error`, `rate_limit_error`, ...), when the body had one.
        error_type: Option<String>,
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
    Stream {
        /// The error's `type` (`overloaded_error`, ...), when the frame had one.
        error_type: Option<String>,
        /// The error's message, or the start of the frame's data.
        message: String,
        /// The `request_id` the frame carried.
        request_id: Option<String>,
        /// The frame's data.
        body: String,
    },
    /// The connection could not be made, or broke.
    Connection {
        /// What happened.
        message: String,
    },
    /// The call's deadline passed.
    Timeout {
        /// What was under way.
        message: String,
    },
    /// A body did not decode into the expected type.
    Decode {
        /// What was wrong.
        message: String,
        /// The start of the offending body.
        excerpt: String,
    },
    /// An argument was refused before any request was sent.
    InvalidInput {
        /// The parameter.
        param: String,
        /// Why.
        message: String,
    },
    /// Reading or writing a local file or stream failed.
    Io {
        /// What was being done, naming the file when there is one.
        message: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// `Result<T, managed_agents::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidInput`] for a parameter.
    pub fn invalid_input(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The error an API answer with this status, `request-id` and body stands for: the error
    /// type and message of the API's error JSON, or the start of the body when it is not that.
    ///
    /// ```
    /// use managed_agents::Error;
    ///
    /// let e = Error::from_api_body(404, None, br#"{"type":"error","error":{"type":"not_found_error","message":"no"},"request_id":"req_1"}"#);
    /// assert_eq!((e.status(), e.request_id()), (Some(404), Some("req_1")));
    /// let e = Error::from_api_body(502, Some("req_2".into()), b"<html>Bad Gateway</html>");
    /// assert!(e.to_string().contains("Bad Gateway"));
    /// ```
    pub fn from_api_body(status: u16, request_id: Option<String>, body: &[u8]) -> Self {
        let body = &body[..body.len().min(64 * 1024)];
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let err = parsed.as_ref().and_then(|v| v.get("error"));
        let error_type = err
            .and_then(|e| e.get("type"))
            .and_then(|t| t.as_str())
            .map(String::from);
        let message = err
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(String::from)
            .unwrap_or_else(|| {
                if body.is_empty() {
                    "(empty body)".into()
                } else {
                    excerpt(body, 200)
                }
            });
        let request_id = request_id.or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("request_id"))
                .and_then(|t| t.as_str())
                .map(String::from)
        });
        Error::Api {
            status,
            error_type,
            message,
            request_id,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    pub(crate) fn decode(message: impl fmt::Display, body: &[u8]) -> Self {
        Error::Decode {
            message: message.to_string(),
            excerpt: excerpt(body, 512),
        }
    }

    /// The HTTP status of an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `request-id` of an [`Error::Api`], to quote to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } | Error::Stream { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Whether trying the same call again may succeed, by the official SDKs' rule: connection
    /// errors, timeouts, and statuses 408, 409, 429 and 5xx; in a stream, the error types of
    /// those statuses (`overloaded_error`, `api_error`, `rate_limit_error`, `timeout_error`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => matches!(status, 408 | 409 | 429) || *status >= 500,
            Error::Stream { error_type, .. } => matches!(
                error_type.as_deref(),
                Some("overloaded_error" | "api_error" | "rate_limit_error" | "timeout_error")
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
                if let Some(t) = error_type {
                    write!(f, " {t}")?;
                }
                write!(f, ": {message}")?;
                if let Some(id) = request_id {
                    write!(f, " (request-id {id})")?;
                }
                Ok(())
            }
            Error::Stream {
                error_type,
                message,
                request_id,
                ..
            } => {
                write!(f, "event stream error")?;
                if let Some(t) = error_type {
                    write!(f, " {t}")?;
                }
                write!(f, ": {message}")?;
                if let Some(id) = request_id {
                    write!(f, " (request-id {id})")?;
                }
                Ok(())
            }
            Error::Connection { message } => write!(f, "connection error: {message}"),
            Error::Timeout { message } => write!(f, "deadline exceeded: {message}"),
            Error::Decode { message, excerpt } => write!(
                f,
                "could not decode the body: {message}; body starts: {excerpt}"
            ),
            Error::InvalidInput { param, message } => write!(f, "invalid {param}: {message}"),
            Error::Io { message, source } => write!(f, "{message}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
