//! Agents: every update makes a new version (kept, listed, retrievable by number); the model
//! and tools are resolved as the API resolves them.

use super::super::reply::ApiError;
use super::super::reply::{bad, json_body, not_found, page, required_str, Reply, Routed};
use super::super::state::State;
use super::super::store::{metadata, update};
use super::super::Shared;
use super::Request;
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
            let id = s.id("agent");
            let now = s.now();
            let mut agent = json!({
                "id": id, "type": "agent", "version": 1, "name": name, "model": resolve_model(model),
                "tools": resolve_tools(body.get("tools")),
                "mcp_servers": body.get("mcp_servers").cloned().unwrap_or(json!([])),
                "skills": resolve_skills(body.get("skills")),
                "execution_identity": {"type": "service_account"},
                "metadata": metadata(&body), "created_at": now, "updated_at": now
            });
            for f in ["system", "description"] {
                if let Some(v) = body.get(f).filter(|v| v.is_string()) {
                    agent[f] = v.clone();
                }
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
                    let mut next = latest;
                    update(&mut next, &body, FIELDS, now);
                    if let Some(m) = body.get("model") {
                        next["model"] = resolve_model(m);
                    }
                    if body.get("tools").is_some() {
                        next["tools"] = resolve_tools(body.get("tools"));
                    }
                    if body.get("skills").is_some() {
                        next["skills"] = resolve_skills(body.get("skills"));
                    }
                    let versions = s.agent_versions.entry(id.to_string()).or_default();
                    next["version"] = json!(versions.len() + 1);
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

/// One version of an agent (`v` as the query gives it).
fn version(s: &State, id: &str, v: &str) -> Result<Value, ApiError> {
    s.agent_versions
        .get(id)
        .into_iter()
        .flatten()
        .find(|a| a["version"].as_i64().is_some_and(|n| n.to_string() == v))
        .cloned()
        .ok_or_else(|| not_found("agent version", v))
}

/// The agent a session runs (an id, or `{id, version}`), as the API snapshots it.
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
    let mut snap = match version {
        Some(v) => self::version(s, &id, &v.to_string())?,
        None => s.agents.get(&id)?.clone(),
    };
    if let Some(o) = snap.as_object_mut() {
        for k in ["created_at", "updated_at", "metadata", "archived_at"] {
            o.remove(k);
        }
    }
    Ok(snap)
}

/// An agent's tools as the API resolves them.
fn resolve_tools(tools: Option<&Value>) -> Value {
    let tools = tools.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        tools
            .into_iter()
            .map(|t| match t["type"].as_str() {
                Some("agent_toolset_20260401") => json!({
                    "type": "agent_toolset_20260401",
                    "configs": [],
                    "default_config": {
                        "enabled": t["default_config"]["enabled"].as_bool().unwrap_or(true),
                        "permission_policy": {"type": "always_allow"}
                    }
                }),
                Some("mcp_toolset") => json!({
                    "type": "mcp_toolset",
                    "mcp_server_name": t["mcp_server_name"],
                    "configs": [],
                    "default_config": {"enabled": true, "permission_policy": {"type": "always_ask"}}
                }),
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

/// An agent's skills as the API resolves them: a skill without a version gets `latest`.
fn resolve_skills(skills: Option<&Value>) -> Value {
    let skills = skills
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Value::Array(
        skills
            .into_iter()
            .map(|mut k| {
                if k.is_object() && !k["version"].is_string() {
                    k["version"] = json!("latest");
                }
                k
            })
            .collect(),
    )
}

/// The model as the API resolves it: `{"id": ...}`.
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
