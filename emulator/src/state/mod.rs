//! Everything the emulator keeps in memory: one table per kind of object, each session's event
//! log, the file bytes, skill folders, the script the agent plays and the faults switched on.
//! Its parts that are more than a table live below it and never see the whole: the work queues
//! (`work`), the threads of multi-agent sessions (`threads`), the request log (`contract`), the
//! webhook outbox (`webhooks`) and the replay of a cassette (`replay`).

pub(crate) mod threads;
pub(crate) mod work;

use super::contract::RequestLog;
use super::faults::Faults;
use super::rate_limit::Bucket;
use super::replay::Replay;
use super::script::Script;
use super::store::{Clock, Table};
use super::webhooks::Outbox;
use serde_json::{json, Value};
use std::collections::HashMap;
use threads::Threads;
use work::Queue;

/// Everything the emulator keeps in memory, behind one lock.
pub(crate) struct State {
    /// The ids and times it gives out.
    pub(crate) clock: Clock,
    /// Requests answered (faults included).
    pub(crate) requests: usize,
    /// Connections accepted.
    pub(crate) connections: usize,
    pub(crate) environments: Table,
    /// The latest version of each agent.
    pub(crate) agents: Table,
    /// Every version of each agent, oldest first.
    pub(crate) agent_versions: HashMap<String, Vec<Value>>,
    pub(crate) sessions: Table,
    /// Each session's events and the answers its agent waits for (a child thread's events
    /// under the thread's id).
    pub(crate) logs: HashMap<String, Log>,
    /// The threads of multi-agent sessions.
    pub(crate) threads: Threads,
    pub(crate) files: Table,
    pub(crate) file_bytes: HashMap<String, Vec<u8>>,
    pub(crate) vaults: Table,
    pub(crate) credentials: Table,
    pub(crate) memory_stores: Table,
    pub(crate) memories: Table,
    /// Each memory's content.
    pub(crate) memory_content: HashMap<String, String>,
    pub(crate) memory_versions: Table,
    pub(crate) deployments: Table,
    pub(crate) deployment_runs: Table,
    pub(crate) skills: Table,
    pub(crate) skill_versions: Table,
    /// Each skill version's files: path and bytes.
    pub(crate) skill_files: HashMap<String, Vec<(String, Vec<u8>)>>,
    /// The work queues of self-hosted environments.
    pub(crate) work: Queue,
    pub(crate) script: Option<Script>,
    pub(crate) faults: Faults,
    /// Whether the version and betas must be exactly those of the SDK the emulator speaks for.
    pub(crate) strict: bool,
    /// What each request carried.
    pub(crate) request_log: RequestLog,
    /// Where webhook events go, if anywhere.
    pub(crate) webhooks: Outbox,
    /// The cassette being replayed, if any: it answers before the emulator does.
    pub(crate) replay: Option<Replay>,
    /// The token bucket of the rate-limit fault, once a request met it.
    pub(crate) rate_bucket: Option<Bucket>,
    /// Requests answered 429 by the rate-limit fault.
    pub(crate) rate_limited: usize,
}

/// A session's event log.
#[derive(Default)]
pub(crate) struct Log {
    pub(crate) events: Vec<Value>,
    /// Answers the agent waits for: tool use id -> the user event that answered it.
    pub(crate) answers: HashMap<String, Value>,
    /// Turns being played (a session's log only).
    pub(crate) turns: usize,
    /// Set by a `user.interrupt` while the session's turn (or the thread) runs: it stops at
    /// its next step; cleared when the session's last turn ends.
    pub(crate) interrupted: bool,
}

impl Default for State {
    fn default() -> State {
        State {
            clock: Clock::default(),
            requests: 0,
            connections: 0,
            environments: Table::new(
                "environment",
                "environment_deleted",
                &["name", "description", "config", "metadata"],
            ),
            agents: Table::new("agent", "agent_deleted", &[]),
            agent_versions: HashMap::new(),
            sessions: Table::new(
                "session",
                "session_deleted",
                &["title", "metadata", "budget"],
            ),
            logs: HashMap::new(),
            threads: Default::default(),
            files: Table::new("file", "file_deleted", &[]),
            file_bytes: HashMap::new(),
            vaults: Table::new("vault", "vault_deleted", &["display_name", "metadata"]),
            credentials: Table::new(
                "credential",
                "vault_credential_deleted",
                &["display_name", "metadata"],
            ),
            memory_stores: Table::new(
                "memory store",
                "memory_store_deleted",
                &["name", "description", "metadata"],
            ),
            memories: Table::new("memory", "memory_deleted", &[]),
            memory_content: HashMap::new(),
            memory_versions: Table::new("memory version", "memory_version_deleted", &[]),
            deployments: Table::new("deployment", "deployment_deleted", &[]),
            deployment_runs: Table::new("deployment run", "deployment_run_deleted", &[]),
            skills: Table::new("skill", "skill_deleted", &[]),
            skill_versions: Table::new("skill version", "skill_version_deleted", &[]),
            skill_files: HashMap::new(),
            work: Default::default(),
            script: None,
            faults: Faults::default(),
            strict: false,
            request_log: Default::default(),
            webhooks: Default::default(),
            replay: None,
            rate_bucket: None,
            rate_limited: 0,
        }
    }
}

impl State {
    /// Returns a new id with the API's prefix.
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.clock.id(prefix)
    }

    /// Returns now, strictly after the last time given out.
    pub(crate) fn now(&mut self) -> String {
        self.clock.now()
    }

    /// Adds an event to a session's log, with an id and `processed_at`; returns it.
    pub(crate) fn push_event(&mut self, session_id: &str, mut event: Value) -> Value {
        if event.get("id").is_none() {
            event["id"] = json!(self.id("sevt"));
        }
        event["processed_at"] = json!(self.now());
        if let Some(log) = self.logs.get_mut(session_id) {
            log.events.push(event.clone());
        }
        let live = self.session(session_id).is_some();
        self.webhooks
            .session_event(&mut self.clock, live, session_id, &event);
        event
    }

    /// Returns a live (not deleted) session's object.
    pub(crate) fn session(&self, id: &str) -> Option<&Value> {
        self.sessions.get(id).ok()
    }

    /// Sets a session's status (and its `updated_at`).
    pub(crate) fn set_status(&mut self, session_id: &str, status: &str) {
        let now = self.now();
        if let Ok(s) = self.sessions.get_mut(session_id) {
            s["status"] = json!(status);
            s["updated_at"] = json!(now);
        }
    }

    /// Adds one model call to a session's usage: its tokens, and its list cost of
    /// [`LIST_COST_PER_MODEL_CALL`] US cents.
    pub(crate) fn add_usage(&mut self, session_id: &str, input: i64, output: i64) {
        if let Ok(s) = self.sessions.get_mut(session_id) {
            let u = &mut s["usage"];
            let add = |u: &mut Value, k: &str, n: i64| {
                let v = u.get(k).and_then(Value::as_i64).unwrap_or(0) + n;
                u[k] = json!(v);
            };
            add(u, "input_tokens", input);
            add(u, "output_tokens", output);
            add(u, "cache_read_input_tokens", 0);
            u["cache_creation"] =
                json!({"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0});
            let cents = list_cost_cents(u) + LIST_COST_PER_MODEL_CALL;
            u["list_cost"] = json!({"amount": cents.to_string(), "currency": "USD"});
        }
    }

    /// Tells whether a session's list cost has reached its budget's `max_list_cost` (never
    /// when it has no budget).
    pub(crate) fn budget_reached(&self, session_id: &str) -> bool {
        let Some(s) = self.session(session_id) else {
            return false;
        };
        let Some(cap) = s["budget"]["max_list_cost"]["amount"]
            .as_str()
            .and_then(|a| a.parse::<u64>().ok())
        else {
            return false;
        };
        list_cost_cents(&s["usage"]) >= cap
    }

    /// Posts a webhook event of `kind` about the object `id` (at `at`, or now), with the
    /// `extra` fields of its kind, when an endpoint wants it.
    pub(crate) fn emit_webhook(
        &mut self,
        kind: &str,
        id: &str,
        at: Option<&str>,
        extra: &[(&str, &str)],
    ) {
        self.webhooks.emit(&mut self.clock, kind, id, at, extra);
    }
}

/// What one model call of the scripted agent costs at list price, in US cents: each message the
/// agent says is one model call.
pub const LIST_COST_PER_MODEL_CALL: u64 = 10;

/// Reads the cents of a usage's `list_cost` (0 when it has none).
fn list_cost_cents(usage: &Value) -> u64 {
    usage["list_cost"]["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or(0)
}
