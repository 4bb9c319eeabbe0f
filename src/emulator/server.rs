//! The emulator's HTTP side: routing, the API's objects and error bodies, the event stream,
//! and the faults.

use super::agent;
use super::store::{self, SessionState, Store};
use super::Shared;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

/// What a route answers.
enum Reply {
    Json(Value),
    Bytes(&'static str, Vec<u8>),
    Stream { session: String, previews: bool },
}

/// An error answer: status, error type, message.
struct ApiError(u16, &'static str, String);

type Routed = Result<Reply, ApiError>;

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError(404, "not_found_error", format!("{what} {id} not found"))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(400, "invalid_request_error", message.into())
}

pub(crate) fn serve(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(conn) = conn else { continue };
        let shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name("emulator request".into())
            .spawn(move || handle(&shared, conn));
    }
}

/// One request as read off the socket.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one HTTP/1.1 request (body by `content-length` or chunked).
fn read_request(conn: &TcpStream) -> Option<Request> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_ascii_uppercase();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut req = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            req.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = req
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        req.body = vec![0; len];
        r.read_exact(&mut req.body).ok()?;
    }
    Some(req)
}

fn lock(shared: &Shared) -> MutexGuard<'_, Store> {
    shared.store.lock().unwrap_or_else(|p| p.into_inner())
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: &str) -> Query {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn handle(shared: &Arc<Shared>, mut conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Some(request) = read_request(&conn) else {
        return;
    };
    let (faults, n) = {
        let mut s = lock(shared);
        s.requests += 1;
        (s.faults.clone(), s.requests)
    };
    if let Some(d) = faults.stall.or(faults.slow) {
        std::thread::sleep(d);
    }
    let fail = {
        let mut s = lock(shared);
        if s.faults.fail_next > 0 {
            s.faults.fail_next -= 1;
            true
        } else {
            faults.fail_every > 0 && n % faults.fail_every == 0
        }
    };
    if fail {
        let status = if faults.fail_status == 0 {
            529
        } else {
            faults.fail_status
        };
        let kind = if status == 429 {
            "rate_limit_error"
        } else {
            "overloaded_error"
        };
        let retry = if faults.retry_after_ms == 0 {
            20
        } else {
            faults.retry_after_ms
        };
        respond_error(
            &mut conn,
            ApiError(status, kind, "injected fault".into()),
            &[("retry-after-ms", retry.to_string())],
        );
    } else {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let query = Query::parse(query);
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let content_type = request.header("content-type").unwrap_or("").to_string();
        match route(
            shared,
            &request.method,
            &segs,
            &query,
            &content_type,
            &request.body,
        ) {
            Ok(Reply::Json(v)) => respond(
                &mut conn,
                200,
                "application/json",
                v.to_string().as_bytes(),
                &[],
            ),
            Ok(Reply::Bytes(ct, bytes)) => respond(&mut conn, 200, ct, &bytes, &[]),
            Ok(Reply::Stream { session, previews }) => {
                stream(shared, &mut conn, &session, previews, &faults)
            }
            Err(e) => respond_error(&mut conn, e, &[]),
        }
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        529 => "Overloaded",
        _ => "Status",
    }
}

fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(1);
    format!("req_011EMU{:016x}", h.finish())
}

fn respond(
    conn: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, String)],
) {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nrequest-id: {}\r\nconnection: close\r\n",
        reason(status),
        body.len(),
        request_id()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn respond_error(conn: &mut TcpStream, e: ApiError, extra: &[(&str, String)]) {
    let id = request_id();
    let body = json!({"type": "error", "error": {"type": e.1, "message": e.2}, "request_id": id});
    respond(
        conn,
        e.0,
        "application/json",
        body.to_string().as_bytes(),
        extra,
    );
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(bad("the body must be a JSON object"));
    }
    Ok(v)
}

fn required_str<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    match body.get(field).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!("{field}: Field required"))),
    }
}

/// One page of a list: `limit` (default 20, at most 1000) and an opaque `page` cursor.
fn page(items: Vec<Value>, query: &Query) -> Result<Reply, ApiError> {
    let limit = match query.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| bad("limit: must be an integer"))?
            .clamp(1, 1000),
        None => 20,
    };
    let offset = match query.get("page") {
        Some(p) => p
            .strip_prefix("page_")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| bad("page: invalid cursor"))?,
        None => 0,
    };
    let data: Vec<Value> = items.iter().skip(offset).take(limit).cloned().collect();
    let next = (offset + limit < items.len()).then(|| format!("page_{}", offset + limit));
    Ok(Reply::Json(json!({"data": data, "next_page": next})))
}

/// Lists a map's objects, newest first, leaving out archived ones unless asked.
fn listed(objects: impl Iterator<Item = Value>, query: &Query) -> Vec<Value> {
    let include_archived = query.get("include_archived") == Some("true");
    let mut v: Vec<Value> = objects
        .filter(|o| include_archived || o.get("archived_at").is_none_or(Value::is_null))
        .collect();
    v.reverse();
    v
}

/// Applies the fields of an update body to an object.
fn update(object: &mut Value, body: &Value, fields: &[&str], now: String) {
    for f in fields {
        if let Some(v) = body.get(*f) {
            if *f == "metadata" {
                let m = object["metadata"]
                    .as_object_mut()
                    .cloned()
                    .unwrap_or_default();
                let mut m: Map<String, Value> = m;
                for (k, val) in v.as_object().into_iter().flatten() {
                    if val.is_null() {
                        m.remove(k);
                    } else {
                        m.insert(k.clone(), val.clone());
                    }
                }
                object["metadata"] = Value::Object(m);
            } else if v.is_null() {
                if let Some(o) = object.as_object_mut() {
                    o.remove(*f);
                }
            } else {
                object[*f] = v.clone();
            }
        }
    }
    object["updated_at"] = json!(now);
}

/// One object of a map: `GET`, `POST` (an update of `fields`), `POST archive`, `DELETE`.
/// `None` when the request is none of these (a sub-resource).
struct Object<'a> {
    map: &'a mut BTreeMap<String, Value>,
    kind: &'a str,
    deleted: &'a str,
    fields: &'a [&'a str],
}

impl Object<'_> {
    fn handle(
        self,
        id: &str,
        method: &str,
        rest: &[&str],
        body: &[u8],
        now: String,
    ) -> Option<Routed> {
        let result = match (method, rest) {
            ("GET", []) => self
                .map
                .get(id)
                .cloned()
                .map(Reply::Json)
                .ok_or_else(|| not_found(self.kind, id)),
            ("POST", []) => json_body(body).and_then(|body| {
                let o = self
                    .map
                    .get_mut(id)
                    .ok_or_else(|| not_found(self.kind, id))?;
                update(o, &body, self.fields, now);
                Ok(Reply::Json(o.clone()))
            }),
            ("POST", ["archive"]) => self
                .map
                .get_mut(id)
                .map(|o| {
                    o["archived_at"] = json!(now);
                    Reply::Json(o.clone())
                })
                .ok_or_else(|| not_found(self.kind, id)),
            ("DELETE", []) => self
                .map
                .remove(id)
                .map(|_| Reply::Json(json!({"id": id, "type": self.deleted})))
                .ok_or_else(|| not_found(self.kind, id)),
            _ => return None,
        };
        Some(result)
    }
}

fn route(
    shared: &Arc<Shared>,
    method: &str,
    segs: &[&str],
    query: &Query,
    content_type: &str,
    body: &[u8],
) -> Routed {
    let Some((&"v1", segs)) = segs.split_first() else {
        return Err(not_found("path", ""));
    };
    match segs {
        ["environments", rest @ ..] => environments(shared, method, rest, query, body),
        ["agents", rest @ ..] => agents(shared, method, rest, query, body),
        ["sessions", rest @ ..] => sessions(shared, method, rest, query, body),
        ["files", rest @ ..] => files(shared, method, rest, query, content_type, body),
        ["vaults", rest @ ..] => vaults(shared, method, rest, query, body),
        ["memory_stores", rest @ ..] => memory_stores(shared, method, rest, query, body),
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

fn environments(
    shared: &Arc<Shared>,
    method: &str,
    segs: &[&str],
    query: &Query,
    body: &[u8],
) -> Routed {
    let mut s = lock(shared);
    match (method, segs) {
        ("GET", []) => page(listed(s.environments.values().cloned(), query), query),
        ("POST", []) => {
            let body = json_body(body)?;
            let name = required_str(&body, "name")?.to_string();
            let id = s.id("env");
            let now = s.now();
            let config = match body.get("config") {
                Some(c) if c.is_object() => {
                    let mut c = c.clone();
                    if c["type"] == "cloud" {
                        if c.get("networking").is_none_or(Value::is_null) {
                            c["networking"] = json!({"type": "unrestricted"});
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
            };
            let mut env = json!({"id": id, "type": "environment", "name": name, "config": config,
                "metadata": store::metadata(&body), "created_at": now, "updated_at": now});
            if let Some(d) = body.get("description").filter(|d| d.is_string()) {
                env["description"] = d.clone();
            }
            s.environments.insert(id, env.clone());
            Ok(Reply::Json(env))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            let fields = &["name", "description", "config", "metadata"];
            let object = Object {
                map: &mut s.environments,
                kind: "environment",
                deleted: "environment_deleted",
                fields,
            };
            object
                .handle(id, m, rest, body, now)
                .unwrap_or_else(|| Err(not_found("path", &rest.join("/"))))
        }
        _ => Err(not_found("path", "environments")),
    }
}

/// A cloud environment's packages when none are asked for.
fn no_packages() -> Value {
    json!({"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []})
}

fn agents(shared: &Arc<Shared>, method: &str, segs: &[&str], query: &Query, body: &[u8]) -> Routed {
    let mut s = lock(shared);
    let latest = |versions: &Vec<Value>| versions.last().cloned().unwrap_or_default();
    match (method, segs) {
        ("GET", []) => page(listed(s.agents.values().map(latest), query), query),
        ("POST", []) => {
            let body = json_body(body)?;
            let name = required_str(&body, "name")?.to_string();
            let model = body
                .get("model")
                .ok_or_else(|| bad("model: Field required"))?;
            let id = s.id("agent");
            let now = s.now();
            let mut agent = json!({
                "id": id, "type": "agent", "version": 1, "name": name, "model": store::resolve_model(model),
                "tools": store::resolve_tools(body.get("tools")),
                "mcp_servers": body.get("mcp_servers").cloned().unwrap_or(json!([])),
                "skills": body.get("skills").cloned().unwrap_or(json!([])),
                "execution_identity": {"type": "service_account"},
                "metadata": store::metadata(&body), "created_at": now, "updated_at": now
            });
            for f in ["system", "description"] {
                if let Some(v) = body.get(f).filter(|v| v.is_string()) {
                    agent[f] = v.clone();
                }
            }
            s.agents.insert(id, vec![agent.clone()]);
            Ok(Reply::Json(agent))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            let versions = s
                .agents
                .get_mut(*id)
                .ok_or_else(|| not_found("agent", id))?;
            match (m, rest) {
                ("GET", []) => match query.get("version") {
                    Some(v) => versions
                        .iter()
                        .find(|a| a["version"].as_i64().is_some_and(|n| n.to_string() == v))
                        .cloned()
                        .map(Reply::Json)
                        .ok_or_else(|| not_found("agent version", v)),
                    None => Ok(Reply::Json(latest(versions))),
                },
                ("POST", []) => {
                    let body = json_body(body)?;
                    let mut next = latest(versions);
                    update(
                        &mut next,
                        &body,
                        &[
                            "name",
                            "description",
                            "system",
                            "mcp_servers",
                            "skills",
                            "metadata",
                        ],
                        now,
                    );
                    if let Some(m) = body.get("model") {
                        next["model"] = store::resolve_model(m);
                    }
                    if body.get("tools").is_some() {
                        next["tools"] = store::resolve_tools(body.get("tools"));
                    }
                    next["version"] = json!(versions.len() + 1);
                    versions.push(next.clone());
                    Ok(Reply::Json(next))
                }
                ("POST", ["archive"]) => {
                    for v in versions.iter_mut() {
                        v["archived_at"] = json!(now);
                    }
                    Ok(Reply::Json(latest(versions)))
                }
                ("GET", ["versions"]) => {
                    let mut all = versions.clone();
                    all.reverse();
                    page(all, query)
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "agents")),
    }
}

/// The agent a session runs, as the API snapshots it.
fn session_agent(s: &Store, spec: &Value) -> Result<Value, ApiError> {
    let (id, version) = match spec {
        Value::String(id) => (id.clone(), None),
        Value::Object(o) => (
            o.get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("agent.id: Field required"))?
                .to_string(),
            o.get("version").and_then(Value::as_i64),
        ),
        _ => return Err(bad("agent: Field required")),
    };
    let versions = s.agents.get(&id).ok_or_else(|| not_found("agent", &id))?;
    let agent = match version {
        Some(v) => versions
            .iter()
            .find(|a| a["version"] == v)
            .ok_or_else(|| not_found("agent version", &v.to_string()))?,
        None => versions.last().ok_or_else(|| not_found("agent", &id))?,
    };
    let mut snap = agent.clone();
    if let Some(o) = snap.as_object_mut() {
        for k in ["created_at", "updated_at", "metadata", "archived_at"] {
            o.remove(k);
        }
    }
    Ok(snap)
}

fn resource(s: &mut Store, r: &Value) -> Result<Value, ApiError> {
    let id = s.id("sesrsc");
    let now = s.now();
    match r["type"].as_str() {
        Some("file") => {
            let file_id = required_str(r, "file_id")?;
            if !s.files.contains_key(file_id) {
                return Err(not_found("file", file_id));
            }
            let mount = r["mount_path"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("/mnt/session/uploads/{file_id}"));
            Ok(
                json!({"id": id, "type": "file", "file_id": file_id, "mount_path": mount, "created_at": now, "updated_at": now}),
            )
        }
        Some("github_repository") => {
            let url = required_str(r, "url")?;
            let repo = url
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("repo");
            let mount = r["mount_path"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("/workspace/{repo}"));
            let mut out = json!({"id": id, "type": "github_repository", "url": url, "mount_path": mount, "created_at": now, "updated_at": now});
            if r["checkout"].is_object() {
                out["checkout"] = r["checkout"].clone();
            }
            Ok(out)
        }
        Some("memory_store") => {
            let ms = required_str(r, "memory_store_id")?;
            let name = s
                .memory_stores
                .get(ms)
                .ok_or_else(|| not_found("memory store", ms))?["name"]
                .clone();
            Ok(
                json!({"type": "memory_store", "memory_store_id": ms, "name": name, "access": r.get("access").cloned().unwrap_or(json!("read_write"))}),
            )
        }
        _ => Err(bad("resources: unknown resource type")),
    }
}

fn sessions(
    shared: &Arc<Shared>,
    method: &str,
    segs: &[&str],
    query: &Query,
    body: &[u8],
) -> Routed {
    let mut s = lock(shared);
    match (method, segs) {
        ("GET", []) => {
            let mut all = listed(
                s.sessions
                    .values()
                    .filter(|x| !x.deleted)
                    .map(|x| x.object.clone()),
                query,
            );
            if let Some(a) = query.get("agent_id") {
                all.retain(|x| x["agent"]["id"] == a);
            }
            page(all, query)
        }
        ("POST", []) => {
            let body = json_body(body)?;
            let env = required_str(&body, "environment_id")?;
            if !s.environments.contains_key(env) {
                return Err(not_found("environment", env));
            }
            let agent = session_agent(&s, body.get("agent").unwrap_or(&Value::Null))?;
            let mut resources = Vec::new();
            for r in body["resources"].as_array().into_iter().flatten() {
                resources.push(resource(&mut s, r)?);
            }
            let id = s.id("sesn");
            let now = s.now();
            let mut object = json!({
                "id": id, "type": "session", "agent": agent, "environment_id": env, "status": "idle",
                "metadata": store::metadata(&body), "outcome_evaluations": [], "resources": resources,
                "stats": {"active_seconds": 0.0, "duration_seconds": 0.0}, "usage": {"input_tokens": 0, "output_tokens": 0},
                "vault_ids": body.get("vault_ids").cloned().unwrap_or(json!([])), "created_at": now, "updated_at": now
            });
            if let Some(t) = body.get("title").filter(|t| t.is_string()) {
                object["title"] = t.clone();
            }
            s.sessions.insert(
                id.clone(),
                SessionState {
                    object: object.clone(),
                    events: Vec::new(),
                    answers: HashMap::new(),
                    deleted: false,
                },
            );
            let initial: Vec<Value> = body["initial_events"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            drop(s);
            if !initial.is_empty() {
                send_events(shared, &id, &json!({"events": initial}))?;
            }
            Ok(Reply::Json(object))
        }
        (m, [id, rest @ ..]) => {
            let now = s.now();
            let session = s
                .sessions
                .get_mut(*id)
                .filter(|x| !x.deleted)
                .ok_or_else(|| not_found("session", id))?;
            match (m, rest) {
                ("GET", []) => Ok(Reply::Json(session.object.clone())),
                ("POST", []) => {
                    update(
                        &mut session.object,
                        &json_body(body)?,
                        &["title", "metadata"],
                        now,
                    );
                    Ok(Reply::Json(session.object.clone()))
                }
                ("POST", ["archive"]) => {
                    session.object["archived_at"] = json!(now);
                    Ok(Reply::Json(session.object.clone()))
                }
                ("DELETE", []) => {
                    if session.object["status"] == "running" {
                        return Err(bad(
                            "a running session cannot be deleted; interrupt it first",
                        ));
                    }
                    session.deleted = true;
                    drop(s);
                    shared.changed.notify_all();
                    Ok(Reply::Json(json!({"id": id, "type": "session_deleted"})))
                }
                ("GET", ["events"]) => {
                    let mut events = session.events.clone();
                    let types = query.all("types[]");
                    if !types.is_empty() {
                        events.retain(|e| types.iter().any(|t| e["type"] == *t));
                    }
                    let at = |e: &Value| e["processed_at"].as_str().unwrap_or("").to_string();
                    for (k, keep) in [
                        (
                            "created_at[gte]",
                            (|a: &str, b: &str| a >= b) as fn(&str, &str) -> bool,
                        ),
                        ("created_at[gt]", |a, b| a > b),
                        ("created_at[lte]", |a, b| a <= b),
                        ("created_at[lt]", |a, b| a < b),
                    ] {
                        if let Some(v) = query.get(k) {
                            events.retain(|e| keep(&at(e), v));
                        }
                    }
                    if query.get("order") == Some("desc") {
                        events.reverse();
                    }
                    page(events, query)
                }
                ("POST", ["events"]) => {
                    drop(s);
                    let sent = send_events(shared, id, &json_body(body)?)?;
                    Ok(Reply::Json(json!({"data": sent})))
                }
                ("GET", ["events", "stream"]) => Ok(Reply::Stream {
                    session: id.to_string(),
                    previews: query.all("event_deltas[]").contains(&"agent.message"),
                }),
                ("GET", ["threads"]) => page(Vec::new(), query),
                ("GET", ["resources"]) => page(
                    session.object["resources"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                    query,
                ),
                ("POST", ["resources"]) => {
                    let r = json_body(body)?;
                    let mut new = None;
                    drop(s);
                    let mut st = lock(shared);
                    let res = resource(&mut st, &r)?;
                    if let Some(x) = st.sessions.get_mut(*id) {
                        if let Some(list) = x.object["resources"].as_array_mut() {
                            list.push(res.clone());
                            new = Some(res);
                        }
                    }
                    new.map(Reply::Json).ok_or_else(|| not_found("session", id))
                }
                (m, ["resources", rid]) => {
                    let list = session.object["resources"]
                        .as_array_mut()
                        .ok_or_else(|| not_found("resource", rid))?;
                    let pos = list
                        .iter()
                        .position(|r| r["id"] == *rid)
                        .ok_or_else(|| not_found("resource", rid))?;
                    match m {
                        "GET" => Ok(Reply::Json(list[pos].clone())),
                        "DELETE" => {
                            list.remove(pos);
                            Ok(Reply::Json(
                                json!({"id": rid, "type": "session_resource_deleted"}),
                            ))
                        }
                        _ => Ok(Reply::Json(list[pos].clone())),
                    }
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "sessions")),
    }
}

/// Records user events, wakes the agent, and starts a turn for each user message.
fn send_events(shared: &Arc<Shared>, session: &str, body: &Value) -> Result<Vec<Value>, ApiError> {
    let events = body["events"]
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad("events: Field required"))?;
    let mut turns = Vec::new();
    let mut sent = Vec::new();
    {
        let mut s = lock(shared);
        let st = s
            .sessions
            .get(session)
            .filter(|x| !x.deleted)
            .ok_or_else(|| not_found("session", session))?;
        if st.object["status"] == "terminated" {
            return Err(bad("the session is terminated and accepts no events"));
        }
        for ev in events {
            let kind = ev["type"].as_str().unwrap_or("");
            match kind {
                "user.message"
                | "user.interrupt"
                | "user.custom_tool_result"
                | "user.tool_confirmation"
                | "user.tool_result"
                | "user.define_outcome"
                | "system.message" => {}
                other => return Err(bad(format!("events: unknown event type {other:?}"))),
            }
            let recorded = s.push_event(session, ev.clone());
            let st = s
                .sessions
                .get_mut(session)
                .ok_or_else(|| not_found("session", session))?;
            match kind {
                "user.custom_tool_result" => {
                    if let Some(id) = ev["custom_tool_use_id"].as_str() {
                        st.answers.insert(id.to_string(), recorded.clone());
                    }
                }
                "user.tool_confirmation" | "user.tool_result" => {
                    if let Some(id) = ev["tool_use_id"].as_str() {
                        st.answers.insert(id.to_string(), recorded.clone());
                    }
                }
                "user.message" => {
                    let text = ev["content"]
                        .as_array()
                        .map(|b| {
                            b.iter()
                                .filter_map(|x| x["text"].as_str())
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default();
                    turns.push(text);
                }
                _ => {}
            }
            sent.push(recorded);
        }
    }
    shared.changed.notify_all();
    for text in turns {
        let (shared, session) = (shared.clone(), session.to_string());
        let _ = std::thread::Builder::new()
            .name("emulator agent".into())
            .spawn(move || agent::run_turn(&shared, &session, &text));
    }
    Ok(sent)
}

/// One part of a form: name, file name, content type, bytes.
type Part = (String, Option<String>, String, Vec<u8>);

/// Splits a `multipart/form-data` body into its parts.
fn multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .ok_or_else(|| bad("the body must be multipart/form-data"))?;
    let delim = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)
            .and_then(|h| h.windows(needle.len()).position(|w| w == needle))
            .map(|p| p + from)
    };
    let mut parts = Vec::new();
    let mut pos = find(body, &delim, 0).ok_or_else(|| bad("no multipart boundary in the body"))?
        + delim.len();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        pos += 2; // CRLF
        let head_end = find(body, b"\r\n\r\n", pos)
            .ok_or_else(|| bad("a multipart part has no header end"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let start = head_end + 4;
        let mut end_delim = b"\r\n".to_vec();
        end_delim.extend_from_slice(&delim);
        let end =
            find(body, &end_delim, start).ok_or_else(|| bad("a multipart part has no end"))?;
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or("")
            .to_string();
        let param = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{name}=\""))
                    .map(|v| v.trim_end_matches('"').replace("%22", "\""))
            })
        };
        let ct = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        parts.push((
            param("name").unwrap_or_default(),
            param("filename"),
            ct,
            body[start..end].to_vec(),
        ));
        pos = end + end_delim.len();
    }
    Ok(parts)
}

fn files(
    shared: &Arc<Shared>,
    method: &str,
    segs: &[&str],
    query: &Query,
    content_type: &str,
    body: &[u8],
) -> Routed {
    let mut s = lock(shared);
    match (method, segs) {
        ("GET", []) => {
            let scope = query.get("scope_id");
            let all = s
                .files
                .values()
                .map(|(m, _)| m.clone())
                .filter(|m| scope.is_none_or(|id| m["scope"]["id"] == id));
            page(listed(all, query), query)
        }
        ("POST", []) => {
            let parts = multipart(content_type, body)?;
            let (_, filename, ct, bytes) = parts
                .into_iter()
                .find(|p| p.0 == "file")
                .ok_or_else(|| bad("file: Field required"))?;
            let filename = filename
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "unnamed".into());
            let filename = filename
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or("unnamed")
                .to_string();
            let id = s.id("file");
            let now = s.now();
            let meta = json!({"id": id, "type": "file", "filename": filename, "mime_type": ct,
                "size_bytes": bytes.len(), "created_at": now, "downloadable": false});
            s.files.insert(id, (meta.clone(), bytes));
            Ok(Reply::Json(meta))
        }
        ("GET", [id]) => s
            .files
            .get(*id)
            .map(|(m, _)| Reply::Json(m.clone()))
            .ok_or_else(|| not_found("file", id)),
        ("GET", [id, "content"]) => {
            let (meta, bytes) = s.files.get(*id).ok_or_else(|| not_found("file", id))?;
            let ct = agent::mime(meta["filename"].as_str().unwrap_or(""));
            Ok(Reply::Bytes(ct, bytes.clone()))
        }
        ("DELETE", [id]) => {
            s.files.remove(*id).ok_or_else(|| not_found("file", id))?;
            Ok(Reply::Json(json!({"id": id, "type": "file_deleted"})))
        }
        _ => Err(not_found("path", &segs.join("/"))),
    }
}

fn vaults(shared: &Arc<Shared>, method: &str, segs: &[&str], query: &Query, body: &[u8]) -> Routed {
    let mut s = lock(shared);
    match (method, segs) {
        ("GET", []) => page(listed(s.vaults.values().cloned(), query), query),
        ("POST", []) => {
            let body = json_body(body)?;
            let name = required_str(&body, "display_name")?.to_string();
            let id = s.id("vlt");
            let now = s.now();
            let v = json!({"id": id, "type": "vault", "display_name": name, "metadata": store::metadata(&body), "created_at": now, "updated_at": now});
            s.vaults.insert(id, v.clone());
            Ok(Reply::Json(v))
        }
        (m, [vid, rest @ ..]) => {
            let now = s.now();
            if !s.vaults.contains_key(*vid) {
                return Err(not_found("vault", vid));
            }
            let fields = &["display_name", "metadata"];
            let vault = Object {
                map: &mut s.vaults,
                kind: "vault",
                deleted: "vault_deleted",
                fields,
            };
            if let Some(done) = vault.handle(vid, m, rest, body, now.clone()) {
                return done;
            }
            match (m, rest) {
                ("GET", ["credentials"]) => page(
                    listed(
                        s.credentials
                            .values()
                            .filter(|c| c["vault_id"] == *vid)
                            .cloned(),
                        query,
                    ),
                    query,
                ),
                ("POST", ["credentials"]) => {
                    let body = json_body(body)?;
                    let mut auth = body
                        .get("auth")
                        .filter(|a| a.is_object())
                        .cloned()
                        .ok_or_else(|| bad("auth: Field required"))?;
                    // secrets are write-only: never returned
                    if let Some(a) = auth.as_object_mut() {
                        for k in [
                            "token",
                            "access_token",
                            "refresh_token",
                            "client_secret",
                            "value",
                        ] {
                            a.remove(k);
                        }
                    }
                    let id = s.id("vcrd");
                    let mut c = json!({"id": id, "type": "vault_credential", "vault_id": vid, "auth": auth,
                        "metadata": store::metadata(&body), "created_at": now, "updated_at": now});
                    if let Some(d) = body.get("display_name").filter(|d| d.is_string()) {
                        c["display_name"] = d.clone();
                    }
                    s.credentials.insert(id, c.clone());
                    Ok(Reply::Json(c))
                }
                (m, ["credentials", cid, tail @ ..]) => {
                    if !s
                        .credentials
                        .get(*cid)
                        .is_some_and(|c| c["vault_id"] == *vid)
                    {
                        return Err(not_found("credential", cid));
                    }
                    let fields = &["display_name", "metadata"];
                    let credential = Object {
                        map: &mut s.credentials,
                        kind: "credential",
                        deleted: "vault_credential_deleted",
                        fields,
                    };
                    credential
                        .handle(cid, m, tail, body, now)
                        .unwrap_or_else(|| Err(not_found("path", &tail.join("/"))))
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "vaults")),
    }
}

/// A stand-in for the content's SHA-256 (64 hex digits): the emulator needs no real one.
fn sha256_hex(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016x}", h.finish()).repeat(4)
}

fn memory_stores(
    shared: &Arc<Shared>,
    method: &str,
    segs: &[&str],
    query: &Query,
    body: &[u8],
) -> Routed {
    let mut s = lock(shared);
    match (method, segs) {
        ("GET", []) => page(listed(s.memory_stores.values().cloned(), query), query),
        ("POST", []) => {
            let body = json_body(body)?;
            let name = required_str(&body, "name")?.to_string();
            let id = s.id("memstore");
            let now = s.now();
            let m = json!({"id": id, "type": "memory_store", "name": name,
                "description": body.get("description").and_then(Value::as_str).unwrap_or(""),
                "metadata": store::metadata(&body), "created_at": now, "updated_at": now});
            s.memory_stores.insert(id, m.clone());
            Ok(Reply::Json(m))
        }
        (m, [sid, rest @ ..]) => {
            let now = s.now();
            if !s.memory_stores.contains_key(*sid) {
                return Err(not_found("memory store", sid));
            }
            if (m, rest) == ("DELETE", &[][..]) {
                s.memories.retain(|_, m| m["memory_store_id"] != *sid);
            }
            let fields = &["name", "description", "metadata"];
            let store = Object {
                map: &mut s.memory_stores,
                kind: "memory store",
                deleted: "memory_store_deleted",
                fields,
            };
            if let Some(done) = store.handle(sid, m, rest, body, now.clone()) {
                return done;
            }
            match (m, rest) {
                ("GET", ["memories"]) => {
                    let all = s
                        .memories
                        .values()
                        .filter(|m| m["memory_store_id"] == *sid)
                        .cloned();
                    page(all.collect(), query)
                }
                ("POST", ["memories"]) => {
                    let body = json_body(body)?;
                    let path = required_str(&body, "path")?.to_string();
                    let content = body
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let id = s.id("mem");
                    let ver = s.id("memver");
                    let mut mem = json!({"id": id, "type": "memory", "memory_store_id": sid, "memory_version_id": ver,
                        "path": path, "content_sha256": sha256_hex(content.as_bytes()), "content_size_bytes": content.len(),
                        "created_at": now, "updated_at": now});
                    s.memories.insert(id, mem.clone());
                    if query.get("view") == Some("full") {
                        mem["content"] = json!(content);
                    }
                    Ok(Reply::Json(mem))
                }
                (m, ["memories", mid]) => {
                    if !s
                        .memories
                        .get(*mid)
                        .is_some_and(|x| x["memory_store_id"] == *sid)
                    {
                        return Err(not_found("memory", mid));
                    }
                    let memory = Object {
                        map: &mut s.memories,
                        kind: "memory",
                        deleted: "memory_deleted",
                        fields: &["path"],
                    };
                    memory
                        .handle(mid, m, &[], body, now)
                        .unwrap_or_else(|| Err(not_found("path", mid)))
                }
                _ => Err(not_found("path", &rest.join("/"))),
            }
        }
        _ => Err(not_found("path", "memory_stores")),
    }
}

/// Writes bytes, one at a time with a pause when trickling.
fn write_out(w: &mut dyn Write, bytes: &[u8], trickle: Option<Duration>) -> std::io::Result<()> {
    match trickle {
        Some(d) => {
            for b in bytes {
                w.write_all(std::slice::from_ref(b))?;
                w.flush()?;
                std::thread::sleep(d);
            }
            Ok(())
        }
        None => {
            w.write_all(bytes)?;
            w.flush()
        }
    }
}

/// The live stream of a session: the events added after it opens, `ping` heartbeats, and
/// `agent.message` previews when asked; faults as set.
fn stream(
    shared: &Arc<Shared>,
    w: &mut TcpStream,
    session: &str,
    previews: bool,
    faults: &super::Faults,
) {
    // the stream's start is fixed before the client hears it is open: a listing the client
    // makes once it has the headers then overlaps the stream, never leaves a gap
    let mut next = lock(shared)
        .sessions
        .get(session)
        .map_or(0, |s| s.events.len());
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    if write_out(w, head.as_bytes(), None).is_err() {
        return;
    }
    let mut sent = 0usize;
    loop {
        let batch: Vec<Value> = {
            let mut s = lock(shared);
            let len = s.sessions.get(session).map_or(0, |x| x.events.len());
            if len == next && !shared.stopped() {
                s = shared
                    .changed
                    .wait_timeout(s, shared.heartbeat)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            match s.sessions.get(session) {
                Some(x) if !x.deleted => {
                    let b = x
                        .events
                        .get(next..)
                        .map(<[Value]>::to_vec)
                        .unwrap_or_default();
                    next = x.events.len();
                    b
                }
                _ => return,
            }
        };
        if shared.stopped() {
            return;
        }
        if batch.is_empty() {
            if write_out(
                w,
                b"event: ping\ndata: {\"type\": \"ping\"}\n\n",
                faults.trickle,
            )
            .is_err()
            {
                return;
            }
            continue;
        }
        for ev in batch {
            if previews && ev["type"] == "agent.message" {
                let id = ev["id"].clone();
                let mut frames = vec![
                    json!({"type": "event_start", "event": {"type": "agent.message", "id": id}}),
                ];
                for (i, block) in ev["content"].as_array().into_iter().flatten().enumerate() {
                    let text = block["text"].as_str().unwrap_or("");
                    let words: Vec<&str> = text.split_inclusive(' ').collect();
                    for chunk in words.chunks(3) {
                        frames.push(json!({"type": "event_delta", "event_id": id,
                            "delta": {"type": "content_delta", "index": i, "content": {"type": "text", "text": chunk.concat()}}}));
                    }
                }
                for f in frames {
                    if write_out(
                        w,
                        format!("event: message\ndata: {f}\n\n").as_bytes(),
                        faults.trickle,
                    )
                    .is_err()
                    {
                        return;
                    }
                }
            }
            let frame = format!("event: message\ndata: {ev}\n\n");
            if faults.drop_stream_after.is_some_and(|n| sent + 1 >= n) {
                if faults.drop_mid_line {
                    let _ = write_out(w, &frame.as_bytes()[..frame.len() / 2], faults.trickle);
                }
                return;
            }
            if write_out(w, frame.as_bytes(), faults.trickle).is_err() {
                return;
            }
            sent += 1;
        }
    }
}
