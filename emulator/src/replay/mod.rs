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
//! have been served ([`Replay::ready`]). When a fault cut a replayed stream, its session is
//! *disturbed* until its live stream (the rest of the cut stream, then the session's next
//! recorded streams) has been played to the end of a recorded stream: every stream connection
//! plays the live stream from where it is, and its listings are answered from the events shown
//! so far, not from the recording (a reconnect's requests were never recorded).

pub(crate) mod cassette;
pub(crate) mod log;
pub(crate) mod matching;

use crate::reply::{ApiError, Query, Reply};
use base64::Engine;
use cassette::{Cassette, StreamKind};
use log::{LogRequest, Logs};
use matching::{Fit, Incoming};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

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

/// Where a disturbed source's live stream is: the recorded stream and the frame it goes on
/// from, and when the last cut came (in the recording, and now), for what happens while the
/// client is away.
#[derive(Debug, Clone, Copy)]
struct Live {
    exchange: usize,
    from: usize,
    /// When the cut frame arrived in the recording, in ms since the cassette began.
    cut_at_ms: f64,
    /// When the cut came in this replay.
    since: Instant,
}

/// A replay's state: what has been served, the logs shown, the streams owed.
pub(crate) struct Replay {
    cassette: Arc<Cassette>,
    served: Vec<bool>,
    /// Recorded reads of a disturbed session that a read answered otherwise stood for.
    stood_for: Vec<bool>,
    /// The last exchange served for each `METHOD path?query`: a GET asked again after its
    /// recorded answers ran out gets it again.
    last: HashMap<String, usize>,
    logs: Logs,
    /// Disturbed sources (a fault cut one of their streams): where their live stream is,
    /// which each of their stream connections plays on from.
    live: HashMap<String, Live>,
    /// Sources answered from their logs until the rest of a cut stream has been played, with
    /// when the cut frame arrived in the recording: a recorded request sent before that
    /// still gets its recorded answer.
    disturbed: HashMap<String, f64>,
    /// The sessions a fault has disturbed at some point.
    ever_disturbed: HashSet<String>,
    /// For each session (`/v1/sessions/{id}`), the requests that change it (all but GETs),
    /// by when they were sent: (`at_ms`, exchange).
    causes: HashMap<String, Vec<(f64, usize)>>,
    /// For each event stream, when each of its frames arrived, in ms since the cassette began.
    frame_at: HashMap<usize, Vec<f64>>,
    /// The pace of streams: 1.0 as recorded, 2.0 twice as fast, 0 at once.
    pub(crate) speed: f64,
    /// How long an answer or frame is held for the requests it followed, at least.
    pub(crate) hold: std::time::Duration,
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
            stood_for: vec![false; cassette.exchanges.len()],
            cassette: Arc::new(cassette),
            last: HashMap::new(),
            logs,
            live: HashMap::new(),
            disturbed: HashMap::new(),
            ever_disturbed: HashSet::new(),
            speed: 1.0,
            hold: HOLD,
            strict: true,
        }
    }

    /// Returns the exchanges not served yet, in the cassette's order.
    pub(crate) fn unplayed(&self) -> Vec<Unplayed> {
        self.cassette
            .exchanges
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.served[*i] && !self.stood_for[*i] && !self.obsolete(*i))
            .map(|(_, x)| Unplayed {
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
        // a read of a disturbed session answered otherwise stands for the recorded request
        // it fits, which `unplayed` then leaves out (it may still be served later)
        if before.is_some() && !matches!(about, Some(LogRequest::Stream(_))) {
            if let Some(i) = self.find(&req, None) {
                self.stood_for[i] = true;
            }
        }
        if before.is_some() && about.is_none() {
            if let Some(i) = self.newest_answerable(&req) {
                return self.serve(i, &req);
            }
        }
        match about {
            Some(LogRequest::Stream(source)) => match self.resume(&source) {
                Some(play) => Served::Events(play),
                // nothing more was recorded
                None => Served::Quiet,
            },
            Some(LogRequest::Listing(source)) => {
                self.catch_up(&source);
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
            if self.served[i] || self.obsolete(i) {
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

    /// Returns whether recorded read `i` of a session a fault disturbed is past: a request
    /// that changed the session and was sent after the read's answer came in the recording
    /// has been served (the client moved on without it; after a reconnect it read the
    /// session otherwise).
    fn obsolete(&self, i: usize) -> bool {
        let x = &self.cassette.exchanges[i];
        let (Some(at), Some(session)) = (x.at_ms, session_of(&x.path)) else {
            return false;
        };
        if x.method != "GET" || !self.ever_disturbed.contains(session) {
            return false;
        }
        let answered = at + x.elapsed_ms.unwrap_or(0.0);
        self.causes
            .get(session)
            .is_some_and(|c| c.iter().any(|(t, j)| *t > answered && self.served[*j]))
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
            (v, None) => match (with_work_secret(&x.path, v), &x.body_text) {
                // as recorded, byte for byte, unless a redacted secret had to be filled in
                (std::borrow::Cow::Borrowed(_), Some(text)) => {
                    (text.clone().into_bytes(), "application/json")
                }
                (v, _) => (v.to_string().into_bytes(), "application/json"),
            },
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

    /// How long after its request the recorded answer of exchange `i` is written: the time
    /// the recording took from sending it to the answer, at the replay's speed.
    pub(crate) fn answer_delay(&self, i: usize) -> std::time::Duration {
        let took = self.cassette.exchanges[i].elapsed_ms.unwrap_or(0.0);
        crate::replay_stream::scaled(took, self.speed)
    }

    /// How long the recorded answer of exchange `i` (or its frame `frame`) may be held for the
    /// requests it followed: the hold, or the time the recording took for it at the replay's
    /// speed when that is longer.
    pub(crate) fn hold_for(&self, i: usize, frame: Option<usize>) -> std::time::Duration {
        let x = &self.cassette.exchanges[i];
        let took = match frame {
            Some(f) => x.frames.get(f).map_or(0.0, |f| f.delay_ms),
            None => x.elapsed_ms.unwrap_or(0.0),
        };
        self.hold
            .max(crate::replay_stream::scaled(took, self.speed))
    }

    /// Describes why the recorded answer of exchange `i` (or its frame `frame`) could not be
    /// played: the request it followed in the recording, which was not sent.
    pub(crate) fn unplayable(
        &mut self,
        i: usize,
        frame: Option<usize>,
        held: std::time::Duration,
    ) -> String {
        let x = &self.cassette.exchanges[i];
        let t = match frame {
            Some(f) => self.frame_at.get(&i).and_then(|t| t.get(f)).copied(),
            None => x.at_ms.map(|at| at + x.elapsed_ms.unwrap_or(0.0)),
        };
        let blocker = session_of(&x.path)
            .and_then(|s| self.causes.get(s))
            .zip(t)
            .and_then(|(causes, t)| {
                causes
                    .iter()
                    .take_while(|(at, _)| *at < t)
                    .find(|(_, j)| *j != i && !self.served[*j])
                    .map(|(_, j)| *j)
            });
        let what = |x: &cassette::Exchange| {
            let op = x
                .operation
                .as_deref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            format!("exchange {}{op}: {} {}", x.id, x.method, x.path)
        };
        let part = frame.map(|f| format!("frame {f} of ")).unwrap_or_default();
        let mut message = format!(
            "the cassette could not play {part}{}: in the recording it came after ",
            what(x)
        );
        match blocker {
            Some(j) => message.push_str(&format!(
                "{}, which the client has not sent within {held:?}",
                what(&self.cassette.exchanges[j])
            )),
            None => message.push_str(&format!("requests the client has not sent within {held:?}")),
        }
        if frame.is_none() {
            // not played: `unplayed` still lists it
            self.served[i] = false;
        }
        message
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

    /// Notes that a fault cut a stream before frame `next`: the source is disturbed, and where
    /// its live stream is goes on after the cut frame.
    pub(crate) fn cut(&mut self, source: &str, exchange: usize, next: usize) {
        let at = self
            .frame_at
            .get(&exchange)
            .and_then(|f| f.get(next.saturating_sub(1)))
            .copied()
            .unwrap_or(0.0);
        let (exchange, from) = self.onward(source, exchange, next);
        let live = match self.live.get(source) {
            Some(l) if (l.exchange, l.from) > (exchange, from) => (l.exchange, l.from),
            _ => (exchange, from),
        };
        let live = Live {
            exchange: live.0,
            from: live.1,
            cut_at_ms: at,
            since: Instant::now(),
        };
        self.live.insert(source.to_string(), live);
        self.disturbed.entry(source.to_string()).or_insert(at);
        if let Some(session) = session_of(source) {
            self.ever_disturbed.insert(session.to_string());
        }
    }

    /// Notes that a stream played frame `frame` of exchange `exchange` (or a fault cut it
    /// there): a disturbed source's live stream is past it.
    pub(crate) fn played(&mut self, source: &str, exchange: usize, frame: usize) {
        if let Some(live) = self.live.get_mut(source) {
            if (live.exchange, live.from) < (exchange, frame + 1) {
                (live.exchange, live.from) = (exchange, frame + 1);
            }
        }
    }

    /// Where a stream goes on from frame `from` of exchange `exchange`: there, or, at the end
    /// of a recorded stream, the start of the source's next recorded stream (the client's
    /// next connection, which the cut took the place of; it is played from now on).
    fn onward(&mut self, source: &str, mut exchange: usize, mut from: usize) -> (usize, usize) {
        loop {
            if from < self.cassette.exchanges[exchange].frames.len() {
                return (exchange, from);
            }
            let next = self.streams_of(source).find(|i| *i > exchange);
            match next {
                Some(next) => {
                    self.served[next] = true;
                    (exchange, from) = (next, 0);
                }
                None => return (exchange, from),
            }
        }
    }

    /// Shows what happened to a disturbed source while its stream was away: the frames of its
    /// live stream that may be played (their requests served, their recorded time since the
    /// cut come, at the replay's speed), which its stream connections then do not repeat, as
    /// the API's stream does not repeat what happened before it opened. Once the recorded
    /// streams have been shown to their end, the recording lines up again.
    fn catch_up(&mut self, source: &str) {
        let Some(mut live) = self.live.get(source).copied() else {
            return;
        };
        loop {
            let frames = &self.cassette.exchanges[live.exchange].frames;
            while live.from < frames.len() && self.happened(&live) {
                if let Some(data) = &frames[live.from].data {
                    self.logs.show(source, [data]);
                }
                live.from += 1;
            }
            let at = (live.exchange, live.from);
            (live.exchange, live.from) = self.onward(source, live.exchange, live.from);
            if (live.exchange, live.from) == at {
                break;
            }
        }
        if live.from < self.cassette.exchanges[live.exchange].frames.len() {
            self.live.insert(source.to_string(), live);
        } else {
            self.live.remove(source);
            self.disturbed.remove(source);
        }
    }

    /// Whether the live stream's next frame has happened: it may be played, and as long after
    /// the cut as it came in the recording (at the replay's speed) has passed.
    fn happened(&self, live: &Live) -> bool {
        if !self.ready(live.exchange, live.from) {
            return false;
        }
        let Some(at) = self
            .frame_at
            .get(&live.exchange)
            .and_then(|f| f.get(live.from))
        else {
            return true;
        };
        live.since.elapsed() >= crate::replay_stream::scaled(at - live.cut_at_ms, self.speed)
    }

    /// The stream a connection of a disturbed source plays (the recording has none for it:
    /// the client reconnected after a cut): the source's live stream from where it is now.
    fn resume(&mut self, source: &str) -> Option<Playback> {
        let live = self.live.get(source)?;
        Some(Playback {
            cassette: self.cassette.clone(),
            exchange: live.exchange,
            from: live.from,
            source: Some(source.to_string()),
        })
    }

    /// The stream a connection of a disturbed source goes on with once it has played the
    /// recorded stream `exchange` to an end where its client let go: the source's next
    /// recorded stream, from its start.
    pub(crate) fn chain(&mut self, source: &str, exchange: usize) -> Option<Playback> {
        if !self.disturbed.contains_key(source) {
            return None;
        }
        let next = self.streams_of(source).find(|i| *i > exchange)?;
        self.served[next] = true;
        Some(Playback {
            cassette: self.cassette.clone(),
            exchange: next,
            from: 0,
            source: Some(source.to_string()),
        })
    }

    /// The recorded event streams of a source that got an answer, in the cassette's order.
    fn streams_of<'a>(&'a self, source: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.cassette
            .exchanges
            .iter()
            .enumerate()
            .filter(move |(_, x)| {
                x.stream == Some(StreamKind::Events)
                    && x.status.is_some()
                    && LogRequest::of(&x.method, &x.path)
                        .is_some_and(|r| matches!(&r, LogRequest::Stream(s) if s == source))
            })
            .map(|(i, _)| i)
    }

    /// Notes that a connection played the recorded stream `exchange` of a source to its end
    /// without a fault: unless the source's live stream is further on, the recording lines
    /// up again.
    pub(crate) fn settled(&mut self, source: &str, exchange: usize) {
        let end = (exchange, self.cassette.exchanges[exchange].frames.len());
        if self
            .live
            .get(source)
            .is_none_or(|l| (l.exchange, l.from) <= end)
        {
            self.live.remove(source);
            self.disturbed.remove(source);
        }
    }
}

/// How long a replay holds an answer or frame for the requests it followed, by default.
const HOLD: std::time::Duration = std::time::Duration::from_secs(10);

/// The sessions token inside the secret a replay gives a work item whose recorded secret was
/// redacted: the recording kept the token out, and a replay checks no credential.
pub(crate) const REPLAYED_SESSIONS_TOKEN: &str = "[REDACTED]";

/// A recorded answer about a work item, with a secret the worker can read in place of the
/// redacted one: base64url JSON whose `sessions_token` is [`REPLAYED_SESSIONS_TOKEN`], the
/// same for every item, so the replayed worker takes the path it took when recorded (the
/// item's own token; memory stores need it).
fn with_work_secret<'a>(path: &str, body: &'a Value) -> std::borrow::Cow<'a, Value> {
    let redacted = body.get("secret").and_then(Value::as_str) == Some(matching::REDACTED);
    if !redacted || !path.contains("/work") {
        return std::borrow::Cow::Borrowed(body);
    }
    let payload = json!({"version": 1, "sessions_token": REPLAYED_SESSIONS_TOKEN,
        "session_id": body["data"]["id"], "work_id": body["id"]});
    let mut body = body.clone();
    body["secret"] =
        json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string()));
    std::borrow::Cow::Owned(body)
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
