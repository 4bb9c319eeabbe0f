//! Live session events: `client.sessions().events().stream(..)` as a blocking iterator of
//! typed events that survives disconnects, delivers every event exactly once and in order,
//! starts where the log ends when it opens, and never blocks past its deadline.
//!
//! The SSE endpoint has no replay. Opening a stream connects and, at the same time, reads
//! where the log ends (one round trip, not two): nothing from before that point is delivered.
//! The end may have been read a moment before the connection was subscribed, so what came in
//! between is listed behind the connection (on a thread of its own, while the caller sends the
//! message that starts the turn) and delivered first, as after a reconnect. When the connection
//! drops (cleanly, in the middle of a line, or silently past the idle timeout) the stream opens
//! a new one first, then lists the events from its position on (`events().list`), a page at a
//! time, and delivers those it has not delivered yet before going on with the new connection.
//! Its memory stays flat however long it runs: it keeps the ids of the latest 4,096 events and
//! of those at its newest instant (see `position.rs`), and one page of a catch-up listing.
//! The live connection's body is read on a thread of its own while the caller decodes (see
//! `read_ahead.rs`).

mod connection;
mod frame;
mod options;
mod output;
mod position;
mod read_ahead;
mod reconcile;
mod until_idle;
mod watch;

pub use options::{StreamOptions, MAX_RECONNECT_DELAY};
pub use until_idle::UntilIdle;

use crate::cancel::StopSignal;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::operations::{Sessions, SessionsEvents, SessionsThreadsEvents};
use crate::pagination::AutoPaging;
use crate::sse::SseError;
use crate::types::*;
use frame::Frame;
use output::Output;
pub(crate) use position::Position;
use position::{compare_times, RecentIds};
use read_ahead::ReadAhead;
use reconcile::Source;
use std::cmp::Ordering;
use std::time::Duration;

/// One item of a stream read with [`EventStream::next_item`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamItem {
    /// A whole event.
    Event(SessionEvent),
    /// The `agent.message` being written, as far as it has come (after its `event_start` and
    /// each `event_delta`). The whole `agent.message` event follows as an `Event`.
    MessagePreview(AgentMessageEvent),
    /// Another preview: an `agent.thinking` start, or a preview kind this version does not know.
    OtherPreview(StreamSessionEvents),
}

/// A read that times out this close to the deadline was cut by the deadline, not by the idle
/// timeout: the stream ends rather than reconnect for what is left.
const DEADLINE_SLACK: Duration = Duration::from_millis(50);

/// A live stream of a session's (or a thread's) events.
///
/// An `Iterator<Item = Result<SessionEvent>>`: previews are folded away (read them with
/// [`next_item`](Self::next_item)), heartbeats skipped, every event after the stream opened
/// delivered once, in order. A frame that does not read is logged at warn and delivered as
/// [`SessionEvent::Unknown`] when it is a JSON object, skipped when it is not: it never ends
/// the stream. Only the overall deadline, too many failed reconnects in a row, an error the
/// server reports as final, or a session that ended and closed the stream end it; after the
/// error that ends it the iterator returns `None`.
///
/// An open stream has a thread reading its connection (and at most 1 MiB read ahead of the
/// caller). Dropping the stream closes the connection, which ends that thread at once, and
/// waits for it; so does the error that ends the stream.
///
/// ```no_run
/// use managed_agents::{types::*, Client, StreamOptions};
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
    /// The live connection's events, its body read on a thread of its own.
    reader: Option<ReadAhead>,
    /// What a reconnect found missed, read a page at a time.
    backlog: Option<AutoPaging<SessionEvent>>,
    /// The first page of the listing behind a new stream's connection, read on a thread of
    /// its own; it becomes the backlog before anything live is delivered.
    pending: Option<reconcile::Pending>,
    /// Behind it: everything delivered, and everything from before the open.
    position: Position,
    /// The ids of the latest delivered events.
    recent: RecentIds,
    /// The newest `processed_at` the last listing (catch-up, or the end of the log at the
    /// open) covered, until the live connection goes past it: a live event up to it that is
    /// behind the position was listed already.
    listed_up_to: Option<String>,
    /// Where the log ended when the stream opened.
    floor: Position,
    delivered: u64,
    /// Failed reconnects in a row, without a new event between them.
    drops: u32,
    /// The reconnection time the server set with `retry:`.
    server_retry: Option<Duration>,
    snapshot: Option<AgentMessageEvent>,
    finished: bool,
    /// Reconnect at once, not as a drop (the deadline moved).
    reopen: bool,
    /// The last delivered event ended the turn; `session_over`: it ended the session.
    turn_ended: bool,
    session_over: bool,
    /// A clean end of the connection after a turn ended ends the stream.
    end_with_turn: bool,
    /// How many connections the stream has opened, for their spans.
    #[cfg(feature = "tracing")]
    connections: std::sync::atomic::AtomicU32,
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
            backlog: None,
            pending: None,
            position: Position::default(),
            recent: RecentIds::default(),
            listed_up_to: None,
            floor: Position::default(),
            delivered: 0,
            drops: 0,
            server_retry: None,
            snapshot: None,
            finished: false,
            reopen: false,
            turn_ended: false,
            session_over: false,
            end_with_turn: false,
            #[cfg(feature = "tracing")]
            connections: std::sync::atomic::AtomicU32::new(0),
        };
        if stream.options.from_beginning {
            // connected first: whatever comes after the log listed next is on the wire
            let reader = stream.connect()?;
            // the whole log so far, listed behind the live connection (as after a reconnect)
            stream.backlog = Some(reconcile::catch_up(
                client,
                &stream.source,
                &stream.position,
                stream.options.deadline,
            )?);
            stream.reader = Some(reader);
        } else {
            let (reader, floor) = stream.connect_and_find_the_end()?;
            stream.position = floor;
            stream.floor = stream.position.clone();
            stream.listed_up_to = stream.floor.at().map(String::from);
            stream.reader = Some(reader);
            // the end of the log may have been read before the connection was subscribed:
            // what came in between is listed behind the connection, as after a reconnect,
            // while the caller goes on (it sends the message that starts the turn)
            stream.pending = Some(reconcile::catch_up_behind(
                client,
                &stream.source,
                &stream.position,
                stream.options.deadline,
            ));
        }
        Ok(stream)
    }

    /// Connects and reads where the log ends at the same time (one round trip, not two): the
    /// listing on a thread of its own, the connection on this one. If the thread cannot be
    /// started, one after the other.
    fn connect_and_find_the_end(&self) -> Result<(ReadAhead, Position)> {
        let (client, source, deadline) = (&self.client, &self.source, self.options.deadline);
        let parent = crate::trace::Parent::current();
        std::thread::scope(|scope| {
            let listing = std::thread::Builder::new()
                .name("managed-agents-log-end".into())
                .spawn_scoped(scope, || {
                    parent.run(|| reconcile::end_of_log(client, source, deadline))
                });
            let reader = self.connect();
            let floor = match listing {
                Ok(listing) => listing.join().unwrap_or_else(|_| {
                    Err(Error::connection("reading where the log ends failed"))
                }),
                Err(_) => match &reader {
                    Ok(_) => reconcile::end_of_log(client, source, deadline),
                    Err(_) => Ok(Position::default()),
                },
            };
            // the connection's error first: it is the one the caller asked for
            let reader = reader?;
            Ok((reader, floor?))
        })
    }

    /// Moves the overall deadline. An open connection was opened under the old one, so it is
    /// replaced by a new one at once (what happened in between is listed, so nothing is lost).
    pub fn set_deadline(&mut self, deadline: Deadline) {
        if deadline != self.options.deadline {
            self.options.deadline = deadline;
            if self.reader.is_some() {
                self.disconnect();
                self.reopen = true;
            }
        }
    }

    /// Returns how many events have been delivered.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Returns the `processed_at` of the newest event of the log when the stream opened (`None` when
    /// the log was empty, or with [`StreamOptions::from_beginning`]): the stream delivers what
    /// comes after it.
    pub fn opened_at(&self) -> Option<&str> {
        self.floor.at()
    }

    /// Where the log ended when the stream opened.
    pub(crate) fn floor(&self) -> &Position {
        &self.floor
    }

    /// Ends the stream when the server closes it cleanly after an event that ends the turn
    /// (what the runner and `until_idle` wait for), instead of reconnecting.
    pub(crate) fn end_with_turn(&mut self) {
        self.end_with_turn = true;
    }

    /// Returns the `agent.message` preview being written now, if previews were asked for.
    pub fn preview(&self) -> Option<&AgentMessageEvent> {
        self.snapshot.as_ref()
    }

    /// Whether to deliver the event (and if so, counts it as delivered): not when it was
    /// delivered (its id is among the latest delivered), or it is behind the stream's position
    /// (delivered, or from before the open) and was listed: read from a listing, or sent live
    /// while a listing covered its time. A live event is not passed over for its time
    /// otherwise (the live order is the server's). The event is only looked at, not moved: an
    /// event is large, and each move of it is a copy.
    fn deliver(&mut self, ev: &SessionEvent, listed: bool) -> bool {
        let (id, at) = (ev.id(), ev.processed_at().filter(|t| !t.is_empty()));
        let hash = id.map(|id| self.recent.hash(id));
        if let (Some(id), Some(h)) = (id, hash) {
            if self.recent.contains(id, h) {
                return false;
            }
        }
        if listed {
            if let Some(at) = at {
                if self
                    .listed_up_to
                    .as_deref()
                    .is_none_or(|t| compare_times(at, t) == Ordering::Greater)
                {
                    self.listed_up_to = Some(at.to_string());
                }
            }
            if !self.position.is_ahead(id, at) {
                return false;
            }
        } else if let (Some(t), Some(at)) = (self.listed_up_to.as_deref(), at) {
            if compare_times(at, t) == Ordering::Greater {
                // the live connection is past what was listed: no repeat can come any more
                self.listed_up_to = None;
            } else if !self.position.is_ahead(id, Some(at)) {
                // sent live and listed too (it happened while the listing was read)
                return false;
            }
        }
        self.position.advance(at);
        if let (Some(id), Some(h)) = (id, hash) {
            self.recent.push(id, h);
        }
        if matches!(ev, SessionEvent::AgentMessage(_)) {
            self.snapshot = None;
        }
        self.delivered += 1;
        self.drops = 0;
        self.turn_ended = ev.ends_turn();
        self.session_over = matches!(
            ev,
            SessionEvent::SessionStatusTerminated(_) | SessionEvent::SessionDeleted(_)
        );
        true
    }

    fn fail<T>(&mut self, e: Error) -> Option<Result<T>> {
        self.finished = true;
        self.disconnect();
        Some(Err(e))
    }

    /// The next event of a catch-up listing, if one is under way.
    fn next_missed<T: Output>(&mut self) -> Option<Result<T>> {
        if self.backlog.is_none() {
            match self.pending.take()?.wait() {
                Ok(backlog) => self.backlog = Some(backlog),
                Err(e) if e.is_retryable() => {
                    if let Err(e) = self.reconnect(&e.to_string(), false) {
                        return self.fail(e);
                    }
                }
                Err(e) => return self.fail(e),
            }
        }
        loop {
            let next = self.backlog.as_mut()?.next();
            match next {
                Some(Ok(ev)) => {
                    if self.deliver(&ev, true) {
                        return Some(Ok(T::event(ev)));
                    }
                }
                None => {
                    self.backlog = None;
                    return None;
                }
                // a page failed: what it held is still missed, so catch up again
                Some(Err(e)) if e.is_retryable() => {
                    if let Err(e) = self.reconnect(&e.to_string(), false) {
                        return self.fail(e);
                    }
                }
                Some(Err(e)) => return self.fail(e),
            }
        }
    }

    /// Returns the next event or preview.
    pub fn next_item(&mut self) -> Option<Result<StreamItem>> {
        self.next_inner::<StreamItem>()
    }

    /// The next event, or preview when `T` takes previews (without, a preview only moves the
    /// snapshot [`preview`](Self::preview) shows, and is not copied out).
    // inlined into both callers, so that an event is not copied from one wrapper into another
    #[inline(always)]
    fn next_inner<T: Output>(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(item) = self.next_missed() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if self.options.cancel.as_ref().is_some_and(StopSignal::is_set) {
                self.finished = true;
                self.disconnect();
                return None;
            }
            if self.options.deadline.is_expired() {
                let e = self.deadline_error();
                return self.fail(e);
            }
            let Some(reader) = self.reader.as_mut() else {
                let reopened = if std::mem::take(&mut self.reopen) {
                    self.reconnect("the deadline moved", true)
                } else {
                    self.reconnect("not connected", false)
                };
                if let Err(e) = reopened {
                    return self.fail(e);
                }
                continue;
            };
            // the frame is borrowed from the reader's buffer: read what it holds, then let go
            let frame = match reader.next_ref() {
                Some(Ok(f)) => Frame::read(&f),
                // a read cut short by the cancel signal: the loop's top ends the stream
                Some(Err(SseError::Io(e)))
                    if crate::transport::is_timeout(&e)
                        && self.options.cancel.as_ref().is_some_and(StopSignal::is_set) =>
                {
                    continue
                }
                Some(Err(SseError::Io(e))) if crate::transport::is_timeout(&e) => {
                    // a read cut by the deadline may wake a hair before it: that is the deadline
                    let left = self.options.deadline.remaining();
                    if let Some(left) = left.filter(|l| *l < DEADLINE_SLACK) {
                        std::thread::sleep(left);
                        let e = self.deadline_error();
                        return self.fail(e);
                    }
                    // silent past the idle timeout: taken for dead, replaced at once
                    let why = format!(
                        "no byte for {:?}",
                        self.options.idle_timeout.unwrap_or_default()
                    );
                    if let Err(e) = self.reconnect(&why, true) {
                        return self.fail(e);
                    }
                    continue;
                }
                Some(Err(e)) => {
                    #[cfg(feature = "tracing")]
                    if let Some(span) = self.reader.as_ref().and_then(|r| r.span.as_ref()) {
                        span.dropped();
                    }
                    if let Err(e) = self.reconnect(&e.to_string(), false) {
                        return self.fail(e);
                    }
                    continue;
                }
                None => {
                    if self.session_over || (self.end_with_turn && self.turn_ended) {
                        // the server ended the stream after the end: nothing more will come
                        self.finished = true;
                        self.disconnect();
                        return None;
                    }
                    if let Err(e) = self.reconnect("the server closed the stream", false) {
                        return self.fail(e);
                    }
                    continue;
                }
            };
            // the event is looked at where it was read, and moved once: into what is handed out
            if let Frame::Event(ev) = &frame {
                if !self.deliver(ev, false) {
                    continue;
                }
                #[cfg(feature = "tracing")]
                if let Some(span) = self.reader.as_mut().and_then(|r| r.span.as_mut()) {
                    span.event();
                }
            }
            match frame {
                Frame::Skip => continue,
                Frame::Event(ev) => return Some(Ok(T::event(ev))),
                Frame::Preview(preview) => {
                    if let Some(item) = self.fold_preview::<T>(preview) {
                        return Some(Ok(item));
                    }
                    continue;
                }
                Frame::Error(e) if e.is_retryable() => {
                    log::warn!("the event stream reported {e}; reconnecting");
                    #[cfg(feature = "tracing")]
                    if let Some(span) = self.reader.as_ref().and_then(|r| r.span.as_ref()) {
                        span.failed(&e);
                    }
                    if let Err(e) = self.reconnect(&e.to_string(), false) {
                        return self.fail(e);
                    }
                    continue;
                }
                Frame::Error(e) => {
                    #[cfg(feature = "tracing")]
                    if let Some(span) = self.reader.as_ref().and_then(|r| r.span.as_ref()) {
                        span.failed(&e);
                    }
                    return self.fail(e);
                }
            }
        }
    }

    /// What a preview frame gives: the `agent.message` snapshot it moves (handed out when
    /// `previews`), or the preview itself when it belongs to no snapshot (handed out when
    /// `previews`); nothing when previews are not asked for.
    #[inline]
    fn fold_preview<T: Output>(&mut self, preview: StreamSessionEvents) -> Option<T> {
        // a preview is built only when it is handed out
        let previews = T::PREVIEWS;
        match preview {
            StreamSessionEvents::EventStart(start) => match frame::message_start(&start) {
                Some(snap) => {
                    let item = previews.then(|| StreamItem::MessagePreview(snap.clone()));
                    self.snapshot = Some(snap);
                    item.and_then(T::preview)
                }
                None => T::preview(StreamItem::OtherPreview(StreamSessionEvents::EventStart(
                    start,
                ))),
            },
            StreamSessionEvents::EventDelta(delta) => {
                match frame::fold(self.snapshot.take(), &delta) {
                    Some(snap) => {
                        // the snapshot grows with each delta: copied out only when asked for
                        let item = previews.then(|| StreamItem::MessagePreview(snap.clone()));
                        self.snapshot = Some(snap);
                        item.and_then(T::preview)
                    }
                    None => T::preview(StreamItem::OtherPreview(StreamSessionEvents::EventDelta(
                        delta,
                    ))),
                }
            }
            // another kind only the stream has (none today)
            other => T::preview(StreamItem::OtherPreview(other)),
        }
    }
}

impl Iterator for EventStream {
    type Item = Result<SessionEvent>;

    fn next(&mut self) -> Option<Result<SessionEvent>> {
        self.next_inner::<SessionEvent>()
    }
}

impl SessionsEvents<'_> {
    /// Opens a live stream of the session's events.
    ///
    /// Open it before sending the message that starts the work (stream first): it connects
    /// and reads where the session's log ends at the same time (one round trip), and delivers
    /// every event after that point,
    /// listing what it missed after a reconnect. An error opening it (a missing session, a
    /// refused key) is returned here. [`StreamOptions::from_beginning`] replays the log.
    pub fn stream(&self, session_id: &str, options: StreamOptions) -> Result<EventStream> {
        EventStream::open(
            self.client(),
            Source::Session(session_id.to_string()),
            options,
        )
    }
}

impl SessionsThreadsEvents<'_> {
    /// Opens a live stream of one thread's events (see [`SessionsEvents::stream`]). A thread's
    /// listing cannot start at a time, so opening the stream and each reconnect walk it from
    /// its start (a page at a time) to find their place.
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
