//! Vaults and their credentials (secrets are write-only: never returned).

use super::super::reply::Request;
use super::super::reply::{bad, json_body, not_found, required_str, ApiError, Reply, Routed};
use super::super::shared::Shared;
use super::super::store::metadata;
use serde_json::{json, Value};

/// The fields of a credential's `auth` (at any depth) that are secrets.
const SECRETS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret_value",
    "value",
];

/// Answers `/v1/vaults/...` (`segs` is what follows `vaults`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => s.vaults.list(r.query, |_| true),
        ("POST", []) => {
            let body = json_body(r.body)?;
            let name = required_str(&body, "display_name")?.to_string();
            let id = s.id("vlt");
            let now = s.now();
            let v = json!({"id": id, "type": "vault", "display_name": name,
                "metadata": metadata(&body), "created_at": now, "updated_at": now});
            Ok(Reply::Json(s.vaults.insert(v)))
        }
        (m, [vid, rest @ ..]) => {
            let now = s.now();
            s.vaults.get(vid)?;
            if let Some(done) = s.vaults.object_routes(vid, m, rest, r.body, now.clone()) {
                return done;
            }
            match (m, rest) {
                ("GET", ["credentials"]) => s.credentials.list(r.query, |c| c["vault_id"] == *vid),
                ("POST", ["credentials"]) => {
                    let body = json_body(r.body)?;
                    let auth = body
                        .get("auth")
                        .filter(|a| a.is_object())
                        .ok_or_else(|| bad("auth: Field required"))?;
                    check_auth(auth)?;
                    let auth = auth_response(auth);
                    let id = s.id("vcrd");
                    let mut c = json!({"id": id, "type": "vault_credential", "vault_id": vid, "auth": auth,
                        "metadata": metadata(&body), "created_at": now, "updated_at": now});
                    if let Some(d) = body.get("display_name").filter(|d| d.is_string()) {
                        c["display_name"] = d.clone();
                    }
                    Ok(Reply::Json(s.credentials.insert(c)))
                }
                (m, ["credentials", cid, tail @ ..]) => {
                    let c = s.credentials.get(cid)?.clone();
                    if c["vault_id"] != *vid {
                        return Err(not_found("credential", cid));
                    }
                    if (m, tail) == ("POST", &["mcp_oauth_validate"][..]) {
                        return validate(&c, now).map(Reply::Json);
                    }
                    if (m, tail) == ("POST", &[][..]) {
                        // `auth` patches the old one (its kind and `mcp_server_url` stay), its
                        // secrets kept out as at create
                        let body = json_body(r.body)?;
                        if let Some(a) = body.get("auth").filter(|a| a.is_object()) {
                            if a["type"] != c["auth"]["type"] {
                                return Err(bad("auth.type: a credential's kind cannot change"));
                            }
                            let mut auth = c["auth"].clone();
                            for (k, v) in a.as_object().into_iter().flatten() {
                                if k != "mcp_server_url" && !v.is_null() {
                                    auth[k] = v.clone();
                                }
                            }
                            s.credentials.get_mut(cid)?["auth"] = auth_response(&auth);
                        }
                    }
                    s.credentials
                        .object_routes(cid, m, tail, r.body, now)
                        .unwrap_or_else(|| Err(not_found("path", &tail.join("/"))))
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "vaults")),
    }
}

/// Checks that a new credential's `auth` has a known kind and the fields that kind requires.
fn check_auth(auth: &Value) -> Result<(), ApiError> {
    let required: &[&str] = match auth["type"].as_str() {
        Some("static_bearer") => &["token", "mcp_server_url"],
        Some("mcp_oauth") => &["access_token", "mcp_server_url"],
        Some("environment_variable") => &["secret_name", "secret_value", "networking"],
        _ => {
            return Err(bad(
                "auth.type: must be static_bearer, mcp_oauth or environment_variable",
            ))
        }
    };
    for f in required {
        if auth.get(*f).is_none_or(Value::is_null) {
            return Err(bad(format!("auth.{f}: Field required")));
        }
    }
    Ok(())
}

/// Returns a credential's `auth` as the API does: the input without its secrets (at any depth),
/// an environment variable's `injection_location` filled in.
fn auth_response(asked: &Value) -> Value {
    let mut auth = asked.clone();
    strip_secrets(&mut auth);
    if auth["type"] == "environment_variable" {
        let asked = auth
            .get("injection_location")
            .filter(|l| l.is_object())
            .cloned();
        let mut location = asked.unwrap_or_else(|| json!({"header": true}));
        for k in ["body", "header"] {
            if !location[k].is_boolean() {
                location[k] = json!(false);
            }
        }
        auth["injection_location"] = location;
    }
    auth
}

fn strip_secrets(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        for k in SECRETS {
            o.remove(*k);
        }
        for child in o.values_mut() {
            strip_secrets(child);
        }
    }
}

/// Answers `mcp_oauth_validate`: the emulator reaches no MCP server, so an `mcp_oauth` credential
/// is `valid`; other kinds cannot be validated this way.
fn validate(c: &Value, now: String) -> Result<Value, ApiError> {
    if c["auth"]["type"] != "mcp_oauth" {
        return Err(bad("only mcp_oauth credentials can be validated"));
    }
    Ok(json!({
        "type": "vault_credential_validation", "credential_id": c["id"], "vault_id": c["vault_id"],
        "status": "valid", "has_refresh_token": c["auth"]["refresh"].is_object(),
        "mcp_probe": null, "refresh": null, "validated_at": now,
    }))
}
