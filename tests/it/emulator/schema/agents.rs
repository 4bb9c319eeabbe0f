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
    // what a client configures comes back resolved: per-tool configs, policies, skills
    let configured = api.ok(
        "agents.create",
        &[],
        "",
        json!({
            "name": "C", "model": "claude-opus-4-5",
            "tools": [
                {"type": "agent_toolset_20260401",
                 "default_config": {"enabled": true, "permission_policy": {"type": "always_ask"}},
                 "configs": [{"name": "bash", "enabled": false},
                             {"name": "read", "permission_policy": {"type": "always_allow"}}]},
                {"type": "mcp_toolset", "mcp_server_name": "docs",
                 "default_config": {"permission_policy": {"type": "always_allow"}},
                 "configs": [{"name": "search", "enabled": false}]},
            ],
            "mcp_servers": [{"type": "url", "name": "docs", "url": "https://mcp.example.com"}],
            "skills": [{"type": "anthropic", "skill_id": "xlsx"},
                       {"type": "anthropic", "skill_id": "pdf", "version": "20251013"}],
        }),
    );
    let tools = &configured["tools"];
    assert_eq!(
        tools[0]["default_config"]["permission_policy"]["type"], "always_ask",
        "{tools}"
    );
    assert_eq!(tools[0]["configs"][0]["name"], "bash", "{tools}");
    assert_eq!(tools[0]["configs"][0]["enabled"], false, "{tools}");
    assert_eq!(
        tools[1]["default_config"]["permission_policy"]["type"], "always_allow",
        "{tools}"
    );
    assert_eq!(tools[1]["configs"][0]["name"], "search", "{tools}");
    assert_eq!(
        configured["skills"][1]["version"], "20251013",
        "{configured}"
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
    // a stale version is a conflict; a name cannot be cleared; lists set to null are cleared
    api.err(
        "agents.update",
        &[&a],
        "",
        json!({"version": 1, "name": "late"}),
        409,
    );
    api.err("agents.update", &[&a], "", json!({"name": null}), 400);
    api.err("agents.update", &[&a], "", json!({"description": 5}), 400);
    let cleared = api.ok(
        "agents.update",
        &[&a],
        "",
        json!({"tools": null, "mcp_servers": null, "skills": null, "description": null}),
    );
    assert_eq!(cleared["mcp_servers"], json!([]), "{cleared}");
    // a tool or server without the fields its kind requires, or of an unknown kind
    for tools in [
        json!([{"type": "custom", "name": "t", "description": "d"}]),
        json!([{"type": "custom", "description": "d", "input_schema": {"type": "object"}}]),
        json!([{"type": "mcp_toolset"}]),
        json!([{"type": "computer_use"}]),
    ] {
        api.err(
            "agents.create",
            &[],
            "",
            json!({"name": "X", "model": "claude-opus-4-5", "tools": tools}),
            400,
        );
    }
    // MCP servers and toolsets must agree
    api.err(
        "agents.create",
        &[],
        "",
        json!({"name": "X", "model": "claude-opus-4-5",
               "mcp_servers": [{"type": "url", "name": "unused", "url": "https://mcp.example.com"}]}),
        400,
    );
    api.err(
        "agents.create",
        &[],
        "",
        json!({"name": "X", "model": "claude-opus-4-5",
               "tools": [{"type": "mcp_toolset", "mcp_server_name": "nowhere"}]}),
        400,
    );
    api.ok("agents.versions.list", &[&a], "", ());
    api.err("agents.versions.list", &["agent_missing"], "", (), 404);
    api.ok("agents.archive", &[&a], "", ());
    api.err("agents.archive", &["agent_missing"], "", (), 404);
    api.err("agents.update", &[&a], "", json!({"name": "after"}), 400);
}
