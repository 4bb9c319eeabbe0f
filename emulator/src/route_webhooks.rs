//! The webhook events of the API's routes: the objects they create, update, archive, delete,
//! pause and unpause, read from each answered request (its method, path and answer), so that no
//! resource's code knows of webhooks.

use super::reply::{Reply, Routed};
use super::shared::Shared;
use super::state::State;
use super::webhooks::{kind_of, ROUTE_KINDS};
use serde_json::Value;

/// Returns what a request must know before it is answered: for an agent's update, the version the
/// agent had (only a new version is `agent.updated`). `None` when no endpoint is set.
pub(crate) fn observe_before(shared: &Shared, method: &str, segs: &[&str]) -> Option<Value> {
    if method == "GET" {
        return None;
    }
    let s = shared.lock();
    if !s.webhooks.enabled() {
        return None;
    }
    Some(match (method, segs) {
        ("POST", ["agents", id]) => s
            .agents
            .get(id)
            .map(|a| a["version"].clone())
            .unwrap_or_default(),
        _ => Value::Null,
    })
}

/// Posts the webhook events of an answered request (`before` from [`observe_before`]).
pub(crate) fn observe_after(
    shared: &Shared,
    method: &str,
    segs: &[&str],
    before: Option<Value>,
    routed: &Routed,
) {
    let (Some(before), Ok(Reply::Json(answer))) = (before, routed) else {
        return;
    };
    let mut s = shared.lock();
    let str_of = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
    let (verb, collection, id, at) = match (method, segs) {
        ("POST", ["vaults", vault, "credentials"]) => {
            let (id, at) = (str_of(answer, "id"), str_of(answer, "created_at"));
            return credential(&mut s, "created", id, at, vault);
        }
        ("POST", ["vaults", vault, "credentials", _, "archive"]) => {
            let (id, at) = (str_of(answer, "id"), str_of(answer, "archived_at"));
            return credential(&mut s, "archived", id, at, vault);
        }
        ("DELETE", ["vaults", vault, "credentials", id]) => {
            return credential(&mut s, "deleted", Some(id.to_string()), None, vault);
        }
        ("POST", [c]) => (
            "created",
            *c,
            str_of(answer, "id"),
            str_of(answer, "created_at"),
        ),
        ("POST", [c, id]) => {
            if *c == "agents" && answer["version"] == before {
                // an update that made no new version
                return;
            }
            (
                "updated",
                *c,
                Some(id.to_string()),
                str_of(answer, "updated_at"),
            )
        }
        ("POST", [c, id, "archive"]) => (
            "archived",
            *c,
            Some(id.to_string()),
            str_of(answer, "archived_at"),
        ),
        ("DELETE", [c, id]) => ("deleted", *c, Some(id.to_string()), None),
        ("POST", ["deployments", id, "pause"]) => (
            "paused",
            "deployments",
            Some(id.to_string()),
            str_of(answer, "updated_at"),
        ),
        ("POST", ["deployments", id, "unpause"]) => (
            "unpaused",
            "deployments",
            Some(id.to_string()),
            str_of(answer, "updated_at"),
        ),
        ("POST", ["deployments", id, "run"]) => {
            // a run that failed for good pauses its deployment
            let paused = s
                .deployments
                .get(id)
                .ok()
                .filter(|d| !answer["error"].is_null() && d["status"] == "paused")
                .map(|d| str_of(d, "updated_at"));
            let Some(at) = paused else { return };
            ("paused", "deployments", Some(id.to_string()), at)
        }
        _ => return,
    };
    let (Some(prefix), Some(id)) = (kind_of(collection), id) else {
        return;
    };
    let kind = format!("{prefix}.{verb}");
    if ROUTE_KINDS.contains(&kind.as_str()) {
        s.emit_webhook(&kind, &id, at.as_deref(), &[]);
    }
}

/// Posts a `vault_credential.{verb}` event.
fn credential(s: &mut State, verb: &str, id: Option<String>, at: Option<String>, vault: &str) {
    if let Some(id) = id {
        let kind = format!("vault_credential.{verb}");
        s.emit_webhook(&kind, &id, at.as_deref(), &[("vault_id", vault)]);
    }
}
