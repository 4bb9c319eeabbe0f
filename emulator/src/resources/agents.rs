//! Agents: every update makes a new version (kept, listed, retrievable by number); the model
//! and tools are resolved as the API resolves them.

use super::super::multiagent;
use super::super::reply::ApiError;
use super::super::reply::Request;
use super::super::reply::{bad, json_body, not_found, page, required_str, Reply, Routed};
use super::super::shared::Shared;
use super::super::state::State;
use super::super::store::{check_text, metadata, update};
use serde_json::{json, Value};

/// The fields an update may change besides `model` and `tools`.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "system",
    "mcp_servers",
    "skills",
    "metadata",
];

/// Answers `/v1/agents/...` (`segs` is what follows `agents`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => s.agents.list(r.query, |_| true),
        ("POST", []) => {
            let body = json_body(r.body)?;
            let name = required_str(&body, "name")?.to_string();
            let model = body
                .get("model")
                .ok_or_else(|| bad("model: Field required"))?;
            check_mcp(&body["tools"], &body["mcp_servers"])?;
            let id = s.id("agent");
            let now = s.now();
            let mut agent = json!({
                "id": id, "type": "agent", "version": 1, "name": name, "model": resolve_model(model),
                "tools": resolve_tools(body.get("tools")),
                "mcp_servers": body.get("mcp_servers").cloned().unwrap_or(json!([])),
                "skills": resolve_skills(&s, body.get("skills"))?,
                "execution_identity": {"type": "service_account"},
                "metadata": metadata(&body), "created_at": now, "updated_at": now
            });
            for f in ["system", "description"] {
                if let Some(v) = body.get(f).filter(|v| v.is_string()) {
                    agent[f] = v.clone();
                }
            }
            if let Some(m) = multiagent::resolve(&s, &body, &id, 1, None)? {
                agent["multiagent"] = m;
            }
            s.agent_versions.insert(id, vec![agent.clone()]);
            Ok(Reply::Json(s.agents.insert(agent)))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            let latest = s.agents.get(id)?.clone();
            match (m, rest) {
                ("GET", []) => match r.query.get("version") {
                    Some(v) => version(&s, id, v).map(Reply::Json),
                    None => Ok(Reply::Json(latest)),
                },
                ("POST", []) => {
                    let body = json_body(r.body)?;
                    if !latest["archived_at"].is_null() {
                        return Err(bad(format!("agent {id} is archived and cannot be updated")));
                    }
                    // `version` guards against a concurrent update
                    if let Some(v) = body.get("version").filter(|v| !v.is_null()) {
                        if *v != latest["version"] {
                            return Err(ApiError(
                                409,
                                "conflict_error",
                                format!(
                                    "version {v} is not the agent's current version {}",
                                    latest["version"]
                                ),
                            ));
                        }
                    }
                    check_text(&body)?;
                    if body
                        .get("name")
                        .is_some_and(|n| n.as_str().is_none_or(str::is_empty))
                    {
                        return Err(bad("name: cannot be cleared"));
                    }
                    let mut next = latest;
                    update(&mut next, &body, FIELDS, now);
                    // a list set to null is cleared, not removed
                    for f in ["tools", "mcp_servers", "skills"] {
                        if next.get(f).is_none_or(Value::is_null) {
                            next[f] = json!([]);
                        }
                    }
                    if let Some(m) = body.get("model") {
                        next["model"] = resolve_model(m);
                    }
                    if body.get("tools").is_some() {
                        next["tools"] = resolve_tools(body.get("tools"));
                    }
                    if body.get("skills").is_some() {
                        next["skills"] = resolve_skills(&s, body.get("skills"))?;
                    }
                    check_mcp(&next["tools"], &next["mcp_servers"])?;
                    let n = s.agent_versions.get(*id).map_or(0, Vec::len) as i64 + 1;
                    if body.get("multiagent").is_some() {
                        let stored = next.get("multiagent");
                        next["multiagent"] =
                            multiagent::resolve(&s, &body, id, n, stored)?.unwrap_or(Value::Null);
                    }
                    let versions = s.agent_versions.entry(id.to_string()).or_default();
                    next["version"] = json!(n);
                    versions.push(next.clone());
                    Ok(Reply::Json(s.agents.insert(next)))
                }
                ("POST", ["archive"]) => {
                    for v in s.agent_versions.get_mut(*id).into_iter().flatten() {
                        v["archived_at"] = json!(now);
                    }
                    s.agents.archive(id, now).map(Reply::Json)
                }
                ("GET", ["versions"]) => {
                    let mut all = s.agent_versions.get(*id).cloned().unwrap_or_default();
                    all.reverse();
                    page(all, r.query)
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "agents")),
    }
}

/// Returns one version of an agent (`v` as the query gives it).
fn version(s: &State, id: &str, v: &str) -> Result<Value, ApiError> {
    s.agent_versions
        .get(id)
        .into_iter()
        .flatten()
        .find(|a| a["version"].as_i64().is_some_and(|n| n.to_string() == v))
        .cloned()
        .ok_or_else(|| not_found("agent version", v))
}

/// Returns the agent a session runs (an id, or `{id, version}`), as the API snapshots it.
pub(crate) fn session_agent(s: &State, spec: &Value) -> Result<Value, ApiError> {
    let (id, version) = match spec {
        Value::String(id) => (id.clone(), None),
        Value::Object(o) => (
            o.get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("agent.id: Field required"))?
                .to_string(),
            o.get("version").and_then(Value::as_i64),
        ),
        _ => return Err(bad("agent: Field required")),
    };
    if version.is_some_and(|v| v < 1) {
        return Err(bad("agent.version: must be at least 1"));
    }
    let mut snap = match version {
        Some(v) => self::version(s, &id, &v.to_string())?,
        None => s.agents.get(&id)?.clone(),
    };
    if let Some(o) = snap.as_object_mut() {
        for k in ["created_at", "updated_at", "metadata", "archived_at"] {
            o.remove(k);
        }
    }
    // `agent_with_overrides`: each field given replaces the agent's for this session
    if spec["type"] == "agent_with_overrides" {
        if let Some(m) = spec.get("model") {
            snap["model"] = resolve_model(m);
        }
        if spec.get("tools").is_some() {
            snap["tools"] = resolve_tools(spec.get("tools"));
        }
        if spec.get("skills").is_some() {
            snap["skills"] = resolve_skills(s, spec.get("skills"))?;
        }
        if let Some(m) = spec.get("mcp_servers") {
            snap["mcp_servers"] = m.clone();
        }
        match spec.get("system") {
            Some(Value::Null) => snap["system"] = Value::Null,
            Some(v) => snap["system"] = v.clone(),
            None => {}
        }
        check_mcp(&snap["tools"], &snap["mcp_servers"])?;
    }
    multiagent::expand(s, &mut snap);
    Ok(snap)
}

/// Resolves an agent's tools as the API does.
pub(crate) fn resolve_tools(tools: Option<&Value>) -> Value {
    let tools = tools.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        tools
            .into_iter()
            .map(|t| match t["type"].as_str() {
                Some("agent_toolset_20260401") => {
                    let (default_config, configs) = resolve_configs(&t, "always_allow", true);
                    json!({"type": "agent_toolset_20260401", "configs": configs,
                        "default_config": default_config})
                }
                Some("mcp_toolset") => {
                    let (default_config, configs) = resolve_configs(&t, "always_ask", false);
                    json!({"type": "mcp_toolset", "mcp_server_name": t["mcp_server_name"],
                        "configs": configs, "default_config": default_config})
                }
                Some("custom") => {
                    let mut schema = t["input_schema"].clone();
                    if !schema.is_object() {
                        schema = json!({"type": "object"});
                    }
                    schema["type"] = json!("object");
                    json!({"type": "custom", "name": t["name"], "description": t["description"], "input_schema": schema})
                }
                _ => t,
            })
            .collect(),
    )
}

/// Checks that each tool and MCP server of an agent has the fields its kind requires.
fn check_tools(tools: &Value, servers: &Value) -> Result<(), ApiError> {
    for t in tools.as_array().into_iter().flatten() {
        let required: &[&str] = match t["type"].as_str() {
            Some("agent_toolset_20260401") => &[],
            Some("mcp_toolset") => &["mcp_server_name"],
            Some("custom") => &["name", "description", "input_schema"],
            other => return Err(bad(format!("tools: unknown tool type {other:?}"))),
        };
        if let Some(f) = required
            .iter()
            .find(|f| t.get(**f).is_none_or(Value::is_null))
        {
            return Err(bad(format!("tools: {}.{f}: Field required", t["type"])));
        }
    }
    for m in servers.as_array().into_iter().flatten() {
        if let Some(f) = ["type", "name", "url"]
            .iter()
            .find(|f| m.get(**f).is_none_or(Value::is_null))
        {
            return Err(bad(format!("mcp_servers: {f}: Field required")));
        }
    }
    Ok(())
}

/// Checks that an agent's MCP servers and toolsets agree: at most 20 servers with distinct names,
/// each used by an `mcp_toolset`, and each toolset naming a server.
fn check_mcp(tools: &Value, servers: &Value) -> Result<(), ApiError> {
    check_tools(tools, servers)?;
    let names: Vec<&str> = servers
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["name"].as_str().unwrap_or_default())
        .collect();
    if names.len() > 20 {
        return Err(bad("mcp_servers: at most 20"));
    }
    let toolsets: Vec<&str> = tools
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "mcp_toolset")
        .map(|t| t["mcp_server_name"].as_str().unwrap_or_default())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(bad(format!("mcp_servers: the name {n:?} is used twice")));
        }
        if !toolsets.contains(n) {
            return Err(bad(format!(
                "mcp_servers: {n:?} is not used by any mcp_toolset in tools"
            )));
        }
    }
    if let Some(t) = toolsets.iter().find(|t| !names.contains(t)) {
        return Err(bad(format!(
            "tools: the mcp_toolset names {t:?}, which is not in mcp_servers"
        )));
    }
    Ok(())
}

/// Resolves a toolset's `default_config` and `configs` as the API does: every field filled
/// in, a tool's unset ones from the default (itself enabled, with `policy`, unless asked
/// otherwise); a built-in tool's config also names its `type`.
fn resolve_configs(toolset: &Value, policy: &str, typed: bool) -> (Value, Value) {
    let asked = &toolset["default_config"];
    let enabled = asked["enabled"].as_bool().unwrap_or(true);
    let permission = Some(&asked["permission_policy"])
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| json!({"type": policy}));
    let configs = toolset["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let mut out = c.clone();
            out["enabled"] = json!(c["enabled"].as_bool().unwrap_or(enabled));
            if !c["permission_policy"].is_object() {
                out["permission_policy"] = permission.clone();
            }
            if typed {
                out["type"] = c["name"].clone();
            }
            out
        });
    (
        json!({"enabled": enabled, "permission_policy": permission}),
        configs.collect(),
    )
}

/// Resolves an agent's skills as the API does: each with its version (an Anthropic skill's
/// `latest` unless pinned; a custom skill must exist, at its latest version unless pinned).
fn resolve_skills(s: &State, skills: Option<&Value>) -> Result<Value, ApiError> {
    let mut out = Vec::new();
    for k in skills.and_then(Value::as_array).into_iter().flatten() {
        let id = required_str(k, "skill_id")?;
        let pinned = k["version"].as_str();
        let version = match k["type"].as_str() {
            Some("anthropic") => pinned.unwrap_or("latest").to_string(),
            Some("custom") => {
                let skill = s.skills.get(id)?;
                pinned
                    .or(skill["latest_version_id"].as_str())
                    .unwrap_or_default()
                    .to_string()
            }
            _ => return Err(bad("skills: type must be anthropic or custom")),
        };
        out.push(json!({"type": k["type"], "skill_id": id, "version": version}));
    }
    Ok(Value::Array(out))
}

/// Resolves the model as the API does: `{"id": ...}`.
fn resolve_model(model: &Value) -> Value {
    match model {
        Value::String(s) => json!({"id": s}),
        Value::Object(_) => {
            let mut m = model.clone();
            if m.get("id").is_none() {
                m["id"] = json!("claude-opus-4-5");
            }
            m
        }
        _ => json!({"id": "claude-opus-4-5"}),
    }
}
