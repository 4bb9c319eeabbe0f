//! Shortcuts for building requests, so that each flow of the Python reference reads as short in
//! Rust. The generated types already have `new(required..)` and a setter per optional field;
//! these add the few constructors the flows use all the time.

use crate::types::*;
use serde_json::Value;

impl EnvironmentCreateParams {
    /// Creates a cloud environment with unrestricted networking, the reference's first step.
    ///
    /// ```
    /// use managed_agents::types::EnvironmentCreateParams;
    ///
    /// let params = EnvironmentCreateParams::cloud("my-dev-env");
    /// assert_eq!(
    ///     serde_json::to_value(&params).unwrap(),
    ///     serde_json::json!({"name": "my-dev-env", "config": {"type": "cloud", "networking": {"type": "unrestricted"}}}),
    /// );
    /// ```
    pub fn cloud(name: impl Into<String>) -> Self {
        EnvironmentCreateParams::new(name).config(CloudConfigParams::unrestricted())
    }
}

impl CloudConfigParams {
    /// Creates a cloud configuration with unrestricted networking.
    pub fn unrestricted() -> Self {
        CloudConfigParams::new().networking(UnrestrictedNetworkParam::new())
    }
}

impl AgentCreateParams {
    /// Adds a tool.
    ///
    /// ```
    /// use managed_agents::types::*;
    ///
    /// let agent = AgentCreateParams::new("Code Reviewer", "claude-opus-4-5")
    ///     .system("You are a senior code reviewer.")
    ///     .tool(AgentToolset20260401Params::new())
    ///     .tool(CustomToolParams::new(
    ///         "run_tests",
    ///         "Run the test suite",
    ///         serde_json::json!({
    ///             "type": "object",
    ///             "properties": {"test_path": {"type": "string"}},
    ///             "required": ["test_path"],
    ///         }),
    ///     ));
    /// assert_eq!(agent.tools.as_ref().map(Vec::len), Some(2));
    /// ```
    pub fn tool(mut self, tool: impl Into<AgentCreateParamsTool>) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool.into());
        self
    }

    /// Declares an MCP server by name and URL (credentials belong in a vault).
    pub fn mcp_server(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        self.mcp_servers
            .get_or_insert_with(Vec::new)
            .push(URLMCPServerParams::new(name, url));
        self
    }
}

impl AgentToolset20260401Params {
    /// Creates the built-in toolset with every tool enabled by default.
    pub fn enabled() -> Self {
        AgentToolset20260401Params::new()
            .default_config(AgentToolsetDefaultConfigParams::new().enabled(true))
    }
}

impl From<Value> for CustomToolInputSchemaParam {
    /// A JSON Schema object: `properties` and `required` are read out, every other key is kept.
    fn from(value: Value) -> Self {
        let mut map = match value {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        map.remove("type");
        let properties = match map.remove("properties") {
            Some(Value::Object(p)) => Some(Some(p)),
            _ => None,
        };
        let required = match map.remove("required") {
            Some(Value::Array(r)) => Some(Some(
                r.into_iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
            )),
            _ => None,
        };
        CustomToolInputSchemaParam {
            properties,
            required,
            r#type: Default::default(),
            extra: map,
        }
    }
}

impl From<&Agent> for SessionCreateParamsAgent {
    /// The agent pinned at its current version.
    fn from(agent: &Agent) -> Self {
        SessionCreateParamsAgent::AgentParams(
            AgentParams::new(agent.id.clone()).version(agent.version),
        )
    }
}

impl From<&Agent> for AgentParams {
    /// The agent pinned at its current version.
    fn from(agent: &Agent) -> Self {
        AgentParams::new(agent.id.clone()).version(agent.version)
    }
}

impl UserMessageEventParams {
    /// Creates a user message of one text block.
    ///
    /// ```
    /// use managed_agents::types::*;
    ///
    /// let send = EventSendParams::new(vec![UserMessageEventParams::text("Review the auth module").into()]);
    /// assert_eq!(
    ///     serde_json::to_value(&send).unwrap(),
    ///     serde_json::json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": "Review the auth module"}]}]}),
    /// );
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        UserMessageEventParams::new(vec![TextBlockParam::new(text).into()])
    }
}

impl UserCustomToolResultEventParams {
    /// Creates the text result of a custom tool call.
    pub fn text(custom_tool_use_id: impl Into<String>, text: impl Into<String>) -> Self {
        UserCustomToolResultEventParams::new(custom_tool_use_id)
            .content(vec![TextBlockParam::new(text).into()])
    }

    /// Creates an error result of a custom tool call.
    pub fn error(custom_tool_use_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self::text(custom_tool_use_id, message).is_error(true)
    }
}

impl EventSendParams {
    /// One event.
    pub fn one(event: impl Into<EventParams>) -> Self {
        EventSendParams::new(vec![event.into()])
    }
}

impl FileListParams {
    /// Creates the files of a scope (a session's outputs).
    pub fn scope(scope_id: impl Into<String>) -> Self {
        FileListParams::default().scope_id(scope_id)
    }
}
