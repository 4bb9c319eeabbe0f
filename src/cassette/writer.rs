//! [`CassetteWriter`]: a cassette of traffic the crate did not send itself (a recording
//! proxy's), with the lines and the redaction of a client's own.

use super::{is_vault, Exchange, Recorder};
use crate::error::Result;
use crate::op::Operation;
use base64::Engine;
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

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
    /// [`Error::Io`](crate::Error::Io) when the file cannot be created or written.
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
