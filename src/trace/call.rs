//! The span of one API call, [`CallSpan`]: started by the generated operations through
//! [`call_span!`] (or [`dynamic_call_span`] for an operation called by its id) with the
//! Python SDK's name, `anthropic.<group>.<method>`, and every field recorded later declared.
//! What the request and the response record on it is [`super::request`]'s.

#[cfg(feature = "tracing")]
use super::LATER;

/// The span of one API call; empty without the `tracing` feature.
#[derive(Debug, Default)]
pub(crate) struct CallSpan {
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<tracing::Span>,
}

/// Starts the span of one API call: its name (the Python SDK's `anthropic.<group>.<method>`)
/// and the attributes its path parameters give, with the fields recorded later declared
/// (`tracing` needs every field of a span named when it starts). Without the feature it makes
/// an empty [`CallSpan`] and evaluates nothing.
#[cfg(feature = "tracing")]
macro_rules! call_span {
    ($name:literal $(, $key:literal = $value:expr)* $(,)?) => {
        $crate::trace::CallSpan {
            span: Some(::tracing::info_span!(
                target: "managed_agents",
                $name,
                "otel.kind" = "client",
                "otel.status_code" = ::tracing::field::Empty,
                "gen_ai.provider.name" = "anthropic",
                "http.request.method" = ::tracing::field::Empty,
                "http.route" = ::tracing::field::Empty,
                "server.address" = ::tracing::field::Empty,
                "server.port" = ::tracing::field::Empty,
                "url.scheme" = ::tracing::field::Empty,
                "url.path" = ::tracing::field::Empty,
                "url.query" = ::tracing::field::Empty,
                "url.full" = ::tracing::field::Empty,
                "http.response.status_code" = ::tracing::field::Empty,
                "http.request.resend_count" = ::tracing::field::Empty,
                "anthropic.request.id" = ::tracing::field::Empty,
                "anthropic.organization.id" = ::tracing::field::Empty,
                "anthropic.workspace.id" = ::tracing::field::Empty,
                "error.type" = ::tracing::field::Empty,
                $($key = $value,)*
            )),
        }
    };
}

#[cfg(not(feature = "tracing"))]
macro_rules! call_span {
    ($($anything:tt)*) => {
        $crate::trace::CallSpan {}
    };
}

pub(crate) use call_span;

/// The span of an operation called by its id (the work queue's calls): the same name and
/// attributes as the generated method's, through one call site, its name set by `otel.name`.
#[cfg(feature = "tracing")]
pub(crate) fn dynamic_call_span(op: &crate::op::Operation, params: &[(&str, &str)]) -> CallSpan {
    let call = call_span!(
        "anthropic.api_call",
        "otel.name" = format!("anthropic.{}", op.id).as_str(),
        "anthropic.environment.id" = LATER,
        "anthropic.environment.work.id" = LATER,
        "anthropic.session.id" = LATER,
    );
    if let Some(span) = &call.span {
        for (name, value) in params {
            match *name {
                "environment_id" => span.record("anthropic.environment.id", *value),
                "work_id" => span.record("anthropic.environment.work.id", *value),
                "session_id" => span.record("anthropic.session.id", *value),
                _ => span,
            };
        }
    }
    call
}

/// The span of an operation called by its id; empty without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
pub(crate) fn dynamic_call_span(_: &crate::op::Operation, _: &[(&str, &str)]) -> CallSpan {
    CallSpan {}
}
