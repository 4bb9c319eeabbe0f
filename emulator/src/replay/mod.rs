//! Replaying a cassette: which recorded exchange answers each request, and what the answer is.
//! `cassette` reads the file, `matching` compares a request with the recorded ones, `log`
//! keeps each session's events as the cassette shows them. Nothing here touches a
//! connection: the server writes what [`Replay::answer`] decides (a stream or download by
//! `replay_stream`).
//!
//! A request takes the earliest recorded exchange not yet served that fits it (method, path,
//! query and body, ids and times as placeholders), so exchanges are served in order for each
//! resource while requests to different resources may come in any order. A stream's frame is
//! played once the requests that changed its session before it arrived in the recording
//! have been served ([`Replay::ready`]). When a fault cut a
//! replayed stream, its session is *disturbed* until the rest of that stream has been played:
//! its next stream connection plays the rest, and its listings are answered from the events
//! shown so far, not from the recording (a reconnect's requests were never recorded).

pub(crate) mod cassette;
pub(crate) mod log;
pub(crate) mod matching;

use crate::reply::{ApiError, Query, Reply};
use base64::Engine;
use cassette::{Cassette, StreamKind};
use log::{LogRequest, Logs};
use matching::{Fit, Incoming};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A recorded exchange the replay has not served yet (see
/// [`Emulator::unplayed`](crate::Emulator::unplayed)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unplayed {
    /// The exchange's number in the cassette.
    pub id: u64,
    /// The operation, as the SDKs name it (`sessions.events.send`), when recorded.
    pub operation: Option<String>,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
}

impl std::fmt::Display for Unplayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exchange {}: {} {}", self.id, self.method, self.path)?;
        if let Some(op) = &self.operation {
            write!(f, " ({op})")?;
        }
        Ok(())
    }
}

/// What the replay answers a request with.
pub(crate) enum Served {
    /// A whole answer: the recorded exchange it comes from, status, content type, other
    /// headers, body. A recorded answer is written once [`Replay::answerable`] says so,
    /// after [`Replay::release`].
    Whole {
        exchange: usize,
        status: u16,
        content_type: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A recorded event stream, from one of its frames on.
    Events(Playback),
    /// A recorded download.
    Bytes(Playback),
    /// An answer of the replay's own (a listing from the log shown so far).
    Own(Reply),
    /// A stream the recording has nothing more for: held open, quiet, until the client goes.
    Quiet,
    /// No answer: the recording got none (the connection closes).
    NoAnswer,
    /// Nothing recorded fits (strict replay).
    Refused(ApiError),
    /// Nothing recorded fits: the emulator answers (lenient replay).
    Emulate,
}

/// A stream or download to play: the cassette, the exchange, the first frame, and the log it
/// shows.
pub(crate) struct Playback {
    pub(crate) cassette: Arc<Cassette>,
    pub(crate) exchange: usize,
    pub(crate) from: usize,
    /// Whose log the stream shows (`None` for a download, or a stream of no session).
    pub(crate) source: Option<String>,
}

impl Playback {
    /// Returns the recorded exchange.
    pub(crate) fn exchange(&self) -> &cassette::Exchange {
        &self.cassette.exchanges[self.exchange]
    }
}

/// A replay's state: what has been served, the logs shown, the streams owed.
pub(crate) struct Replay {
    cassette: Arc<Cassette>,
    served: Vec<bool>,
    /// The last exchange served for each `METHOD path?query`: a GET asked again after its
    /// recorded answers ran out gets it again.
    last: HashMap<String, usize>,
    logs: Logs,
    /// Sources whose stream a fault cut: the stream's exchange and the frame to go on from.
    owed: HashMap<String, (usize, usize)>,
    /// Sources answered from their logs until the rest of a cut stream has been played, with
    /// when the cut frame arrived in the recording: a recorded request sent before that
    /// still gets its recorded answer.
    disturbed: HashMap<String, f64>,
    /// For each session (`/v1/sessions/{id}`), the requests that change it (all but GETs),
    /// by when they were sent: (`at_ms`, exchange).
    causes: HashMap<String, Vec<(f64, usize)>>,
    /// For each event stream, when each of its frames arrived, in ms since the cassette began.
    frame_at: HashMap<usize, Vec<f64>>,
    /// The pace of streams: 1.0 as recorded, 2.0 twice as fast, 0 at once.
    pub(crate) speed: f64,
    /// Whether a request nothing fits is refused (or left to the emulator).
    pub(crate) strict: bool,
}

impl Replay {
    /// Prepares the replay of a cassette: strict, at the recorded pace.
    pub(crate) fn new(cassette: Cassette) -> Replay {
        let logs = Logs::gather(&cassette.exchanges);
        let mut causes: HashMap<String, Vec<(f64, usize)>> = HashMap::new();
        let mut frame_at = HashMap::new();
        for (i, x) in cassette.exchanges.iter().enumerate() {
            let (Some(session), Some(at)) = (session_of(&x.path), x.at_ms) else {
                continue;
            };
            if x.method != "GET" {
                causes.entry(session.to_string()).or_default().push((at, i));
            }
            if x.stream == Some(StreamKind::Events) {
                let mut t = at + x.elapsed_ms.unwrap_or(0.0);
                let times = x
                    .frames
                    .iter()
                    .map(|f| {
                        t += f.delay_ms;
                        t
                    })
                    .collect();
                frame_at.insert(i, times);
            }
        }
        for c in causes.values_mut() {
            c.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Replay {
            causes,
            frame_at,
            served: vec![false; cassette.exchanges.len()],
            cassette: Arc::new(cassette),
            last: HashMap::new(),
            logs,
            owed: HashMap::new(),
            disturbed: HashMap::new(),
            speed: 1.0,
            strict: true,
        }
    }

    /// Returns the exchanges not served yet, in the cassette's order.
    pub(crate) fn unplayed(&self) -> Vec<Unplayed> {
        self.cassette
            .exchanges
            .iter()
            .zip(&self.served)
            .filter(|(_, served)| !**served)
            .map(|(x, _)| Unplayed {
                id: x.id,
                operation: x.operation.clone(),
                method: x.method.clone(),
                path: x.path.clone(),
            })
            .collect()
    }

    /// Decides the answer to a request (`target`: the path and its query string).
    pub(crate) fn answer(
        &mut self,
        method: &str,
        target: &str,
        content_type: &str,
        body: &[u8],
    ) -> Served {
        let (path, query_text) = target.split_once('?').unwrap_or((target, ""));
        let body = if content_type.starts_with("multipart/") {
            json!({"multipart": {"content_type": content_type, "length": body.len()}})
        } else if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| json!({"text": String::from_utf8_lossy(body)}))
        };
        let req = Incoming {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query: pairs(query_text),
            body,
        };
        let about = LogRequest::of(&req.method, &req.path)
            .filter(|r| self.logs.knows(r.source()) || matches!(r, LogRequest::Stream(_)));
        // a disturbed session's reads get recorded answers only from before the cut, or
        // else the newest recorded answer its served requests allow
        let before = match req.method.as_str() {
            "GET" => self.cut_time(&req.path),
            _ => None,
        };
        if let Some(i) = self.find(&req, before) {
            return self.serve(i, &req);
        }
        if before.is_some() && about.is_none() {
            if let Some(i) = self.newest_answerable(&req) {
                return self.serve(i, &req);
            }
        }
        match about {
            Some(LogRequest::Stream(source)) => match self.owed.remove(&source) {
                Some((exchange, from)) => Served::Events(Playback {
                    cassette: self.cassette.clone(),
                    exchange,
                    from,
                    source: Some(source),
                }),
                // nothing more was recorded
                None => Served::Quiet,
            },
            Some(LogRequest::Listing(source)) => {
                match self.logs.list(&source, &Query::parse(query_text)) {
                    Ok(reply) => Served::Own(reply),
                    Err(e) => Served::Refused(e),
                }
            }
            _ => {
                if req.method == "GET" {
                    if let Some(&i) = self.last.get(&key(&req)) {
                        return self.serve(i, &req);
                    }
                }
                self.unmatched(&req)
            }
        }
    }

    /// The earliest exchange not served yet that fits the request (with its own ids first),
    /// among those sent `before` a time, if given.
    fn find(&self, req: &Incoming, before: Option<f64>) -> Option<usize> {
        let mut best: Option<(Fit, usize)> = None;
        for (i, x) in self.cassette.exchanges.iter().enumerate() {
            if self.served[i] {
                continue;
            }
            if let Some(t) = before {
                if x.at_ms.is_none_or(|at| at > t) {
                    continue;
                }
            }
            if let Some(fit) = matching::fits(x, req) {
                if best.is_none_or(|(f, _)| fit < f) {
                    best = Some((fit, i));
                }
                if fit == Fit::Exact {
                    break;
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// When the recording reached the cut of a stream of the session a path is about, while
    /// that session is disturbed.
    fn cut_time(&self, path: &str) -> Option<f64> {
        let session = session_of(path)?;
        self.disturbed
            .iter()
            .filter(|(source, _)| session_of(source) == Some(session))
            .map(|(_, at)| *at)
            .min_by(f64::total_cmp)
    }

    /// The newest recorded exchange that fits the request and may be answered now (served
    /// already or not): the session's state as far as the replay has come.
    fn newest_answerable(&self, req: &Incoming) -> Option<usize> {
        self.cassette
            .exchanges
            .iter()
            .enumerate()
            .filter(|(i, x)| matching::fits(x, req).is_some() && self.answerable(*i))
            .max_by(|(_, a), (_, b)| a.at_ms.unwrap_or(0.0).total_cmp(&b.at_ms.unwrap_or(0.0)))
            .map(|(i, _)| i)
    }

    /// Serves exchange `i`, marking it served and showing the events its answer holds.
    fn serve(&mut self, i: usize, req: &Incoming) -> Served {
        self.served[i] = true;
        self.last.insert(key(req), i);
        let x = &self.cassette.exchanges[i];
        let about = LogRequest::of(&x.method, &x.path);
        let Some(status) = x.status else {
            return Served::NoAnswer;
        };
        match x.stream {
            Some(StreamKind::Events) => {
                return Served::Events(Playback {
                    cassette: self.cassette.clone(),
                    exchange: i,
                    from: 0,
                    source: about.map(|a| a.source().to_string()),
                })
            }
            Some(StreamKind::Bytes) => {
                return Served::Bytes(Playback {
                    cassette: self.cassette.clone(),
                    exchange: i,
                    from: 0,
                    source: None,
                })
            }
            None => {}
        }
        let recorded_type = x
            .response_headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.clone());
        let b64 = x
            .body
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("base64"))
            .and_then(Value::as_str);
        let (body, default_type) = match (&x.body, b64) {
            (Value::Null, _) => (Vec::new(), "application/json"),
            (_, Some(b64)) => (
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default(),
                "application/octet-stream",
            ),
            (v, None) => (v.to_string().into_bytes(), "application/json"),
        };
        let headers = x
            .response_headers
            .iter()
            .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()) && k != "content-type")
            .cloned()
            .collect();
        Served::Whole {
            exchange: i,
            status,
            content_type: recorded_type.unwrap_or_else(|| default_type.to_string()),
            headers,
            body,
        }
    }

    /// The answer to a request nothing recorded fits: a 400 naming the closest recorded
    /// request and how it differs (strict), or the emulator's own answer.
    fn unmatched(&self, req: &Incoming) -> Served {
        if !self.strict {
            return Served::Emulate;
        }
        let closest = self
            .cassette
            .exchanges
            .iter()
            .enumerate()
            .map(|(i, x)| (matching::distance(x, req), i))
            .min_by_key(|((score, _), i)| (*score, self.served[*i]));
        let mut message = format!(
            "the cassette has no request that fits {} {}",
            req.method, req.path
        );
        match closest {
            None => message.push_str(" (it records no exchange)"),
            Some(((_, notes), i)) => {
                let x = &self.cassette.exchanges[i];
                let op = x
                    .operation
                    .as_deref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default();
                message.push_str(&format!(
                    "; the closest is exchange {}{op}: {} {}",
                    x.id, x.method, x.path
                ));
                if notes.is_empty() {
                    message.push_str(", served already");
                } else {
                    message.push_str(&format!(", which differs: {}", notes.join("; ")));
                }
            }
        }
        Served::Refused(ApiError(400, "invalid_request_error", message))
    }

    /// Returns whether the recorded answer of exchange `i` may be written: every request that
    /// changed its session and was sent before the answer came back in the recording has
    /// been served (the answer may show it: a listing read while a message was posted holds
    /// the message). The client sent those without waiting for this answer, so waiting for
    /// them never waits for the client to read it.
    pub(crate) fn answerable(&self, i: usize) -> bool {
        let x = &self.cassette.exchanges[i];
        let (Some(at), Some(causes)) = (
            x.at_ms,
            session_of(&x.path).and_then(|s| self.causes.get(s)),
        ) else {
            return true;
        };
        let t = at + x.elapsed_ms.unwrap_or(0.0);
        causes
            .iter()
            .take_while(|(at, _)| *at < t)
            .all(|(_, j)| *j == i || self.served[*j])
    }

    /// Notes that the recorded answer of exchange `i` is being written: the events it holds
    /// are shown to the client.
    pub(crate) fn release(&mut self, i: usize) {
        let x = &self.cassette.exchanges[i];
        if let Some(about) = LogRequest::of(&x.method, &x.path) {
            let events: Vec<Value> = log::events_of(x).into_iter().cloned().collect();
            self.logs.show(about.source(), &events);
        }
    }

    /// Returns whether frame `frame` of stream `exchange` may be played: every request that
    /// changed its session before the frame arrived in the recording (the message, the tool
    /// result it may echo or follow) has been served. A frame of a cassette without times
    /// is always ready.
    pub(crate) fn ready(&self, exchange: usize, frame: usize) -> bool {
        let Some(t) = self.frame_at.get(&exchange).and_then(|f| f.get(frame)) else {
            return true;
        };
        let x = &self.cassette.exchanges[exchange];
        let Some(causes) = session_of(&x.path).and_then(|s| self.causes.get(s)) else {
            return true;
        };
        causes
            .iter()
            .take_while(|(at, _)| at < t)
            .all(|(_, i)| self.served[*i])
    }

    /// Notes that a stream showed a frame of its source's log to the client.
    pub(crate) fn shown(&mut self, source: &str, data: &Value) {
        self.logs.show(source, [data]);
    }

    /// Notes that a fault cut a stream before frame `next`: the source is disturbed, and its
    /// next stream connection plays the rest.
    pub(crate) fn cut(&mut self, source: &str, exchange: usize, next: usize) {
        self.owed.insert(source.to_string(), (exchange, next));
        let at = self
            .frame_at
            .get(&exchange)
            .and_then(|f| f.get(next.saturating_sub(1)))
            .copied()
            .unwrap_or(0.0);
        self.disturbed.entry(source.to_string()).or_insert(at);
    }

    /// Notes that a stream of a source ended without a fault: its recording lines up again.
    pub(crate) fn settled(&mut self, source: &str) {
        if !self.owed.contains_key(source) {
            self.disturbed.remove(source);
        }
    }
}

/// Headers the server writes itself.
const HOP_BY_HOP: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// The session a path is about (`/v1/sessions/{id}`), if any.
fn session_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/sessions/")?;
    let id_len = rest.find('/').unwrap_or(rest.len());
    (id_len > 0).then(|| &path[.."/v1/sessions/".len() + id_len])
}

/// The decoded pairs of a query string.
fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (crate::reply::decode(k), crate::reply::decode(v)),
            None => (crate::reply::decode(p), String::new()),
        })
        .collect()
}

/// A request's key for repeating a GET: method, path and query.
fn key(req: &Incoming) -> String {
    let mut q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    q.sort();
    format!("{} {}?{}", req.method, req.path, q.join("&"))
}
