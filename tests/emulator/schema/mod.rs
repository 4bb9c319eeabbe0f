//! Every operation of spec/openapi.json on the emulator, over real HTTP: each 2xx body is
//! checked against the operation's response schema (the spec's OpenAPI 3.0 schemas made strict
//! JSON Schema: `nullable` is a null alternative, no property outside the schema, formats
//! checked), each error against the API's error body (`ErrorResponse`), its status and its
//! error type. The run fails unless every operation was called both with valid input and with
//! input the API refuses (a missing field, an id that does not exist, a wrong state).

use managed_agents::emulator::{Emulator, Script};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::time::Duration;

mod agents;
mod deployments;
mod environments;
mod events;
mod files_and_skills;
mod memories;
mod sessions;
mod vaults;
mod work;

/// The document every operation and schema comes from.
const SPEC: &str = include_str!("../../../spec/openapi.json");

/// Operations that no valid input can reach yet, with the reason: session threads exist only
/// in multi-agent sessions, which the emulator does not start yet, so only their refusals are
/// checked. Each must still be called with invalid input.
const NO_VALID_CALL_YET: &[&str] = &[
    "sessions.threads.retrieve",
    "sessions.threads.archive",
    "sessions.threads.events.list",
    "sessions.threads.events.stream",
];

/// What an operation answers on success.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Json,
    Bytes,
    Sse,
    NoContent,
}

struct Op {
    method: String,
    path: String,
    kind: Kind,
    /// The success schema (JSON and SSE), refs pointing into `#/components/schemas`.
    schema: Option<Value>,
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(Value),
    /// Multipart parts: (field name, file name, bytes).
    Multipart(Vec<(&'static str, Option<String>, Vec<u8>)>),
}

impl From<Value> for Body {
    fn from(v: Value) -> Body {
        Body::Json(v)
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Body {
        Body::None
    }
}

/// An answer: status, content type, `request-id` header, body.
pub(crate) struct Answer {
    status: u16,
    content_type: String,
    request_id: Option<String>,
    body: Vec<u8>,
}

/// The emulator, the spec, and what has been exercised.
pub(crate) struct Api {
    pub(crate) emu: Emulator,
    http: ureq::Agent,
    ops: BTreeMap<String, Op>,
    components: Value,
    validators: RefCell<HashMap<String, jsonschema::Validator>>,
    /// Per operation: (called with valid input, refused).
    seen: RefCell<BTreeMap<String, (bool, bool)>>,
    /// What did not answer as the spec says; all of it is reported at the end.
    problems: RefCell<Vec<String>>,
}

/// The spec's OpenAPI 3.0 schema as strict JSON Schema (walked keyword by keyword, so that a
/// property named `properties` or `nullable` is left alone).
fn strict(schema: &mut Value) {
    let Some(m) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for p in props.values_mut() {
            strict(p);
        }
        m.entry("additionalProperties").or_insert(json!(false));
    }
    for k in ["items", "additionalProperties"] {
        if let Some(s) = m.get_mut(k) {
            strict(s);
        }
    }
    for k in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(list)) = m.get_mut(k) {
            list.iter_mut().for_each(strict);
        }
    }
    // an open enum takes any string: the known values document it, a new one is no error
    if m.remove("x-open-enum") == Some(Value::Bool(true)) {
        m.remove("enum");
    }
    if m.remove("nullable") == Some(Value::Bool(true)) {
        let inner = Value::Object(std::mem::take(m));
        *schema = json!({"anyOf": [inner, {"type": "null"}]});
    }
}

impl Api {
    pub(crate) fn start() -> Api {
        let spec: Value = serde_json::from_str(SPEC).unwrap();
        let mut components = spec["components"].clone();
        // an error may carry `details` (a refused heartbeat's lease state, checked apart)
        components["schemas"]["ErrorResponse"]["properties"]["error"]["properties"]["details"] =
            json!({"type": "object"});
        for s in components["schemas"].as_object_mut().unwrap().values_mut() {
            strict(s);
        }
        let mut ops = BTreeMap::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                let (code, answer) = responses.iter().next().unwrap();
                let (kind, mut schema) = match answer["content"].as_object() {
                    None => {
                        assert_eq!(code, "204", "{path}");
                        (Kind::NoContent, None)
                    }
                    Some(c) if c.contains_key("application/json") => {
                        (Kind::Json, Some(c["application/json"]["schema"].clone()))
                    }
                    Some(c) if c.contains_key("text/event-stream") => {
                        (Kind::Sse, Some(c["text/event-stream"]["schema"].clone()))
                    }
                    Some(_) => (Kind::Bytes, None),
                };
                if let Some(s) = schema.as_mut() {
                    strict(s);
                }
                let name = op["operationId"].as_str().unwrap().to_string();
                let method = method.to_uppercase();
                ops.insert(
                    name,
                    Op {
                        method,
                        path: path.clone(),
                        kind,
                        schema,
                    },
                );
            }
        }
        assert_eq!(ops.len(), 90, "the spec's operations");
        let http = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build(),
        );
        let emu = Emulator::start().unwrap();
        emu.set_script(Script::new().say("hello"));
        Api {
            emu,
            http,
            ops,
            components,
            validators: RefCell::new(HashMap::new()),
            seen: RefCell::new(BTreeMap::new()),
            problems: RefCell::new(Vec::new()),
        }
    }

    /// Sends one request for `op`, its `{...}` path parameters filled from `ids` in order.
    pub(crate) fn send(&self, op: &str, ids: &[&str], query: &str, body: Body) -> Answer {
        let o = self
            .ops
            .get(op)
            .unwrap_or_else(|| panic!("{op} is not in the spec"));
        let url = self.url(o, ids, query);
        let mut req = ureq::http::Request::builder()
            .method(o.method.as_str())
            .uri(&url)
            .header("x-api-key", "test")
            .header("anthropic-version", "2023-06-01")
            .header("anthropic-beta", "managed-agents-2026-04-01");
        let bytes = match body {
            Body::None => Vec::new(),
            Body::Json(v) => {
                req = req.header("content-type", "application/json");
                serde_json::to_vec(&v).unwrap()
            }
            Body::Multipart(parts) => {
                let boundary = "schema-test-boundary-7f3a";
                req = req.header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                );
                let mut out = Vec::new();
                for (name, file, data) in parts {
                    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                    let disposition = match file {
                        Some(f) => format!(
                            "content-disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\ncontent-type: application/octet-stream\r\n\r\n"
                        ),
                        None => format!("content-disposition: form-data; name=\"{name}\"\r\n\r\n"),
                    };
                    out.extend_from_slice(disposition.as_bytes());
                    out.extend_from_slice(&data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                out
            }
        };
        let res = self
            .http
            .run(req.body(bytes).unwrap())
            .unwrap_or_else(|e| panic!("{op} {url}: {e}"));
        let status = res.status().as_u16();
        let header = |n: &str| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
        };
        let content_type = header("content-type").unwrap_or_default();
        let request_id = header("request-id");
        let body = res
            .into_body()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{op}: reading the body: {e}"));
        Answer {
            status,
            content_type,
            request_id,
            body,
        }
    }

    fn url(&self, o: &Op, ids: &[&str], query: &str) -> String {
        let mut path = String::new();
        let mut ids = ids.iter();
        for seg in o.path.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            if seg.starts_with('{') {
                let id = ids
                    .next()
                    .unwrap_or_else(|| panic!("{}: too few ids", o.path));
                path.push_str(&encode(id));
            } else {
                path.push_str(seg);
            }
        }
        assert!(ids.next().is_none(), "{}: too many ids", o.path);
        let sep = if query.is_empty() { "" } else { "&" };
        format!("{}{path}?beta=true{sep}{query}", self.emu.base_url())
    }

    fn validate(&self, key: &str, schema: &Value, value: &Value) -> Result<(), String> {
        let mut cache = self.validators.borrow_mut();
        let v = cache.entry(key.to_string()).or_insert_with(|| {
            let mut root = schema.clone();
            root["components"] = self.components.clone();
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{key}: the schema does not compile: {e}"))
        });
        let errors: Vec<String> = v
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    fn kind(&self, op: &str) -> Kind {
        self.ops[op].kind
    }

    /// Records what did not answer as the spec says; the run goes on, to report it all.
    fn problem(&self, text: String) {
        // once each, and short: a listing polled until it settles repeats its problem
        let mut text: String = text.chars().take(1500).collect();
        if text.len() == 1500 {
            text.push_str("...");
        }
        let mut problems = self.problems.borrow_mut();
        if !problems.contains(&text) {
            problems.push(text);
        }
    }

    /// Calls `op` with valid input: a 2xx whose body matches the operation's schema. Returns
    /// the body (a JSON string of the bytes for a download, null for a 204).
    pub(crate) fn ok(&self, op: &str, ids: &[&str], query: &str, body: impl Into<Body>) -> Value {
        let a = self.send(op, ids, query, body.into());
        let text = String::from_utf8_lossy(&a.body).into_owned();
        self.seen.borrow_mut().entry(op.into()).or_default().0 = true;
        let kind = self.kind(op);
        let status = if kind == Kind::NoContent { 204 } else { 200 };
        if a.status != status {
            self.problem(format!("{op}: {} instead of {status}: {text}", a.status));
            return serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        }
        match kind {
            Kind::NoContent => {
                if !a.body.is_empty() {
                    self.problem(format!("{op}: a 204 with a body: {text}"));
                }
                Value::Null
            }
            Kind::Bytes => {
                if a.content_type.starts_with("application/json") {
                    self.problem(format!("{op}: bytes expected, got {text}"));
                }
                Value::String(text)
            }
            Kind::Json => {
                if !a.content_type.starts_with("application/json") {
                    self.problem(format!("{op}: content type {}", a.content_type));
                }
                let Ok(v) = serde_json::from_slice::<Value>(&a.body) else {
                    self.problem(format!("{op}: not JSON: {text}"));
                    return Value::Null;
                };
                let schema = self.ops[op].schema.as_ref().unwrap();
                if let Err(e) = self.validate(op, schema, &v) {
                    self.problem(format!(
                        "{op}: the answer does not match its schema:\n{e}\n{v}"
                    ));
                }
                v
            }
            Kind::Sse => panic!("{op} is a stream: use Api::stream"),
        }
    }

    /// Calls `op` with input the API refuses: `status`, the error body of the spec, and
    /// `error.type` as the API names it for that status. Returns the error's message.
    pub(crate) fn err(
        &self,
        op: &str,
        ids: &[&str],
        query: &str,
        body: impl Into<Body>,
        status: u16,
    ) -> String {
        let a = self.send(op, ids, query, body.into());
        let text = String::from_utf8_lossy(&a.body).into_owned();
        self.seen.borrow_mut().entry(op.into()).or_default().1 = true;
        if a.status != status {
            self.problem(format!("{op}: {} instead of {status}: {text}", a.status));
            return String::new();
        }
        let message = self.check_error(op, &a).unwrap_or_default();
        // a refusal by the operation itself, not by a router that does not know the path
        if message.starts_with("path ") && !NO_VALID_CALL_YET.contains(&op) {
            self.problem(format!("{op}: not routed: {message}"));
        }
        message
    }

    /// As [`Api::err`], and the error names its cause in `error.details.error_code`, which
    /// the SDKs read to raise a specific error.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn err_code(
        &self,
        op: &str,
        ids: &[&str],
        query: &str,
        body: impl Into<Body>,
        status: u16,
        code: &str,
    ) {
        let a = self.send(op, ids, query, body.into());
        let text = String::from_utf8_lossy(&a.body).into_owned();
        self.seen.borrow_mut().entry(op.into()).or_default().1 = true;
        if a.status != status {
            self.problem(format!("{op}: {} instead of {status}: {text}", a.status));
            return;
        }
        self.check_error(op, &a);
        let v: Value = serde_json::from_slice(&a.body).unwrap_or_default();
        if v["error"]["details"]["error_code"] != code {
            self.problem(format!("{op}: no details.error_code {code:?}: {text}"));
        }
    }

    /// Checks an error answer; returns its message.
    fn check_error(&self, op: &str, a: &Answer) -> Option<String> {
        let text = String::from_utf8_lossy(&a.body);
        if !a.content_type.starts_with("application/json") {
            self.problem(format!("{op}: an error as {}: {text}", a.content_type));
        }
        let Ok(v) = serde_json::from_slice::<Value>(&a.body) else {
            self.problem(format!("{op}: an error body that is not JSON: {text}"));
            return None;
        };
        let schema = json!({"$ref": "#/components/schemas/ErrorResponse"});
        if let Err(e) = self.validate("ErrorResponse", &schema, &v) {
            self.problem(format!(
                "{op}: the error body does not match ErrorResponse:\n{e}\n{v}"
            ));
        }
        // the error types of each status, as the SDK's `ErrorType` names them
        let expected: &[&str] = match a.status {
            400 => &["invalid_request_error"],
            401 => &["authentication_error"],
            403 => &["permission_error"],
            404 => &["not_found_error"],
            409 => &[
                "conflict_error",
                "memory_precondition_failed_error",
                "memory_path_conflict_error",
            ],
            412 => &["precondition_failed_error"],
            429 => &["rate_limit_error"],
            529 => &["overloaded_error"],
            _ => &["api_error"],
        };
        if !expected.iter().any(|t| v["error"]["type"] == *t) {
            self.problem(format!("{op}: {} is not {expected:?}: {v}", a.status));
        }
        let details = &v["error"]["details"];
        if a.status == 412 {
            self.check_lease_state(op, details);
        } else if !details.is_null() && !details["error_code"].is_string() {
            self.problem(format!("{op}: details without an error_code: {v}"));
        }
        let message = v["error"]["message"].as_str().unwrap_or_default();
        if message.is_empty() {
            self.problem(format!("{op}: an error without a message: {v}"));
        }
        // the body's request_id is the request-id header
        if a.request_id.is_none() || v["request_id"].as_str() != a.request_id.as_deref() {
            self.problem(format!(
                "{op}: request_id {} and header {:?}",
                v["request_id"], a.request_id
            ));
        }
        Some(message.to_string())
    }

    /// A refused heartbeat's `details`: the lease as the server holds it (the SDK's
    /// `BetaHeartbeatPreconditionFailedErrorDetails`, which the spec does not carry).
    fn check_lease_state(&self, op: &str, details: &Value) {
        let state = &details["current_state"];
        let states = ["queued", "starting", "active", "stopping", "stopped"];
        let ok = details["error_code"] == "heartbeat_precondition_failed"
            && (state["last_heartbeat"].is_null() || state["last_heartbeat"].is_string())
            && state["lease_extended"] == false
            && state["ttl_seconds"].is_u64()
            && states.iter().any(|s| state["state"] == *s)
            && state.as_object().is_some_and(|o| o.len() == 4);
        if !ok {
            self.problem(format!("{op}: a 412 without the lease's state: {details}"));
        }
    }

    /// Opens `op`'s stream, calls `trigger` once it is open, and checks every event's `data`
    /// against the stream's schema until `last` returns true; returns the events' types.
    pub(crate) fn stream(
        &self,
        op: &str,
        ids: &[&str],
        trigger: impl FnOnce(),
        last: impl Fn(&Value) -> bool,
    ) -> Vec<String> {
        let o = &self.ops[op];
        assert_eq!(o.kind, Kind::Sse, "{op}");
        let url = self.url(o, ids, "");
        let res = self
            .http
            .get(&url)
            .header("x-api-key", "test")
            .header("anthropic-beta", "managed-agents-2026-04-01")
            .header("accept", "text/event-stream")
            .call()
            .unwrap_or_else(|e| panic!("{op}: {e}"));
        assert_eq!(res.status().as_u16(), 200, "{op}");
        let ct = res.headers().get("content-type").unwrap().to_str().unwrap();
        assert!(ct.starts_with("text/event-stream"), "{op}: {ct}");
        self.seen.borrow_mut().entry(op.into()).or_default().0 = true;
        trigger();
        let schema = o.schema.clone().unwrap();
        let mut types = Vec::new();
        let reader = BufReader::new(res.into_body().into_reader());
        let mut event = String::new();
        for line in reader.lines() {
            let line = line.unwrap_or_else(|e| panic!("{op}: the stream broke: {e}"));
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_string();
            }
            if line.is_empty() {
                event.clear();
            }
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            // heartbeats, as the API sends them and the SDKs skip them
            if event == "ping" {
                continue;
            }
            let v: Value = serde_json::from_str(data.trim_start())
                .unwrap_or_else(|e| panic!("{op}: data that is not JSON ({e}): {data}"));
            if let Err(e) = self.validate(op, &schema, &v) {
                self.problem(format!(
                    "{op}: an event does not match its schema:\n{e}\n{v}"
                ));
            }
            types.push(v["type"].as_str().unwrap_or_default().to_string());
            if last(&v) {
                return types;
            }
        }
        panic!("{op}: the stream ended before the last event; saw {types:?}");
    }

    /// Fails naming every operation not exercised with valid input, and with invalid input.
    pub(crate) fn check_coverage(&self) {
        let seen = self.seen.borrow();
        let mut missing = Vec::new();
        for op in self.ops.keys() {
            let (ok, err) = seen.get(op).copied().unwrap_or_default();
            let exempt = NO_VALID_CALL_YET.contains(&op.as_str());
            if !ok && !exempt {
                missing.push(format!("{op} (valid input)"));
            }
            if ok && exempt {
                missing.push(format!(
                    "{op} is reachable now: take it off NO_VALID_CALL_YET"
                ));
            }
            if !err {
                missing.push(format!("{op} (invalid input)"));
            }
        }
        let problems = self.problems.borrow();
        assert!(
            problems.is_empty(),
            "{} answers not as the spec says:\n\n{}",
            problems.len(),
            problems.join("\n\n")
        );
        assert!(
            missing.is_empty(),
            "operations not exercised:\n{}",
            missing.join("\n")
        );
    }
}

/// Percent-encodes a path segment.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string field of an answer.
pub(crate) fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// An empty object, for bodies.
pub(crate) fn obj() -> Value {
    Value::Object(Map::new())
}

#[test]
fn every_operation_answers_as_its_schema_says() {
    let api = Api::start();
    environments::check(&api);
    agents::check(&api);
    sessions::check(&api);
    events::check(&api);
    files_and_skills::check(&api);
    vaults::check(&api);
    memories::check(&api);
    deployments::check(&api);
    work::check(&api);
    api.check_coverage();
}

#[test]
fn the_checker_refuses_what_the_schema_forbids() {
    // the checker itself: a field outside the schema, a missing required field, a wrong
    // constant, a non-RFC 3339 time and a null where none is allowed all fail
    let api = Api::start();
    let env = api.ok(
        "environments.create",
        &[],
        "",
        json!({"name": "e", "config": {"type": "cloud"}}),
    );
    let schema = json!({"$ref": "#/components/schemas/Environment"});
    assert!(api.validate("Environment", &schema, &env).is_ok());
    let mut extra = env.clone();
    extra["surprise"] = json!(1);
    let mut missing = env.clone();
    missing.as_object_mut().unwrap().remove("id");
    let mut constant = env.clone();
    constant["type"] = json!("agent");
    let mut null = env.clone();
    null["name"] = Value::Null;
    for bad in [extra, missing, constant, null] {
        assert!(
            api.validate("Environment", &schema, &bad).is_err(),
            "accepted: {bad}"
        );
    }
    // and nullable fields take null
    let mut archived = env.clone();
    archived["archived_at"] = Value::Null;
    assert!(api.validate("Environment", &schema, &archived).is_ok());
    // a time that is not RFC 3339 where the spec says `date-time`
    let schema = json!({"$ref": "#/components/schemas/SessionStats"});
    let stats = json!({"active_seconds": 1.0, "duration_seconds": 2.0});
    assert!(api.validate("SessionStats", &schema, &stats).is_ok());
    let schema = json!({"$ref": "#/components/schemas/Session"});
    let session = api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": id(&api.ok("agents.create", &[], "", json!({"name": "a", "model": "m"}))),
               "environment_id": id(&env)}),
    );
    if let Err(e) = api.validate("Session", &schema, &session) {
        panic!("{e}\n{session}");
    }
    let mut time = session.clone();
    time["created_at"] = json!("yesterday");
    assert!(api.validate("Session", &schema, &time).is_err());
    assert!(
        api.problems.borrow().is_empty(),
        "{:?}",
        api.problems.borrow()
    );
}
