//! Event decoding throughput: the SSE decoder alone, SSE + JSON into typed events, and
//! `EventStream` end to end from a loopback server.
//!
//! `cargo bench --bench events` (add `-- quick` for a 20 MB log). The log is realistic: every
//! event type of the API (taken from the test fixtures), ids unique, sizes from a heartbeat to a
//! 16 KB tool result, most under 1 KB. `--write-log PATH` saves it for other decoders to read;
//! `--pass sse|typed|skip|none PATH` makes one pass over a saved log, for benches/instructions.sh;
//! `--pass stream PATH` reads it through `EventStream` from a loopback server (count the stream's
//! own functions with callgrind's `--toggle-collect`; add `--record CASSETTE` to record it into a
//! cassette as well), `--pass body PATH` only reads the body
//! from that server (time both with `/usr/bin/time` for the CPU each costs). The last line sets the stream beside
//! typed decoding in five back-to-back pairs, so that both see the same load.

use managed_agents::sse::{Decoder, EventReader, EventRef};
use managed_agents::types::StreamSessionEvents;
use managed_agents::Client;
use managed_agents::StreamOptions;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The `full` fixture of every event type.
fn templates() -> Vec<Value> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir("tests/fixtures/types")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_stem().unwrap().to_string_lossy().ends_with("Event"))
        .collect();
    names.sort();
    for p in names {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        out.push(v["full"].clone());
    }
    out
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

/// Writes a log of at least `size` bytes; returns it, its number of events, and how many of
/// them are previews.
fn make_log(size: usize) -> (Vec<u8>, usize, usize) {
    let templates = templates();
    let mut rng = Rng(0x2545F4914F6CDD1D);
    let mut log = Vec::with_capacity(size + 32 * 1024);
    let mut n = 0usize;
    let mut previews = 0usize;
    while log.len() < size {
        let r = rng.next() % 100;
        if r < 10 {
            log.extend_from_slice(b": heartbeat\n\n");
            continue;
        }
        let small = 80 + (rng.next() % 600) as usize;
        let large = 1024 + (rng.next() % (15 * 1024)) as usize;
        let mut ev = if r < 40 {
            json!({"type": "agent.message", "processed_at": "2026-04-01T12:00:00Z",
                   "content": [{"type": "text", "text": text(&mut rng, small)}]})
        } else if r < 48 {
            // a tool result, up to 16 KB
            json!({"type": "agent.tool_result", "processed_at": "2026-04-01T12:00:00Z", "tool_use_id": "sevt_011CZ",
                   "content": [{"type": "text", "text": text(&mut rng, large)}]})
        } else {
            templates[(rng.next() % templates.len() as u64) as usize].clone()
        };
        n += 1;
        if ev["type"] == "event_start" || ev["type"] == "event_delta" {
            previews += 1;
        } else {
            ev["id"] = json!(format!("sevt_{n:012}"));
        }
        log.extend_from_slice(b"event: message\ndata: ");
        serde_json::to_writer(&mut log, &ev).unwrap();
        log.extend_from_slice(b"\n\n");
    }
    (log, n, previews)
}

/// Decodes the log in 64 KiB chunks, each event borrowed, and hands each to `f`; how many.
fn each_event(log: &[u8], mut f: impl FnMut(EventRef<'_>)) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    for chunk in log.chunks(64 * 1024) {
        d.decode(chunk, |ev| {
            f(ev.unwrap());
            n += 1;
        });
    }
    n
}

/// One pass over a log file, for counting instructions with callgrind: `sse` decodes it,
/// `typed` decodes it into events as `EventStream` does, `skip` decodes it and has serde_json
/// skip each event's JSON (the floor of any decoder built on serde_json), `none` only reads it
/// (the baseline).
#[inline(never)]
fn counted_pass(log: &[u8], what: &str) -> usize {
    match what {
        "sse" => each_event(log, |ev| {
            std::hint::black_box(ev);
        }),
        // like `sse`, on the same chunks (the baseline copies nothing either)
        "typed" => each_event(log, |ev| {
            std::hint::black_box(StreamSessionEvents::from_json(ev.data()).unwrap());
        }),
        // the floor of any decoder on serde_json: SSE, then skipping each event's JSON
        "skip" => each_event(log, |ev| {
            std::hint::black_box(serde_json::from_str::<serde::de::IgnoredAny>(ev.data()).unwrap());
        }),
        _ => log
            .chunks(64 * 1024)
            .map(|c| std::hint::black_box(c).len())
            .sum(),
    }
}

/// A loopback server that answers a stream request with the log, as fast as the socket allows,
/// and a listing with an empty page (a stream opens by reading where the log ends); its URL.
fn serve(log: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(log);
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let served = served.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                if buf[..n].starts_with(b"GET /v1/sessions/sesn_1/events?") {
                    let body = r#"{"data":[],"next_page":null}"#;
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    return;
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                );
                let _ = conn.write_all(&served);
            });
        }
    });
    url
}

/// Reads `events` whole events of the log from a stream over loopback (all of them, to the
/// error that ends the stream when the log ends, for `usize::MAX`); how many it read.
fn stream_pass(client: &Client, events: usize) -> usize {
    let stream = client
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let mut n = 0;
    for ev in stream.take(events) {
        match ev {
            Ok(ev) => std::hint::black_box(ev),
            Err(_) if events == usize::MAX => break,
            Err(e) => panic!("{e}"),
        };
        n += 1;
    }
    n
}

/// SSE + typed decoding of the log from memory, as `EventStream` decodes; how many events.
fn typed_pass(log: &[u8]) -> usize {
    let mut n = 0;
    let mut reader = EventReader::new(log);
    while let Some(ev) = reader.next_ref() {
        std::hint::black_box(StreamSessionEvents::from_json(ev.unwrap().data()).unwrap());
        n += 1;
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--pass") {
        // `--pass sse|typed|skip|none|body|stream LOG`
        let log = std::fs::read(&args[i + 2]).unwrap();
        if args[i + 1] == "body" {
            // the body alone from the loopback server, read to its end through the client
            let client = Client::builder()
                .api_key("k")
                .base_url(serve(log.clone()))
                .build()
                .unwrap();
            let mut body = client
                .sessions()
                .events()
                .stream_response("sesn_1", &Default::default())
                .unwrap()
                .into_reader();
            println!(
                "{}",
                std::io::copy(&mut body, &mut std::io::sink()).unwrap()
            );
            return;
        }
        if args[i + 1] == "stream" {
            // the whole log through `EventStream` from a loopback server (count with
            // callgrind's --toggle-collect on the stream's functions: it serves the log too)
            // `--record CASSETTE`: the same, recorded into a cassette (its overhead)
            let mut builder = Client::builder().api_key("k").base_url(serve(log.clone()));
            if let Some(r) = args.iter().position(|a| a == "--record") {
                builder = builder.record_to(&args[r + 1]);
            }
            let client = builder.build().unwrap();
            println!("{}", stream_pass(&client, usize::MAX));
            return;
        }
        println!("{}", counted_pass(&log, &args[i + 1]));
        return;
    }
    let quick = args.iter().any(|a| a == "quick");
    let size = if quick { 20 << 20 } else { 120 << 20 };
    let (log, events, previews) = make_log(size);
    if let Some(i) = args.iter().position(|a| a == "--write-log") {
        std::fs::write(&args[i + 1], &log).unwrap();
    }
    let mb = log.len() as f64 / 1e6;
    println!(
        "log: {:.1} MB, {events} events, mean {:.0} bytes/event",
        mb,
        log.len() as f64 / events as f64
    );

    // 1. the SSE decoder alone, 64 KiB reads, the zero-copy path (`decode`) and the buffered one
    for (name, zero_copy) in [
        ("sse::Decoder::decode", true),
        ("sse::Decoder::feed", false),
    ] {
        let mut best = f64::MAX;
        let mut count = 0;
        for _ in 0..5 {
            let t = Instant::now();
            if zero_copy {
                count = each_event(&log, |ev| {
                    std::hint::black_box(ev);
                });
            } else {
                let mut d = Decoder::new();
                count = 0;
                for chunk in log.chunks(64 * 1024) {
                    d.feed(chunk);
                    while let Some(ev) = d.next_event() {
                        std::hint::black_box(ev.unwrap());
                        count += 1;
                    }
                }
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        assert_eq!(count, events);
        println!(
            "{name}: {:.0} MB/s, {:.2} M events/s (best of 5)",
            mb / best,
            events as f64 / best / 1e6
        );
    }

    // floors, for reference: finding the line ends alone (what any SSE decoder must at least
    // do), and serde_json skipping each event's JSON without building anything (what any
    // decoder built on serde_json must at least do)
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let mut lines = 0usize;
        let mut rest = &log[..];
        while let Some(i) = memchr::memchr2(b'\n', b'\r', rest) {
            lines += 1;
            rest = &rest[i + 1..];
        }
        std::hint::black_box(lines);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "floor: memchr2 over the log (line ends only): {:.0} MB/s (best of 5)",
        mb / best
    );
    let mut datas = Vec::with_capacity(events);
    let mut reader = EventReader::new(&log[..]);
    while let Some(ev) = reader.next_ref() {
        datas.push(ev.unwrap().data().to_string());
    }
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for d in &datas {
            std::hint::black_box(serde_json::from_str::<serde::de::IgnoredAny>(d).unwrap());
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    drop(datas);
    println!(
        "floor: serde_json skipping each event's JSON (IgnoredAny, no SSE): {:.0} MB/s, {:.0} k events/s (best of 3)",
        mb / best,
        events as f64 / best / 1e3
    );

    // 2. SSE + JSON into typed events, each event's data borrowed from the reader's buffer:
    //    with `from_json` (what `EventStream` uses) and with plain `serde_json::from_str`
    for (name, fast) in [
        ("typed decoding (from_json)", true),
        ("typed decoding (serde_json::from_str)", false),
    ] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let mut n = 0;
            let mut reader = EventReader::new(&log[..]);
            while let Some(ev) = reader.next_ref() {
                let data = ev.unwrap();
                let ev: StreamSessionEvents = if fast {
                    StreamSessionEvents::from_json(data.data()).unwrap()
                } else {
                    serde_json::from_str(data.data()).unwrap()
                };
                assert!(!matches!(ev, StreamSessionEvents::Unknown(_)));
                std::hint::black_box(ev);
                n += 1;
            }
            assert_eq!(n, events);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{name}: {:.0} MB/s, {:.0} k events/s (best of 3)",
            mb / best,
            events as f64 / best / 1e3
        );
    }

    // 3. EventStream from a loopback server sending the log as fast as the socket allows
    let url = serve(log.clone());
    let client = Client::builder()
        .api_key("k")
        .base_url(&url)
        .build()
        .unwrap();
    // the parts of the live stream, each over the same loopback connection: the transport
    // alone (the body read to its end through the client), then SSE + typed decoding of that
    // body without the stream's bookkeeping (what `EventStream` cannot beat)
    let body = || {
        client
            .sessions()
            .events()
            .stream_response("sesn_1", &Default::default())
            .unwrap()
            .into_reader()
    };
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let copied = std::io::copy(&mut body(), &mut std::io::sink()).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(copied as usize, log.len());
    }
    println!(
        "part: the body over loopback, read to its end: {:.0} MB/s (best of 3)",
        mb / best
    );
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut reader = EventReader::new(body());
        let mut n = 0;
        while let Some(ev) = reader.next_ref() {
            std::hint::black_box(StreamSessionEvents::from_json(ev.unwrap().data()).unwrap());
            n += 1;
        }
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(n, events);
    }
    println!(
        "part: typed decoding of the body over loopback: {:.0} k events/s, {:.0} MB/s (best of 3)",
        events as f64 / best / 1e3,
        mb / best
    );

    // previews (`event_start`, `event_delta`) are folded, not delivered as events; best of 3,
    // as the typed decoding above takes its best (the machine's load weighs on one run)
    let whole = events - previews;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(stream_pass(&client, whole), whole);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "EventStream over loopback: {:.0} k events/s, {:.0} MB/s (best of 3)",
        whole as f64 / best / 1e3,
        mb / best
    );

    // side by side, back to back: typed decoding from memory, then the stream, in pairs, so
    // both see the same load; the stream's share of each pair (MB/s over MB/s)
    let mut shares = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(typed_pass(&log), events);
        let typed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        assert_eq!(stream_pass(&client, whole), whole);
        shares.push(typed / t.elapsed().as_secs_f64() * 100.0);
    }
    shares.sort_by(f64::total_cmp);
    println!(
        "EventStream / typed decoding, 5 pairs back to back: median {:.0} % (range {:.0}-{:.0} %)",
        shares[2], shares[0], shares[4]
    );
}
