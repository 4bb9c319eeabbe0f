//! Reading a cassette (the JSON-lines record of a client's traffic that the `managed-agents`
//! client writes with its `cassettes` feature) into the exchanges a replay serves: each
//! request with its answer, and the frames, chunks and end of the answers that were streams.
//! A cassette that does not read gives a [`CassetteError`] naming the line and what was
//! wrong; nothing in a cassette makes the reader panic.

use base64::Engine;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The `format` a cassette's header names.
const FORMAT: &str = "managed-agents-cassette";
/// The version of the format this reader knows.
const VERSION: u64 = 1;

/// A cassette read whole and checked, ready to be replayed with
/// [`Emulator::replay`](crate::Emulator::replay).
///
/// ```
/// use managed_agents_emulator::Cassette;
///
/// let text = concat!(
///     r#"{"kind":"header","format":"managed-agents-cassette","version":1,"client":"x","base_url":"http://x"}"#, "\n",
///     r#"{"kind":"exchange","id":1,"method":"GET","path":"/v1/agents/agent_1","query":[],"request_body":null,"status":200,"response_headers":{},"body":{"id":"agent_1","type":"agent"}}"#, "\n",
/// );
/// let cassette = Cassette::parse(text)?;
/// assert_eq!(cassette.len(), 1);
/// let bad = Cassette::parse(&text[..text.len() - 10]).unwrap_err();
/// assert_eq!(bad.line(), 2);
/// # Ok::<(), managed_agents_emulator::CassetteError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cassette {
    pub(crate) base_url: String,
    pub(crate) exchanges: Vec<Exchange>,
}

/// Why a cassette could not be read: the line (from 1) and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CassetteError {
    line: usize,
    message: String,
}

impl CassetteError {
    fn at(line: usize, message: impl Into<String>) -> CassetteError {
        CassetteError {
            line,
            message: message.into(),
        }
    }

    /// Returns the line (from 1) that was wrong; 0 when the file could not be read at all.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Returns what was wrong, without the line.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for CassetteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "the cassette could not be read: {}", self.message)
        } else {
            write!(f, "cassette line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for CassetteError {}

/// One recorded request and its answer.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Its number in the cassette.
    pub(crate) id: u64,
    /// The operation, as the SDKs name it, when recorded.
    pub(crate) operation: Option<String>,
    pub(crate) method: String,
    pub(crate) path_template: Option<String>,
    pub(crate) path: String,
    /// The query pairs, as sent.
    pub(crate) query: Vec<(String, String)>,
    /// The body sent, as the cassette holds it.
    pub(crate) request_body: Value,
    /// The answer's status; `None` when no answer came.
    pub(crate) status: Option<u16>,
    pub(crate) response_headers: Vec<(String, String)>,
    pub(crate) body: Value,
    /// The answer's JSON body as the file holds it (the server's key order), when it can be
    /// sent as it is.
    pub(crate) body_text: Option<String>,
    pub(crate) stream: Option<StreamKind>,
    /// An event stream's frames, in order.
    pub(crate) frames: Vec<Frame>,
    /// A download's pieces, in order.
    pub(crate) chunks: Vec<Chunk>,
    /// How the stream or download ended; `None` when the cassette ends first.
    pub(crate) end: Option<End>,
    /// When the request was sent, in ms since the cassette began, when recorded.
    pub(crate) at_ms: Option<f64>,
    /// From sending to the answer's head, when recorded.
    pub(crate) elapsed_ms: Option<f64>,
}

/// What an answer read as it came carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Events,
    Bytes,
}

/// One frame of an event stream, ready for the wire.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Milliseconds since the frame before (the first: since the answer's head).
    pub(crate) delay_ms: f64,
    /// The frame's bytes, its blank line included.
    pub(crate) wire: Vec<u8>,
    /// A heartbeat (`event: ping`), which no stream fault counts.
    pub(crate) ping: bool,
    /// Its data, when that is a JSON object.
    pub(crate) data: Option<Value>,
}

/// One piece of a download.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) delay_ms: f64,
    pub(crate) bytes: Vec<u8>,
}

/// How a stream or download ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum End {
    /// The server ended the body.
    Eof { delay_ms: f64 },
    /// The reader let go of it first.
    Closed { delay_ms: f64 },
    /// The body ended inside a frame: what came of it.
    Cut { partial: String },
}

impl Cassette {
    /// Reads the cassette in a file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Cassette, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read(path)
            .map_err(|e| CassetteError::at(0, format!("{}: {e}", path.display())))?;
        Cassette::parse_bytes(&text)
    }

    /// Reads a cassette from a reader, to its end.
    pub fn from_reader(mut reader: impl Read) -> Result<Cassette, CassetteError> {
        let mut text = Vec::new();
        reader
            .read_to_end(&mut text)
            .map_err(|e| CassetteError::at(0, e.to_string()))?;
        Cassette::parse_bytes(&text)
    }

    /// Reads a cassette from its text.
    pub fn parse(text: &str) -> Result<Cassette, CassetteError> {
        Cassette::parse_bytes(text.as_bytes())
    }

    /// Returns how many exchanges the cassette holds.
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// Returns whether the cassette holds no exchange.
    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    /// Returns the URL of the server the recording talked to, as its header names it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn parse_bytes(bytes: &[u8]) -> Result<Cassette, CassetteError> {
        let ends_whole = bytes.ends_with(b"\n");
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let mut reader = Reader::default();
        let mut header_seen = false;
        for (i, raw) in lines.iter().enumerate() {
            let n = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let last = i + 1 == lines.len();
            let value: Value = serde_json::from_slice(raw).map_err(|e| {
                if last && !ends_whole && e.is_eof() {
                    CassetteError::at(
                        n,
                        format!("the line is cut off: the cassette ends inside it ({e})"),
                    )
                } else {
                    CassetteError::at(n, format!("not a JSON line: {e}"))
                }
            })?;
            let Value::Object(line) = value else {
                return Err(CassetteError::at(n, "not a JSON object"));
            };
            let kind = line.get("kind").and_then(Value::as_str).unwrap_or("");
            if !header_seen {
                if kind != "header" {
                    return Err(CassetteError::at(
                        n,
                        format!(
                            "a cassette starts with its header line (kind \"header\"), not {}",
                            describe_kind(&line)
                        ),
                    ));
                }
                reader.header(&line).map_err(|m| CassetteError::at(n, m))?;
                header_seen = true;
                continue;
            }
            let read = match kind {
                "header" => Err("a second header line".to_string()),
                "exchange" => reader.exchange(&line, raw),
                "event" => reader.event(&line, raw),
                "chunk" => reader.chunk(&line),
                "end" => reader.end(&line),
                // a kind added later, which this reader may pass over (see the format's rules)
                _ if line.contains_key("kind") => Ok(()),
                _ => Err("a line without a \"kind\"".to_string()),
            };
            read.map_err(|m| CassetteError::at(n, m))?;
        }
        if !header_seen {
            return Err(CassetteError::at(
                1,
                "the cassette is empty: no header line",
            ));
        }
        Ok(Cassette {
            base_url: reader.base_url,
            exchanges: reader.exchanges,
        })
    }
}

/// The text of a line's JSON `field` (an event's `data`, an answer's `body`) as the file holds
/// it (its keys in the server's order, its numbers as they were written), so what a replay
/// sends is what was recorded byte for byte; `None` when it cannot be sent on one line as it
/// is (then the parsed value is written out).
fn as_recorded(raw: &[u8], field: &str) -> Option<String> {
    let fields: HashMap<String, Box<RawValue>> = serde_json::from_slice(raw).ok()?;
    let text = fields.get(field)?.get();
    (!text.contains(['\r', '\n'])).then(|| text.to_owned())
}

fn describe_kind(line: &Map<String, Value>) -> String {
    match line.get("kind") {
        Some(k) => format!("kind {k}"),
        None => "a line without a \"kind\"".into(),
    }
}

/// What the lines read so far made.
#[derive(Default)]
struct Reader {
    base_url: String,
    exchanges: Vec<Exchange>,
    /// Exchange id -> its index in `exchanges`.
    by_id: HashMap<u64, usize>,
}

type Read1 = Result<(), String>;

fn text(line: &Map<String, Value>, field: &str) -> Result<String, String> {
    match line.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("\"{field}\" is not a string: {other}")),
        None => Err(format!("\"{field}\" is missing")),
    }
}

fn opt_text(line: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match line.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("\"{field}\" is not a string: {other}")),
    }
}

fn whole(line: &Map<String, Value>, field: &str) -> Result<u64, String> {
    match line.get(field) {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("\"{field}\" is not a whole number: {v}")),
        None => Err(format!("\"{field}\" is missing")),
    }
}

/// A time in milliseconds, if there is one; never negative nor endless.
fn ms(line: &Map<String, Value>, field: &str) -> Result<Option<f64>, String> {
    match line.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(ms)),
            _ => Err(format!("\"{field}\" is not a number of milliseconds: {v}")),
        },
    }
}

/// A delay in milliseconds, 0 when absent; never negative nor endless.
fn delay(line: &Map<String, Value>) -> Result<f64, String> {
    match line.get("delay_ms") {
        None | Some(Value::Null) => Ok(0.0),
        Some(v) => match v.as_f64() {
            Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(ms),
            _ => Err(format!("\"delay_ms\" is not a number of milliseconds: {v}")),
        },
    }
}

impl Reader {
    fn header(&mut self, line: &Map<String, Value>) -> Read1 {
        let format = text(line, "format")?;
        if format != FORMAT {
            return Err(format!(
                "the format is {format:?}, not {FORMAT:?}: not a cassette this emulator reads"
            ));
        }
        let version = whole(line, "version")?;
        if version != VERSION {
            return Err(format!(
                "the cassette's format is version {version}; this emulator reads version {VERSION}"
            ));
        }
        self.base_url = opt_text(line, "base_url")?.unwrap_or_default();
        Ok(())
    }

    fn exchange(&mut self, line: &Map<String, Value>, raw: &[u8]) -> Read1 {
        let id = whole(line, "id")?;
        if self.by_id.contains_key(&id) {
            return Err(format!("a second exchange {id}"));
        }
        let method = text(line, "method")?.to_ascii_uppercase();
        let path = text(line, "path")?;
        if !path.starts_with('/') {
            return Err(format!("the path {path:?} does not start with /"));
        }
        let mut query = Vec::new();
        match line.get("query") {
            None | Some(Value::Null) => {}
            Some(Value::Array(pairs)) => {
                for p in pairs {
                    match p.as_array().map(Vec::as_slice) {
                        Some([Value::String(k), Value::String(v)]) => {
                            query.push((k.clone(), v.clone()))
                        }
                        _ => return Err(format!("a query pair is not [name, value]: {p}")),
                    }
                }
            }
            Some(other) => return Err(format!("\"query\" is not a list of pairs: {other}")),
        }
        let status = match line.get("status") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64().and_then(|s| u16::try_from(s).ok()) {
                Some(s) if (100..=599).contains(&s) => Some(s),
                _ => return Err(format!("\"status\" is not an HTTP status: {v}")),
            },
        };
        let mut response_headers = Vec::new();
        match line.get("response_headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (k, v) in h {
                    let v = v
                        .as_str()
                        .ok_or_else(|| format!("the response header {k:?} is not a string"))?;
                    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                        return Err(format!("{k:?} is not a header name"));
                    }
                    if v.bytes().any(|b| b == b'\r' || b == b'\n') {
                        return Err(format!("the response header {k:?} holds a line break"));
                    }
                    response_headers.push((k.to_ascii_lowercase(), v.to_string()));
                }
            }
            Some(other) => return Err(format!("\"response_headers\" is not an object: {other}")),
        }
        let stream = match opt_text(line, "stream")?.as_deref() {
            None => None,
            Some("events") => Some(StreamKind::Events),
            Some("bytes") => Some(StreamKind::Bytes),
            Some(other) => {
                return Err(format!(
                    "\"stream\" is {other:?}; a stream is \"events\" or \"bytes\""
                ))
            }
        };
        if stream.is_some() && status.is_none() {
            return Err("a stream without a status".into());
        }
        let body = line.get("body").cloned().unwrap_or(Value::Null);
        if let Some(b64) = body.get("base64") {
            let ok = b64
                .as_str()
                .is_some_and(|s| base64::engine::general_purpose::STANDARD.decode(s).is_ok());
            if !ok {
                return Err("the body's \"base64\" is not base64".into());
            }
        }
        self.by_id.insert(id, self.exchanges.len());
        self.exchanges.push(Exchange {
            id,
            operation: opt_text(line, "operation")?,
            method,
            path_template: opt_text(line, "path_template")?,
            path,
            query,
            request_body: line.get("request_body").cloned().unwrap_or(Value::Null),
            status,
            response_headers,
            body_text: as_recorded(raw, "body"),
            body,
            stream,
            frames: Vec::new(),
            chunks: Vec::new(),
            end: None,
            at_ms: ms(line, "at_ms")?,
            elapsed_ms: ms(line, "elapsed_ms")?,
        });
        Ok(())
    }

    /// The stream a line of `kind` belongs to: its exchange, which must be a stream of that
    /// kind that has not ended, and the `seq` the line must have.
    fn stream_of(
        &mut self,
        line: &Map<String, Value>,
        kind: StreamKind,
        what: &str,
    ) -> Result<&mut Exchange, String> {
        let id = whole(line, "exchange")?;
        let Some(&i) = self.by_id.get(&id) else {
            return Err(format!(
                "{what} of exchange {id}, which no line before it records"
            ));
        };
        let x = &mut self.exchanges[i];
        match x.stream {
            Some(k) if k == kind => {}
            Some(_) | None => {
                let is = match x.stream {
                    Some(StreamKind::Events) => "an event stream",
                    Some(StreamKind::Bytes) => "a download",
                    None => "not a stream",
                };
                return Err(format!("{what} of exchange {id}, which is {is}"));
            }
        }
        if x.end.is_some() {
            return Err(format!("{what} of exchange {id} after its end line"));
        }
        Ok(x)
    }

    fn event(&mut self, line: &Map<String, Value>, raw: &[u8]) -> Read1 {
        let delay_ms = delay(line)?;
        let seq = whole(line, "seq")?;
        let event = opt_text(line, "event")?;
        let id = opt_text(line, "id")?;
        let retry = match line.get("retry") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| format!("\"retry\" is not a whole number: {v}"))?,
            ),
        };
        let data_text = opt_text(line, "data_text")?;
        let data = line.get("data").filter(|d| !d.is_null()).cloned();
        if data.is_none() && data_text.is_none() && event.is_none() && id.is_none() {
            return Err("an event with no data, no name and no id".into());
        }
        let mut wire = String::new();
        for (field, value) in [("event", &event), ("id", &id)] {
            if let Some(v) = value {
                if v.contains(['\r', '\n']) {
                    return Err(format!("the event's {field} holds a line break"));
                }
                wire.push_str(&format!("{field}: {v}\n"));
            }
        }
        if let Some(r) = retry {
            wire.push_str(&format!("retry: {r}\n"));
        }
        match (&data, &data_text) {
            (Some(d), _) => match as_recorded(raw, "data") {
                Some(text) => wire.push_str(&format!("data: {text}\n")),
                None => wire.push_str(&format!("data: {d}\n")),
            },
            (None, Some(t)) => {
                for l in t.split('\n') {
                    wire.push_str(&format!("data: {}\n", l.trim_end_matches('\r')));
                }
            }
            (None, None) => {}
        }
        wire.push('\n');
        let ping = event.as_deref() == Some("ping");
        let x = self.stream_of(line, StreamKind::Events, "an event")?;
        if seq != x.frames.len() as u64 {
            return Err(format!(
                "event seq {seq} of exchange {}, where seq {} comes next",
                x.id,
                x.frames.len()
            ));
        }
        x.frames.push(Frame {
            delay_ms,
            wire: wire.into_bytes(),
            ping,
            data: data.filter(Value::is_object),
        });
        Ok(())
    }

    fn chunk(&mut self, line: &Map<String, Value>) -> Read1 {
        let delay_ms = delay(line)?;
        let seq = whole(line, "seq")?;
        let b64 = text(line, "base64")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .map_err(|e| format!("\"base64\" is not base64: {e}"))?;
        let x = self.stream_of(line, StreamKind::Bytes, "a chunk")?;
        if seq != x.chunks.len() as u64 {
            return Err(format!(
                "chunk seq {seq} of exchange {}, where seq {} comes next",
                x.id,
                x.chunks.len()
            ));
        }
        x.chunks.push(Chunk { delay_ms, bytes });
        Ok(())
    }

    fn end(&mut self, line: &Map<String, Value>) -> Read1 {
        let delay_ms = delay(line)?;
        let reason = text(line, "reason")?;
        let end = match reason.as_str() {
            "eof" => End::Eof { delay_ms },
            "closed" => End::Closed { delay_ms },
            "cut" => {
                let partial = text(line, "partial")
                    .map_err(|e| format!("a stream cut inside a frame: {e}"))?;
                // what came of the frame the body ended in: a whole frame (its blank line)
                // would be played as one more event, which the stream never delivered
                if partial.contains("\n\n") || partial.contains("\n\r\n") {
                    return Err(
                        "a stream cut inside a frame whose \"partial\" holds a whole frame \
                         (a blank line): its events belong in event lines"
                            .into(),
                    );
                }
                End::Cut { partial }
            }
            other => {
                return Err(format!(
                    "the end's reason is {other:?}, not \"eof\", \"closed\" or \"cut\""
                ))
            }
        };
        let id = whole(line, "exchange")?;
        let kind = self
            .by_id
            .get(&id)
            .and_then(|&i| self.exchanges[i].stream)
            .unwrap_or(StreamKind::Events);
        let x = self.stream_of(line, kind, "an end")?;
        if matches!(end, End::Cut { .. }) && x.stream == Some(StreamKind::Bytes) {
            return Err(format!(
                "a download (exchange {}) cut inside a frame: only an event stream has frames",
                x.id
            ));
        }
        x.end = Some(end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"kind":"header","format":"managed-agents-cassette","version":1,"client":"t","base_url":"http://x"}"#;
    const STREAM: &str = r#"{"kind":"exchange","id":1,"method":"GET","path":"/v1/sessions/sesn_1/events/stream","query":[],"request_body":null,"status":200,"response_headers":{"content-type":"text/event-stream"},"body":null,"stream":"events"}"#;
    const PLAIN: &str = r#"{"kind":"exchange","id":2,"method":"GET","path":"/v1/agents/agent_1","query":[],"request_body":null,"status":200,"response_headers":{},"body":{"id":"agent_1"}}"#;
    const EVENT0: &str = r#"{"kind":"event","exchange":1,"seq":0,"delay_ms":1.5,"event":"message","data":{"type":"session.status_idle","id":"sevt_1"}}"#;

    fn error_of(lines: &[&str]) -> CassetteError {
        let text = lines.join("\n") + "\n";
        Cassette::parse(&text).unwrap_err()
    }

    #[test]
    fn a_cassette_reads_into_exchanges_with_their_frames() {
        let end = r#"{"kind":"end","exchange":1,"reason":"closed","delay_ms":3}"#;
        let text = [HEADER, STREAM, EVENT0, PLAIN, end].join("\n") + "\n";
        let c = Cassette::parse(&text).unwrap();
        assert_eq!((c.len(), c.base_url()), (2, "http://x"));
        let x = &c.exchanges[0];
        assert_eq!(x.frames.len(), 1);
        assert_eq!(
            String::from_utf8_lossy(&x.frames[0].wire),
            // as the file holds it: the server's key order, not a sorted one
            "event: message\ndata: {\"type\":\"session.status_idle\",\"id\":\"sevt_1\"}\n\n"
        );
        assert_eq!(x.end, Some(End::Closed { delay_ms: 3.0 }));
        // a line of a kind added later is passed over; so are blank lines
        let text = [HEADER, "", r#"{"kind":"note","text":"hi"}"#, PLAIN].join("\n");
        assert_eq!(Cassette::parse(&text).unwrap().len(), 1);
    }

    #[test]
    fn no_prefix_of_a_cassette_panics_the_reader_or_the_replay() {
        let chunk_x = r#"{"kind":"exchange","id":3,"method":"GET","path":"/v1/files/file_1/content","query":[["a","b"]],"request_body":null,"status":200,"response_headers":{"content-type":"application/octet-stream"},"body":null,"stream":"bytes","at_ms":3,"elapsed_ms":1}"#;
        let chunk = r#"{"kind":"chunk","exchange":3,"seq":0,"delay_ms":0.5,"base64":"aGk="}"#;
        let cut = r#"{"kind":"end","exchange":1,"reason":"cut","partial":"event: mess"}"#;
        let text = [HEADER, STREAM, EVENT0, PLAIN, chunk_x, chunk, cut].join("\n") + "\n";
        for n in 0..=text.len() {
            match Cassette::parse(&text[..n]) {
                Ok(c) => {
                    let mut r = crate::replay::Replay::new(c);
                    for (m, target) in [
                        ("GET", "/v1/agents/agent_1"),
                        ("GET", "/v1/sessions/sesn_1/events?order=desc&limit=2"),
                        ("GET", "/v1/sessions/sesn_1/events/stream"),
                        ("POST", "/v1/sessions/sesn_1/events"),
                        ("GET", "/v1/files/file_1/content?a=b"),
                    ] {
                        let _ = r.answer(m, target, "application/json", b"{\"x\":[1]}");
                    }
                    let _ = r.unplayed();
                }
                Err(e) => assert!(e.line() >= 1, "{e}"),
            }
        }
    }

    #[test]
    fn each_bad_cassette_names_its_line() {
        // a line cut off (the file ends inside it)
        let text = [HEADER, STREAM, &EVENT0[..40]].join("\n");
        let e = Cassette::parse(&text).unwrap_err();
        assert_eq!(e.line(), 3, "{e}");
        assert!(e.message().contains("cut off"), "{e}");
        // a line that is not JSON, in the middle
        let e = error_of(&[HEADER, "{not json", PLAIN]);
        assert_eq!(e.line(), 2, "{e}");
        assert!(e
            .to_string()
            .starts_with("cassette line 2: not a JSON line"));
        // an unknown version, an unknown format
        let e = error_of(&[&HEADER.replace("\"version\":1", "\"version\":2"), PLAIN]);
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("version 2"), "{e}");
        let e = error_of(&[&HEADER.replace("managed-agents-cassette", "har"), PLAIN]);
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("\"har\""), "{e}");
        // no header: the first line is an exchange; an empty file
        let e = error_of(&[PLAIN]);
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("header"), "{e}");
        let e = Cassette::parse("").unwrap_err();
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("empty"), "{e}");
        // an event of an exchange that does not exist, or is not a stream
        let e = error_of(&[
            HEADER,
            PLAIN,
            &EVENT0.replace("\"exchange\":1", "\"exchange\":9"),
        ]);
        assert_eq!(e.line(), 3);
        assert!(e.message().contains("exchange 9"), "{e}");
        let e = error_of(&[
            HEADER,
            PLAIN,
            &EVENT0.replace("\"exchange\":1", "\"exchange\":2"),
        ]);
        assert_eq!(e.line(), 3);
        assert!(e.message().contains("not a stream"), "{e}");
        // events out of order, an event after the end, a cut without what came of it
        let e = error_of(&[HEADER, STREAM, &EVENT0.replace("\"seq\":0", "\"seq\":1")]);
        assert_eq!(e.line(), 3);
        assert!(e.message().contains("seq 1"), "{e}");
        let end = r#"{"kind":"end","exchange":1,"reason":"eof"}"#;
        let e = error_of(&[HEADER, STREAM, end, EVENT0]);
        assert_eq!(e.line(), 4);
        assert!(e.message().contains("after its end"), "{e}");
        let cut = r#"{"kind":"end","exchange":1,"reason":"cut"}"#;
        let e = error_of(&[HEADER, STREAM, EVENT0, cut]);
        assert_eq!(e.line(), 4);
        assert!(e.message().contains("partial"), "{e}");
        // a stream cut inside a frame whose partial is a whole frame, or more
        let cut = r#"{"kind":"end","exchange":1,"reason":"cut","partial":"event: message\ndata: {}\n\nevent: mess"}"#;
        let e = error_of(&[HEADER, STREAM, EVENT0, cut]);
        assert_eq!(e.line(), 4, "{e}");
        assert!(e.message().contains("whole frame"), "{e}");
        let cut = r#"{"kind":"end","exchange":1,"reason":"cut","partial":"data: {}\r\n\r\n"}"#;
        assert_eq!(error_of(&[HEADER, STREAM, cut]).line(), 3);
        // the stream cut inside a frame as the recording writes it reads, and plays its partial
        let cut =
            r#"{"kind":"end","exchange":1,"reason":"cut","partial":"event: message\ndata: {\"ty"}"#;
        let c = Cassette::parse(&([HEADER, STREAM, EVENT0, cut].join("\n") + "\n")).unwrap();
        assert!(
            matches!(&c.exchanges[0].end, Some(End::Cut { partial }) if partial.ends_with("{\"ty"))
        );
        // the stream's line cut off in the middle of a character
        let text = format!(
            "{HEADER}\n{STREAM}\n{}",
            &EVENT0.replace("idle", "idlé")[..106]
        );
        let e = Cassette::parse_bytes(&text.as_bytes()[..text.len() - 1]).unwrap_err();
        assert_eq!(e.line(), 3, "{e}");
        assert!(e.message().contains("cut off"), "{e}");
        // a line cut off with more lines after it (a file written over): not JSON, named
        let e = error_of(&[HEADER, STREAM, &EVENT0[..60], PLAIN]);
        assert_eq!(e.line(), 3, "{e}");
        assert!(e.message().starts_with("not a JSON line"), "{e}");
        // the version missing, or not a number
        let e = error_of(&[&HEADER.replace(",\"version\":1", ""), PLAIN]);
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("\"version\" is missing"), "{e}");
        let e = error_of(&[&HEADER.replace("\"version\":1", "\"version\":\"1\""), PLAIN]);
        assert_eq!(e.line(), 1);
        assert!(e.message().contains("version"), "{e}");
        let e = error_of(&[&HEADER.replace("\"version\":1", "\"version\":1.5"), PLAIN]);
        assert_eq!(e.line(), 1);
        // a header after blank lines is still line-numbered from the file's top
        let e = error_of(&["", "  ", &HEADER.replace("\"version\":1", "\"version\":0")]);
        assert_eq!(e.line(), 3, "{e}");
        // fields of the wrong kind
        let e = error_of(&[
            HEADER,
            &PLAIN.replace("\"status\":200", "\"status\":\"ok\""),
        ]);
        assert_eq!(e.line(), 2);
        assert!(e.message().contains("status"), "{e}");
        let e = error_of(&[HEADER, &STREAM.replace("\"events\"", "\"video\"")]);
        assert_eq!(e.line(), 2);
        let e = error_of(&[HEADER, PLAIN, PLAIN]);
        assert_eq!(e.line(), 3);
        assert!(e.message().contains("second exchange 2"), "{e}");
        let e = error_of(&[HEADER, "[1, 2]"]);
        assert_eq!(e.line(), 2);
        let e = error_of(&[HEADER, HEADER]);
        assert_eq!(e.line(), 2);
        // no file at all
        let e = Cassette::from_path("/nonexistent/cassette.jsonl").unwrap_err();
        assert_eq!(e.line(), 0);
    }
}
