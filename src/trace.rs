//! The spans of the `tracing` feature: the span of one API call ([`CallSpan`], started by the
//! generated operations through [`call_span!`] and ended by `Client::execute` or, for a body
//! read later, by the body), and the helpers the stream, the runner and the worker record
//! their spans with. Names and attributes are the official Python SDK's
//! (`anthropic/lib/_tracing/`, 2.17); see [`crate::telemetry`] for the list.
//!
//! Without the feature every type here is empty and every function does nothing, so the
//! callers need no `cfg` of their own and the compiler removes it all.

#[cfg(feature = "tracing")]
pub(crate) use on::*;

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

#[cfg(feature = "tracing")]
mod on {
    use super::CallSpan;
    use super::LATER;
    use crate::client::Client;
    use crate::error::Error;
    use crate::op::Operation;
    use crate::response::Response;
    use serde_json::Value;
    use std::time::Instant;

    /// The default largest content attribute, in bytes: the Python SDK's.
    pub(crate) const DEFAULT_MAX_CONTENT_BYTES: usize = 750_000;

    /// What a client's spans record: content only when asked, as the Python SDK's
    /// `traces.content_mode`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct TraceConfig {
        /// Whether spans carry content: messages, tool arguments and results.
        pub(crate) content: bool,
        /// The largest content attribute, in bytes; longer values are cut.
        pub(crate) max_content_bytes: usize,
    }

    impl TraceConfig {
        /// The configuration the environment gives, as the Python SDK reads it for a client
        /// given no option: `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content` and
        /// `ANTHROPIC_OPEN_TELEMETRY_TRACES_MAX_CONTENT_BYTES` (at least 1; else ignored).
        pub(crate) fn from_env(content: Option<bool>) -> TraceConfig {
            let content = content.unwrap_or_else(|| {
                std::env::var(crate::telemetry::CONTENT_MODE_ENV)
                    .is_ok_and(|v| v.eq_ignore_ascii_case("content"))
            });
            let max_content_bytes = std::env::var(crate::telemetry::MAX_CONTENT_BYTES_ENV)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n >= 1)
                .unwrap_or(DEFAULT_MAX_CONTENT_BYTES);
            TraceConfig {
                content,
                max_content_bytes,
            }
        }
    }

    /// The request and response attributes of some operations, read off their bodies, as the
    /// Python SDK's `SPAN_ATTRIBUTES` (a value of another type sets nothing).
    struct BodyAttributes {
        /// Fields of the request's body: attribute, path.
        request: &'static [(&'static str, &'static [&'static str])],
        /// Fields of the response's body: attribute, path.
        response: &'static [(&'static str, &'static [&'static str])],
    }

    fn body_attributes(op: &Operation) -> Option<&'static BodyAttributes> {
        match op.id {
            "sessions.create" => Some(&BodyAttributes {
                request: &[
                    ("anthropic.session.environment.id", &["environment_id"]),
                    // `agent` is an id, or an object with one
                    ("gen_ai.agent.id", &["agent"]),
                    ("gen_ai.agent.id", &["agent", "id"]),
                ],
                response: &[
                    ("gen_ai.agent.name", &["agent", "name"]),
                    ("gen_ai.request.model", &["agent", "model", "id"]),
                ],
            }),
            _ => None,
        }
    }

    /// The attribute that names what an operation created, from the response's `id`, as the
    /// Python SDK's `span_created_id`.
    fn created_id(op: &Operation) -> Option<&'static str> {
        Some(match op.id {
            "agents.create" => "gen_ai.agent.id",
            "deployments.create" => "anthropic.deployment.id",
            "environments.create" => "anthropic.environment.id",
            "files.upload" => "anthropic.file.id",
            "memory_stores.create" => "gen_ai.memory.store.id",
            "memory_stores.memories.create" => "gen_ai.memory.record.id",
            "sessions.create" => "anthropic.session.id",
            "sessions.resources.add" => "anthropic.session.resource.id",
            "skills.create" => "anthropic.skill.id",
            "skills.versions.create" => "anthropic.skill.version.id",
            "vaults.create" => "anthropic.vault.id",
            "vaults.credentials.create" => "anthropic.vault.credential.id",
            _ => return None,
        })
    }

    /// The query parameters whose value is content (they filter like a search, or come from
    /// stored content): a query with one is recorded only in content mode.
    const CONTENT_QUERY_PARAMS: &[&str] = &["email", "path_prefix", "expected_content_sha256"];

    /// The value at `path` in `value`.
    fn dig<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
        path.iter().try_fold(value, |v, key| v.get(key))
    }

    /// Records a string field of `value` at `path`, if it is one.
    fn record_str(span: &tracing::Span, attribute: &'static str, value: &Value, path: &[&str]) {
        if let Some(s) = dig(value, path).and_then(Value::as_str) {
            span.record(attribute, s);
        }
    }

    /// Records what the request of an API call gives its span before it is sent: method,
    /// route, server, URL, and the request body's attributes.
    pub(crate) fn start_call(
        call: &CallSpan,
        client: &Client,
        op: &Operation,
        path: &str,
        query: &[(&'static str, String)],
        body: &crate::body::Body,
    ) {
        let Some(span) = call.span.as_ref().filter(|s| !s.is_disabled()) else {
            return;
        };
        span.record("http.request.method", op.method);
        span.record("http.route", op.path);
        let base = client.inner.base_url.as_str();
        let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                match p.parse::<i64>() {
                    Ok(port) => (h, port),
                    Err(_) => (authority, default_port(scheme)),
                }
            }
            _ => (authority, default_port(scheme)),
        };
        span.record(
            "server.address",
            host.trim_start_matches('[').trim_end_matches(']'),
        );
        span.record("server.port", port);
        span.record("url.scheme", scheme);
        span.record("url.path", path);
        let content_query = query.iter().any(|(k, _)| CONTENT_QUERY_PARAMS.contains(k));
        if !content_query || client.inner.traces.content {
            let query: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", crate::path::encode(k), crate::path::encode(v)))
                .collect();
            let query = query.join("&");
            let full = format!("{base}{path}");
            if query.is_empty() {
                span.record("url.full", full.as_str());
            } else {
                span.record("url.query", query.as_str());
                span.record("url.full", format!("{full}?{query}").as_str());
            }
        }
        if let (Some(table), crate::body::Body::Json(bytes)) = (body_attributes(op), body) {
            if let Ok(json) = serde_json::from_slice::<Value>(bytes) {
                for (attribute, path) in table.request {
                    record_str(span, attribute, &json, path);
                }
            }
        }
    }

    fn default_port(scheme: &str) -> i64 {
        if scheme == "http" {
            80
        } else {
            443
        }
    }

    /// Records how an API call ended and ends its span, unless the response's body is still
    /// to be read: then the response keeps the span until the body is dropped.
    pub(crate) fn end_call(
        call: CallSpan,
        op: &Operation,
        resends: u32,
        result: crate::error::Result<Response>,
    ) -> crate::error::Result<Response> {
        let Some(span) = call.span.filter(|s| !s.is_disabled()) else {
            return result;
        };
        if resends > 0 {
            span.record("http.request.resend_count", i64::from(resends));
        }
        match result {
            Ok(mut response) => {
                span.record("http.response.status_code", i64::from(response.status()));
                record_headers(&span, &response);
                // the body is parsed again only for the operations that read it
                let reads_body = created_id(op).is_some() || body_attributes(op).is_some();
                if let Some(json) = response
                    .read_body()
                    .filter(|_| reads_body)
                    .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                {
                    if let Some(attribute) = created_id(op) {
                        record_str(&span, attribute, &json, &["id"]);
                    }
                    if let Some(table) = body_attributes(op) {
                        for (attribute, path) in table.response {
                            record_str(&span, attribute, &json, path);
                        }
                    }
                }
                if op.streams_body() {
                    // the body's reader ends the span; an event stream's status stays unset,
                    // as the Python SDK's (it has no end to read to)
                    response.keep_span(span);
                } else {
                    span.record("otel.status_code", "ok");
                }
                Ok(response)
            }
            Err(error) => {
                if let Error::Api {
                    status, request_id, ..
                } = &error
                {
                    span.record("http.response.status_code", i64::from(*status));
                    if let Some(id) = request_id {
                        span.record("anthropic.request.id", id.as_str());
                    }
                }
                fail(&span, &error);
                Err(error)
            }
        }
    }

    fn record_headers(span: &tracing::Span, response: &Response) {
        for (attribute, header) in [
            ("anthropic.request.id", "request-id"),
            ("anthropic.organization.id", "anthropic-organization-id"),
            ("anthropic.workspace.id", "anthropic-workspace-id"),
        ] {
            if let Some(value) = response.header(header).filter(|v| !v.is_empty()) {
                span.record(attribute, value);
            }
        }
    }

    /// Sets a span's status to an error and its `error.type`, as the Python SDK's
    /// `set_error_status`: the API error's `type`, or else its status, a client timeout, a
    /// connection error, or `client_error`.
    pub(crate) fn fail(span: &tracing::Span, error: &Error) {
        span.record("otel.status_code", "error");
        span.record("error.type", error_type(error).as_str());
    }

    /// The `error.type` of a failed operation.
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

    /// The span of one event-stream connection while it is read: the API call's span, with
    /// the events it delivered, how many reconnects came before it, and the time from the
    /// call's start to its first event (`gen_ai.response.time_to_first_chunk`, seconds).
    #[derive(Debug)]
    pub(crate) struct ConnectionSpan {
        span: tracing::Span,
        started: Instant,
        events: i64,
    }

    impl ConnectionSpan {
        /// Takes over the span of the call that opened connection number `reconnects` + 1.
        pub(crate) fn new(
            span: Option<tracing::Span>,
            started: Instant,
            reconnects: u32,
        ) -> Option<Self> {
            let span = span.filter(|s| !s.is_disabled())?;
            span.record("anthropic.stream.reconnects", i64::from(reconnects));
            Some(ConnectionSpan {
                span,
                started,
                events: 0,
            })
        }

        /// Counts an event the connection delivered.
        pub(crate) fn event(&mut self) {
            if self.events == 0 {
                self.span.record(
                    "gen_ai.response.time_to_first_chunk",
                    self.started.elapsed().as_secs_f64(),
                );
            }
            self.events += 1;
        }

        /// Records the error that ended the connection.
        pub(crate) fn failed(&self, error: &Error) {
            fail(&self.span, error);
        }

        /// Records a connection that broke while it was read.
        pub(crate) fn dropped(&self) {
            self.span.record("otel.status_code", "error");
            self.span.record("error.type", "connection_error");
        }
    }

    impl Drop for ConnectionSpan {
        fn drop(&mut self) {
            self.span.record("anthropic.stream.events", self.events);
        }
    }

    /// The span of one turn of the runner (`invoke_agent`), and the session's usage when the
    /// turn started, to record the turn's own usage at its end.
    #[derive(Debug)]
    pub(crate) struct TurnSpan {
        pub(crate) span: tracing::Span,
        usage_before: Option<crate::types::SessionUsage>,
        content: TraceConfig,
    }

    impl TurnSpan {
        /// Starts the span of a turn of `session_id`, sending `message` if any.
        pub(crate) fn start(client: &Client, session_id: &str, message: Option<&str>) -> TurnSpan {
            let span = tracing::info_span!(
                target: "managed_agents",
                "invoke_agent",
                "otel.kind" = "internal",
                "otel.status_code" = LATER,
                "gen_ai.operation.name" = "invoke_agent",
                "gen_ai.provider.name" = "anthropic",
                "gen_ai.conversation.id" = session_id,
                "anthropic.session.id" = session_id,
                "gen_ai.agent.id" = LATER,
                "gen_ai.agent.name" = LATER,
                "gen_ai.request.model" = LATER,
                "gen_ai.usage.input_tokens" = LATER,
                "gen_ai.usage.output_tokens" = LATER,
                "gen_ai.usage.cache_read.input_tokens" = LATER,
                "gen_ai.usage.cache_write.input_tokens" = LATER,
                "gen_ai.input.messages" = LATER,
                "anthropic.content.truncated" = LATER,
                "error.type" = LATER,
            );
            let config = client.inner.traces;
            if let (Some(text), true, false) = (message, config.content, span.is_disabled()) {
                let messages = serde_json::json!([{
                    "role": "user",
                    "parts": [{"type": "text", "content": text}],
                }]);
                let value = content(&span, &messages, config.max_content_bytes);
                span.record("gen_ai.input.messages", value.as_str());
            }
            TurnSpan {
                span,
                usage_before: None,
                content: config,
            }
        }

        /// Records what the session read at a (re)connect says: its agent, and the usage the
        /// turn starts from (the first read's).
        pub(crate) fn session_read(&mut self, session: &crate::types::Session) {
            self.span
                .record("gen_ai.agent.id", session.agent.id.as_str());
            self.span
                .record("gen_ai.agent.name", session.agent.name.as_str());
            self.span
                .record("gen_ai.request.model", session.agent.model.id.as_str());
            if self.usage_before.is_none() {
                self.usage_before = Some(session.usage.clone());
            }
        }

        /// Ends the turn: its usage (the session's at the end less at the start) and status.
        pub(crate) fn finish(
            self,
            usage_after: Option<&crate::types::SessionUsage>,
            error: Option<&Error>,
        ) {
            let _ = self.content;
            if let (Some(after), Some(before)) = (usage_after, &self.usage_before) {
                let less =
                    |a: Option<i64>, b: Option<i64>| (a.unwrap_or(0) - b.unwrap_or(0)).max(0);
                let cache_read = less(
                    after.cache_read_input_tokens,
                    before.cache_read_input_tokens,
                );
                let cache_write = less(cache_writes(after), cache_writes(before));
                let input = less(after.input_tokens, before.input_tokens);
                self.span.record(
                    "gen_ai.usage.input_tokens",
                    input + cache_read + cache_write,
                );
                self.span.record(
                    "gen_ai.usage.output_tokens",
                    less(after.output_tokens, before.output_tokens),
                );
                self.span
                    .record("gen_ai.usage.cache_read.input_tokens", cache_read);
                self.span
                    .record("gen_ai.usage.cache_write.input_tokens", cache_write);
            }
            match error {
                Some(e) => fail(&self.span, e),
                None => {
                    self.span.record("otel.status_code", "ok");
                }
            }
        }
    }

    /// The tokens written to the cache, in all: both lifetimes of `cache_creation`.
    fn cache_writes(usage: &crate::types::SessionUsage) -> Option<i64> {
        let c = usage.cache_creation.as_ref()?;
        Some(c.ephemeral_1h_input_tokens.unwrap_or(0) + c.ephemeral_5m_input_tokens.unwrap_or(0))
    }

    /// The span of one tool call the runner runs: `anthropic.custom_tool_use <name>` or
    /// `anthropic.tool_use <name>` (a built-in tool), a child of the turn.
    #[derive(Debug, Clone)]
    pub(crate) struct ToolSpan {
        pub(crate) span: tracing::Span,
        content: TraceConfig,
    }

    impl ToolSpan {
        /// Starts the span of `call` under `turn`.
        pub(crate) fn start(
            turn: &TurnSpan,
            session_id: &str,
            call: &crate::runner::ToolCall,
            builtin: bool,
        ) -> ToolSpan {
            let name = if builtin {
                format!("anthropic.tool_use {}", call.name)
            } else {
                format!("anthropic.custom_tool_use {}", call.name)
            };
            let conversation = call.session_thread_id.as_deref().unwrap_or(session_id);
            let span = tracing::info_span!(
                target: "managed_agents",
                parent: &turn.span,
                "anthropic.tool_use",
                "otel.name" = name.as_str(),
                "otel.kind" = "internal",
                "otel.status_code" = LATER,
                "gen_ai.operation.name" = "execute_tool",
                "gen_ai.provider.name" = "anthropic",
                "gen_ai.tool.name" = call.name.as_str(),
                "gen_ai.tool.call.id" = call.id.as_str(),
                "gen_ai.tool.type" = "function",
                "gen_ai.conversation.id" = conversation,
                "anthropic.session.id" = session_id,
                "anthropic.session.thread.id" = call.session_thread_id.as_deref(),
                "gen_ai.tool.call.arguments" = LATER,
                "anthropic.tool_result.content" = LATER,
                "anthropic.content.truncated" = LATER,
                "error.type" = LATER,
            );
            let config = turn.content;
            if config.content && !span.is_disabled() {
                let input = Value::Object(call.input.clone());
                let value = content(&span, &input, config.max_content_bytes);
                span.record("gen_ai.tool.call.arguments", value.as_str());
            }
            ToolSpan {
                span,
                content: config,
            }
        }

        /// Ends the span with the call's result (`text`), an error result failing it with
        /// `tool_error`.
        pub(crate) fn finish(self, text: &str, is_error: bool) {
            if self.content.content && !self.span.is_disabled() {
                let result = serde_json::json!([{"type": "text", "content": text}]);
                let value = content(&self.span, &result, self.content.max_content_bytes);
                self.span
                    .record("anthropic.tool_result.content", value.as_str());
            }
            if is_error {
                self.span.record("otel.status_code", "error");
                self.span.record("error.type", "tool_error");
            } else {
                self.span.record("otel.status_code", "ok");
            }
        }
    }
}
