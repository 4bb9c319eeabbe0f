//! Memory stores and their memories (path, content, its SHA-256 and size).

use super::super::reply::{json_body, not_found, page, required_str, Reply, Routed};
use super::super::store::metadata;
use super::super::Shared;
use super::Request;
use serde_json::{json, Value};

pub(crate) fn route(shared: &Shared, r: &Request, segs: &[&str]) -> Routed {
    let mut s = shared.lock();
    match (r.method, segs) {
        ("GET", []) => s.memory_stores.list(r.query, |_| true),
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
            if (m, rest) == ("DELETE", &[][..]) {
                s.memories.retain(|m| m["memory_store_id"] != *sid);
            }
            if let Some(done) = s
                .memory_stores
                .object_routes(sid, m, rest, r.body, now.clone())
            {
                return done;
            }
            match (m, rest) {
                ("GET", ["memories"]) => {
                    let all = s.memories.values().filter(|m| m["memory_store_id"] == *sid);
                    page(all.cloned().collect(), r.query)
                }
                ("POST", ["memories"]) => {
                    let body = json_body(r.body)?;
                    let path = required_str(&body, "path")?.to_string();
                    let content = body.get("content").and_then(Value::as_str).unwrap_or("");
                    let id = s.id("mem");
                    let ver = s.id("memver");
                    let mut mem = json!({"id": id, "type": "memory", "memory_store_id": sid,
                        "memory_version_id": ver, "path": path,
                        "content_sha256": sha256_hex(content.as_bytes()),
                        "content_size_bytes": content.len(), "created_at": now, "updated_at": now});
                    s.memories.insert(mem.clone());
                    if r.query.get("view") == Some("full") {
                        mem["content"] = json!(content);
                    }
                    Ok(Reply::Json(mem))
                }
                (m, ["memories", mid]) => {
                    if s.memories.get(mid)?["memory_store_id"] != *sid {
                        return Err(not_found("memory", mid));
                    }
                    s.memories
                        .object_routes(mid, m, &[], r.body, now)
                        .unwrap_or_else(|| Err(not_found("path", mid)))
                }
                _ => Err(not_found("path", &rest.join("/"))),
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
