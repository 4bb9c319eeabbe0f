//! Multi-agent configuration: an agent's `multiagent` roster resolved as the API stores it when
//! the agent is saved (`coordinator`, `multiagent_20261001`), expanded to full agent definitions
//! when a session snapshots the agent, and looked up when the scripted coordinator delegates.

use super::reply::{bad, ApiError};
use super::state::State;
use serde_json::{json, Value};

/// Most entries a roster may have.
const MAX_ROSTER: usize = 20;

/// Resolves the `multiagent` of an agent being saved as `own_id` version `own_version`, resolved:
/// `None` when the body has none (or `null`). `stored` is the agent's current configuration, into
/// which a `multiagent_20261001` update is merged member by member.
pub(crate) fn resolve(
    s: &State,
    body: &Value,
    own_id: &str,
    own_version: i64,
    stored: Option<&Value>,
) -> Result<Option<Value>, ApiError> {
    let m = match body.get("multiagent") {
        None | Some(Value::Null) => return Ok(None),
        Some(m) if m.is_object() => m,
        Some(_) => return Err(bad("multiagent: must be an object")),
    };
    let roster = Roster {
        s,
        own_id,
        own_version,
    };
    match m["type"].as_str() {
        Some("coordinator") => roster.coordinator(m).map(Some),
        Some("multiagent_20261001") => {
            let stored = stored.filter(|v| v["type"] == "multiagent_20261001");
            roster.multiagent_20261001(m, stored).map(Some)
        }
        Some(other) => Err(bad(format!("multiagent.type: unknown type {other:?}"))),
        None => Err(bad("multiagent.type: Field required")),
    }
}

struct Roster<'a> {
    s: &'a State,
    own_id: &'a str,
    own_version: i64,
}

impl Roster<'_> {
    fn coordinator(&self, m: &Value) -> Result<Value, ApiError> {
        let entries = m["agents"]
            .as_array()
            .ok_or_else(|| bad("multiagent.agents: Field required"))?;
        if entries.is_empty() || entries.len() > MAX_ROSTER {
            return Err(bad(format!(
                "multiagent.agents: a roster has 1 to {MAX_ROSTER} entries"
            )));
        }
        let mut agents = Vec::new();
        let mut advisor = None;
        for (i, e) in entries.iter().enumerate() {
            if e["type"] == "advisor" {
                let model = e["model"]
                    .as_str()
                    .ok_or_else(|| bad(format!("multiagent.agents[{i}].model: Field required")))?;
                if advisor
                    .replace(json!({"type": "advisor", "model": model}))
                    .is_some()
                {
                    return Err(bad("multiagent.agents: at most one advisor"));
                }
                continue;
            }
            let r = self.reference(e, &format!("multiagent.agents[{i}]"))?;
            if agents.iter().any(|a: &Value| a["id"] == r["id"]) {
                return Err(bad(format!(
                    "multiagent.agents: {} is on the roster twice",
                    r["id"]
                )));
            }
            agents.push(r);
        }
        // the advisor is echoed last
        agents.extend(advisor);
        Ok(json!({"type": "coordinator", "agents": agents}))
    }

    fn multiagent_20261001(&self, m: &Value, stored: Option<&Value>) -> Result<Value, ApiError> {
        let member = |k: &str| match m.get(k) {
            Some(v) => Some(v.clone()),
            None => stored.map(|s| s[k].clone()),
        };
        let advisor = match member("advisor").unwrap_or(Value::Null) {
            Value::Null => json!({"type": "disabled"}),
            a if a["type"] == "enabled" => {
                let model = a["model"]
                    .as_str()
                    .ok_or_else(|| bad("multiagent.advisor.model: Field required"))?;
                json!({"type": "enabled", "model": model})
            }
            _ => json!({"type": "disabled"}),
        };
        let subagents = self.spawning(member("subagents"), "multiagent.subagents")?;
        let workflows = self.spawning(member("workflows"), "multiagent.workflows")?;
        Ok(json!({"type": "multiagent_20261001", "advisor": advisor,
            "subagents": subagents, "workflows": workflows}))
    }

    /// Resolves `subagents` or `workflows`: enabled (the default) with its inline agents and its
    /// predefined agents resolved, or disabled.
    fn spawning(&self, v: Option<Value>, at: &str) -> Result<Value, ApiError> {
        let v = v.unwrap_or(Value::Null);
        if v["type"] == "disabled" {
            return Ok(json!({"type": "disabled"}));
        }
        let inline = match v["inline_agents"]["type"].as_str() {
            Some("disabled") => json!({"type": "disabled"}),
            _ => json!({"type": "enabled"}),
        };
        let mut predefined = Vec::new();
        for (i, e) in v["predefined_agents"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if e["type"] == "agent"
                && e["version"].is_i64()
                && e.as_object().is_some_and(|o| o.len() == 3)
            {
                // already resolved (a stored member kept by an update)
                predefined.push(e.clone());
                continue;
            }
            predefined.push(self.reference(e, &format!("{at}.predefined_agents[{i}]"))?);
        }
        if predefined.len() > MAX_ROSTER {
            return Err(bad(format!("{at}.predefined_agents: at most {MAX_ROSTER}")));
        }
        if inline["type"] == "disabled" && predefined.is_empty() {
            return Err(bad(format!(
                "{at}: with inline agents disabled, predefined_agents must name an agent"
            )));
        }
        Ok(json!({"type": "enabled", "inline_agents": inline, "predefined_agents": predefined}))
    }

    /// Resolves a roster entry (an id, `{type: agent, id, version?}` or `{type: self}`) as a
    /// reference to one version of a saved agent that is not archived and has no roster of its own.
    fn reference(&self, e: &Value, at: &str) -> Result<Value, ApiError> {
        let (id, version) = match e {
            Value::String(id) => (id.as_str(), None),
            e if e["type"] == "self" => {
                return Ok(json!({"type": "agent", "id": self.own_id, "version": self.own_version}))
            }
            e if e["type"] == "agent" => (
                e["id"]
                    .as_str()
                    .ok_or_else(|| bad(format!("{at}.id: Field required")))?,
                e.get("version").and_then(Value::as_i64),
            ),
            _ => return Err(bad(format!("{at}: an agent id, an agent or self"))),
        };
        if id == self.own_id {
            return Ok(json!({"type": "agent", "id": id, "version": self.own_version}));
        }
        let agent = version_of(self.s, id, version)
            .ok_or_else(|| bad(format!("{at}: agent {id} not found")))?;
        if !agent["archived_at"].is_null() {
            return Err(bad(format!("{at}: agent {id} is archived")));
        }
        if !agent["multiagent"].is_null() {
            return Err(bad(format!(
                "{at}: agent {id} has a multiagent roster of its own (one level of delegation only)"
            )));
        }
        Ok(json!({"type": "agent", "id": id, "version": agent["version"]}))
    }
}

/// Returns one version of a saved agent (the latest with `None`).
fn version_of(s: &State, id: &str, version: Option<i64>) -> Option<Value> {
    let versions = s.agent_versions.get(id)?;
    match version {
        None => versions.last().cloned(),
        Some(v) => versions.iter().find(|a| a["version"] == v).cloned(),
    }
}

/// Expands the session's snapshot of an agent's `multiagent`: each reference replaced by the full
/// definition of that agent version (`self` by the snapshot itself, without its roster).
pub(crate) fn expand(s: &State, snapshot: &mut Value) {
    let Some(m) = snapshot
        .get("multiagent")
        .filter(|m| m.is_object())
        .cloned()
    else {
        return;
    };
    let own = thread_agent(snapshot);
    let full = |r: &Value| -> Value {
        if r["type"] != "agent" {
            return r.clone();
        }
        if r["id"] == own["id"] && r["version"] == own["version"] {
            return own.clone();
        }
        version_of(
            s,
            r["id"].as_str().unwrap_or_default(),
            r["version"].as_i64(),
        )
        .map(|a| thread_agent(&a))
        .unwrap_or_else(|| r.clone())
    };
    let mut out = m.clone();
    match m["type"].as_str() {
        Some("coordinator") => {
            out["agents"] = m["agents"]
                .as_array()
                .into_iter()
                .flatten()
                .map(full)
                .collect();
        }
        _ => {
            for k in ["subagents", "workflows"] {
                if let Some(list) = m[k]["predefined_agents"].as_array() {
                    out[k]["predefined_agents"] = list.iter().map(full).collect();
                }
            }
        }
    }
    snapshot["multiagent"] = out;
}

/// Returns an agent version as a thread runs it (`SessionThreadAgent`): no roster, no timestamps.
pub(crate) fn thread_agent(agent: &Value) -> Value {
    let mut a = agent.clone();
    if let Some(o) = a.as_object_mut() {
        for k in [
            "multiagent",
            "created_at",
            "updated_at",
            "metadata",
            "archived_at",
        ] {
            o.remove(k);
        }
    }
    a
}

/// Returns the agent definitions a session's coordinator may start threads with.
pub(crate) fn callable(session: &Value) -> Vec<Value> {
    let m = &session["agent"]["multiagent"];
    let list = match m["type"].as_str() {
        Some("coordinator") => &m["agents"],
        _ => &m["subagents"]["predefined_agents"],
    };
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["type"] == "agent")
        .cloned()
        .collect()
}

/// Finds the callable agent named `who` (its name or its id) of a session.
pub(crate) fn find(session: &Value, who: &str) -> Option<Value> {
    callable(session)
        .into_iter()
        .find(|a| a["name"] == who || a["id"] == who)
}

/// Returns whether a session runs a multi-agent configuration.
pub(crate) fn is_multiagent(session: &Value) -> bool {
    session["agent"]["multiagent"].is_object()
}
