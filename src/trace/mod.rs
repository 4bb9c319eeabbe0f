//! The spans of the `tracing` feature, one concept per file: [`call`] starts the span of one
//! API call (ended by `Client::execute` or, for a body read later, by the body), [`request`]
//! records what its request and response give it, [`propagate`] writes its trace context
//! into the request's headers, [`stream`] keeps it as the span of an
//! event-stream connection, [`turn`] is a turn of the runner, [`tool`] a tool call and
//! `work` a work item of the environment worker. This file owns what they share: the
//! content mode ([`TraceConfig`]), the content and error attributes, and carrying the current
//! span to another thread ([`Parent`]). Names and attributes are the official Python SDK's
//! (`anthropic/lib/_tracing/`, 2.17); see [`crate::telemetry`] for the list.
//!
//! Without the feature every type here is empty and every function does nothing, so the
//! callers need no `cfg` of their own and the compiler removes it all.

mod call;
#[cfg(feature = "tracing")]
pub(crate) mod propagate;
#[cfg(feature = "tracing")]
mod request;
#[cfg(feature = "tracing")]
mod stream;
#[cfg(feature = "tracing")]
mod tool;
#[cfg(feature = "tracing")]
mod turn;
#[cfg(feature = "worker")]
mod work;

pub(crate) use call::{call_span, dynamic_call_span, CallSpan};
#[cfg(feature = "tracing")]
pub(crate) use request::{end_call, start_call};
#[cfg(feature = "tracing")]
pub(crate) use stream::ConnectionSpan;
#[cfg(feature = "tracing")]
pub(crate) use tool::ToolSpan;
#[cfg(feature = "tracing")]
pub(crate) use turn::TurnSpan;
#[cfg(feature = "worker")]
pub(crate) use work::in_work_span;

#[cfg(feature = "tracing")]
use crate::error::Error;
#[cfg(feature = "tracing")]
use serde_json::Value;

/// The span current on one thread, carried to another so that the spans started there are
/// its children (the stream's listing thread, the runner's reader and its tool handlers);
/// empty without the `tracing` feature.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parent {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

impl Parent {
    /// The span current on this thread.
    pub(crate) fn current() -> Parent {
        Parent {
            #[cfg(feature = "tracing")]
            span: Some(tracing::Span::current()),
        }
    }

    /// A given span, to start children under.
    #[cfg(feature = "tracing")]
    pub(crate) fn of(span: &tracing::Span) -> Parent {
        Parent {
            span: Some(span.clone()),
        }
    }

    /// Runs `f` with the span current.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "tracing")]
        let _entered = self.span.as_ref().map(|s| s.enter());
        f()
    }
}

/// A field the span records later: a value for `tracing`'s macros that sets nothing.
#[cfg(feature = "tracing")]
pub(crate) const LATER: tracing::field::Empty = tracing::field::Empty;

/// The default largest content attribute, in bytes: the Python SDK's.
#[cfg(feature = "tracing")]
pub(crate) const DEFAULT_MAX_CONTENT_BYTES: usize = 750_000;

/// What a client's spans record and send: content only when asked, as the Python SDK's
/// `traces.content_mode`, and the trace context with every request unless told not to, as its
/// `propagation`.
#[cfg(feature = "tracing")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceConfig {
    /// Whether spans carry content: messages, tool arguments and results.
    pub(crate) content: bool,
    /// The largest content attribute, in bytes; longer values are cut.
    pub(crate) max_content_bytes: usize,
    /// Whether requests carry the trace context of their call's span.
    pub(crate) propagation: bool,
}

#[cfg(feature = "tracing")]
impl TraceConfig {
    /// The configuration the environment gives, as the Python SDK reads it for a client
    /// given no option: `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content`,
    /// `ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES` (at least 1; else ignored) and
    /// `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION=false`; `content` and `propagation`, when given,
    /// are the builder's and win.
    pub(crate) fn from_env(content: Option<bool>, propagation: Option<bool>) -> TraceConfig {
        let content = content.unwrap_or_else(|| {
            std::env::var(crate::telemetry::CONTENT_MODE_ENV)
                .is_ok_and(|v| v.eq_ignore_ascii_case("content"))
        });
        let max_content_bytes = std::env::var(crate::telemetry::MAX_CONTENT_BYTES_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(DEFAULT_MAX_CONTENT_BYTES);
        let propagation = propagation.unwrap_or_else(|| {
            !std::env::var(crate::telemetry::PROPAGATION_ENV)
                .is_ok_and(|v| v.eq_ignore_ascii_case("false"))
        });
        TraceConfig {
            content,
            max_content_bytes,
            propagation,
        }
    }
}

/// Sets a span's status to an error and its `error.type`, as the Python SDK's
/// `set_error_status`: the API error's `type`, or else its status, a client timeout, a
/// connection error, or `client_error`.
#[cfg(feature = "tracing")]
pub(crate) fn fail(span: &tracing::Span, error: &Error) {
    span.record("otel.status_code", "error");
    span.record("error.type", error_type(error).as_str());
}

/// The `error.type` of a failed operation.
#[cfg(feature = "tracing")]
pub(crate) fn error_type(error: &Error) -> String {
    match error {
        Error::Api {
            status, error_type, ..
        } => match error_type {
            Some(t) => t.as_str().to_string(),
            None if *status >= 400 => status.to_string(),
            None => "client_error".into(),
        },
        Error::Stream {
            error_type: Some(t),
            ..
        } => t.as_str().to_string(),
        Error::Timeout { .. } => "client_timeout_error".into(),
        Error::Connection { .. } => "connection_error".into(),
        _ => "client_error".into(),
    }
}

/// What a span records as content: compact JSON, cut at `limit` bytes (on a character
/// boundary) with `anthropic.content.truncated` set on the span when it was.
#[cfg(feature = "tracing")]
pub(crate) fn content(span: &tracing::Span, value: &Value, limit: usize) -> String {
    let mut text = value.to_string();
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        span.record("anthropic.content.truncated", true);
    }
    text
}
