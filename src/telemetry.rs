//! Spans (feature `tracing`): what the client records through the [`tracing`] crate, named and
//! attributed as the official Python SDK's OpenTelemetry spans (`anthropic/lib/_tracing/`,
//! 2.17), so that dashboards built for one read the other.
//!
//! The crate only emits spans; a program decides where they go. With
//! [`tracing-opentelemetry`](https://docs.rs/tracing-opentelemetry) they become OpenTelemetry
//! spans: the special fields `otel.kind` and `otel.status_code` set the span's kind and
//! status, and every other field is an attribute of the same name. No async runtime is
//! involved; without the feature none of this is compiled. Every span has the target
//! `managed_agents` and level `INFO`.
//!
//! # The spans
//!
//! - **One API call**, kind `client`, named `anthropic.<resource>.<method>` as the Python SDK
//!   names the method (`anthropic.sessions.create`, `anthropic.sessions.events.stream`, ...).
//!   It covers every retry of the call and, for a download or an event stream, the reading of
//!   the body. Attributes: `gen_ai.provider.name` (`anthropic`), `http.request.method`,
//!   `http.route` (the path template), `url.scheme`, `url.path`, `url.query` and `url.full`
//!   (left out when the query holds content, unless content is on), `server.address`,
//!   `server.port`, `http.response.status_code`, `http.request.resend_count` (retries),
//!   `anthropic.request.id`, `anthropic.organization.id`, `anthropic.workspace.id`, the ids
//!   of the path (`anthropic.session.id`, `anthropic.session.thread.id` and
//!   `gen_ai.conversation.id` for a thread, `gen_ai.agent.id`, `anthropic.environment.id`,
//!   `anthropic.environment.work.id`, ...), the id of what a `create` made, and on failure
//!   status `error` with `error.type` (the API error's `type`, the status code,
//!   `client_timeout_error`, `connection_error` or `client_error`). `sessions.create` adds
//!   `anthropic.session.environment.id`, `gen_ai.agent.id`, `gen_ai.agent.name` and
//!   `gen_ai.request.model`.
//! - **One event-stream connection** is the span of its `events.stream` call, kept open while
//!   the connection is read, with `gen_ai.response.time_to_first_chunk` (seconds from the
//!   call's start to its first event), `anthropic.stream.events` (events it delivered) and
//!   `anthropic.stream.reconnects` (connections of the same stream before it: 0 for the
//!   first). A stream that reconnects has one such span per connection. These three stream
//!   attributes are this crate's; the Python SDK's stream is never reconnected by the SDK.
//! - **One turn of the runner** ([`SessionRunner::until_idle`]), kind `internal`, named
//!   `invoke_agent`: `gen_ai.operation.name` = `invoke_agent`, `gen_ai.provider.name`,
//!   `gen_ai.conversation.id` and `anthropic.session.id` (the session), `gen_ai.agent.id`
//!   (once the session is read), the usage of the turn's model requests as
//!   `gen_ai.usage.input_tokens` (input, cache reads and cache writes, as the Python SDK
//!   counts it), `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens` and
//!   `gen_ai.usage.cache_write.input_tokens`, and with content on `gen_ai.input.messages`
//!   (the message the turn sent). The API calls the turn makes are its children.
//! - **One tool call** the runner runs, kind `internal`, a child of the turn:
//!   `anthropic.custom_tool_use <name>` for a custom tool, `anthropic.tool_use <name>` for a
//!   built-in (agent toolset) one; `gen_ai.operation.name` = `execute_tool`,
//!   `gen_ai.tool.name`, `gen_ai.tool.call.id`, `gen_ai.tool.type` (`function`),
//!   `gen_ai.conversation.id` (the thread, else the session), `anthropic.session.id`,
//!   `anthropic.session.thread.id`; status `ok`, or `error` with `error.type` = `tool_error`
//!   for an error result; with content on `gen_ai.tool.call.arguments` and
//!   `anthropic.tool_result.content`. The handler runs inside it, so its own spans are its
//!   children.
//! - **One work item** the environment worker handles, kind `internal`, named
//!   `anthropic.environment.work`: `gen_ai.provider.name`, `anthropic.environment.id`,
//!   `anthropic.environment.work.id`, `anthropic.session.id`; status `ok` when the item was
//!   handled, `error` when handling it failed.
//!
//! # Content
//!
//! Spans carry no content (messages, tool arguments and results, content-bearing queries)
//! unless asked, as in the Python SDK: [`ClientBuilder::trace_content`], or else
//! `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content` ([`CONTENT_MODE_ENV`]). A content
//! attribute is compact JSON of at most `ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES`
//! bytes ([`MAX_CONTENT_BYTES_ENV`], 750,000 by default); a longer one is cut and the span
//! gets `anthropic.content.truncated` = `true`.
//!
//! # Trace context
//!
//! As the official SDKs do, every request of a call (each retry too) carries the trace
//! context of the call's span, so that the API's side of a request can be joined to the
//! caller's trace: the headers the program's propagator writes (W3C `traceparent` and
//! `tracestate` with OpenTelemetry's default), in place of any already set. This crate
//! depends on `tracing` alone, so it cannot read a span's OpenTelemetry context itself: the
//! program installs a function that does with [`set_trace_context_injector`] (with
//! `tracing-opentelemetry`, `OpenTelemetrySpanExt::context` and a propagator's
//! `inject_context`). Without one, requests carry no trace context. It is on unless
//! [`ClientBuilder::trace_propagation`] turns it off, or else
//! `ANTHROPIC_OPEN_TELEMETRY_PROPAGATION=false` ([`PROPAGATION_ENV`]), as for the Python SDK.
//!
//! [`SessionRunner::until_idle`]: crate::runner::SessionRunner::until_idle
//! [`ClientBuilder::trace_propagation`]: crate::ClientBuilder::trace_propagation
//! [`ClientBuilder::trace_content`]: crate::ClientBuilder::trace_content

/// The variable that turns content on for a client not told otherwise: `content` does, as
/// for the Python SDK.
pub const CONTENT_MODE_ENV: &str = "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE";

/// The variable that sets the largest content attribute, in bytes (at least 1; 750,000 by
/// default), as for the Python SDK.
pub const MAX_CONTENT_BYTES_ENV: &str = "ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES";

/// The variable that turns the trace context of requests off for a client not told
/// otherwise: `false` does, as for the Python SDK.
pub const PROPAGATION_ENV: &str = "ANTHROPIC_OPEN_TELEMETRY_PROPAGATION";

/// Installs, for the whole process, the function that writes the trace context of a span as
/// request headers (name, value): a request of an API call carries what it returns for the
/// call's span. Returns `false`, and changes nothing, when one was installed before.
///
/// The function is called once per call with its span; a panic in it, or a header name or
/// value that is not valid, leaves the header out and never fails the call. With
/// `tracing-opentelemetry`:
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use tracing_opentelemetry::OpenTelemetrySpanExt;
/// let propagator = opentelemetry_sdk::propagation::TraceContextPropagator::new();
/// let installed = managed_agents::telemetry::set_trace_context_injector(move |span| {
///     let mut headers = std::collections::HashMap::new();
///     propagator.inject_context(&span.context(), &mut headers);
///     headers.into_iter().collect()
/// });
/// assert!(installed);
/// ```
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub fn set_trace_context_injector(
    injector: impl Fn(&tracing::Span) -> Vec<(String, String)> + Send + Sync + 'static,
) -> bool {
    crate::trace::propagate::install(Box::new(injector))
}
