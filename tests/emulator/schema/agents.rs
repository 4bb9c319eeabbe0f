//! Agents: create (tools, MCP servers, skills), list, retrieve (a version too), update (a new
//! version), versions, archive; and what an unknown or archived agent refuses.

use super::{id, obj, Api};
use serde_json::json;

pub(crate) fn check(api: &Api) {
    let agent = api.ok(
        "agents.create",
        &[],
        "",
        json!({
            "name": "Reviewer", "model": "claude-opus-4-5", "system": "Review.",
            "description": "reviews", "metadata": {"team": "a"},
            "tools": [
                {"type": "agent_toolset_20260401", "default_config": {"enabled": true}},
                {"type": "mcp_toolset", "mcp_server_name": "docs"},
                {"type": "custom", "name": "run_tests", "description": "Run",
                 "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}
            ],
            "mcp_servers": [{"type": "url", "name": "docs", "url": "https://mcp.example.com"}],
        }),
    );
    api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "M", "model": {"id": "claude-opus-4-5", "speed": "standard"}}),
    );
    api.err("agents.create", &[], "", json!({"name": "no model"}), 400);
    api.err(
        "agents.create",
        &[],
        "",
        json!({"model": "claude-opus-4-5"}),
        400,
    );
    let a = id(&agent);
    api.ok("agents.list", &[], "limit=1", ());
    api.err("agents.list", &[], "limit=x", (), 400);
    api.ok("agents.retrieve", &[&a], "", ());
    api.ok("agents.retrieve", &[&a], "version=1", ());
    api.err("agents.retrieve", &["agent_missing"], "", (), 404);
    api.err("agents.retrieve", &[&a], "version=9", (), 404);
    let v2 = api.ok(
        "agents.update",
        &[&a],
        "",
        json!({"version": 1, "system": null, "metadata": {"team": null}}),
    );
    assert_eq!(v2["version"], 2);
    api.err("agents.update", &["agent_missing"], "", obj(), 404);
    api.ok("agents.versions.list", &[&a], "", ());
    api.err("agents.versions.list", &["agent_missing"], "", (), 404);
    api.ok("agents.archive", &[&a], "", ());
    api.err("agents.archive", &["agent_missing"], "", (), 404);
}
