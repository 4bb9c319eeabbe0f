//! The memories of a memory store and their versions: paths unique in a store, content with
//! its SHA-256, `view` basic or full, preconditions on the content's hash (409), listing by
//! path prefix and depth, and a version for every change (created, modified, deleted) that
//! stays after the memory is deleted and can be redacted.

use super::super::reply::Request;
use super::super::reply::{
    bad, created_within, json_body, limit_within, not_found, page, ApiError, Query, Reply, Routed,
};
use super::super::state::State;
use serde_json::{json, Value};

/// The most bytes a memory holds.
const MAX_CONTENT: usize = 102_400;
/// Who the emulator says made a change: the caller's API key.
const ACTOR: &str = "apikey_011EMUemulator";

/// Answers `/v1/memory_stores/{store}/memories/...` (`segs` is what follows `memories`).
pub(crate) fn route(s: &mut State, r: &Request, store: &str, segs: &[&str]) -> Routed {
    let full = |default: bool| match r.query.get("view") {
        Some("full") => Ok(true),
        Some("basic") => Ok(false),
        Some(other) => Err(bad(format!("view: {other:?} is not basic or full"))),
        None => Ok(default),
    };
    match (r.method, segs) {
        ("GET", []) => list(s, r.query, store, full(false)?),
        ("POST", []) => {
            let body = json_body(r.body)?;
            let path = valid_path(body.get("path"))?;
            // `""` makes an empty memory; no content at all is a missing field
            let content = valid_content(body.get("content"))?
                .ok_or_else(|| bad("content: Field required"))?;
            if find_path(s, store, &path).is_some() {
                return Err(path_conflict(&path));
            }
            let id = s.id("mem");
            let now = s.now();
            let mut mem = json!({"id": id, "type": "memory", "memory_store_id": store,
                "path": path, "created_at": now, "updated_at": now});
            set_content(&mut mem, &content);
            s.memory_content.insert(id.clone(), content);
            add_version(s, &mut mem, "created", &now);
            s.memories.insert(mem.clone());
            Ok(Reply::Json(view(s, mem, full(false)?)))
        }
        (m, [mid]) => {
            let mem = s.memories.get(mid)?.clone();
            if mem["memory_store_id"] != store {
                return Err(not_found("memory", mid));
            }
            match m {
                "GET" => Ok(Reply::Json(view(s, mem, full(true)?))),
                "POST" => update(s, r, mem, full(false)?),
                "DELETE" => {
                    if let Some(expected) = r.query.get("expected_content_sha256") {
                        precondition(&mem, expected)?;
                    }
                    let now = s.now();
                    let mut gone = mem;
                    add_version(s, &mut gone, "deleted", &now);
                    s.memory_content.remove(*mid);
                    s.memories.delete(mid)
                }
                _ => Err(not_found("path", mid)),
            }
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Answers `/v1/memory_stores/{store}/memory_versions/...`
pub(crate) fn route_versions(s: &mut State, r: &Request, store: &str, segs: &[&str]) -> Routed {
    let full = |default: bool| r.query.get("view").map_or(default, |v| v == "full");
    match (r.method, segs) {
        ("GET", []) => {
            let q = r.query;
            limit_within(q, 100)?;
            let keep = |v: &Value| {
                v["memory_store_id"] == store
                    && q.get("memory_id").is_none_or(|m| v["memory_id"] == m)
                    && q.get("operation").is_none_or(|o| v["operation"] == o)
                    && q.get("api_key_id")
                        .is_none_or(|k| v["created_by"]["api_key_id"] == k)
                    && q.get("session_id")
                        .is_none_or(|k| v["created_by"]["session_id"] == k)
                    && created_within(q, v["created_at"].as_str().unwrap_or(""))
            };
            let mut all: Vec<Value> = s
                .memory_versions
                .values()
                .filter(|v| keep(v))
                .cloned()
                .collect();
            all.reverse();
            let all = all
                .into_iter()
                .map(|v| version_view(v, full(false)))
                .collect();
            page(all, q)
        }
        ("GET", [vid]) => {
            let v = version_in(s, store, vid)?;
            Ok(Reply::Json(version_view(v, full(true))))
        }
        ("POST", [vid, "redact"]) => {
            version_in(s, store, vid)?;
            let now = s.now();
            let v = s.memory_versions.get_mut(vid)?;
            if v["redacted_at"].is_null() {
                for k in ["content", "path", "content_sha256", "content_size_bytes"] {
                    v[k] = Value::Null;
                }
                v["redacted_at"] = json!(now);
                v["redacted_by"] = json!({"type": "api_actor", "api_key_id": ACTOR});
            }
            Ok(Reply::Json(v.clone()))
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

/// Removes a deleted store's memories, their contents and versions.
pub(crate) fn forget_store(s: &mut State, store: &str) {
    let ids: Vec<String> = s
        .memories
        .values()
        .filter(|m| m["memory_store_id"] == store)
        .filter_map(|m| m["id"].as_str().map(String::from))
        .collect();
    for id in ids {
        s.memory_content.remove(&id);
    }
    s.memories.retain(|m| m["memory_store_id"] != store);
    s.memory_versions.retain(|v| v["memory_store_id"] != store);
}

fn update(s: &mut State, r: &Request, mut mem: Value, full: bool) -> Routed {
    let body = json_body(r.body)?;
    if let Some(p) = body.get("precondition").filter(|p| !p.is_null()) {
        if p["type"] != "content_sha256" {
            return Err(bad("precondition: the only type is content_sha256"));
        }
        precondition(&mem, p["content_sha256"].as_str().unwrap_or(""))?;
    }
    let id = mem["id"].as_str().unwrap_or_default().to_string();
    let store = mem["memory_store_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut changed = false;
    if let Some(p) = body.get("path").filter(|p| !p.is_null()) {
        let path = valid_path(Some(p))?;
        if path != mem["path"] {
            if find_path(s, &store, &path).is_some() {
                return Err(path_conflict(&path));
            }
            mem["path"] = json!(path);
            changed = true;
        }
    }
    if let Some(content) = valid_content(body.get("content"))? {
        if s.memory_content.get(&id) != Some(&content) {
            set_content(&mut mem, &content);
            s.memory_content.insert(id.clone(), content);
            changed = true;
        }
    }
    if changed {
        let now = s.now();
        mem["updated_at"] = json!(now);
        add_version(s, &mut mem, "modified", &now);
        s.memories.insert(mem.clone());
    }
    Ok(Reply::Json(view(s, mem, full)))
}

/// Answers one page of a store's memories under `path_prefix`, by path; with `depth`, the memories
/// deeper than it are one `memory_prefix` per directory.
fn list(s: &State, q: &Query, store: &str, full: bool) -> Routed {
    limit_within(q, 100)?;
    let prefix = q.get("path_prefix").unwrap_or("/");
    if !prefix.starts_with('/') || !prefix.ends_with('/') {
        return Err(bad("path_prefix: must start and end with /"));
    }
    let depth = match q.get("depth") {
        Some(d) => d
            .parse::<usize>()
            .map_err(|_| bad("depth: must be a whole number"))?,
        None => 0,
    };
    let mut mems: Vec<&Value> = s
        .memories
        .values()
        .filter(|m| m["memory_store_id"] == store)
        .filter(|m| m["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
        .collect();
    mems.sort_by_key(|m| m["path"].as_str().unwrap_or("").to_string());
    let mut items: Vec<Value> = Vec::new();
    for m in mems {
        let rest = m["path"].as_str().unwrap_or("")[prefix.len()..].to_string();
        let segments: Vec<&str> = rest.split('/').collect();
        if depth > 0 && segments.len() > depth {
            let dir = format!("{prefix}{}/", segments[..depth].join("/"));
            if !items
                .iter()
                .any(|i| i["path"] == dir.as_str() && i["type"] == "memory_prefix")
            {
                items.push(json!({"type": "memory_prefix", "path": dir}));
            }
        } else {
            items.push(view(s, m.clone(), full));
        }
    }
    page(items, q)
}

/// Returns a memory as answered: with its content for `view=full`, `null` for `basic`.
fn view(s: &State, mut mem: Value, full: bool) -> Value {
    mem["content"] = match (
        full,
        mem["id"].as_str().and_then(|id| s.memory_content.get(id)),
    ) {
        (true, Some(c)) => json!(c),
        _ => Value::Null,
    };
    mem
}

fn version_view(mut v: Value, full: bool) -> Value {
    if !full {
        v["content"] = Value::Null;
    }
    v
}

fn version_in(s: &State, store: &str, vid: &str) -> Result<Value, ApiError> {
    match s.memory_versions.get(vid) {
        Ok(v) if v["memory_store_id"] == store => Ok(v.clone()),
        _ => Err(not_found("memory version", vid)),
    }
}

/// Records a version of the memory (and makes it the memory's current one).
fn add_version(s: &mut State, mem: &mut Value, operation: &str, now: &str) {
    let id = s.id("memver");
    let deleted = operation == "deleted";
    let content = mem["id"]
        .as_str()
        .and_then(|m| s.memory_content.get(m))
        .cloned();
    let v = json!({
        "id": id, "type": "memory_version", "memory_id": mem["id"],
        "memory_store_id": mem["memory_store_id"], "operation": operation,
        "path": mem["path"], "created_at": now,
        "content": if deleted { Value::Null } else { json!(content) },
        "content_sha256": if deleted { Value::Null } else { mem["content_sha256"].clone() },
        "content_size_bytes": if deleted { Value::Null } else { mem["content_size_bytes"].clone() },
        "created_by": {"type": "api_actor", "api_key_id": ACTOR},
        "redacted_at": null, "redacted_by": null,
    });
    s.memory_versions.insert(v);
    mem["memory_version_id"] = json!(id);
}

fn set_content(mem: &mut Value, content: &str) {
    mem["content_sha256"] = json!(sha256_hex(content.as_bytes()));
    mem["content_size_bytes"] = json!(content.len());
}

fn find_path<'a>(s: &'a State, store: &str, path: &str) -> Option<&'a Value> {
    s.memories
        .values()
        .find(|m| m["memory_store_id"] == store && m["path"] == path)
}

fn precondition(mem: &Value, expected: &str) -> Result<(), ApiError> {
    if mem["content_sha256"] == expected {
        return Ok(());
    }
    Err(ApiError(
        409,
        "memory_precondition_failed_error",
        format!("the memory's content_sha256 is not {expected:?}"),
    ))
}

fn path_conflict(path: &str) -> ApiError {
    ApiError(
        409,
        "memory_path_conflict_error",
        format!("a memory at {path} already exists in this store"),
    )
}

/// Checks a memory path: starts with `/`, 1 to 20 segments, none empty, `.` or `..`, no control
/// characters, at most 1,024 bytes.
fn valid_path(v: Option<&Value>) -> Result<String, ApiError> {
    let p = v
        .and_then(Value::as_str)
        .ok_or_else(|| bad("path: Field required"))?;
    let segments: Vec<&str> = p.strip_prefix('/').unwrap_or("").split('/').collect();
    let ok = p.starts_with('/')
        && p.len() <= 1024
        && segments.len() <= 20
        && segments
            .iter()
            .all(|s| !s.is_empty() && *s != "." && *s != "..")
        && !p
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}');
    if !ok {
        return Err(bad(format!("path: {p:?} is not a memory path")));
    }
    Ok(p.to_string())
}

/// Reads content from a body: `None` when absent or `null`; at most 100 kB.
fn valid_content(v: Option<&Value>) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(c)) if c.len() <= MAX_CONTENT => Ok(Some(c.clone())),
        Some(Value::String(c)) => Err(bad(format!(
            "content: {} bytes is more than {MAX_CONTENT}",
            c.len()
        ))),
        Some(_) => Err(bad("content: must be a string")),
    }
}

/// Returns the SHA-256 of content, as 64 lower-case hex digits.
fn sha256_hex(bytes: &[u8]) -> String {
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
