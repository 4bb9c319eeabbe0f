//! Recording a client's traffic into a cassette (feature `cassettes`): a JSON-lines file with
//! a header line, one line per exchange (request and answer), and, for an answer read as it
//! comes (an event stream, a download), one line per event or chunk as it passes, with its
//! delay from the one before. Secrets are taken out before a line is written. The format is
//! described in `docs/cassettes.md`.
//!
//! This module owns the file and its lines (the `Recorder`, its header, exchanges and writes);
//! `redact` what is kept out of them, `tap` the lines of a body read as it comes, `writer` the
//! public [`CassetteWriter`] for traffic the crate did not send itself.

mod redact;
mod tap;
mod writer;

pub use writer::{AnswerBody, CassetteWriter, PendingExchange, RecordedExchange};

use crate::body::Body;
use crate::error::{Error, Result};
use crate::op::Operation;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::Write;
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
        self.write_lines(self.scrubbed(text).as_bytes())
    }

    /// Writes whole lines, already scrubbed, in one write: the file holds whole lines only.
    fn write_lines(&self, lines: &[u8]) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(lines)
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

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}
