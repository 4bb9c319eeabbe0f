//! The crate's one error type, and the one place each failure becomes it: a transport error
//! (timeouts always as [`Error::Timeout`]), an API error answer (its body, `request-id`, error
//! type and code, and the official SDKs' exception class for them).

pub use crate::types::{ErrorCode, ErrorType};
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

    /// The one mapping of a transport failure: every timeout is [`Error::Timeout`], a body
    /// over its limit [`Error::BodyTooLarge`], the rest [`Error::Connection`] with its cause.
    /// `what` names what was under way.
    pub(crate) fn transport(what: impl fmt::Display, e: ureq::Error) -> Self {
        let (kind, source): (_, Box<dyn std::error::Error + Send + Sync>) = match e {
            ureq::Error::Timeout(t) => {
                return Error::Timeout {
                    message: format!("{what} ({t})"),
                }
            }
            ureq::Error::Io(io) if is_timeout(&io) => {
                return Error::Timeout {
                    message: format!("{what} ({io})"),
                }
            }
            ureq::Error::BodyExceedsLimit(limit) => {
                return Error::BodyTooLarge {
                    limit,
                    request_id: None,
                }
            }
            ureq::Error::Io(io) => (io_kind(&io), Box::new(io)),
            ureq::Error::HostNotFound => (ConnectionKind::Dns, Box::new(e)),
            ureq::Error::Tls(_) | ureq::Error::TlsRequired => (ConnectionKind::Tls, Box::new(e)),
            #[cfg(feature = "rustls")]
            ureq::Error::Rustls(tls) => (ConnectionKind::Tls, Box::new(tls)),
            #[cfg(feature = "native-tls")]
            ureq::Error::NativeTls(tls) => (ConnectionKind::Tls, Box::new(tls)),
            other => (ConnectionKind::Other, Box::new(other)),
        };
        Error::Connection {
            message: format!("{what}: {source}"),
            kind,
            source: Some(source),
        }
    }

    /// [`Error::transport`] for an I/O error of a body being read (ureq wraps its own errors
    /// in the reader's `io::Error`).
    pub(crate) fn reading(what: impl fmt::Display, e: std::io::Error) -> Self {
        Error::transport(what, ureq::Error::from(e))
    }

    /// The error of an API answer with a status that is not 2xx; reads at most 64 KiB of its body.
    pub(crate) fn from_response(r: ureq::http::Response<ureq::Body>) -> Self {
        let status = r.status().as_u16();
        let request_id = request_id(r.headers());
        let bytes = r
            .into_body()
            .with_config()
            .limit(API_ERROR_BODY_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        Error::from_api_body(status, request_id, &bytes)
    }

    /// Creates the error an API answer with this status, `request-id` and body stands for: the error
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
        let body = &body[..body.len().min(API_ERROR_BODY_LIMIT as usize)];
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let err = parsed.as_ref().and_then(|v| v.get("error"));
        let error_type = err
            .and_then(|e| e.get("type"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(ErrorType::from);

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

    /// Returns the error's `type` (`not_found_error`, ...) of an [`Error::Api`] or [`Error::Stream`].
    pub fn error_type(&self) -> Option<&ErrorType> {
        match self {
            Error::Api { error_type, .. } | Error::Stream { error_type, .. } => error_type.as_ref(),
            _ => None,
        }
    }

    /// Returns the error's code (`error.details.error_code`) of an [`Error::Api`]: a stable name of the
    /// cause. A code this version does not know is [`ErrorCode::Other`]; treat it as its
    /// [`error_type`](Error::error_type).
    ///
    /// ```
    /// use managed_agents::{Error, ErrorCode};
    ///
    /// let e = Error::from_api_body(404, None, br#"{"type":"error","error":{"type":"not_found_error","message":"no thread","details":{"error_code":"thread_not_found"}}}"#);
    /// assert_eq!(e.error_code(), Some(ErrorCode::ThreadNotFound));
    /// assert!(e.is_not_found());
    /// assert_eq!(e.sdk_class(), Some("ThreadNotFoundError"));
    /// ```
    pub fn error_code(&self) -> Option<ErrorCode> {
        // read from the kept body when asked: an error stays small for the path that never asks
        let Error::Api { body, .. } = self else {
            return None;
        };
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        v.get("error")?
            .get("details")?
            .get("error_code")?
            .as_str()
            .filter(|c| !c.is_empty())
            .map(ErrorCode::from)
    }

    /// Returns the name of the exception class the official SDKs raise for this answer, by their error
    /// table: the class of its (status, code) when they list it, else the class of its status
    /// (`NotFoundError`, `RateLimitError`, ...), else `InternalServerError` for a 5xx and
    /// `APIStatusError` for the rest. `None` when the error is not an API answer.
    pub fn sdk_class(&self) -> Option<&'static str> {
        let Error::Api { status, .. } = self else {
            return None;
        };
        let by_code = self
            .error_code()
            .filter(|c| c.status() == Some(*status))
            .and_then(|c| c.sdk_class());
        Some(
            by_code
                .or_else(|| crate::types::sdk_class_of_status(*status))
                .unwrap_or(if *status >= 500 {
                    "InternalServerError"
                } else {
                    "APIStatusError"
                }),
        )
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

/// `is_*` for each status the official SDKs raise an exception class of its own for.
macro_rules! status_checks {
    ($( $(#[$doc:meta])* $name:ident => $status:pat, )*) => {
        impl Error {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> bool {
                    matches!(self, Error::Api { status: $status, .. })
                }
            )*
        }
    };
}

status_checks! {
    /// A 400 answer (`BadRequestError`): the request is wrong; sending it again will not help.
    is_bad_request => 400,
    /// A 401 answer (`AuthenticationError`): the key is missing, wrong or revoked.
    is_authentication => 401,
    /// A 402 answer (`PaymentRequiredError`).
    is_payment_required => 402,
    /// A 403 answer (`PermissionDeniedError`): the key may not do this.
    is_permission_denied => 403,
    /// A 404 answer (`NotFoundError`): the resource does not exist, or no longer does.
    is_not_found => 404,
    /// A 408 answer (`RequestTimeoutError`).
    is_request_timeout => 408,
    /// A 409 answer (`ConflictError`): the resource's state does not allow it now.
    is_conflict => 409,
    /// A 412 answer (`PreconditionFailedError`): a precondition (a lease, a hash) no longer holds.
    is_precondition_failed => 412,
    /// A 413 answer (`ContentTooLargeError`): the body is too large.
    is_content_too_large => 413,
    /// A 422 answer (`UnprocessableEntityError`).
    is_unprocessable_entity => 422,
    /// A 429 answer (`RateLimitError`): slow down (after the `retry-after` the answer gives).
    is_rate_limited => 429,
    /// A 5xx answer (`InternalServerError` and the classes below it).
    is_internal_server => 500..=599,
    /// A 503 answer (`ServiceUnavailableError`).
    is_service_unavailable => 503,
    /// A 529 answer (`OverloadedError`): the API is overloaded; retry later.
    is_overloaded => 529,
}

/// How much of an error answer's body is read and kept.
const API_ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// The `request-id` header of an answer.
pub(crate) fn request_id(headers: &ureq::http::HeaderMap) -> Option<String> {
    headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Whether an I/O error is a timeout (ureq wraps its own errors in `io::Error`).
pub(crate) fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// The kind of a connection's I/O error. The standard library reports a failed name lookup as
/// an error of no particular kind, known by its message.
fn io_kind(e: &std::io::Error) -> ConnectionKind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => ConnectionKind::Refused,
        K::ConnectionReset
        | K::ConnectionAborted
        | K::BrokenPipe
        | K::UnexpectedEof
        | K::NotConnected => ConnectionKind::Closed,
        _ if is_tls_error(e) => ConnectionKind::Tls,
        _ if e.to_string().contains("failed to lookup address") => ConnectionKind::Dns,
        _ => ConnectionKind::Other,
    }
}

/// Whether an I/O error carries the TLS library's error (a failed handshake or certificate).
fn is_tls_error(e: &std::io::Error) -> bool {
    let inner = e.get_ref();
    #[cfg(feature = "rustls")]
    if inner.is_some_and(|i| i.is::<rustls::Error>()) {
        return true;
    }
    #[cfg(not(feature = "rustls"))]
    let _ = inner;
    false
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

    fn api(status: u16, body: &str) -> Error {
        Error::from_api_body(status, None, body.as_bytes())
    }

    #[test]
    fn the_type_and_code_are_open_enums_read_from_the_body() {
        let e = api(
            503,
            r#"{"type":"error","error":{"type":"api_error","message":"m","details":{"error_code":"storage_not_ready"}}}"#,
        );
        assert_eq!(e.error_type(), Some(&ErrorType::ApiError));
        assert_eq!(e.error_code(), Some(ErrorCode::StorageNotReady));
        assert_eq!(e.sdk_class(), Some("StorageNotReadyError"));
        assert!(e.is_service_unavailable() && e.is_internal_server() && e.is_retryable());
        assert_eq!(
            e.to_string(),
            "API error 503 api_error (storage_not_ready): m"
        );
        // a code or type this version does not know is kept as it came
        let e = api(
            400,
            r#"{"type":"error","error":{"type":"brand_new_error","message":"m","details":{"error_code":"brand_new"}}}"#,
        );
        assert_eq!(
            e.error_type(),
            Some(&ErrorType::Other("brand_new_error".into()))
        );
        assert_eq!(e.error_code(), Some(ErrorCode::Other("brand_new".into())));
        // an unknown code falls back to the status's class, as the SDKs' table does
        assert_eq!(e.sdk_class(), Some("BadRequestError"));
        assert!(e.is_bad_request());
    }

    #[test]
    fn the_sdk_class_follows_the_official_table() {
        let e = api(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"m"}}"#,
        );
        assert_eq!(e.sdk_class(), Some("NotFoundError"));
        assert!(e.is_not_found() && !e.is_conflict());
        // a code listed under another status is not taken for this one
        let e = api(
            400,
            r#"{"type":"error","error":{"type":"x","message":"m","details":{"error_code":"thread_not_found"}}}"#,
        );
        assert_eq!(e.sdk_class(), Some("BadRequestError"));
        assert_eq!(api(502, "<html>").sdk_class(), Some("InternalServerError"));
        assert_eq!(api(418, "").sdk_class(), Some("APIStatusError"));
        assert_eq!(Error::timeout("t").sdk_class(), None);
        assert_eq!(ErrorCode::HeartbeatPreconditionFailed.status(), Some(412));
        let e = api(
            412,
            r#"{"error":{"type":"invalid_request_error","message":"m","details":{"error_code":"heartbeat_precondition_failed"}}}"#,
        );
        assert!(e.is_precondition_failed());
        assert_eq!(e.sdk_class(), Some("BetaHeartbeatPreconditionFailedError"));
        for (status, check) in [
            (401, Error::is_authentication as fn(&Error) -> bool),
            (403, Error::is_permission_denied),
            (409, Error::is_conflict),
            (413, Error::is_content_too_large),
            (429, Error::is_rate_limited),
            (529, Error::is_overloaded),
        ] {
            assert!(check(&api(status, "")), "{status}");
            assert!(!check(&api(200, "")), "{status}");
        }
    }

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
