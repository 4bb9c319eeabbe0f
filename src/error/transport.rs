//! How a failure of the connection becomes an [`Error`]: every timeout is [`Error::Timeout`],
//! a body over its limit [`Error::BodyTooLarge`], the rest [`Error::Connection`] with its kind
//! and cause.

use super::{ConnectionKind, Error};
use std::fmt;

impl Error {
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
