//! The span of one turn of the runner (`invoke_agent`): the session, its agent, the turn's
//! usage and, with content on, the message it sent.

use super::{content, fail, TraceConfig, LATER};
use crate::client::Client;
use crate::error::Error;

/// The span of one turn of the runner (`invoke_agent`), and the session's usage when the
/// turn started, to record the turn's own usage at its end.
#[derive(Debug)]
pub(crate) struct TurnSpan {
    pub(crate) span: tracing::Span,
    usage_before: Option<crate::types::SessionUsage>,
    pub(super) content: TraceConfig,
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
            let less = |a: Option<i64>, b: Option<i64>| (a.unwrap_or(0) - b.unwrap_or(0)).max(0);
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
