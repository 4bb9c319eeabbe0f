//! The span of one tool call the runner runs (`execute_tool`), a child of the turn's:
//! `anthropic.custom_tool_use <name>` or `anthropic.tool_use <name>`.

use super::turn::TurnSpan;
use super::{content, TraceConfig, LATER};
use serde_json::Value;

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
