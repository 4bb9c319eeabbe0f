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
//! Events come out owned ([`Event`], from [`Decoder::next_event`] or iterating an
//! [`EventReader`]) or borrowed ([`EventRef`], from [`Decoder::decode`] or
//! [`EventReader::next_ref`]): a borrowed event's data points into the bytes read, so reading a
//! stream costs no copy and no allocation per event.
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
use std::fmt;
use std::time::Duration;

mod reader;
pub(crate) use reader::Chunks;
pub use reader::EventReader;

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
    /// Returns the event type (`message` when the stream gave none).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// Returns the data, its lines joined with LF.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Takes the data out.
    pub fn into_data(self) -> String {
        self.data
    }

    /// Returns the last event id of the stream when this event was dispatched (empty if none).
    pub fn last_event_id(&self) -> &str {
        &self.id
    }

    /// Returns the reconnection time the stream asked for so far, if it did.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }
}

/// Why a stream could not be decoded.
#[derive(Debug)]
#[non_exhaustive]
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

/// One dispatched event, borrowed from the decoder and the bytes it was given: what
/// [`Decoder::decode`] and [`EventReader::next_ref`] hand out without copying the data.
///
/// ```
/// use managed_agents::sse::Decoder;
///
/// let mut d = Decoder::new();
/// d.decode(b"event: ping\ndata: {}\n\n", |ev| {
///     let ev = ev.unwrap();
///     assert_eq!((ev.event(), ev.data()), ("ping", "{}"));
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef<'a> {
    event: &'a str,
    data: Cow<'a, str>,
    id: &'a str,
    retry: Option<Duration>,
}

impl<'a> EventRef<'a> {
    /// Returns the event type (`message` when the stream gave none).
    pub fn event(&self) -> &'a str {
        self.event
    }

    /// Returns the data, its lines joined with LF.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Returns the last event id of the stream when this event was dispatched (empty if none).
    pub fn last_event_id(&self) -> &'a str {
        self.id
    }

    /// Returns the reconnection time the stream asked for so far, if it did.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Returns an owned copy.
    pub fn to_event(&self) -> Event {
        Event {
            event: if self.event == "message" {
                Cow::Borrowed("message")
            } else {
                Cow::Owned(self.event.to_string())
            },
            data: self.data.to_string(),
            id: self.id.to_string(),
            retry: self.retry,
        }
    }
}

/// An incremental decoder: give it bytes in chunks of any size, take events out.
///
/// Two ways to use it: [`decode`](Self::decode) a chunk in place and borrow each event (no copy
/// of the data unless an event spans chunks), or [`feed`](Self::feed) bytes and take owned
/// events with [`next_event`](Self::next_event). Both give exactly the same events.
///
/// After an error the decoder is spent: it returns no more events.
#[derive(Debug)]
pub struct Decoder {
    /// The start of a line that no line end has finished yet (or the bytes of a possible BOM).
    line: Vec<u8>,
    /// The previous line ended with CR: an LF right after it belongs to that line end.
    after_cr: bool,
    /// Still looking for a byte order mark at the very start.
    at_start: bool,
    /// The pending event's type (empty for `message`).
    event: String,
    /// The pending event's data, once it has been copied.
    data: String,
    /// The pending event's only data line so far, still in the caller's bytes: a range of the
    /// bytes given to the current `scan`, copied into `data` before `scan` gives them back.
    borrowed: Option<(usize, usize)>,
    /// Bytes of data so far, line ends included, as they came (before any U+FFFD).
    data_len: usize,
    has_data: bool,
    /// An event was handed out: its buffers are cleared at the next `scan`.
    dispatched: bool,
    id: String,
    retry: Option<Duration>,
    max_line: usize,
    max_event: usize,
    failed: bool,
    /// Bytes given to `feed`, and how far `next_event` has read them.
    fed: Vec<u8>,
    fed_pos: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// Creates a decoder with the default limits.
    pub fn new() -> Decoder {
        Decoder::with_limits(DEFAULT_MAX_LINE, DEFAULT_MAX_EVENT)
    }

    /// Creates a decoder with limits on a line and on one event's data, in bytes.
    pub fn with_limits(max_line: usize, max_event: usize) -> Decoder {
        Decoder {
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            borrowed: None,
            data_len: 0,
            has_data: false,
            dispatched: false,
            id: String::new(),
            retry: None,
            max_line,
            max_event,
            failed: false,
            fed: Vec::new(),
            fed_pos: 0,
        }
    }

    /// Returns the last event id seen so far.
    pub fn last_event_id(&self) -> &str {
        &self.id
    }

    /// Returns the stream's reconnection time: the last valid `retry` field seen so far, in any frame,
    /// also one that dispatched no event (a frame of `retry:` alone is a common way for a
    /// server to set it). `None` until the stream sets one.
    ///
    /// ```
    /// use managed_agents::sse::Decoder;
    /// use std::time::Duration;
    ///
    /// let mut d = Decoder::new();
    /// d.decode(b"retry: 1500\n\n: nothing dispatched\n\n", |_| unreachable!());
    /// assert_eq!(d.retry(), Some(Duration::from_millis(1500)));
    /// ```
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Adds bytes for [`next_event`](Self::next_event).
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.fed_pos == self.fed.len() {
            self.fed.clear();
            self.fed_pos = 0;
        }
        self.fed.extend_from_slice(chunk);
    }

    /// Returns the next complete event, if the bytes fed so far hold one.
    pub fn next_event(&mut self) -> Option<Result<Event, SseError>> {
        let fed = std::mem::take(&mut self.fed);
        let mut pos = self.fed_pos;
        let next = self
            .scan(&fed, &mut pos)
            .map(|r| r.map(|()| self.view(&fed).to_event()));
        self.fed = fed;
        self.fed_pos = pos;
        next
    }

    /// Decodes a chunk in place, handing each complete event (or the error that spends the
    /// decoder) to `f`. An event's data is borrowed from `chunk` when it lies there whole, as
    /// one line of valid UTF-8; only the bytes of an event that the chunk leaves unfinished are
    /// copied, to be finished by the next chunk.
    ///
    /// ```
    /// use managed_agents::sse::Decoder;
    ///
    /// let mut d = Decoder::new();
    /// let mut datas = Vec::new();
    /// d.decode(b"data: a\n\ndata: b", |ev| datas.push(ev.unwrap().data().to_string()));
    /// d.decode(b"\n\n", |ev| datas.push(ev.unwrap().data().to_string()));
    /// assert_eq!(datas, ["a", "b"]);
    /// ```
    pub fn decode(&mut self, chunk: &[u8], mut f: impl FnMut(Result<EventRef<'_>, SseError>)) {
        if self.fed_pos < self.fed.len() {
            // bytes given to `feed` and not read yet come first
            let fed = std::mem::take(&mut self.fed);
            let mut pos = self.fed_pos;
            while let Some(r) = self.scan(&fed, &mut pos) {
                f(r.map(|()| self.view(&fed)));
            }
            self.fed = fed;
            self.fed.clear();
            self.fed_pos = 0;
        }
        let mut pos = 0;
        while let Some(r) = self.scan(chunk, &mut pos) {
            f(r.map(|()| self.view(chunk)));
        }
    }

    /// Reads `input` from `*pos` up to the next dispatched event (`Some(Ok)`, to be looked at
    /// with [`view`](Self::view) on the same `input`) or an error; `None` once all of `input`
    /// is taken in (what it leaves unfinished is copied).
    fn scan(&mut self, input: &[u8], pos: &mut usize) -> Option<Result<(), SseError>> {
        if self.dispatched {
            self.dispatched = false;
            self.event.clear();
            self.data.clear();
            self.borrowed = None;
            self.data_len = 0;
            self.has_data = false;
        }
        if self.failed {
            *pos = input.len();
            return None;
        }
        loop {
            let rest = &input[*pos..];
            if rest.is_empty() {
                self.spill(input);
                return None;
            }
            if self.at_start {
                const BOM: &[u8] = b"\xEF\xBB\xBF";
                // `line` holds the bytes of a BOM seen so far
                while self.line.len() < 3
                    && *pos < input.len()
                    && input[*pos] == BOM[self.line.len()]
                {
                    self.line.push(input[*pos]);
                    *pos += 1;
                }
                if self.line.len() == 3 {
                    self.line.clear();
                } else if *pos == input.len() {
                    return None; // maybe a BOM, split across reads
                }
                // not a BOM: what `line` holds starts the first line
                self.at_start = false;
                continue;
            }
            if self.after_cr {
                self.after_cr = false;
                if rest[0] == b'\n' {
                    *pos += 1;
                    continue;
                }
            }
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                if self.line.len() + rest.len() > self.max_line {
                    return Some(Err(self.fail(SseError::LineTooLong {
                        limit: self.max_line,
                    })));
                }
                self.spill(input);
                self.line.extend_from_slice(rest);
                *pos = input.len();
                return None;
            };
            if self.line.len() + end > self.max_line {
                return Some(Err(self.fail(SseError::LineTooLong {
                    limit: self.max_line,
                })));
            }
            let start = *pos;
            *pos += end + 1;
            self.after_cr = rest[end] == b'\r';
            let done = if self.line.is_empty() {
                self.field(&input[start..start + end], Some(start), input)
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..end]);
                let done = self.field(&line, None, input);
                line.clear();
                self.line = line;
                done
            };
            match done {
                Ok(true) => return Some(Ok(())),
                Ok(false) => {}
                Err(e) => return Some(Err(self.fail(e))),
            }
        }
    }

    /// The event `scan` just dispatched from `input`.
    fn view<'a>(&'a self, input: &'a [u8]) -> EventRef<'a> {
        let data = match self.borrowed {
            Some((start, end)) => lossy(&input[start..end]),
            None => Cow::Borrowed(self.data.as_str()),
        };
        EventRef {
            event: if self.event.is_empty() {
                "message"
            } else {
                &self.event
            },
            data,
            id: &self.id,
            retry: self.retry,
        }
    }

    fn fail(&mut self, e: SseError) -> SseError {
        self.failed = true;
        e
    }

    /// Copies the pending data out of the caller's bytes.
    fn spill(&mut self, input: &[u8]) {
        if let Some((start, end)) = self.borrowed.take() {
            push_lossy(&mut self.data, &input[start..end]);
        }
    }

    /// Processes one line (without its line end); `at` is where it starts in `input` when it
    /// lies there whole. True when it dispatched an event.
    fn field(&mut self, line: &[u8], at: Option<usize>, input: &[u8]) -> Result<bool, SseError> {
        if line.is_empty() {
            if !self.has_data {
                self.event.clear();
                return Ok(false);
            }
            self.dispatched = true;
            return Ok(true);
        }
        if line[0] == b':' {
            return Ok(false);
        }
        let (name, value, value_at) = match memchr::memchr(b':', line) {
            Some(i) => {
                let skip = i + 1 + usize::from(line.get(i + 1) == Some(&b' '));
                (&line[..i], &line[skip..], skip)
            }
            None => (line, &b""[..], line.len()),
        };
        match name {
            b"data" => {
                if self.data_len + value.len() + 1 > self.max_event {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event,
                    });
                }
                match at {
                    // the first data line, whole in the caller's bytes: keep it there
                    Some(at) if !self.has_data => {
                        self.borrowed = Some((at + value_at, at + value_at + value.len()));
                    }
                    _ => {
                        self.spill(input);
                        if self.has_data {
                            self.data.push('\n');
                        }
                        push_lossy(&mut self.data, value);
                    }
                }
                self.data_len += value.len() + 1;
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
        Ok(false)
    }
}

/// The bytes as text, invalid UTF-8 replaced by U+FFFD. `String::from_utf8_lossy` gives the
/// same, but checks valid text (the usual case) several times slower than `from_utf8`.
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn push_lossy(out: &mut String, bytes: &[u8]) {
    out.push_str(&lossy(bytes));
}
