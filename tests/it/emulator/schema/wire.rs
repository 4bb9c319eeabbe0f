//! The schema test's side of the wire: requests to the emulator over real HTTP (JSON,
//! multipart, event streams), and the checks of each answer: a success against its schema, a
//! refusal against the API's error body, status, type and `details`.

use super::spec::{Kind, Op};
use super::Api;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};

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
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Api {
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
            .header("anthropic-version", "2026-10-21")
            .header("anthropic-beta", o.beta.as_str());
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
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{}{path}{sep}{query}", self.emu.base_url())
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
        if message.starts_with("path ") {
            self.problem(format!("{op}: not routed: {message}"));
        }
        message
    }

    /// Calls every operation that names objects in its path with ids that do not exist: each
    /// is a 404 `not_found_error`. Returns how many were called.
    pub(crate) fn unknown_ids(&self) -> usize {
        let mut called = 0;
        let ops: Vec<(String, usize, String)> = self
            .ops
            .iter()
            .map(|(name, o)| (name.clone(), o.path.matches('{').count(), o.method.clone()))
            .filter(|(_, params, _)| *params > 0)
            .collect();
        for (op, params, method) in ops {
            let ids = vec!["missing_0"; params];
            let body = if method == "POST" {
                Body::Json(json!({}))
            } else {
                Body::None
            };
            self.err(&op, &ids, "", body, 404);
            called += 1;
        }
        called
    }

    /// Calls `op` once for each field its body must have, with that field left out of `body`
    /// (a valid body): each is a 400. Returns how many fields were checked.
    pub(crate) fn requires(&self, op: &str, ids: &[&str], body: &Value) -> usize {
        let required = self.ops[op].required.clone();
        for field in &required {
            let mut without = body.clone();
            if without
                .as_object_mut()
                .and_then(|o| o.remove(field))
                .is_none()
            {
                self.problem(format!("{op}: the valid body given has no {field}"));
                continue;
            }
            let message = self.err(op, ids, "", without, 400);
            if !message.is_empty() && !message.contains(field.as_str()) {
                self.problem(format!(
                    "{op}: the refusal of a body without {field} does not name it: {message}"
                ));
            }
        }
        required.len()
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

    /// Opens `op`'s stream (with `query`), calls `trigger` once it is open, and checks every event's `data`
    /// against the stream's schema until `last` returns true; returns the events' types.
    pub(crate) fn stream(
        &self,
        op: &str,
        ids: &[&str],
        query: &str,
        trigger: impl FnOnce(),
        last: impl Fn(&Value) -> bool,
    ) -> Vec<String> {
        let o = &self.ops[op];
        assert_eq!(o.kind, Kind::Sse, "{op}");
        let url = self.url(o, ids, query);
        let res = self
            .http
            .get(&url)
            .header("x-api-key", "test")
            .header("anthropic-version", "2026-10-21")
            .header("anthropic-beta", o.beta.as_str())
            .header("accept", "application/json")
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
