//! The lines of a body read as it comes: a reader that passes an answer's bytes through and
//! records each complete event-stream frame (or each chunk of a download) as it arrives.

use super::{is_vault, ms, Recorder};
use crate::op::Operation;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

impl Recorder {
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

    pub(super) fn tap_with(
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
        out: &mut Vec<u8>,
    ) -> bool {
        let text = match std::str::from_utf8(frame) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(frame),
        };
        let mut event = None;
        let mut id = None;
        let mut retry = None;
        // the data's lines, borrowed while there is one
        let mut data: Option<std::borrow::Cow<'_, str>> = None;
        for line in text.lines() {
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => event = Some(value),
                "id" => id = Some(value),
                "retry" => retry = value.parse::<u64>().ok(),
                "data" => match &mut data {
                    Some(d) => {
                        let d = d.to_mut();
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(std::borrow::Cow::Borrowed(value)),
                },
                _ => {}
            }
        }
        if event.is_none() && id.is_none() && retry.is_none() && data.is_none() {
            return false; // a comment only
        }
        if let Some(d) = data
            .as_deref()
            .filter(|d| self.needs_no_redaction(d, tee.vault))
        {
            // the common case, written without reading the data into a tree: the fields as
            // `serde_json` writes them (the same bytes, the keys in the sorted order of its
            // `Map`, as in the other lines), then the data as it came (one line of valid JSON
            // holding no key that could be a secret)
            let start = out.len();
            let line = out;
            line.extend_from_slice(b"{\"delay_ms\":");
            let _ = serde_json::to_writer(&mut *line, &ms(delay));
            line.extend_from_slice(b",\"event\":");
            let _ = serde_json::to_writer(&mut *line, &event);
            line.extend_from_slice(b",\"exchange\":");
            line.extend_from_slice(tee.exchange.to_string().as_bytes());
            if let Some(id) = id {
                line.extend_from_slice(b",\"id\":");
                let _ = serde_json::to_writer(&mut *line, id);
            }
            line.extend_from_slice(b",\"kind\":\"event\"");
            if let Some(retry) = retry {
                line.extend_from_slice(b",\"retry\":");
                line.extend_from_slice(retry.to_string().as_bytes());
            }
            line.extend_from_slice(b",\"seq\":");
            line.extend_from_slice(tee.seq.to_string().as_bytes());
            line.extend_from_slice(b",\"data\":");
            line.extend_from_slice(d.as_bytes());
            line.push(b'}');
            self.scrub_from(line, start);
            return true;
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
        out.extend_from_slice(self.scrubbed(Value::Object(line).to_string()).as_bytes());
        true
    }
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
            let mut lines = Vec::new();
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
