//! Memory stores; their memories and memory versions are in `memories`.

use super::super::reply::{bad, json_body, limit_within, not_found, required_str, Reply, Routed};
use super::super::store::metadata;
use super::super::Shared;
use super::{memories, Request};
use serde_json::{json, Value};

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

/// The SHA-256 of content, as 64 lower-case hex digits.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_is_the_real_digest() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
