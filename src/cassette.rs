//! Recording a client's traffic into a cassette (feature `cassettes`): a JSON-lines file with
//! a header line, one line per exchange (request and answer), and, for an answer read as it
//! comes (an event stream, a download), one line per event or chunk as it passes, with its
//! delay from the one before. Secrets are taken out before a line is written. The format is
//! described in `docs/cassettes.md`.

use crate::body::Body;
use crate::error::{Error, Result};
use crate::op::Operation;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The `format` of a cassette's header line.
pub const FORMAT: &str = "managed-agents-cassette";
/// The version of the format this crate writes.
pub const VERSION: u64 = 1;
/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Headers whose values never reach a cassette.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// JSON keys (at any depth, in any body or event) whose values never reach a cassette.
const SECRET_KEYS: &[&str] = &[
    "api_key",
    "authorization_token",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "secret_value",
    "sessions_token",
    "signing_secret",
    "webhook_secret",
    "password",
];

/// JSON keys that are secrets only in the bodies of a vault's credentials (an environment
/// variable credential's `value`).
const VAULT_SECRET_KEYS: &[&str] = &["value"];

/// Secret values shorter than this are not searched for in the text of a line (they would
/// match ordinary words); they are still taken out where they stand.
const MIN_SCRUBBED_LEN: usize = 8;

/// Where a client's recording goes, and what it keeps out of it.
pub(crate) struct Recorder {
    file: Mutex<File>,
    next_exchange: AtomicU64,
    started: Instant,
    /// Header names (lower case) taken out, besides [`SECRET_HEADERS`].
    headers: Vec<String>,
    /// JSON pointers taken out of every body and event.
    pointers: Vec<String>,
    /// Secret values known so far (the client's keys, every value taken out of a body), as
    /// they stand in JSON text: searched for and replaced in the text of every line.
    secrets: Mutex<Vec<String>>,
}

/// The request side of one exchange, ready to be written once its answer is known.
pub(crate) struct Exchange {
    fields: Map<String, Value>,
    sent: Instant,
}

impl Recorder {
    /// Creates (or truncates) the cassette and writes its header line. `redact` holds JSON
    /// pointers (starting with `/`) and header names; `secrets` the values known to be secret.
    pub(crate) fn create(
        path: &Path,
        base_url: &str,
        redact: &[String],
        secrets: Vec<String>,
    ) -> Result<Arc<Recorder>> {
        let client = format!("managed-agents-rust/{}", env!("CARGO_PKG_VERSION"));
        Self::create_as(path, &client, base_url, redact, secrets)
    }

    /// Does as [`create`](Self::create), naming `client` as what wrote the cassette.
    fn create_as(
        path: &Path,
        client: &str,
        base_url: &str,
        redact: &[String],
        secrets: Vec<String>,
    ) -> Result<Arc<Recorder>> {
        let file = File::create(path).map_err(|e| Error::Io {
            message: format!("creating the cassette {}", path.display()),
            source: e,
        })?;
        let (pointers, headers): (Vec<String>, Vec<String>) =
            redact.iter().cloned().partition(|r| r.starts_with('/'));
        let recorder = Recorder {
            file: Mutex::new(file),
            next_exchange: AtomicU64::new(1),
            started: Instant::now(),
            headers: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            pointers,
            secrets: Mutex::new(Vec::new()),
        };
        for s in secrets {
            recorder.learn(&s);
        }
        let header = json!({
            "kind": "header",
            "format": FORMAT,
            "version": VERSION,
            "client": client,
            "base_url": base_url,
        });
        recorder.write(header).map_err(|e| Error::Io {
            message: format!("writing the cassette {}", path.display()),
            source: e,
        })?;
        Ok(Arc::new(recorder))
    }

    /// Remembers a secret value, to be replaced wherever it shows up in a line.
    pub(crate) fn learn(&self, secret: &str) {
        if secret.len() < MIN_SCRUBBED_LEN || secret == REDACTED {
            return;
        }
        // kept as it stands in JSON text (quotes and backslashes escaped), as lines are searched
        let escaped = Value::String(secret.to_string()).to_string();
        let escaped = escaped[1..escaped.len() - 1].to_string();
        let mut known = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if !known.contains(&escaped) {
            known.push(escaped);
        }
    }

    /// A request body as a cassette holds it: JSON as JSON (redacted), a form summarised.
    pub(crate) fn request_body(&self, op: &Operation, body: &Body) -> Value {
        match body {
            Body::Empty => Value::Null,
            Body::Json(bytes) => match serde_json::from_slice::<Value>(bytes) {
                Ok(mut v) => {
                    self.redact_json(&mut v, is_vault(op.id));
                    v
                }
                Err(_) => json!({ "text": String::from_utf8_lossy(bytes) }),
            },
            Body::Multipart(form) => json!({ "multipart": {
                "content_type": form.content_type(),
                "length": form.content_length(),
            }}),
        }
    }

    /// The request side of an exchange: operation, path template and path, query, headers
    /// (credentials taken out) and body.
    pub(crate) fn exchange(
        &self,
        op: &Operation,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        body: &Value,
    ) -> Exchange {
        self.exchange_of(
            Some(op.id),
            op.method,
            Some(op.path),
            path,
            query,
            headers,
            body,
        )
    }

    /// The request side of an exchange, its operation and path template known or not.
    #[allow(clippy::too_many_arguments)]
    fn exchange_of(
        &self,
        operation: Option<&str>,
        method: &str,
        template: Option<&str>,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        body: &Value,
    ) -> Exchange {
        let mut fields = Map::new();
        fields.insert("kind".into(), json!("exchange"));
        fields.insert("operation".into(), json!(operation));
        fields.insert("method".into(), json!(method));
        fields.insert("path_template".into(), json!(template));
        fields.insert("path".into(), json!(path));
        fields.insert(
            "query".into(),
            Value::Array(query.iter().map(|(k, v)| json!([k, v])).collect()),
        );
        let mut h = Map::new();
        for (k, v) in headers {
            h.insert(k.to_ascii_lowercase(), json!(self.header_value(k, v)));
        }
        fields.insert("request_headers".into(), Value::Object(h));
        fields.insert("request_body".into(), body.clone());
        Exchange {
            fields,
            sent: Instant::now(),
        }
    }

    fn header_value<'a>(&self, name: &str, value: &'a str) -> &'a str {
        let secret = SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s))
            || self.headers.iter().any(|s| name.eq_ignore_ascii_case(s));
        if secret {
            self.learn(value);
            if let Some(token) = value.strip_prefix("Bearer ") {
                self.learn(token);
            }
            REDACTED
        } else {
            value
        }
    }

    /// Writes an exchange whose answer came, its body read whole (`Some`) or to be read as
    /// it comes (`None`: the lines of its events or chunks follow). Returns its number.
    pub(crate) fn answered(
        &self,
        exchange: Exchange,
        op: &Operation,
        status: u16,
        headers: &ureq::http::HeaderMap,
        body: Option<&[u8]>,
    ) -> u64 {
        let headers = headers
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)));
        let body = match body {
            Some(bytes) => Ok(bytes),
            None => Err(op.id.ends_with(".stream")),
        };
        self.answered_with(exchange, is_vault(op.id), status, headers, body)
    }

    /// Writes an exchange whose answer came: `body` is the body read whole, or whether it is
    /// an event stream (`Err(true)`) or other bytes (`Err(false)`) read as it comes.
    fn answered_with<'h>(
        &self,
        exchange: Exchange,
        vault: bool,
        status: u16,
        headers: impl Iterator<Item = (&'h str, &'h str)>,
        body: std::result::Result<&[u8], bool>,
    ) -> u64 {
        let mut h = Map::new();
        for (k, v) in headers {
            h.insert(k.to_ascii_lowercase(), json!(self.header_value(k, v)));
        }
        let mut fields = exchange.fields;
        fields.insert("status".into(), json!(status));
        fields.insert("response_headers".into(), Value::Object(h));
        match body {
            Ok(bytes) => {
                fields.insert("body".into(), self.response_body(vault, bytes));
            }
            Err(events) => {
                let kind = if events { "events" } else { "bytes" };
                fields.insert("body".into(), Value::Null);
                fields.insert("stream".into(), json!(kind));
            }
        }
        self.finish(fields, exchange.sent)
    }

    /// Writes an exchange that failed: an error status (its body) or no answer at all.
    pub(crate) fn failed(&self, exchange: Exchange, op: &Operation, error: &Error) -> u64 {
        let mut fields = exchange.fields;
        match error {
            Error::Api {
                status,
                body,
                request_id,
                ..
            } => {
                fields.insert("status".into(), json!(status));
                let mut h = Map::new();
                if let Some(id) = request_id {
                    h.insert("request-id".into(), json!(id));
                }
                fields.insert("response_headers".into(), Value::Object(h));
                fields.insert(
                    "body".into(),
                    self.response_body(is_vault(op.id), body.as_bytes()),
                );
            }
            other => {
                fields.insert("status".into(), Value::Null);
                fields.insert("error".into(), json!(other.to_string()));
            }
        }
        self.finish(fields, exchange.sent)
    }

    fn finish(&self, mut fields: Map<String, Value>, sent: Instant) -> u64 {
        let id = self.next_exchange.fetch_add(1, Ordering::Relaxed);
        let mut line = Map::new();
        line.insert("kind".into(), json!("exchange"));
        line.insert("id".into(), json!(id));
        line.insert(
            "at_ms".into(),
            json!(ms(sent.saturating_duration_since(self.started))),
        );
        line.insert("elapsed_ms".into(), json!(ms(sent.elapsed())));
        fields.remove("kind");
        line.extend(fields);
        self.write_logged(Value::Object(line));
        id
    }

    fn response_body(&self, vault: bool, bytes: &[u8]) -> Value {
        if bytes.is_empty() {
            return Value::Null;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                self.redact_json(&mut v, vault);
                v
            }
            Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
        }
    }

    /// Takes the secrets out of a JSON value: the values of [`SECRET_KEYS`] at any depth
    /// (and of [`VAULT_SECRET_KEYS`] in a vault credential's bodies), then the user's pointers.
    fn redact_json(&self, v: &mut Value, vault: bool) {
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    let secret = SECRET_KEYS.contains(&k.as_str())
                        || (vault && VAULT_SECRET_KEYS.contains(&k.as_str()));
                    if secret && !val.is_null() && !val.is_boolean() {
                        self.take(val);
                    } else {
                        self.redact_json(val, vault);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i, vault)),
            _ => {}
        }
        for p in &self.pointers {
            if let Some(val) = v.pointer_mut(p) {
                self.take(val);
            }
        }
    }

    /// Replaces a value with [`REDACTED`], remembering the strings it held.
    fn take(&self, val: &mut Value) {
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        strings(val, &mut found);
        for s in found {
            self.learn(&s);
        }
        *val = json!(REDACTED);
    }

    /// Writes one line, with every known secret replaced; a failure is logged, never the
    /// caller's (recording never changes what the caller sees).
    fn write_logged(&self, line: Value) {
        if let Err(e) = self.write(line) {
            log::warn!("writing the cassette failed: {e}");
        }
    }

    fn write(&self, line: Value) -> std::io::Result<()> {
        self.write_text(line.to_string())
    }

    fn write_text(&self, text: String) -> std::io::Result<()> {
        self.write_lines(&self.scrubbed(text))
    }

    /// One line as it is written: every known secret replaced, the newline added.
    fn scrubbed(&self, mut text: String) -> String {
        let known = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        for escaped in known.iter() {
            if text.contains(escaped.as_str()) {
                text = text.replace(escaped.as_str(), REDACTED);
            }
        }
        text.push('\n');
        text
    }

    /// Writes whole lines, already scrubbed, in one write: the file holds whole lines only.
    fn write_lines(&self, lines: &str) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(lines.as_bytes())
    }

    /// A reader of an answer's body that records what passes through it: each complete
    /// event-stream frame (`events`) or each chunk (`bytes`), as it arrives.
    pub(crate) fn tap(
        self: &Arc<Self>,
        exchange: u64,
        op: &Operation,
        inner: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        self.tap_with(exchange, op.id.ends_with(".stream"), is_vault(op.id), inner)
    }

    fn tap_with(
        self: &Arc<Self>,
        exchange: u64,
        events: bool,
        vault: bool,
        inner: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        Box::new(Tee {
            inner,
            recorder: self.clone(),
            exchange,
            events,
            vault,
            pending: Vec::new(),
            last: Instant::now(),
            seq: 0,
            ended: false,
        })
    }

    /// Appends the cassette line of one frame to `out`; false for a comment-only frame, which
    /// is not recorded.
    fn event_line(
        &self,
        tee: &Tee,
        frame: &[u8],
        delay: std::time::Duration,
        out: &mut String,
    ) -> bool {
        let text = match std::str::from_utf8(frame) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(frame),
        };
        let mut event = None;
        let mut id = None;
        let mut retry = None;
        let mut data: Option<String> = None;
        for line in text.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => event = Some(value.to_string()),
                "id" => id = Some(value.to_string()),
                "retry" => retry = value.parse::<u64>().ok(),
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_string()),
                },
                _ => {}
            }
        }
        if event.is_none() && id.is_none() && retry.is_none() && data.is_none() {
            return false; // a comment only
        }
        let mut line = Map::new();
        line.insert("kind".into(), json!("event"));
        line.insert("exchange".into(), json!(tee.exchange));
        line.insert("seq".into(), json!(tee.seq));
        line.insert("delay_ms".into(), json!(ms(delay)));
        line.insert("event".into(), json!(event));
        if let Some(id) = id {
            line.insert("id".into(), json!(id));
        }
        if let Some(retry) = retry {
            line.insert("retry".into(), json!(retry));
        }
        if let Some(d) = data
            .as_deref()
            .filter(|d| self.needs_no_redaction(d, tee.vault))
        {
            // the common case, written without reading the data into a tree: the data as it
            // came (one line of valid JSON holding no key that could be a secret)
            let mut text = Value::Object(line).to_string();
            text.pop();
            text.push_str(",\"data\":");
            text.push_str(d);
            text.push('}');
            out.push_str(&self.scrubbed(text));
            return true;
        }
        match data
            .as_deref()
            .map(|d| (d, serde_json::from_str::<Value>(d)))
        {
            Some((_, Ok(mut v))) => {
                self.redact_json(&mut v, tee.vault);
                line.insert("data".into(), v);
            }
            Some((d, Err(_))) => {
                line.insert("data_text".into(), json!(d));
            }
            None => {
                line.insert("data".into(), Value::Null);
            }
        }
        out.push_str(&self.scrubbed(Value::Object(line).to_string()));
        true
    }
}

impl Recorder {
    /// Whether an event's data can be written as it came: one line of valid JSON, with no
    /// user pointer to apply, no `\u` escape (that could spell a key), and no key that could
    /// be a secret (every key of [`SECRET_KEYS`] ends in one of these).
    fn needs_no_redaction(&self, data: &str, vault: bool) -> bool {
        const KEY_ENDS: &[&[u8]] = &[
            b"token\"",
            b"secret\"",
            b"secret_value\"",
            b"api_key\"",
            b"password\"",
        ];
        let bytes = data.as_bytes();
        self.pointers.is_empty()
            && !vault
            && memchr::memchr2(b'\n', b'\r', bytes).is_none()
            && memchr::memmem::find(bytes, b"\\u").is_none()
            && KEY_ENDS
                .iter()
                .all(|k| memchr::memmem::find(bytes, k).is_none())
            && serde_json::from_str::<serde::de::IgnoredAny>(data).is_ok()
    }
}

/// Whether an operation is one of a vault's credentials (whose `value` is a secret).
fn is_vault(operation: &str) -> bool {
    operation.starts_with("vaults.credentials.")
}

/// Milliseconds, to the microsecond.
fn ms(d: std::time::Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// The reader [`Recorder::tap`] returns: reads through, recording as frames complete.
struct Tee {
    inner: Box<dyn Read + Send>,
    recorder: Arc<Recorder>,
    exchange: u64,
    events: bool,
    vault: bool,
    /// The start of a frame not yet complete.
    pending: Vec<u8>,
    last: Instant,
    seq: u64,
    ended: bool,
}

impl Tee {
    /// Where the first complete frame in `pending` from `from` on ends (past its blank line).
    /// Each byte is looked at about once: the CRLF form is only searched for before the first
    /// LF blank line.
    fn frame_end(&self, from: usize) -> Option<usize> {
        let rest = &self.pending[from..];
        let lf = memchr::memmem::find(rest, b"\n\n").map(|i| i + 2);
        let before_lf = lf.map_or(rest, |e| &rest[..e]);
        let crlf = memchr::memmem::find(before_lf, b"\n\r\n").map(|i| i + 3);
        let end = match (lf, crlf) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(from + end)
    }

    fn end(&mut self, reason: &str) {
        if self.ended {
            return;
        }
        self.ended = true;
        if self.events && !self.pending.iter().all(|b| b.is_ascii_whitespace()) {
            // a frame cut off by the end of the body
            let line = json!({
                "kind": "end", "exchange": self.exchange, "reason": "cut",
                "partial": String::from_utf8_lossy(&self.pending),
            });
            self.recorder.write_logged(line);
            return;
        }
        let line = json!({
            "kind": "end", "exchange": self.exchange, "reason": reason,
            "delay_ms": ms(self.last.elapsed()),
        });
        self.recorder.write_logged(line);
    }
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.end("eof");
            return Ok(0);
        }
        let now = Instant::now();
        if self.events {
            self.pending.extend_from_slice(&buf[..n]);
            // every complete frame of what came, written in one go (whole lines only), then
            // what is left moved down once
            let mut start = 0;
            let mut lines = String::new();
            while let Some(end) = self.frame_end(start) {
                let frame = &self.pending[start..end];
                // a comment-only frame is not recorded and takes no number
                if self
                    .recorder
                    .event_line(self, frame, now - self.last, &mut lines)
                {
                    self.seq += 1;
                    self.last = now;
                }
                start = end;
            }
            self.pending.drain(..start);
            if !lines.is_empty() {
                if let Err(e) = self.recorder.write_lines(&lines) {
                    log::warn!("writing the cassette failed: {e}");
                }
            }
        } else {
            let line = json!({
                "kind": "chunk", "exchange": self.exchange, "seq": self.seq,
                "delay_ms": ms(now - self.last),
                "base64": base64::engine::general_purpose::STANDARD.encode(&buf[..n]),
            });
            self.recorder.write_logged(line);
            self.seq += 1;
            self.last = now;
        }
        Ok(n)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.end("closed");
    }
}

/// Matches a request's method and path to the operation it calls, through the crate's table
/// of every operation: the one whose template matches segment by segment, with the most
/// literal segments (`/v1/sessions/{session_id}/events/stream` before any `{...}` there).
fn operation_of(method: &str, path: &str) -> Option<&'static Operation> {
    let segments: Vec<&str> = path.split('/').collect();
    crate::operations::OPERATIONS
        .iter()
        .filter(|op| op.method.eq_ignore_ascii_case(method))
        .filter_map(|op| {
            let template: Vec<&str> = op.path.split('/').collect();
            if template.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in template.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    if s.is_empty() {
                        return None;
                    }
                } else if t == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, op))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, op)| op)
}

/// Writes a cassette of traffic this crate did not send itself: the requests of another
/// program (in any language, with any SDK) and their answers, as a recording proxy in front
/// of the API sees them. The lines are those of a client's cassette (`docs/cassettes.md`),
/// with the same secrets kept out: each request is matched to its operation and path template
/// through the crate's table of operations (both `null` for a path the API does not have).
///
/// One writer may be shared by many threads (each exchange is written whole, on one line).
///
/// ```no_run
/// use managed_agents::cassette::{AnswerBody, CassetteWriter};
///
/// let cassette = CassetteWriter::create(
///     "proxy.cassette.jsonl",
///     "my-proxy/1.0",
///     "https://api.anthropic.com",
///     &["/metadata/customer".to_string()],
/// )?;
/// let headers = vec![("x-api-key".to_string(), "sk-ant-...".to_string())];
/// let pending = cassette.request("GET", "/v1/agents", &[], &headers, b"");
/// let answer = br#"{"data":[],"has_more":false}"#;
/// let json = vec![("content-type".to_string(), "application/json".to_string())];
/// cassette.answered(pending, 200, &json, AnswerBody::Whole(answer));
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct CassetteWriter {
    recorder: Arc<Recorder>,
}

impl std::fmt::Debug for CassetteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassetteWriter").finish_non_exhaustive()
    }
}

/// The request side of one exchange of a [`CassetteWriter`], waiting for its answer.
#[derive(Debug)]
pub struct PendingExchange {
    exchange: Exchange,
    vault: bool,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}

/// How an answer's body goes into a cassette.
#[derive(Debug, Clone, Copy)]
pub enum AnswerBody<'a> {
    /// The body, read whole: JSON is written as JSON (secrets taken out), anything else as
    /// base64.
    Whole(&'a [u8]),
    /// An event stream read as it comes: its frames are recorded, one `event` line each, by
    /// the reader [`CassetteWriter::tap`] gives.
    Events,
    /// Other bytes read as it comes (a download): recorded as `chunk` lines by the reader
    /// [`CassetteWriter::tap`] gives.
    Bytes,
}

/// An exchange written to a cassette: its number, and what [`CassetteWriter::tap`] needs to
/// record a body read as it comes.
#[derive(Debug, Clone, Copy)]
pub struct RecordedExchange {
    id: u64,
    events: bool,
    vault: bool,
}

impl RecordedExchange {
    /// Returns the exchange's number in the cassette (from 1).
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl CassetteWriter {
    /// Creates (or empties) the cassette at `path` and writes its header line, naming `client`
    /// as its writer and `base_url` as the API the traffic went to. `redact` holds more to
    /// keep out, as [`ClientBuilder::record_redact`](crate::ClientBuilder::record_redact)
    /// takes it: JSON pointers (starting with `/`) and header names.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be created or written.
    pub fn create(
        path: impl AsRef<Path>,
        client: &str,
        base_url: &str,
        redact: &[String],
    ) -> Result<CassetteWriter> {
        let recorder = Recorder::create_as(path.as_ref(), client, base_url, redact, Vec::new())?;
        Ok(CassetteWriter { recorder })
    }

    /// Adds a value known to be secret (a key the program was given): it is replaced wherever
    /// it shows up in a later line, when it is at least 8 characters long.
    pub fn add_secret(&self, value: &str) {
        self.recorder.learn(value);
    }

    /// Starts an exchange: the request as it was sent, `path` without its query, `headers`
    /// as sent (credentials are taken out), `body` as sent (JSON is read and redacted, a
    /// multipart form summarised by its content type and length, other text kept as text).
    /// Its time is taken now.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: &[u8],
    ) -> PendingExchange {
        let vault = operation_of(method, path).is_some_and(|op| is_vault(op.id));
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let recorded = self.raw_request_body(vault, content_type, body);
        self.start(method, path, query, headers, &recorded)
    }

    /// Starts an exchange whose body is a multipart form passed on without being read (a file
    /// upload): it is recorded as `{"multipart": {"content_type", "length"}}`, the length
    /// being the `content-length` given, if any. Otherwise as [`request`](Self::request).
    pub fn request_form(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        length: Option<u64>,
    ) -> PendingExchange {
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let body = json!({ "multipart": { "content_type": content_type, "length": length } });
        self.start(method, path, query, headers, &body)
    }

    fn start(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: &Value,
    ) -> PendingExchange {
        let op = operation_of(method, path);
        let vault = op.is_some_and(|op| is_vault(op.id));
        let query: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let headers: Vec<(&str, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let exchange = self.recorder.exchange_of(
            op.map(|op| op.id),
            &method.to_ascii_uppercase(),
            op.map(|op| op.path),
            path,
            &query,
            &headers,
            body,
        );
        PendingExchange { exchange, vault }
    }

    fn raw_request_body(&self, vault: bool, content_type: Option<&str>, bytes: &[u8]) -> Value {
        if bytes.is_empty() {
            return Value::Null;
        }
        if let Some(ct) = content_type.filter(|ct| ct.starts_with("multipart/")) {
            return json!({ "multipart": { "content_type": ct, "length": bytes.len() } });
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                self.recorder.redact_json(&mut v, vault);
                v
            }
            Err(_) => match std::str::from_utf8(bytes) {
                Ok(text) => json!({ "text": text }),
                Err(_) => {
                    json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
                }
            },
        }
    }

    /// Writes an exchange whose answer came: its status, its headers (credentials and
    /// cookies taken out) and its body, or that the body is read as it comes (then pass
    /// that body through [`tap`](Self::tap)).
    pub fn answered(
        &self,
        pending: PendingExchange,
        status: u16,
        headers: &[(String, String)],
        body: AnswerBody<'_>,
    ) -> RecordedExchange {
        let (body, events) = match body {
            AnswerBody::Whole(bytes) => (Ok(bytes), false),
            AnswerBody::Events => (Err(true), true),
            AnswerBody::Bytes => (Err(false), false),
        };
        let id = self.recorder.answered_with(
            pending.exchange,
            pending.vault,
            status,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            body,
        );
        RecordedExchange {
            id,
            events,
            vault: pending.vault,
        }
    }

    /// Writes an exchange that got no answer (`status` `null`), with what went wrong.
    pub fn failed(&self, pending: PendingExchange, error: &str) -> u64 {
        let mut fields = pending.exchange.fields;
        fields.insert("status".into(), Value::Null);
        fields.insert("error".into(), json!(error));
        self.recorder.finish(fields, pending.exchange.sent)
    }

    /// Wraps the body of an answer read as it comes: each read passes through unchanged, and
    /// each event-stream frame (or, for [`AnswerBody::Bytes`], each chunk) is written as soon
    /// as it has passed, with its delay from the one before; the end of the body (or the
    /// reader dropped before it) writes the exchange's `end` line.
    pub fn tap<R: Read + Send + 'static>(
        &self,
        exchange: &RecordedExchange,
        body: R,
    ) -> Box<dyn Read + Send> {
        self.recorder
            .tap_with(exchange.id, exchange.events, exchange.vault, Box::new(body))
    }
}
