//! Environments: create (a cloud config completed as the API does), the shared CRUD, and the
//! routes of a self-hosted environment's work queue (in `work`).

use super::super::reply::Request;
use super::super::reply::{
    bad, json_body, not_found, refused, required_str, ApiError, Reply, Routed,
};
use super::super::shared::Shared;
use super::super::store::metadata;
use serde_json::{json, Value};

/// Answers `/v1/environments/...` (`segs` is what follows `environments`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    if let [id, "work", rest @ ..] = segs {
        return super::work::route(shared, r, id, rest);
    }
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => s.environments.list(r.query, |_| true),
        ("POST", []) => {
            let body = json_body(r.body)?;
            let name = required_str(&body, "name")?.to_string();
            check_scope(&body)?;
            let id = s.id("env");
            let now = s.now();
            let mut env = json!({"id": id, "type": "environment", "name": name,
                "config": config(body.get("config")), "scope": "organization",
                "metadata": metadata(&body), "created_at": now, "updated_at": now});
            if let Some(d) = body.get("description").filter(|d| d.is_string()) {
                env["description"] = d.clone();
            }
            Ok(Reply::Json(s.environments.insert(env)))
        }
        ("POST", [id]) => {
            // an archived environment is not updated, nor is the kind of its config changed
            let env = s.environments.get(id)?;
            if !env["archived_at"].is_null() {
                return Ok(refused(
                    400,
                    "invalid_request_error",
                    format!("environment {id} is archived and cannot be updated"),
                    "environment_archived",
                ));
            }
            let body = json_body(r.body)?;
            check_scope(&body)?;
            let asked = body.get("config").filter(|c| c.is_object());
            if let Some(c) = asked.filter(|c| c["type"] != env["config"]["type"]) {
                return Ok(refused(
                    400,
                    "invalid_request_error",
                    format!(
                        "config.type: {} cannot become {} after the environment is created",
                        env["config"]["type"], c["type"]
                    ),
                    "invalid_config_type_change",
                ));
            }
            let now = s.now();
            let mut updated = s.environments.update(id, &body, now)?;
            if asked.is_some() {
                updated["config"] = config(asked);
                s.environments.insert(updated.clone());
            }
            Ok(Reply::Json(updated))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            s.environments
                .object_routes(id, m, rest, r.body, now)
                .unwrap_or_else(|| Err(not_found("path", &rest.join("/"))))
        }
        _ => Err(not_found("path", "environments")),
    }
}

/// Checks `scope`: an API organization's environments are visible to the whole organization:
/// `scope` may be `organization` (the default), never `account`.
fn check_scope(body: &Value) -> Result<(), ApiError> {
    match body.get("scope") {
        None | Some(Value::Null) => Ok(()),
        Some(s) if s == "organization" => Ok(()),
        Some(s) => Err(bad(format!(
            "scope: {s} is not supported; API organizations support only \"organization\""
        ))),
    }
}

/// Completes an environment's config as the API does: a cloud one gets unrestricted networking
/// and empty package lists unless asked otherwise.
fn config(asked: Option<&Value>) -> Value {
    match asked {
        Some(c) if c.is_object() => {
            let mut c = c.clone();
            if c["type"] == "cloud" {
                if c.get("networking").is_none_or(Value::is_null) {
                    c["networking"] = json!({"type": "unrestricted"});
                }
                // limited networking answers every one of its fields
                if c["networking"]["type"] == "limited" {
                    let n = &mut c["networking"];
                    for (k, default) in [
                        ("allowed_hosts", json!([])),
                        ("allow_mcp_servers", json!(false)),
                        ("allow_package_managers", json!(false)),
                    ] {
                        if n.get(k).is_none_or(Value::is_null) {
                            n[k] = default;
                        }
                    }
                }
                let mut packages = no_packages();
                for (k, v) in c["packages"].as_object().into_iter().flatten() {
                    packages[k] = v.clone();
                }
                c["packages"] = packages;
            }
            c
        }
        _ => {
            json!({"type": "cloud", "networking": {"type": "unrestricted"}, "packages": no_packages()})
        }
    }
}

/// Returns a cloud environment's packages when none are asked for.
fn no_packages() -> Value {
    json!({"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []})
}
