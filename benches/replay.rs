//! Replay of a recorded 10,000-event session at full speed: the emulator serves a cassette
//! (`Emulator::replay`, speed 0: no recorded gap waited) whose session stream holds 10,000
//! events, and `EventStream` reads them all. Reports the time from the stream open to its last
//! event, and events/s, for several passes (each on a new emulator).
//!
//! `cargo bench --bench replay` (`-- EVENTS` for another count, `-- --passes N` for another
//! number of passes; `-- --write-cassette PATH` saves the cassette; `-- --once` makes one pass
//! and prints one line, for timing the whole process from outside).
//!
//! The cassette is recorded first, by a client (`ClientBuilder::record_to`) reading the stream
//! of a loopback server to its end: so it holds what a real recording holds, the listings the
//! stream opens with included. The events are those of a session at work: 10 % heartbeats
//! (`ping`, not counted as events), agent messages of 80–680 bytes, 8 % tool results of 1–16
//! KB, the rest short tool calls and model request ends; ids unique, `processed_at` rising by a
//! millisecond each.

use managed_agents::Client;
use managed_agents::StreamOptions;
use managed_agents_emulator::{Cassette, Emulator};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const WORDS: &[&str] = &[
    "the", "auth", "module", "checks", "tokens", "before", "each", "request", "and", "logs",
    "failures",
];

fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
        s.push(' ');
    }
    s
}

/// A `processed_at` `n` milliseconds into the session.
fn stamp(n: usize) -> String {
    let ms = n as u64;
    format!(
        "2026-12-06T{:02}:{:02}:{:02}.{:03}Z",
        9 + ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

const SESSION: &str = "sesn_011CRPLAY0000000000001";

/// The session's stream as the server sends it: `events` events as SSE frames (`event:
/// message`), heartbeats (`event: ping`) among them. Returns it and the bytes of event data.
fn session_log(events: usize) -> (Vec<u8>, usize) {
    let mut rng = Rng(0x2545F4914F6CDD1D);
    let mut out = Vec::new();
    let mut n = 0;
    let mut bytes = 0;
    while n < events {
        let r = rng.next() % 100;
        let data = if r < 10 {
            json!({"type": "ping"})
        } else {
            n += 1;
            let id = format!("sevt_011CRPLAY{n:012}");
            let at = stamp(n);
            if n == events {
                json!({"type": "session.status_idle", "id": id, "processed_at": at,
                       "stop_reason": {"type": "end_turn"}})
            } else if r < 40 {
                let small = 80 + (rng.next() % 600) as usize;
                json!({"type": "agent.message", "id": id, "processed_at": at,
                       "content": [{"type": "text", "text": text(&mut rng, small)}]})
            } else if r < 48 {
                let large = 1024 + (rng.next() % (15 * 1024)) as usize;
                json!({"type": "agent.tool_result", "id": id, "processed_at": at,
                       "tool_use_id": "sevt_011CRPLAYTOOL", "is_error": false,
                       "content": [{"type": "text", "text": text(&mut rng, large)}]})
            } else if r < 70 {
                json!({"type": "agent.tool_use", "id": id, "processed_at": at,
                       "name": "bash", "input": {"command": text(&mut rng, 60)}})
            } else {
                json!({"type": "span.model_request_end", "id": id, "processed_at": at,
                       "model_request_start_id": "sevt_011CRPLAYSTART", "is_error": false,
                       "model_usage": {"input_tokens": 1200, "output_tokens": 240,
                                       "cache_creation_input_tokens": 0,
                                       "cache_read_input_tokens": 900}})
            }
        };
        let data = data.to_string();
        let name = if r < 10 { "ping" } else { "message" };
        bytes += data.len();
        out.extend_from_slice(format!("event: {name}\ndata: {data}\n\n").as_bytes());
    }
    (out, bytes)
}

/// A loopback server for the recording: the session's listings answer an empty page (the
/// log's end, and what came in between), its stream sends the whole log at once and closes.
fn serve(log: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(log);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                if head.contains("/events/stream") {
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                    );
                    let _ = conn.write_all(&log);
                } else {
                    let body = r#"{"data":[],"next_page":null}"#;
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
        }
    });
    url
}

/// Records a client reading the session's stream to its `events`-th event into a cassette;
/// returns the cassette's text.
fn record(log: Vec<u8>, events: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.cassette.jsonl");
    let client = Client::builder()
        .api_key("recording-key")
        .base_url(serve(log))
        .record_to(&file)
        .build()
        .unwrap();
    let stream = client
        .sessions()
        .events()
        .stream(SESSION, StreamOptions::new().max_reconnects(0))
        .unwrap();
    assert_eq!(stream.take(events).filter(Result::is_ok).count(), events);
    drop(client);
    std::fs::read_to_string(&file).unwrap()
}

/// One pass: a new emulator replaying the cassette at speed 0, a stream read to its `events`-th
/// event. Returns (open: from calling `stream` to it returning; read: from then to the last
/// event).
fn pass(cassette: &Cassette, events: usize) -> (Duration, Duration) {
    let emu = Emulator::replay(cassette.clone()).unwrap();
    emu.set_replay_speed(0.0);
    let client = Client::builder()
        .api_key("replay")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let began = Instant::now();
    let stream = client
        .sessions()
        .events()
        .stream(SESSION, StreamOptions::new().max_reconnects(0))
        .unwrap();
    let opened = Instant::now();
    let mut n = 0;
    for ev in stream {
        std::hint::black_box(ev.unwrap());
        n += 1;
        if n == events {
            break;
        }
    }
    let done = Instant::now();
    assert_eq!(n, events);
    // the stream and the listing it opened with were both the recorded ones
    assert_eq!(emu.unplayed(), vec![]);
    (opened - began, done - opened)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // a number not given to a flag is the number of events
    let events = args
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, _)| args[i - 1] != "--passes")
        .find_map(|(_, a)| a.parse::<usize>().ok())
        .unwrap_or(10_000);
    let passes = args
        .iter()
        .position(|a| a == "--passes")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(9);
    let (log, bytes) = session_log(events);
    let text = record(log, events);
    if let Some(i) = args.iter().position(|a| a == "--write-cassette") {
        std::fs::write(&args[i + 1], &text).unwrap();
    }
    let began = Instant::now();
    let cassette = Cassette::parse(&text).unwrap();
    let parsed = began.elapsed();
    if args.iter().any(|a| a == "--once") {
        let (open, read) = pass(&cassette, events);
        println!(
            "{events} events: open {:.2} ms, read {:.1} ms, {:.0} events/s",
            open.as_secs_f64() * 1e3,
            read.as_secs_f64() * 1e3,
            events as f64 / read.as_secs_f64()
        );
        return;
    }
    println!(
        "cassette: {:.1} MB, {} lines, {events} events ({:.1} MB of event data, mean {:.0} bytes); read in {:.1} ms",
        text.len() as f64 / 1e6,
        text.lines().count(),
        bytes as f64 / 1e6,
        bytes as f64 / events as f64,
        parsed.as_secs_f64() * 1e3
    );
    let _ = pass(&cassette, events); // warm-up
    let mut opens = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..passes {
        let (open, read) = pass(&cassette, events);
        opens.push(open.as_secs_f64() * 1e3);
        reads.push(read.as_secs_f64() * 1e3);
    }
    let rates: Vec<f64> = reads.iter().map(|ms| events as f64 / ms * 1e3).collect();
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::MAX, f64::min);
        let hi = v.iter().copied().fold(f64::MIN, f64::max);
        (lo, hi)
    };
    let (rlo, rhi) = range(&reads);
    let (elo, ehi) = range(&rates);
    let (olo, ohi) = range(&opens);
    println!(
        "open to last event: median {:.1} ms ({rlo:.1}-{rhi:.1}), {:.0} events/s ({elo:.0}-{ehi:.0}); open {:.2} ms ({olo:.2}-{ohi:.2}); {passes} passes",
        median(reads.clone()),
        median(rates.clone()),
        median(opens.clone()),
    );
}
