//! The emulator's in-memory state: every object as the JSON the API returns, and each
//! session's event log.

use super::agent::Script;
use super::Faults;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub(crate) struct Store {
    counter: u64,
    last_ms: u64,
    pub(crate) requests: usize,
    pub(crate) environments: BTreeMap<String, Value>,
    /// Every version of each agent, oldest first.
    pub(crate) agents: BTreeMap<String, Vec<Value>>,
    pub(crate) sessions: BTreeMap<String, SessionState>,
    pub(crate) files: BTreeMap<String, (Value, Vec<u8>)>,
    pub(crate) vaults: BTreeMap<String, Value>,
    pub(crate) credentials: BTreeMap<String, Value>,
    pub(crate) memory_stores: BTreeMap<String, Value>,
    pub(crate) memories: BTreeMap<String, Value>,
    pub(crate) script: Option<Script>,
    pub(crate) faults: Faults,
}

pub(crate) struct SessionState {
    pub(crate) object: Value,
    pub(crate) events: Vec<Value>,
    /// Answers the agent waits for: tool use id -> the user event that answered it.
    pub(crate) answers: HashMap<String, Value>,
    pub(crate) deleted: bool,
}

impl Store {
    /// A new id with the API's prefix (`sesn`, `agent`, `env`, ...).
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let n = self.counter;
        // base-58-looking, unique, sortable
        const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        let mut tail = Vec::new();
        let mut x = n;
        for _ in 0..14 {
            tail.push(ALPHABET[(x % 58) as usize]);
            x /= 58;
        }
        tail.reverse();
        format!("{prefix}_011EMU{}", String::from_utf8_lossy(&tail))
    }

    /// Now, as RFC 3339 with milliseconds; strictly increasing, so events sort by it.
    pub(crate) fn now(&mut self) -> String {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let ms = ms.max(self.last_ms + 1);
        self.last_ms = ms;
        rfc3339(ms)
    }

    /// Adds an event to a session's log, with an id and `processed_at`; returns it.
    pub(crate) fn push_event(&mut self, session_id: &str, mut event: Value) -> Value {
        if event.get("id").is_none() {
            event["id"] = json!(self.id("sevt"));
        }
        event["processed_at"] = json!(self.now());
        if let Some(s) = self.sessions.get_mut(session_id) {
            s.events.push(event.clone());
        }
        event
    }

    pub(crate) fn set_status(&mut self, session_id: &str, status: &str) {
        let now = self.now();
        if let Some(s) = self.sessions.get_mut(session_id) {
            s.object["status"] = json!(status);
            s.object["updated_at"] = json!(now);
        }
    }

    /// Adds tokens and seconds to a session's usage.
    pub(crate) fn add_usage(&mut self, session_id: &str, input: i64, output: i64) {
        if let Some(s) = self.sessions.get_mut(session_id) {
            let u = &mut s.object["usage"];
            let add = |u: &mut Value, k: &str, n: i64| {
                let v = u.get(k).and_then(Value::as_i64).unwrap_or(0) + n;
                u[k] = json!(v);
            };
            add(u, "input_tokens", input);
            add(u, "output_tokens", output);
            add(u, "cache_read_input_tokens", 0);
        }
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn rfc3339(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// `metadata` from a request body, or `{}`.
pub(crate) fn metadata(body: &Value) -> Value {
    match body.get("metadata") {
        Some(Value::Object(m)) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => Value::Object(Map::new()),
    }
}

/// An agent's tools as the API resolves them.
pub(crate) fn resolve_tools(tools: Option<&Value>) -> Value {
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

/// The model as the API resolves it: `{"id": ...}`.
pub(crate) fn resolve_model(model: &Value) -> Value {
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

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(784_111_777_123), "1994-11-06T08:49:37.123Z");
        assert_eq!(
            super::rfc3339(1_709_251_200_000),
            "2024-03-01T00:00:00.000Z"
        );
    }
}
