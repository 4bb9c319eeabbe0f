//! The event logs a cassette shows: for each session (or thread), every event it saw of it,
//! from its streams, its listings and the answers to the events it sent, in `processed_at`
//! order, each marked once the replay has shown it to the client. A listing or stream the
//! recording never made (a reconnect after a fault) is answered from the events shown.

use super::cassette::{Exchange, StreamKind};
use crate::reply::{created_within, page, Query, Routed};
use serde_json::Value;
use std::collections::HashMap;

/// Frames of a stream that carry no event of the log: heartbeats and previews.
const NOT_LOGGED: &[&str] = &["ping", "event_start", "event_delta"];

/// What a request about a log is, and whose log: `/v1/sessions/{id}/events` (or a thread's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogRequest {
    /// `GET .../events`: a listing.
    Listing(String),
    /// `GET .../events/stream`: a live stream.
    Stream(String),
    /// `POST .../events`: events sent.
    Send(String),
}

impl LogRequest {
    /// Reads what a request is about, if about a session's (or a thread's) events.
    pub(crate) fn of(method: &str, path: &str) -> Option<LogRequest> {
        if !path.starts_with("/v1/sessions/") {
            return None;
        }
        let source = |suffix: &str| path.strip_suffix(suffix).map(String::from);
        match method {
            "GET" => source("/events/stream")
                .map(LogRequest::Stream)
                .or_else(|| source("/events").map(LogRequest::Listing)),
            "POST" => source("/events").map(LogRequest::Send),
            _ => None,
        }
    }

    /// Returns whose log it is (`/v1/sessions/{id}`).
    pub(crate) fn source(&self) -> &str {
        match self {
            LogRequest::Listing(s) | LogRequest::Stream(s) | LogRequest::Send(s) => s,
        }
    }
}

/// One session's (or thread's) log.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// The events, oldest first.
    events: Vec<Value>,
    /// Whether the client has been shown each event.
    shown: Vec<bool>,
    /// Event id -> index.
    by_id: HashMap<String, usize>,
}

/// Every log a cassette shows, by source.
#[derive(Debug, Default)]
pub(crate) struct Logs(HashMap<String, Log>);

/// The events an exchange shows of its source's log: a listing's page, a stream's frames, the
/// events a send answered with.
pub(crate) fn events_of(x: &Exchange) -> Vec<&Value> {
    let Some(req) = LogRequest::of(&x.method, &x.path) else {
        return Vec::new();
    };
    match (req, x.stream) {
        (LogRequest::Stream(_), Some(StreamKind::Events)) => x
            .frames
            .iter()
            .filter_map(|f| f.data.as_ref())
            .filter(|d| is_logged(d))
            .collect(),
        (LogRequest::Listing(_) | LogRequest::Send(_), None) => x.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| is_logged(d))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a frame's data is an event of the log: an object with a type and an id.
pub(crate) fn is_logged(data: &Value) -> bool {
    data["id"].is_string()
        && data["type"]
            .as_str()
            .is_some_and(|t| !NOT_LOGGED.contains(&t))
}

impl Logs {
    /// Gathers the logs of a cassette's exchanges.
    pub(crate) fn gather(exchanges: &[Exchange]) -> Logs {
        let mut logs: HashMap<String, Log> = HashMap::new();
        for x in exchanges {
            let Some(req) = LogRequest::of(&x.method, &x.path) else {
                continue;
            };
            for ev in events_of(x) {
                let log = logs.entry(req.source().to_string()).or_default();
                let id = ev["id"].as_str().unwrap_or_default();
                if !log.by_id.contains_key(id) {
                    log.by_id.insert(id.to_string(), log.events.len());
                    log.events.push(ev.clone());
                }
            }
        }
        for log in logs.values_mut() {
            // stable: events at one instant keep the order they were seen in
            log.events
                .sort_by(|a, b| time_key(&a["processed_at"]).cmp(&time_key(&b["processed_at"])));
            log.by_id = log
                .events
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((e["id"].as_str()?.to_string(), i)))
                .collect();
            log.shown = vec![false; log.events.len()];
        }
        Logs(logs)
    }

    /// Marks events of a source's log as shown to the client.
    pub(crate) fn show<'a>(&mut self, source: &str, events: impl IntoIterator<Item = &'a Value>) {
        let Some(log) = self.0.get_mut(source) else {
            return;
        };
        for ev in events {
            if let Some(&i) = ev["id"].as_str().and_then(|id| log.by_id.get(id)) {
                log.shown[i] = true;
            }
        }
    }

    /// Returns whether the cassette shows a log of this source.
    pub(crate) fn knows(&self, source: &str) -> bool {
        self.0.contains_key(source)
    }

    /// Answers a listing of a source's log from the events shown so far, with the listing's
    /// filters (`types[]`, `created_at[..]`), order and pages.
    pub(crate) fn list(&self, source: &str, query: &Query) -> Routed {
        let types = query.all("types[]");
        let events: Vec<&Value> = self
            .0
            .get(source)
            .into_iter()
            .flat_map(|l| l.events.iter().zip(&l.shown))
            .filter(|(_, shown)| **shown)
            .map(|(e, _)| e)
            .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == *t))
            .filter(|e| created_within(query, e["processed_at"].as_str().unwrap_or("")))
            .collect();
        let events = if query.get("order") == Some("desc") {
            events.into_iter().rev().collect()
        } else {
            events
        };
        page(events, query)
    }
}

/// A `processed_at` as a key that sorts by time (RFC 3339 in UTC, any number of decimals).
fn time_key(at: &Value) -> (String, String) {
    let t = at.as_str().unwrap_or("");
    let t = t.trim_end_matches(['Z', 'z']);
    match t.split_once('.') {
        Some((secs, frac)) => (secs.to_string(), format!("{frac:0<9}")),
        None => (t.to_string(), "0".repeat(9)),
    }
}
