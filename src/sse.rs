//! A Server-Sent Events decoder that follows the WHATWG HTML specification's
//! "interpreting an event stream" exactly, with bounded memory.
//!
//! - Lines end with CR, LF or CRLF, split anywhere across reads (a CR at the end of one read
//!   and an LF at the start of the next are one line end).
//! - A leading byte order mark is skipped; bytes that are not UTF-8 become U+FFFD.
//! - A line starting with `:` is a comment; a line without a colon is a field with an empty
//!   value; exactly one space after the colon is removed.
//! - `data` lines are joined with LF; `event` sets the type (default `message`); `id` sets the
//!   last event id, which carries over to later events, unless it contains NUL; `retry` is taken
//!   only when all ASCII digits; other fields are ignored.
//! - An empty line dispatches the event, unless its data is empty; an event not ended by an
//!   empty line when the stream ends is never dispatched.
//! - A line, or an event's data, longer than its limit is an error, never an unbounded
//!   allocation.
//!
//! ```
//! use managed_agents::sse::Decoder;
//!
//! let mut d = Decoder::new();
//! d.feed(b"event: ping\ndata: a\r");
//! assert!(d.next_event().is_none()); // not dispatched yet
//! d.feed(b"\ndata: b\n\n: a comment\n");
//! let ev = d.next_event().unwrap().unwrap();
//! assert_eq!((ev.event(), ev.data()), ("ping", "a\nb"));
//! assert!(d.next_event().is_none());
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::io::Read;
use std::time::Duration;

/// The default limit of one line: 16 MiB.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;
/// The default limit of one event's data: 64 MiB.
pub const DEFAULT_MAX_EVENT: usize = 64 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    event: Cow<'static, str>,
    data: String,
    id: String,
    retry: Option<Duration>,
}

impl Event {
    /// The event type (`message` when the stream gave none).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The data, its lines joined with LF.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Takes the data out.
    pub fn into_data(self) -> String {
        self.data
    }

    /// The last event id of the stream when this event was dispatched (empty if none).
    pub fn last_event_id(&self) -> &str {
        &self.id
    }

    /// The reconnection time the stream asked for so far, if it did.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }
}

/// Why a stream could not be decoded.
#[derive(Debug)]
pub enum SseError {
    /// A line was longer than the limit.
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An event's data was larger than the limit.
    EventTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Reading the stream failed.
    Io(std::io::Error),
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong { limit } => {
                write!(f, "an event-stream line is longer than {limit} bytes")
            }
            SseError::EventTooLarge { limit } => {
                write!(f, "an event's data is larger than {limit} bytes")
            }
            SseError::Io(e) => write!(f, "reading the event stream: {e}"),
        }
    }
}

impl std::error::Error for SseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SseError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// An incremental decoder: feed it bytes in chunks of any size, take events out.
///
/// After an error the decoder is spent: it returns no more events.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the unparsed bytes in `buf`.
    pos: usize,
    /// How far `buf[pos..]` is known to hold no line end.
    scanned: usize,
    /// The previous line ended with CR: an LF right after it belongs to that line end.
    after_cr: bool,
    /// Still looking for a byte order mark at the very start.
    at_start: bool,
    event: String,
    data: String,
    has_data: bool,
    id: String,
    retry: Option<Duration>,
    max_line: usize,
    max_event: usize,
    failed: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn new() -> Decoder {
        Decoder::with_limits(DEFAULT_MAX_LINE, DEFAULT_MAX_EVENT)
    }

    /// A decoder with limits on a line and on one event's data, in bytes.
    pub fn with_limits(max_line: usize, max_event: usize) -> Decoder {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            scanned: 0,
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            has_data: false,
            id: String::new(),
            retry: None,
            max_line,
            max_event,
            failed: false,
        }
    }

    /// The last event id seen so far.
    pub fn last_event_id(&self) -> &str {
        &self.id
    }

    /// Adds bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos >= 64 * 1024) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Decodes a chunk in place, handing each complete event (or the error that spends the
    /// decoder) to `f`. Gives exactly the events of [`feed`](Self::feed) +
    /// [`next_event`](Self::next_event), but copies only the bytes of a line that the chunk
    /// leaves unfinished.
    ///
    /// ```
    /// use managed_agents::sse::Decoder;
    ///
    /// let mut d = Decoder::new();
    /// let mut datas = Vec::new();
    /// d.decode(b"data: a\n\ndata: b", |ev| datas.push(ev.unwrap().into_data()));
    /// d.decode(b"\n\n", |ev| datas.push(ev.unwrap().into_data()));
    /// assert_eq!(datas, ["a", "b"]);
    /// ```
    pub fn decode(&mut self, chunk: &[u8], mut f: impl FnMut(Result<Event, SseError>)) {
        let mut rest = chunk;
        if self.pos < self.buf.len() || self.at_start {
            // finish the buffered line (or the byte order mark check) on the buffered path
            let cut = memchr::memchr2(b'\n', b'\r', rest).map_or(rest.len(), |i| i + 1);
            self.feed(&rest[..cut]);
            rest = &rest[cut..];
            while let Some(ev) = self.next_event() {
                f(ev);
            }
            if self.pos < self.buf.len() || self.at_start {
                self.feed(rest);
                while let Some(ev) = self.next_event() {
                    f(ev);
                }
                return;
            }
        }
        loop {
            if self.failed {
                return;
            }
            if self.after_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => return,
                }
                self.after_cr = false;
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                if rest.len() > self.max_line {
                    self.failed = true;
                    f(Err(SseError::LineTooLong {
                        limit: self.max_line,
                    }));
                } else if !rest.is_empty() {
                    self.feed(rest);
                }
                return;
            };
            if end > self.max_line {
                self.failed = true;
                f(Err(SseError::LineTooLong {
                    limit: self.max_line,
                }));
                return;
            }
            self.after_cr = rest[end] == b'\r';
            match self.line(&rest[..end]) {
                Ok(Some(ev)) => f(Ok(ev)),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    f(Err(e));
                    return;
                }
            }
            rest = &rest[end + 1..];
        }
    }

    /// The next complete event, if the bytes fed so far hold one.
    pub fn next_event(&mut self) -> Option<Result<Event, SseError>> {
        if self.failed {
            return None;
        }
        loop {
            if self.at_start {
                let rest = &self.buf[self.pos..];
                let bom = b"\xEF\xBB\xBF";
                if rest.len() < 3 && bom.starts_with(rest) {
                    return None; // maybe a BOM, split across reads
                }
                if rest.starts_with(bom) {
                    self.pos += 3;
                }
                self.at_start = false;
            }
            if self.after_cr && self.pos < self.buf.len() {
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                }
                self.after_cr = false;
            }
            let rest = &self.buf[self.pos..];
            let Some(off) = memchr::memchr2(b'\n', b'\r', &rest[self.scanned..]) else {
                self.scanned = rest.len();
                if rest.len() > self.max_line {
                    self.failed = true;
                    return Some(Err(SseError::LineTooLong {
                        limit: self.max_line,
                    }));
                }
                return None;
            };
            let end = self.scanned + off;
            self.scanned = 0;
            if end > self.max_line {
                self.failed = true;
                return Some(Err(SseError::LineTooLong {
                    limit: self.max_line,
                }));
            }
            let start = self.pos;
            self.after_cr = rest[end] == b'\r';
            self.pos += end + 1;
            // the line borrows the buffer while the decoder changes: lend the buffer out
            let buf = std::mem::take(&mut self.buf);
            let done = self.line(&buf[start..start + end]);
            self.buf = buf;
            match done {
                Ok(Some(ev)) => return Some(Ok(ev)),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Processes one line (without its line end).
    fn line(&mut self, line: &[u8]) -> Result<Option<Event>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event,
                    });
                }
                if self.has_data {
                    self.data.push('\n');
                }
                push_lossy(&mut self.data, value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                push_lossy(&mut self.event, value);
            }
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id.clear();
                push_lossy(&mut self.id, value);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // digits that overflow are still digits: the largest time we can hold
                let ms = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                self.retry = Some(Duration::from_millis(ms));
            }
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<Event> {
        if !self.has_data {
            self.event.clear();
            return None;
        }
        self.has_data = false;
        // the usual type costs no allocation, and the buffer keeps its capacity
        let event = if self.event.is_empty() || self.event == "message" {
            self.event.clear();
            Cow::Borrowed("message")
        } else {
            Cow::Owned(std::mem::take(&mut self.event))
        };
        Some(Event {
            event,
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
            retry: self.retry,
        })
    }
}

fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// The events of any reader, as an iterator.
///
/// ```
/// use managed_agents::sse::EventReader;
///
/// let body = &b"data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"[..];
/// let datas: Vec<String> = EventReader::new(body).map(|e| e.unwrap().into_data()).collect();
/// assert_eq!(datas, [r#"{"n":1}"#, r#"{"n":2}"#]);
/// ```
pub struct EventReader<R> {
    reader: R,
    decoder: Decoder,
    chunk: Box<[u8]>,
    ready: VecDeque<Result<Event, SseError>>,
    done: bool,
}

impl<R: Read> EventReader<R> {
    /// Reads events from `reader` with the default limits.
    pub fn new(reader: R) -> EventReader<R> {
        EventReader::with_decoder(reader, Decoder::new())
    }

    /// Reads events from `reader` with a configured decoder.
    pub fn with_decoder(reader: R, decoder: Decoder) -> EventReader<R> {
        EventReader {
            reader,
            decoder,
            chunk: vec![0; 64 * 1024].into_boxed_slice(),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// The decoder (for its last event id).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = Result<Event, SseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                if ev.is_err() {
                    self.done = true;
                    self.ready.clear();
                }
                return Some(ev);
            }
            if self.done {
                return None;
            }
            match self.reader.read(&mut self.chunk) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => {
                    let ready = &mut self.ready;
                    self.decoder
                        .decode(&self.chunk[..n], |ev| ready.push_back(ev));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(SseError::Io(e)));
                }
            }
        }
    }
}
