//! Memory stores; their memories and memory versions are in `memories`.

use super::super::reply::Request;
use super::super::reply::{bad, json_body, limit_within, not_found, required_str, Reply, Routed};
use super::super::shared::Shared;
use super::super::store::metadata;
use super::memories;
use serde_json::{json, Value};

/// Answers `/v1/memory_stores/...` (`segs` is what follows `memory_stores`).
pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => {
            limit_within(r.query, 100)?;
            s.memory_stores.list(r.query, |_| true)
        }
        ("POST", []) => {
            let body = json_body(r.body)?;
            let name = required_str(&body, "name")?.to_string();
            let id = s.id("memstore");
            let now = s.now();
            let m = json!({"id": id, "type": "memory_store", "name": name,
                "description": body.get("description").and_then(Value::as_str).unwrap_or(""),
                "metadata": metadata(&body), "created_at": now, "updated_at": now});
            Ok(Reply::Json(s.memory_stores.insert(m)))
        }
        (m, [sid, rest @ ..]) => {
            let now = s.now();
            s.memory_stores.get(sid)?;
            match (m, rest) {
                (_, ["memories", tail @ ..]) => memories::route(&mut s, r, sid, tail),
                (_, ["memory_versions", tail @ ..]) => {
                    memories::route_versions(&mut s, r, sid, tail)
                }
                ("POST", []) if !s.memory_stores.get(sid)?["archived_at"].is_null() => Err(bad(
                    format!("memory store {sid} is archived and cannot be updated"),
                )),
                ("DELETE", []) => {
                    memories::forget_store(&mut s, sid);
                    s.memory_stores.delete(sid)
                }
                _ => s
                    .memory_stores
                    .object_routes(sid, m, rest, r.body, now)
                    .unwrap_or_else(|| Err(not_found("path", &rest.join("/")))),
            }
        }
        _ => Err(not_found("path", "memory_stores")),
    }
}
