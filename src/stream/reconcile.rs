//! Reading the log behind a stream: where it ends when the stream opens, and what the stream
//! missed while it reconnected, one page at a time.
//!
//! The SSE endpoint has no replay. The session listing is ordered by `processed_at` and can
//! start at a time (`created_at[gte]`); a thread's listing cannot, so it is walked from its
//! start and what is behind the stream's position is passed over.

use super::position::Position;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::Result;
use crate::pagination::AutoPaging;
use crate::request_options::RequestOptions;
use crate::types::*;

/// Events a page of a catch-up listing holds: what a reconnect keeps in memory at most.
const PAGE: i64 = 100;
/// The most events read to find the ones at the newest instant of a session's log.
const MAX_AT_ONE_INSTANT: usize = 1000;

/// Whose events a stream carries.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Session(String),
    Thread(String, String),
}

/// Where the log ends now: the newest event's `processed_at`, and the ids of the events at
/// that instant. A session's log is read newest first, as far as that instant goes; a thread's
/// listing is walked to its end.
pub(crate) fn end_of_log(client: &Client, source: &Source, deadline: Deadline) -> Result<Position> {
    let opts = RequestOptions::new().deadline(deadline);
    let mut end = Position::default();
    match source {
        Source::Session(s) => {
            let params = SessionsEventListParams::default()
                .order(EventsListOrder::Desc)
                .limit(20);
            let page = client.sessions().events().list_with(s, &params, &opts)?;
            let mut newest: Option<String> = None;
            for ev in page.into_iter().take(MAX_AT_ONE_INSTANT) {
                let ev = ev?;
                let Some(at) = ev.processed_at().filter(|t| !t.is_empty()) else {
                    continue;
                };
                match &newest {
                    None => newest = Some(at.to_string()),
                    Some(n) if n != at => break,
                    Some(_) => {}
                }
                end.pass(ev.id(), Some(at));
            }
        }
        Source::Thread(s, t) => {
            let params = ThreadsEventListParams::default().limit(1000);
            let page = client
                .sessions()
                .threads()
                .events()
                .list_with(s, t, &params, &opts)?;
            for ev in page {
                let ev = ev?;
                end.pass(ev.id(), ev.processed_at());
            }
        }
    }
    Ok(end)
}

/// The events from the position on, oldest first, fetched a page at a time as they are read.
/// Some may be behind the position (the thread listing, and events at its very instant): the
/// reader passes over those.
pub(crate) fn catch_up(
    client: &Client,
    source: &Source,
    from: &Position,
    deadline: Deadline,
) -> Result<AutoPaging<SessionEvent>> {
    let opts = RequestOptions::new().deadline(deadline);
    let page = match source {
        Source::Session(s) => {
            let mut params = SessionsEventListParams::default()
                .order(EventsListOrder::Asc)
                .limit(PAGE);
            params.created_at_gte = from.at().map(String::from);
            client.sessions().events().list_with(s, &params, &opts)?
        }
        Source::Thread(s, t) => {
            let params = ThreadsEventListParams::default().limit(PAGE);
            client
                .sessions()
                .threads()
                .events()
                .list_with(s, t, &params, &opts)?
        }
    };
    Ok(page.auto_paging())
}

/// A catch-up listing's first page, read on a thread of its own.
pub(crate) struct Pending(PendingInner);

enum PendingInner {
    Reading(std::sync::mpsc::Receiver<Result<AutoPaging<SessionEvent>>>),
    /// The thread could not be started: the listing is read when it is waited for.
    Later(Client, Source, Position, Deadline),
}

/// [`catch_up`] started on a thread of its own. Let go of before it is waited for, the thread
/// ends with its request (bounded by the deadline and the client's timeout) and its result
/// is dropped.
pub(crate) fn catch_up_behind(
    client: &Client,
    source: &Source,
    from: &Position,
    deadline: Deadline,
) -> Pending {
    let (tx, rx) = std::sync::mpsc::channel();
    let (c, s, f) = (client.clone(), source.clone(), from.clone());
    let parent = crate::trace::Parent::current();
    let started = std::thread::Builder::new()
        .name("managed-agents-catch-up".into())
        .spawn(move || {
            let _ = tx.send(parent.run(|| catch_up(&c, &s, &f, deadline)));
        });
    match started {
        Ok(_) => Pending(PendingInner::Reading(rx)),
        Err(_) => Pending(PendingInner::Later(
            client.clone(),
            source.clone(),
            from.clone(),
            deadline,
        )),
    }
}

impl Pending {
    /// The listing, once its first page is read.
    pub(crate) fn wait(self) -> Result<AutoPaging<SessionEvent>> {
        match self.0 {
            PendingInner::Reading(rx) => rx.recv().unwrap_or_else(|_| {
                Err(crate::error::Error::connection(
                    "the listing behind the event stream stopped",
                ))
            }),
            PendingInner::Later(c, s, f, d) => catch_up(&c, &s, &f, d),
        }
    }
}
