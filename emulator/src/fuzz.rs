//! A cassette's replay driven without a server, for the fuzz target of cassette files: the
//! requests a replay answers and the frames its streams play, through the same decisions the
//! server takes (`Replay::answer`, `answerable`, `release`, `ready`, `shown`, `cut`,
//! `settled`), with no socket and no waiting. Reachable only through the hidden `__fuzz`
//! module; not a stable API.

use crate::replay::cassette::Cassette;
use crate::replay::{Replay, Served};
use serde_json::Value;

/// What [`replay_requests`] saw: how many requests got each kind of answer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// Recorded answers written whole.
    pub whole: usize,
    /// Recorded answers held back (what they may show has not been served).
    pub held: usize,
    /// Event streams played (or resumed), and the frames they played.
    pub streams: usize,
    /// Frames played, over all streams.
    pub frames: usize,
    /// Downloads played.
    pub downloads: usize,
    /// Answers of the replay's own, refusals, quiet streams and requests with no answer.
    pub other: usize,
    /// Exchanges left unplayed at the end.
    pub unplayed: usize,
}

/// Replays a cassette as a client would: each recorded request sent again, in the cassette's
/// order (its query and body as recorded), then a few requests the recording may not have
/// (listings, a second stream, an unknown path). Each stream plays its frames at once, as far
/// as they are ready; the stream that reaches frame `cut_at` (counted over all streams) is
/// cut there by a fault, as `drop_stream_after` does, and its session disturbed.
pub fn replay_requests(cassette: Cassette, cut_at: Option<usize>) -> Replayed {
    let mut requests: Vec<(String, String, &'static str, Vec<u8>)> = cassette
        .exchanges
        .iter()
        .map(|x| {
            let mut target = x.path.clone();
            for (i, (k, v)) in x.query.iter().enumerate() {
                target.push(if i == 0 { '?' } else { '&' });
                target.push_str(&encode(k));
                target.push('=');
                target.push_str(&encode(v));
            }
            let (content_type, body) = match &x.request_body {
                Value::Null => ("application/json", Vec::new()),
                Value::Object(o) if o.contains_key("multipart") => {
                    ("multipart/form-data; boundary=x", b"--x--\r\n".to_vec())
                }
                v => ("application/json", v.to_string().into_bytes()),
            };
            (x.method.clone(), target, content_type, body)
        })
        .collect();
    let sessions: Vec<String> = cassette
        .exchanges
        .iter()
        .filter_map(|x| x.path.strip_prefix("/v1/sessions/"))
        .filter_map(|rest| rest.split('/').next())
        .map(String::from)
        .collect();
    for s in sessions.iter().take(2) {
        for target in [
            format!("/v1/sessions/{s}/events?order=asc&limit=2"),
            format!("/v1/sessions/{s}/events?order=desc&created_at%5Bgte%5D=2026-01-01T00:00:00Z"),
            format!("/v1/sessions/{s}/events/stream"),
            format!("/v1/sessions/{s}"),
        ] {
            requests.push(("GET".into(), target, "application/json", Vec::new()));
        }
    }
    requests.push(("GET".into(), "/v1/nothing/here".into(), "", Vec::new()));
    requests.push((
        "POST".into(),
        "/v1/agents".into(),
        "application/json",
        b"{\"name\":\"x\"}".to_vec(),
    ));

    let mut replay = Replay::new(cassette);
    replay.speed = 0.0;
    let mut seen = Replayed::default();
    let mut played = 0usize;
    for (method, target, content_type, body) in &requests {
        match replay.answer(method, target, content_type, body) {
            Served::Whole { exchange, .. } => {
                if replay.answerable(exchange) {
                    replay.release(exchange);
                    seen.whole += 1;
                } else {
                    seen.held += 1;
                }
            }
            Served::Events(play) => {
                seen.streams += 1;
                let x = play.exchange();
                let mut cut = false;
                for (i, frame) in x.frames.iter().enumerate().skip(play.from) {
                    if !replay.ready(play.exchange, i) {
                        break;
                    }
                    played += 1;
                    seen.frames += 1;
                    if let (Some(source), Some(data)) = (&play.source, &frame.data) {
                        replay.shown(source, data);
                    }
                    if !frame.ping && cut_at == Some(played) {
                        if let Some(source) = &play.source {
                            replay.cut(source, play.exchange, i + 1);
                        }
                        cut = true;
                        break;
                    }
                }
                if !cut {
                    if let Some(source) = &play.source {
                        replay.settled(source, play.exchange);
                    }
                }
            }
            Served::Bytes(play) => {
                seen.downloads += 1;
                let _ = play
                    .exchange()
                    .chunks
                    .iter()
                    .map(|c| c.bytes.len())
                    .sum::<usize>();
            }
            Served::Own(_)
            | Served::Quiet
            | Served::NoAnswer
            | Served::Refused(_)
            | Served::Emulate => seen.other += 1,
        }
    }
    seen.unplayed = replay.unplayed().len();
    seen
}

/// Percent-encodes every byte but letters, digits and `-._~`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
