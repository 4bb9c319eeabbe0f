//! Live session events: `client.sessions().events().stream(..)` as a blocking iterator of
//! typed events that survives disconnects, delivers every event exactly once and in order,
//! and never blocks past its deadlines.
//!
//! The SSE endpoint has no replay. When the connection drops (cleanly or in the middle of a
//! line) the stream opens a new one first, then lists the events it may have missed
//! (`events().list`, from the last delivered event's `processed_at` on) and delivers those it
//! has not delivered yet, deduplicated by event id, before going on with the new connection.

use crate::client::{Client, RequestOptions};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::operations::{Sessions, SessionsEvents, SessionsThreadsEvents};
use crate::sse::{EventReader, EventRef, SseError};
use crate::types::*;
use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::time::Duration;

/// How a stream behaves: previews, deadlines, reconnection.
///
/// ```
/// use managed_agents::stream::StreamOptions;
/// use managed_agents::types::DeltaType;
/// use std::time::Duration;
///
/// let opts = StreamOptions::new()
///     .previews(vec![DeltaType::AgentMessage])
///     .idle_timeout(Duration::from_secs(60))
///     .timeout(Duration::from_secs(600))
///     .max_reconnects(5);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct StreamOptions {
    event_deltas: Vec<DeltaType>,
    idle_timeout: Option<Duration>,
    deadline: Deadline,
    max_reconnects: u32,
    reconnect_delay: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            event_deltas: Vec::new(),
            idle_timeout: Some(Duration::from_secs(120)),
            deadline: Deadline::never(),
            max_reconnects: 10,
            reconnect_delay: Duration::from_millis(250),
        }
    }
}

impl StreamOptions {
    /// No previews, a 120 s idle timeout, no overall deadline, 10 reconnects in a row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for previews (`event_start` / `event_delta`) of these event types.
    pub fn previews(mut self, types: Vec<DeltaType>) -> Self {
        self.event_deltas = types;
        self
    }

    /// The longest time without a byte (heartbeats count) before the stream ends with
    /// [`Error::Timeout`]; `None` waits for ever.
    pub fn idle(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// [`Self::idle`] with a duration.
    pub fn idle_timeout(self, idle: Duration) -> Self {
        self.idle(Some(idle))
    }

    /// An overall deadline from now.
    pub fn timeout(self, d: Duration) -> Self {
        self.deadline(Deadline::after(d))
    }

    /// An overall deadline.
    pub fn deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// How many reconnects in a row (without a new event between them) before giving up.
    pub fn max_reconnects(mut self, n: u32) -> Self {
        self.max_reconnects = n;
        self
    }

    /// The first wait before reconnecting; it doubles up to 8 s (or follows the stream's
    /// `retry` field when it sets one).
    pub fn reconnect_delay(mut self, d: Duration) -> Self {
        self.reconnect_delay = d;
        self
    }
}

/// One item of a stream read with [`EventStream::next_item`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// A whole event.
    Event(SessionEvent),
    /// The `agent.message` being written, as far as it has come (after its `event_start` and
    /// each `event_delta`). The whole `agent.message` event follows as an `Event`.
    MessagePreview(AgentMessageEvent),
    /// Another preview: an `agent.thinking` start, or a preview kind this version does not know.
    OtherPreview(StreamSessionEvents),
}

#[derive(Debug, Clone)]
enum Source {
    Session(String),
    Thread(String, String),
}

type Body = Box<dyn Read + Send>;

/// A live stream of a session's (or a thread's) events.
///
/// An `Iterator<Item = Result<SessionEvent>>`: previews are folded away (read them with
/// [`next_item`](Self::next_item)), heartbeats skipped, every event delivered once, in order.
/// After an error that ends the stream (a deadline, too many reconnects, a refused request)
/// the iterator returns `None`.
///
/// ```no_run
/// use managed_agents::{stream::StreamOptions, types::*, Client};
///
/// let client = Client::from_env()?;
/// let events = client.sessions().events();
/// // stream first, then send: nothing the agent does is missed
/// let stream = events.stream("sesn_011CZx", StreamOptions::new())?;
/// events.send("sesn_011CZx", &EventSendParams::one(UserMessageEventParams::text("Hello")))?;
/// for event in stream.until_idle() {
///     if let SessionEvent::AgentMessage(m) = event? {
///         print!("{}", m.text());
///     }
/// }
/// # Ok::<(), managed_agents::Error>(())
/// ```
pub struct EventStream {
    client: Client,
    source: Source,
    options: StreamOptions,
    reader: Option<EventReader<Body>>,
    backlog: VecDeque<SessionEvent>,
    seen: HashSet<String>,
    /// `processed_at` of the last delivered event: where a reconciliation listing starts.
    watermark: Option<String>,
    delivered: u64,
    /// Drops in a row without a new event.
    drops: u32,
    /// The reconnection time the server asked for with `retry:`.
    server_retry: Option<Duration>,
    snapshot: Option<AgentMessageEvent>,
    finished: bool,
    /// Reconnect at once, not as a drop (the deadline moved).
    reopen: bool,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("source", &self.source)
            .field("delivered", &self.delivered)
            .field("finished", &self.finished)
            .finish()
    }
}

impl EventStream {
    fn open(client: &Client, source: Source, options: StreamOptions) -> Result<EventStream> {
        let mut stream = EventStream {
            client: client.clone(),
            source,
            options,
            reader: None,
            backlog: VecDeque::new(),
            seen: HashSet::new(),
            watermark: None,
            delivered: 0,
            drops: 0,
            server_retry: None,
            snapshot: None,
            finished: false,
            reopen: false,
        };
        stream.reader = Some(stream.connect()?);
        Ok(stream)
    }

    /// Moves the overall deadline. An open connection was opened under the old one, so it is
    /// replaced by a new one at once (what happened in between is listed, so nothing is lost).
    pub fn set_deadline(&mut self, deadline: Deadline) {
        if deadline != self.options.deadline {
            self.options.deadline = deadline;
            if self.reader.take().is_some() {
                self.reopen = true;
            }
        }
    }

    /// How many events have been delivered.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// The `agent.message` preview being written now, if previews were asked for.
    pub fn preview(&self) -> Option<&AgentMessageEvent> {
        self.snapshot.as_ref()
    }

    fn request_options(&self) -> RequestOptions {
        let mut o = RequestOptions::new()
            .header("accept", "text/event-stream")
            .deadline(self.options.deadline);
        // the call's own deadline must not cut a long stream: the stream's deadline does
        o.timeout = Some(Duration::from_secs(100 * 365 * 24 * 3600));
        o.read_timeout = self.options.idle_timeout;
        o
    }

    /// Opens the SSE connection.
    fn connect(&self) -> Result<EventReader<Body>> {
        let opts = self.request_options();
        let deltas =
            (!self.options.event_deltas.is_empty()).then(|| self.options.event_deltas.clone());
        let response = match &self.source {
            Source::Session(s) => {
                let params = SessionsEventStreamParams {
                    event_deltas: deltas,
                };
                self.client
                    .sessions()
                    .events()
                    .stream_response_with(s, &params, &opts)?
            }
            Source::Thread(s, t) => {
                let params = ThreadsEventStreamParams {
                    event_deltas: deltas,
                };
                self.client
                    .sessions()
                    .threads()
                    .events()
                    .stream_response_with(s, t, &params, &opts)?
            }
        };
        Ok(EventReader::new(Box::new(response.into_reader()) as Body))
    }

    /// The events recorded since the watermark, oldest first, all pages; nothing if a page fails.
    fn missed(&self) -> Result<Vec<SessionEvent>> {
        let opts = RequestOptions::new().deadline(self.options.deadline);
        let mut out = Vec::new();
        match &self.source {
            Source::Session(s) => {
                let mut params = SessionsEventListParams::default()
                    .order(EventsListOrder::Asc)
                    .limit(100);
                params.created_at_gte = self.watermark.clone();
                for ev in self
                    .client
                    .sessions()
                    .events()
                    .list_with(s, &params, &opts)?
                {
                    out.push(ev?);
                }
            }
            Source::Thread(s, t) => {
                let params = ThreadsEventListParams::default().limit(100);
                for ev in self
                    .client
                    .sessions()
                    .threads()
                    .events()
                    .list_with(s, t, &params, &opts)?
                {
                    out.push(ev?);
                }
            }
        }
        Ok(out)
    }

    /// After a drop: wait, reopen (stream first), then queue what was missed.
    fn reconnect(&mut self, why: &str) -> Result<()> {
        loop {
            self.drops += 1;
            if self.drops > self.options.max_reconnects {
                return Err(Error::connection(format!(
                    "the event stream dropped {} times in a row ({why}); {} events were delivered",
                    self.drops, self.delivered
                )));
            }
            let base = self.server_retry.unwrap_or(self.options.reconnect_delay);
            let delay = base
                .saturating_mul(1 << (self.drops - 1).min(5))
                .min(Duration::from_secs(8))
                .max(base);
            log::debug!(
                "event stream dropped ({why}); reconnect {} in {delay:?}",
                self.drops
            );
            if !self.options.deadline.sleep(delay) {
                return Err(self.deadline_error());
            }
            match self.reopen_now() {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens a new connection now, then lists what happened since the last event.
    fn reopen_now(&mut self) -> Result<()> {
        let reader = self.connect()?;
        for ev in self.missed()? {
            if !ev.id().is_some_and(|id| self.seen.contains(id)) {
                self.backlog.push_back(ev);
            }
        }
        self.reader = Some(reader);
        Ok(())
    }

    fn deadline_error(&self) -> Error {
        Error::Timeout {
            message: format!(
                "event stream deadline passed; {} events were delivered",
                self.delivered
            ),
        }
    }

    fn deliver(&mut self, ev: SessionEvent) -> Option<SessionEvent> {
        if let Some(id) = ev.id() {
            if !self.seen.insert(id.to_string()) {
                return None;
            }
        }
        if let Some(at) = ev.processed_at() {
            self.watermark = Some(at.to_string());
        }
        if matches!(ev, SessionEvent::AgentMessage(_)) {
            self.snapshot = None;
        }
        self.delivered += 1;
        self.drops = 0;
        Some(ev)
    }

    fn fail(&mut self, e: Error) -> Option<Result<StreamItem>> {
        self.finished = true;
        self.reader = None;
        Some(Err(e))
    }

    /// The next event or preview.
    pub fn next_item(&mut self) -> Option<Result<StreamItem>> {
        loop {
            if let Some(ev) = self.backlog.pop_front() {
                if let Some(ev) = self.deliver(ev) {
                    return Some(Ok(StreamItem::Event(ev)));
                }
                continue;
            }
            if self.finished {
                return None;
            }
            if self.options.deadline.is_expired() {
                let e = self.deadline_error();
                return self.fail(e);
            }
            let Some(reader) = self.reader.as_mut() else {
                let reopened = if std::mem::take(&mut self.reopen) {
                    self.reopen_now()
                } else {
                    self.reconnect("not connected")
                };
                if let Err(e) = reopened {
                    return self.fail(e);
                }
                continue;
            };
            // the frame is borrowed from the reader's buffer: read what it holds, then let go
            let frame = match reader.next_ref() {
                Some(Ok(frame)) => Some(Ok((frame.retry(), Frame::read(&frame)))),
                Some(Err(e)) => Some(Err(e)),
                None => None,
            };
            match frame {
                Some(Ok((retry, frame))) => {
                    if retry.is_some() {
                        self.server_retry = retry;
                    }
                    let parsed = match frame {
                        Frame::KeepAlive => continue,
                        Frame::Error(e) => return self.fail(e),
                        Frame::NotAnEvent(e) => return Some(Err(e)),
                        Frame::Event(parsed) => parsed,
                    };
                    match parsed {
                        StreamSessionEvents::EventStart(start) => {
                            if start.event.tag() == Some("agent.message") {
                                let id = match &start.event {
                                    StartEventPreview::AgentMessage(p) => p.id.clone(),
                                    _ => String::new(),
                                };
                                let snap = AgentMessageEvent {
                                    id,
                                    ..Default::default()
                                };
                                self.snapshot = Some(snap.clone());
                                return Some(Ok(StreamItem::MessagePreview(snap)));
                            }
                            return Some(Ok(StreamItem::OtherPreview(
                                StreamSessionEvents::EventStart(start),
                            )));
                        }
                        StreamSessionEvents::EventDelta(delta) => {
                            match fold(self.snapshot.take(), &delta) {
                                Some(snap) => {
                                    self.snapshot = Some(snap.clone());
                                    return Some(Ok(StreamItem::MessagePreview(snap)));
                                }
                                None => {
                                    return Some(Ok(StreamItem::OtherPreview(
                                        StreamSessionEvents::EventDelta(delta),
                                    )))
                                }
                            }
                        }
                        other => match SessionEvent::try_from(other) {
                            Ok(ev) => {
                                if let Some(ev) = self.deliver(ev) {
                                    return Some(Ok(StreamItem::Event(ev)));
                                }
                            }
                            Err(other) => return Some(Ok(StreamItem::OtherPreview(other))),
                        },
                    }
                }
                Some(Err(SseError::Io(e))) if crate::transport::is_timeout(&e) => {
                    let e = if self.options.deadline.is_expired() {
                        self.deadline_error()
                    } else {
                        Error::Timeout {
                            message: format!(
                                "no byte from the event stream for {:?} (idle timeout); {} events were delivered",
                                self.options.idle_timeout.unwrap_or_default(),
                                self.delivered
                            ),
                        }
                    };
                    return self.fail(e);
                }
                Some(Err(SseError::Io(e))) => {
                    self.reader = None;
                    if let Err(e) = self.reconnect(&e.to_string()) {
                        return self.fail(e);
                    }
                }
                Some(Err(e)) => {
                    let e = Error::Decode {
                        message: e.to_string(),
                        excerpt: String::new(),
                    };
                    return self.fail(e);
                }
                None => {
                    self.reader = None;
                    if let Err(e) = self.reconnect("the server closed the stream") {
                        return self.fail(e);
                    }
                }
            }
        }
    }

    /// Stops after the event that ends the agent's turn: `session.status_terminated`,
    /// `session.deleted`, or `session.status_idle` with a stop reason other than
    /// `requires_action` (which waits for your tool results or confirmations).
    pub fn until_idle(self) -> UntilIdle {
        UntilIdle {
            stream: self,
            done: false,
        }
    }
}

impl Iterator for EventStream {
    type Item = Result<SessionEvent>;

    fn next(&mut self) -> Option<Result<SessionEvent>> {
        loop {
            match self.next_item()? {
                Ok(StreamItem::Event(ev)) => return Some(Ok(ev)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The iterator of [`EventStream::until_idle`].
#[derive(Debug)]
pub struct UntilIdle {
    stream: EventStream,
    done: bool,
}

impl UntilIdle {
    /// The stream underneath.
    pub fn stream(&mut self) -> &mut EventStream {
        &mut self.stream
    }
}

impl Iterator for UntilIdle {
    type Item = Result<SessionEvent>;

    fn next(&mut self) -> Option<Result<SessionEvent>> {
        if self.done {
            return None;
        }
        let item = self.stream.next()?;
        if let Ok(ev) = &item {
            self.done = ev.ends_turn();
        }
        Some(item)
    }
}

/// Folds one `event_delta` into the `agent.message` snapshot, as the official accumulator
/// does: a new index opens a block, an existing text block grows; `None` when the delta does
/// not belong to the snapshot (no preview open, another event, or an index past the end).
fn fold(snapshot: Option<AgentMessageEvent>, delta: &DeltaEvent) -> Option<AgentMessageEvent> {
    let mut snap = snapshot?;
    if snap.id != delta.event_id {
        return None;
    }
    let cd = &delta.delta;
    let index = cd.index.unwrap_or(0).max(0) as usize;
    let fragment = AgentMessageEventContent::Text(cd.content.clone());
    if index == snap.content.len() {
        snap.content.push(fragment);
    } else if index < snap.content.len() {
        if let (AgentMessageEventContent::Text(have), AgentMessageEventContent::Text(more)) =
            (&mut snap.content[index], fragment)
        {
            have.text.push_str(&more.text);
        }
    } else {
        return None;
    }
    Some(snap)
}

/// What one event-stream frame holds, read out of the reader's buffer.
// lives for one step of the loop; boxing the event would cost an allocation per event
#[allow(clippy::large_enum_variant)]
enum Frame {
    /// A heartbeat (`ping`) or a frame without data: skipped, as the official SDKs do.
    KeepAlive,
    /// An `error` frame: the stream ends with it.
    Error(Error),
    /// A frame that is not an event: reported, and the stream goes on.
    NotAnEvent(Error),
    /// An event or a preview.
    Event(StreamSessionEvents),
}

impl Frame {
    fn read(frame: &EventRef<'_>) -> Frame {
        if frame.event() == "ping" || frame.data().is_empty() {
            return Frame::KeepAlive;
        }
        if frame.event() == "error" {
            return Frame::Error(stream_error(frame.data()));
        }
        match StreamSessionEvents::from_json(frame.data()) {
            Ok(event) => Frame::Event(event),
            Err(e) => Frame::NotAnEvent(Error::decode(
                format_args!(
                    "an event-stream frame ({:?}) is not an event: {e}",
                    frame.event()
                ),
                frame.data().as_bytes(),
            )),
        }
    }
}

/// An `event: error` frame as an [`Error::Api`].
fn stream_error(data: &str) -> Error {
    let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let err = v.get("error");
    Error::Api {
        status: 200,
        error_type: err
            .and_then(|e| e.get("type"))
            .and_then(|t| t.as_str())
            .map(String::from),
        message: err
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(String::from)
            .unwrap_or_else(|| crate::error::excerpt(data.as_bytes(), 200)),
        request_id: v
            .get("request_id")
            .and_then(|r| r.as_str())
            .map(String::from),
        body: data.to_string(),
    }
}

impl SessionsEvents<'_> {
    /// Opens a live stream of the session's events.
    ///
    /// Open it before sending the message that starts the work (stream first): the stream
    /// delivers only what happens after it opens, and after a reconnect it lists what it
    /// missed. An error opening it (a missing session, a refused key) is returned here.
    pub fn stream(&self, session_id: &str, options: StreamOptions) -> Result<EventStream> {
        EventStream::open(
            self.client(),
            Source::Session(session_id.to_string()),
            options,
        )
    }
}

impl SessionsThreadsEvents<'_> {
    /// Opens a live stream of one thread's events (see [`SessionsEvents::stream`]).
    pub fn stream(
        &self,
        session_id: &str,
        thread_id: &str,
        options: StreamOptions,
    ) -> Result<EventStream> {
        EventStream::open(
            self.client(),
            Source::Thread(session_id.to_string(), thread_id.to_string()),
            options,
        )
    }
}

impl Sessions<'_> {
    /// `client.sessions().events().stream(..)`, as the reference guide spells it.
    pub fn stream(&self, session_id: &str, options: StreamOptions) -> Result<EventStream> {
        self.events().stream(session_id, options)
    }
}
