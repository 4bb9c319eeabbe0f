//! Vaults and their credentials (secrets are write-only: never returned).

use super::super::reply::{bad, json_body, not_found, required_str, Reply, Routed};
use super::super::store::metadata;
use super::super::Shared;
use super::Request;
use serde_json::json;

/// The fields of a credential's `auth` that are secrets.
const SECRETS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "value",
];

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
                    let mut auth = body
                        .get("auth")
                        .filter(|a| a.is_object())
                        .cloned()
                        .ok_or_else(|| bad("auth: Field required"))?;
                    if let Some(a) = auth.as_object_mut() {
                        for k in SECRETS {
                            a.remove(*k);
                        }
                    }
                    let id = s.id("vcrd");
                    let mut c = json!({"id": id, "type": "vault_credential", "vault_id": vid, "auth": auth,
                        "metadata": metadata(&body), "created_at": now, "updated_at": now});
                    if let Some(d) = body.get("display_name").filter(|d| d.is_string()) {
                        c["display_name"] = d.clone();
                    }
                    Ok(Reply::Json(s.credentials.insert(c)))
                }
                (m, ["credentials", cid, tail @ ..]) => {
                    if s.credentials.get(cid)?["vault_id"] != *vid {
                        return Err(not_found("credential", cid));
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
