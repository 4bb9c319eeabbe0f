//! `EventStream` against servers that drop, stall, trickle and preview: every event exactly
//! once and in order, the right error at the right time, previews folded.

use crate::support::emulated::cloud_session;
use crate::support::no_retry_client as client;
use crate::support::{respond, respond_json, TestServer};
use managed_agents::types::*;
use managed_agents::Error;
use managed_agents::{StreamItem, StreamOptions};
use serde_json::json;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn stamp(n: usize) -> String {
    let ms = n as u64;
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn event(n: usize, last: usize) -> String {
    if n == last {
        json!({"type": "session.status_idle", "id": format!("sevt_{n:05}"), "processed_at": stamp(n),
               "stop_reason": {"type": "end_turn"}})
        .to_string()
    } else {
        json!({"type": "agent.message", "id": format!("sevt_{n:05}"), "processed_at": stamp(n),
               "content": [{"type": "text", "text": format!("event {n}")}]})
        .to_string()
    }
}

fn sse_headers(conn: &mut TcpStream) {
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    );
}

/// Answers a listing with the page of `events` (numbers of `event(n, last)`) that the request's
/// `page=pN` cursor asks for, 100 a page.
fn respond_page(conn: &mut TcpStream, target: &str, events: &[usize], last: usize) {
    let offset: usize = target
        .split("page=p")
        .nth(1)
        .map(|v| v.split('&').next().unwrap().parse().unwrap())
        .unwrap_or(0);
    let page: Vec<serde_json::Value> = events
        .iter()
        .skip(offset)
        .take(100)
        .map(|n| serde_json::from_str(&event(*n, last)).unwrap())
        .collect();
    let next = (offset + 100 < events.len()).then(|| format!("p{}", offset + 100));
    respond_json(conn, &json!({"data": page, "next_page": next}).to_string());
}

/// The ids are those of events 1 to `total`, each once, in order.
fn assert_once_in_order(ids: &[String], total: usize) {
    let want: Vec<String> = (1..=total).map(|n| format!("sevt_{n:05}")).collect();
    assert_eq!(ids.len(), total, "delivered {} events", ids.len());
    assert!(ids == want, "out of order or duplicated");
}

/// A session whose agent produces `total` events. Each stream connection sends the events
/// produced from the moment it opens, and drops after a few hundred (every third time in the
/// middle of a line); a few events happen while nobody is connected, so only the list has them.
struct Session {
    produced: usize,
    connections: usize,
    /// The stream has read where the log ends (its first listing): the agent may start.
    opened: bool,
}

/// Waits until the stream under test has opened (read where the log ends).
fn wait_opened(s: &Mutex<Session>) {
    while !s.lock().unwrap().opened {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn ten_thousand_events_through_drops_arrive_once_and_in_order() {
    const TOTAL: usize = 10_000;
    let state = Arc::new(Mutex::new(Session {
        produced: 0,
        connections: 0,
        opened: false,
    }));
    let s = state.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.starts_with("/v1/sessions/sesn_1/events/stream") {
            let (start, k, mid_line) = {
                let mut st = s.lock().unwrap();
                st.connections += 1;
                (
                    st.produced,
                    100 + (st.connections * 97) % 300,
                    st.connections.is_multiple_of(3),
                )
            };
            sse_headers(conn);
            wait_opened(&s);
            let mut n = start;
            let mut sent = 0;
            while n < TOTAL && sent < k {
                n += 1;
                s.lock().unwrap().produced = n;
                let frame = format!("event: message\ndata: {}\n\n", event(n, TOTAL));
                if sent + 1 == k && mid_line {
                    let _ = conn.write_all(&frame.as_bytes()[..frame.len() / 2]);
                    break;
                }
                if conn.write_all(frame.as_bytes()).is_err() {
                    return;
                }
                if n.is_multiple_of(50) {
                    let _ = conn.write_all(b": heartbeat\n\n");
                }
                sent += 1;
            }
            // events that happen while nobody listens
            let mut st = s.lock().unwrap();
            st.produced = (st.produced + 3).min(TOTAL);
        } else if req.target.starts_with("/v1/sessions/sesn_1/events") {
            let produced = {
                let mut st = s.lock().unwrap();
                st.opened = true;
                st.produced
            };
            let q = &req.target;
            let gte = q
                .split("created_at%5Bgte%5D=")
                .nth(1)
                .map(|v| v.split('&').next().unwrap().replace("%3A", ":"));
            let mut all: Vec<usize> = (1..=produced)
                .filter(|n| gte.as_ref().is_none_or(|g| stamp(*n) >= *g))
                .collect();
            if q.contains("order=desc") {
                all.reverse();
            }
            respond_page(conn, q, &all, TOTAL);
        } else {
            respond(conn, 404, &[], b"{}");
        }
    });
    let c = client(&server.url);
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(5);
    let stream = c.sessions().events().stream("sesn_1", opts).unwrap();
    let mut ids = Vec::with_capacity(TOTAL);
    for ev in stream.until_idle() {
        ids.push(ev.unwrap().id().unwrap().to_string());
    }
    assert_once_in_order(&ids, TOTAL);
    let connections = state.lock().unwrap().connections;
    assert!(
        connections > 20,
        "only {connections} connections: the drops did not happen"
    );
}

/// An empty page for every listing; `stream` answers the stream connections.
fn with_empty_log(stream: impl Fn(usize, &mut TcpStream) + Send + Sync + 'static) -> TestServer {
    let streams = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            let i = streams.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            stream(i, conn);
        } else {
            respond_json(conn, r#"{"data": [], "next_page": null}"#);
        }
    })
}

fn stream_connections(server: &TestServer) -> usize {
    server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.target.contains("/stream"))
        .count()
}

#[test]
fn a_silent_server_is_reconnected_at_each_idle_timeout_until_the_deadline() {
    // changed: an idle timeout used to end the stream; it now takes the connection for dead
    let server = with_empty_log(|_, conn| {
        sse_headers(conn);
        std::thread::sleep(Duration::from_secs(20));
    });
    let opts = StreamOptions::new()
        .idle_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(3));
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let started = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { message, .. } if message.contains("deadline")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stream_connections(&server) >= 3,
        "{} connections: the idle connection was not replaced",
        stream_connections(&server)
    );
    assert!(stream.next().is_none(), "the stream ends after its error");
}

#[test]
fn heartbeats_forever_end_at_the_overall_deadline() {
    let server = with_empty_log(|_, conn| {
        sse_headers(conn);
        for _ in 0..300 {
            if conn.write_all(b": heartbeat\n\n").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let opts = StreamOptions::new()
        .idle_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(1));
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let started = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { message, .. } if message.contains("deadline")),
        "{err:?}"
    );
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn a_refused_stream_is_an_error_at_once_not_a_reconnect_loop() {
    let server = TestServer::start(|_, _, conn| {
        respond(
            conn,
            404,
            &[],
            br#"{"type":"error","error":{"type":"not_found_error","message":"no such session"}}"#,
        )
    });
    let err = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_x", StreamOptions::new())
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    // one connection, and the listing of where the log ends sent beside it
    assert_eq!(stream_connections(&server), 1);
    assert_eq!(server.count(), 2);
}

#[test]
fn giving_up_says_how_many_events_were_delivered() {
    let streams = AtomicUsize::new(0);
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/events/stream") {
            sse_headers(conn);
            if streams.fetch_add(1, SeqCst) == 0 {
                let _ = conn.write_all(format!("data: {}\n\n", event(1, 99)).as_bytes());
            }
        } else {
            respond_json(conn, r#"{"data": [], "next_page": null}"#);
        }
    });
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(3);
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    assert!(stream.next().unwrap().is_ok());
    let err = stream.next().unwrap().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("1 events were delivered") && text.contains("4 times"),
        "{text}"
    );
    assert!(stream.next().is_none());
}

/// A server whose log is empty and whose stream sends `frames`, one `data:` line each.
fn serve_frames(frames: Vec<serde_json::Value>) -> TestServer {
    with_empty_log(move |_, conn| {
        sse_headers(conn);
        for f in &frames {
            let _ = conn.write_all(format!("data: {f}\n\n").as_bytes());
        }
    })
}

/// A stream of `sesn_1` with previews of agent messages, and no reconnect.
fn preview_stream(server: &TestServer) -> managed_agents::EventStream {
    let opts = StreamOptions::new()
        .previews(vec![DeltaType::AgentMessage])
        .max_reconnects(0);
    client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap()
}

#[test]
fn previews_fold_into_the_message_being_written() {
    let server = serve_frames(vec![
        json!({"type": "event_start", "event": {"type": "agent.message", "id": "sevt_m"}}),
        json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hel"}}}),
        json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "lo"}}}),
        json!({"type": "agent.message", "id": "sevt_m", "processed_at": "2026-01-01T00:00:00Z", "content": [{"type": "text", "text": "Hello"}]}),
        json!({"type": "session.status_idle", "id": "sevt_i", "processed_at": "2026-01-01T00:00:01Z", "stop_reason": {"type": "end_turn"}}),
    ]);
    let mut stream = preview_stream(&server);
    // the stream's request (the listing of the log's end goes out beside it, in either order)
    let targets: Vec<String> = (0..server.count())
        .map(|i| server.request(i).target)
        .collect();
    let opened = targets
        .iter()
        .find(|t| t.starts_with("/v1/sessions/sesn_1/events/stream"))
        .unwrap_or_else(|| panic!("no stream request: {targets:?}"));
    assert!(
        opened.contains("event_deltas%5B%5D=agent.message"),
        "{opened}"
    );
    let mut previews = Vec::new();
    let mut events = Vec::new();
    while let Some(item) = stream.next_item() {
        match item.unwrap() {
            StreamItem::MessagePreview(m) => previews.push(m.text()),
            StreamItem::Event(e) => {
                let end = e.ends_turn();
                events.push(e);
                if end {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(previews, ["", "Hel", "Hello"]);
    assert_eq!(events.len(), 2);
    let SessionEvent::AgentMessage(m) = &events[0] else {
        panic!()
    };
    assert_eq!(m.text(), "Hello");
}

#[test]
fn the_iterator_folds_previews_away_and_delivers_the_whole_message() {
    let server = serve_frames(vec![
        json!({"type": "event_start", "event": {"type": "agent.message", "id": "sevt_m"}}),
        json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hel"}}}),
        json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "lo"}}}),
        json!({"type": "event_start", "event": {"type": "agent.thinking", "id": "sevt_t"}}),
        json!({"type": "agent.message", "id": "sevt_m", "processed_at": "2026-01-01T00:00:00Z", "content": [{"type": "text", "text": "Hello"}]}),
        json!({"type": "session.status_idle", "id": "sevt_i", "processed_at": "2026-01-01T00:00:01Z", "stop_reason": {"type": "end_turn"}}),
    ]);
    let mut stream = preview_stream(&server);
    let SessionEvent::AgentMessage(m) = stream.next().unwrap().unwrap() else {
        panic!("the message first")
    };
    assert_eq!(m.text(), "Hello");
    // the whole message replaced the preview it folded
    assert!(stream.preview().is_none());
    assert!(stream.next().unwrap().unwrap().ends_turn());
}

#[test]
fn a_frame_that_does_not_read_never_ends_the_stream() {
    // changed: a frame that is not an event used to be an error item; it is now skipped (and
    // logged), and an event of a known kind that does not read is delivered as Unknown
    let server = with_empty_log(|_, conn| {
        sse_headers(conn);
        let _ = conn.write_all(b"event: message\ndata: {not json\n\n");
        let bad = json!({"type": "agent.message", "id": "sevt_00001", "processed_at": stamp(1), "content": null});
        let _ = conn.write_all(format!("data: {bad}\n\n").as_bytes());
        let _ = conn.write_all(format!("data: {}\n\n", event(2, 2)).as_bytes());
    });
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    match &events[0] {
        SessionEvent::Unknown(v) => {
            assert_eq!(
                (v["type"].as_str(), v["id"].as_str()),
                (Some("agent.message"), Some("sevt_00001"))
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(events[1].ends_turn());
}

#[test]
fn every_event_through_the_stream_equals_the_same_json_read_by_serde() {
    // each event is read straight into `SessionEvent` by the stream: whatever its kind, it
    // arrives equal to the same JSON read by `serde_json`, and a kind this version does not
    // know (or a tag the fast scan cannot read) arrives as serde reads it too
    let mut paths: Vec<_> = std::fs::read_dir("tests/fixtures/types")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_stem().unwrap().to_string_lossy().ends_with("Event"))
        .collect();
    paths.sort();
    let mut frames: Vec<String> = Vec::new();
    let mut ending = Vec::new();
    for (n, p) in paths.iter().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let mut ev = v["full"].clone();
        let kind = ev["type"].as_str().unwrap().to_string();
        if kind == "event_start" || kind == "event_delta" {
            continue;
        }
        ev["id"] = json!(format!("sevt_{n:05}"));
        // the events that end the session go last: nothing is read after them
        if kind == "session.status_terminated" || kind == "session.deleted" {
            ending.push(ev.to_string());
        } else {
            frames.push(ev.to_string());
        }
    }
    assert!(frames.len() > 35, "only {} event fixtures", frames.len());
    frames.push(
        json!({"type": "agent.telepathy", "id": "sevt_90000", "processed_at": stamp(1), "thought": [1, 2]})
            .to_string(),
    );
    // the tag written with an escape: the general reader decides
    frames.push(format!(
        r#"{{"id":"sevt_90001","processed_at":"{}","content":[],"type":"agent\u002emessage"}}"#,
        stamp(2)
    ));
    frames.extend(ending);
    let expected: Vec<SessionEvent> = frames
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    let sent = frames.clone();
    let server = with_empty_log(move |_, conn| {
        sse_headers(conn);
        for f in &sent {
            let _ = conn.write_all(format!("event: message\ndata: {f}\n\n").as_bytes());
        }
    });
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let got: Vec<SessionEvent> = stream.take(frames.len()).map(Result::unwrap).collect();
    assert_eq!(got.len(), expected.len());
    for ((got, expected), frame) in got.iter().zip(&expected).zip(&frames) {
        assert_eq!(got, expected, "{frame}");
    }
    let unknown = &got[got.len() - 2 - 2];
    let SessionEvent::Unknown(v) = unknown else {
        panic!("{unknown:?}")
    };
    assert_eq!(v["type"], "agent.telepathy");
    assert_eq!(v["thought"], json!([1, 2]));
    assert!(matches!(&got[got.len() - 3], SessionEvent::AgentMessage(m) if m.id == "sevt_90001"));
}

#[test]
fn a_thread_stream_reconnects_and_reconciles_from_the_thread_listing() {
    const TOTAL: usize = 1_000;
    let state = Arc::new(Mutex::new(Session {
        produced: 0,
        connections: 0,
        opened: false,
    }));
    let s = state.clone();
    let listed = Arc::new(Mutex::new(0usize));
    let l = listed.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req
            .target
            .starts_with("/v1/sessions/sesn_1/threads/sthr_1/stream")
        {
            let (start, k) = {
                let mut st = s.lock().unwrap();
                st.connections += 1;
                (st.produced, 50 + st.connections * 31 % 100)
            };
            sse_headers(conn);
            wait_opened(&s);
            let mut n = start;
            while n < TOTAL && n < start + k {
                n += 1;
                s.lock().unwrap().produced = n;
                let frame = format!("event: message\ndata: {}\n\n", event(n, TOTAL));
                if conn.write_all(frame.as_bytes()).is_err() {
                    return;
                }
            }
            // events that happen while nobody listens
            let mut st = s.lock().unwrap();
            st.produced = (st.produced + 2).min(TOTAL);
        } else if req
            .target
            .starts_with("/v1/sessions/sesn_1/threads/sthr_1/events?")
        {
            *l.lock().unwrap() += 1;
            let produced = {
                let mut st = s.lock().unwrap();
                st.opened = true;
                st.produced
            };
            let all: Vec<usize> = (1..=produced).collect();
            respond_page(conn, &req.target, &all, TOTAL);
        } else {
            respond(conn, 404, &[], b"{}");
        }
    });
    let c = client(&server.url);
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(5);
    let stream = c
        .sessions()
        .threads()
        .events()
        .stream("sesn_1", "sthr_1", opts)
        .unwrap();
    let ids: Vec<String> = stream
        .until_idle()
        .map(|ev| ev.unwrap().id().unwrap().to_string())
        .collect();
    assert_once_in_order(&ids, TOTAL);
    let connections = state.lock().unwrap().connections;
    assert!(connections > 5, "only {connections} connections");
    assert!(
        *listed.lock().unwrap() >= connections - 1,
        "the thread listing was not read"
    );
}

/// A session's log as the listing serves it, and the stream connections' script.
struct Log {
    events: Mutex<Vec<serde_json::Value>>,
}

impl Log {
    fn with(events: Vec<serde_json::Value>) -> Arc<Log> {
        Arc::new(Log {
            events: Mutex::new(events),
        })
    }

    fn push(&self, ev: serde_json::Value) {
        self.events.lock().unwrap().push(ev);
    }
}

fn message(n: usize, text: &str) -> serde_json::Value {
    json!({"type": "agent.message", "id": format!("sevt_{n:05}"), "processed_at": stamp(n),
           "content": [{"type": "text", "text": text}]})
}

fn end_turn(n: usize) -> serde_json::Value {
    json!({"type": "session.status_idle", "id": format!("sevt_{n:05}"), "processed_at": stamp(n),
           "stop_reason": {"type": "end_turn"}})
}

fn texts(events: &[SessionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            SessionEvent::AgentMessage(m) => m.text(),
            other => other.tag().unwrap_or("?").to_string(),
        })
        .collect()
}

#[test]
fn a_drop_before_the_first_event_does_not_replay_the_previous_turn() {
    // the previous turn is in the log; the first connection drops before any event, and the
    // new turn happens while the stream reconnects
    let log = Log::with(vec![
        json!({"type": "user.message", "id": "sevt_00001", "processed_at": stamp(1), "content": [{"type": "text", "text": "earlier"}]}),
        message(2, "the previous answer"),
        end_turn(3),
    ]);
    let l = log.clone();
    let streams = AtomicUsize::new(0);
    let server = TestServer::start(move |_, req, conn| {
        if req.target.starts_with("/v1/sessions/sesn_1/events/stream") {
            if streams.fetch_add(1, SeqCst) == 1 {
                // the agent answered while nobody listened
                l.push(message(4, "the new answer"));
                l.push(end_turn(5));
            }
            sse_headers(conn);
        } else if req.target.starts_with("/v1/sessions/sesn_1/events") {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        } else {
            respond(conn, 404, &[], b"{}");
        }
    });
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(3);
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    assert_eq!(stream.opened_at(), Some(stamp(3).as_str()));
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["the new answer", "session.status_idle"]);
}

#[test]
fn from_beginning_replays_the_log_on_purpose() {
    let log = Log::with(vec![message(1, "one"), end_turn(2)]);
    let l = log.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            sse_headers(conn);
        } else {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        }
    });
    let opts = StreamOptions::new()
        .from_beginning()
        .reconnect_delay(Duration::from_millis(1));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["one", "session.status_idle"]);
}

#[test]
fn from_beginning_lists_the_log_while_the_connection_stays_open() {
    // the connection stays open and silent past the deadline: only a listing has the log
    let log = Log::with(vec![message(1, "one"), end_turn(2)]);
    let l = log.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            sse_headers(conn);
            std::thread::sleep(Duration::from_secs(20));
        } else {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        }
    });
    let opts = StreamOptions::new()
        .from_beginning()
        .deadline(managed_agents::Deadline::after(Duration::from_secs(5)));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["one", "session.status_idle"]);
}

#[test]
fn a_thread_stream_does_not_redeliver_the_threads_history() {
    let log = Log::with(vec![message(1, "old"), end_turn(2)]);
    let l = log.clone();
    let streams = AtomicUsize::new(0);
    let server = TestServer::start(move |_, req, conn| {
        if req
            .target
            .starts_with("/v1/sessions/sesn_1/threads/sthr_1/stream")
        {
            if streams.fetch_add(1, SeqCst) == 1 {
                l.push(message(3, "new"));
                l.push(end_turn(4));
            }
            sse_headers(conn);
        } else if req
            .target
            .starts_with("/v1/sessions/sesn_1/threads/sthr_1/events")
        {
            // a thread's listing has no time filter and no order: the whole log
            assert!(!req.target.contains("created_at"), "{}", req.target);
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        } else {
            respond(conn, 404, &[], b"{}");
        }
    });
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_millis(1))
        .max_reconnects(3);
    let stream = client(&server.url)
        .sessions()
        .threads()
        .events()
        .stream("sesn_1", "sthr_1", opts)
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["new", "session.status_idle"]);
}

#[test]
fn an_idle_timeout_reconnects_and_catches_up() {
    // the first connection goes silent (a dead connection behind a NAT); the turn ends
    // meanwhile, and only the listing has it
    let log = Log::with(vec![]);
    let l = log.clone();
    let (streams, listings) = (AtomicUsize::new(0), Arc::new(AtomicUsize::new(0)));
    let seen = listings.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            sse_headers(conn);
            if streams.fetch_add(1, SeqCst) == 0 {
                // once the stream has opened, the turn ends; this connection says nothing
                while seen.load(SeqCst) == 0 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                l.push(message(1, "done"));
                l.push(end_turn(2));
                std::thread::sleep(Duration::from_secs(20));
            }
        } else {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
            listings.fetch_add(1, SeqCst);
        }
    });
    let opts = StreamOptions::new()
        .idle_timeout(Duration::from_millis(300))
        .reconnect_delay(Duration::from_millis(1))
        .timeout(Duration::from_secs(30));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["done", "session.status_idle"]);
}

#[test]
fn a_retry_field_past_the_cap_is_clamped() {
    // the server asks for an hour between reconnects, with its first event
    let server = with_empty_log(|i, conn| {
        sse_headers(conn);
        let n = i.min(1) + 1;
        let _ = conn.write_all(format!("retry: 3600000\ndata: {}\n\n", event(n, 2)).as_bytes());
    });
    let opts = StreamOptions::new().timeout(Duration::from_secs(60));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let started = Instant::now();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(events.len(), 2);
    // the cap is 10 s; with the server's hour the deadline (60 s) would have ended it
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_retry_field_in_a_frame_without_data_sets_the_reconnect_time() {
    let server = with_empty_log(|i, conn| {
        sse_headers(conn);
        if i == 0 {
            // nothing dispatched: the frame carries the reconnection time only
            let _ = conn.write_all(b"retry: 20\n\n");
        } else {
            let _ = conn.write_all(format!("data: {}\n\n", event(1, 1)).as_bytes());
        }
    });
    // our own first wait would pass the deadline
    let opts = StreamOptions::new()
        .reconnect_delay(Duration::from_secs(8))
        .timeout(Duration::from_secs(5));
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let ev = stream.next().unwrap().unwrap();
    assert!(ev.ends_turn());
}

#[test]
fn an_overloaded_error_frame_reconnects_and_a_final_one_ends_the_stream() {
    let server = with_empty_log(|i, conn| {
        sse_headers(conn);
        if i == 0 {
            let _ = conn.write_all(b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
        } else if i == 1 {
            let _ = conn.write_all(format!("data: {}\n\n", event(1, 2)).as_bytes());
            let _ = conn.write_all(b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"no\"},\"request_id\":\"req_9\"}\n\n");
        }
    });
    let opts = StreamOptions::new().reconnect_delay(Duration::from_millis(1));
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    assert!(
        stream.next().unwrap().is_ok(),
        "the overloaded stream was resumed"
    );
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Stream { error_type: Some(t), .. } if t.as_str() == "invalid_request_error"),
        "{err:?}"
    );
    assert_eq!((err.status(), err.request_id()), (None, Some("req_9")));
    assert!(!err.is_retryable());
    assert!(stream.next().is_none());
}

#[test]
fn a_stream_the_server_ends_after_termination_ends_without_reconnecting() {
    let server = with_empty_log(|i, conn| {
        sse_headers(conn);
        if i == 0 {
            let ended = json!({"type": "session.status_terminated", "id": "sevt_00001", "processed_at": stamp(1)});
            let _ = conn.write_all(format!("data: {ended}\n\n").as_bytes());
        }
    });
    let opts = StreamOptions::new().reconnect_delay(Duration::from_secs(5));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    // a plain iteration, not until_idle: the end of the session ends it
    let items: Vec<Result<SessionEvent, Error>> = stream.collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(items[0].as_ref().is_ok_and(SessionEvent::ends_turn));
    assert_eq!(stream_connections(&server), 1, "it reconnected");
}

#[test]
fn a_long_stream_keeps_only_the_ids_of_its_newest_instant() {
    // many events at one instant, then one later: each is delivered once through drops
    let log = Log::with(vec![]);
    let l = log.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            sse_headers(conn);
            let n = l.events.lock().unwrap().len();
            // every connection sends the whole log again, then one new event, and drops
            let evs = l.events.lock().unwrap().clone();
            for ev in evs {
                let _ = conn.write_all(format!("data: {ev}\n\n").as_bytes());
            }
            if n < 40 {
                let at = if n < 30 { stamp(1) } else { stamp(n) };
                let ev = json!({"type": "agent.message", "id": format!("sevt_{:05}", n + 1), "processed_at": at,
                                "content": [{"type": "text", "text": format!("{}", n + 1)}]});
                l.push(ev.clone());
                let _ = conn.write_all(format!("data: {ev}\n\n").as_bytes());
            } else {
                let ev = end_turn(41);
                l.push(ev.clone());
                let _ = conn.write_all(format!("data: {ev}\n\n").as_bytes());
            }
        } else {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        }
    });
    let opts = StreamOptions::new()
        .from_beginning()
        .reconnect_delay(Duration::from_millis(1));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let ids: Vec<String> = stream
        .until_idle()
        .map(|e| e.unwrap().id().unwrap().to_string())
        .collect();
    assert_once_in_order(&ids, 41);
}

#[test]
fn a_live_event_out_of_time_order_is_still_delivered() {
    // the live order is the server's: an event stamped before the previous one is not lost
    let server = with_empty_log(|_, conn| {
        sse_headers(conn);
        for ev in [message(5, "five"), message(3, "three"), end_turn(6)] {
            let _ = conn.write_all(format!("data: {ev}\n\n").as_bytes());
        }
    });
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), ["five", "three", "session.status_idle"]);
}

#[test]
fn events_sent_live_and_listed_after_a_reconnect_arrive_once() {
    // the new connection sends again, live, 5,000 events the catch-up listing also has (more
    // than the ids a stream remembers): they are told apart by their time
    const N: usize = 5_000;
    let log = Log::with(vec![]);
    let l = log.clone();
    let streams = AtomicUsize::new(0);
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/stream") {
            if streams.fetch_add(1, SeqCst) != 1 {
                return sse_headers(conn);
            }
            for n in 1..N {
                l.push(message(n, "m"));
            }
            l.push(end_turn(N));
            sse_headers(conn);
            let all = l.events.lock().unwrap().clone();
            for ev in all {
                if conn
                    .write_all(format!("data: {ev}\n\n").as_bytes())
                    .is_err()
                {
                    return;
                }
            }
        } else {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
        }
    });
    let opts = StreamOptions::new().reconnect_delay(Duration::from_millis(1));
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    // read everything the second connection sends, past the end of the turn
    let mut ids = Vec::new();
    for ev in stream {
        match ev {
            Ok(ev) => ids.push(ev.id().unwrap().to_string()),
            Err(_) => break,
        }
    }
    assert_once_in_order(&ids, N);
}

#[test]
fn opening_a_stream_lists_the_log_end_without_waiting_for_the_connection() {
    use managed_agents_emulator::{Emulator, Faults};
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let c = client(emu.base_url());
    let s = cloud_session(&c, None);
    // from now on the emulator answers nothing for a minute: a stream that listed the log's
    // end only once its connection was answered would send no listing in the meantime
    emu.clear_request_log();
    emu.set_faults(Faults {
        slow: Some(Duration::from_secs(60)),
        ..Faults::default()
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let (c2, id) = (c.clone(), s.id.clone());
    std::thread::spawn(move || {
        let _ = tx.send(
            c2.sessions()
                .events()
                .stream(&id, StreamOptions::new())
                .is_ok(),
        );
    });
    let stream_path = format!("/v1/sessions/{}/events/stream", s.id);
    let list_path = format!("/v1/sessions/{}/events", s.id);
    let waited = Instant::now();
    let (mut connected, mut listed) = (false, false);
    while !(connected && listed) && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
        let log = emu.request_log();
        connected = log.iter().any(|r| r.path == stream_path);
        listed = log.iter().any(|r| r.path == list_path);
    }
    assert!(connected, "the stream's connection was not requested");
    assert!(
        listed,
        "the listing of the log's end waited for the stream's connection to be answered"
    );
    // nothing was answered yet: both requests are in flight at once, one round trip
    assert!(rx.try_recv().is_err(), "the stream opened before an answer");
}

#[test]
fn an_event_between_the_log_end_and_the_subscription_is_delivered() {
    // the listing of the log's end is answered before the connection is subscribed, and the
    // agent writes an event in between: only a listing behind the connection has it
    let log = Log::with(vec![message(1, "the previous answer"), end_turn(2)]);
    let l = log.clone();
    let listed = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let listed_first = Arc::new(Mutex::new(None::<bool>));
    let (ls, lf) = (listed.clone(), listed_first.clone());
    let server = TestServer::start(move |_, req, conn| {
        if req.target.starts_with("/v1/sessions/sesn_1/events/stream") {
            // the connection is answered once the end of the log was read (or, when the
            // listing never comes while it waits, after 10 s)
            let (m, cv) = &*ls;
            let (done, _) = cv
                .wait_timeout_while(m.lock().unwrap(), Duration::from_secs(10), |d| !*d)
                .unwrap();
            lf.lock().unwrap().get_or_insert(*done);
            drop(done);
            sse_headers(conn);
            l.push(end_turn(4));
            let _ = conn.write_all(format!("data: {}\n\n", end_turn(4)).as_bytes());
            std::thread::sleep(Duration::from_millis(200));
        } else if req.target.starts_with("/v1/sessions/sesn_1/events") {
            crate::support::respond_list(conn, &req.target, &l.events.lock().unwrap());
            let (m, cv) = &*ls;
            let mut done = m.lock().unwrap();
            if !*done {
                // after the end of the log was read, before the connection is subscribed
                l.push(message(3, "written in between"));
                *done = true;
                cv.notify_all();
            }
        } else {
            respond(conn, 404, &[], b"{}");
        }
    });
    let stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new())
        .unwrap();
    assert_eq!(*listed_first.lock().unwrap(), Some(true));
    assert_eq!(stream.opened_at(), Some(stamp(2).as_str()));
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(
        texts(&events),
        ["written in between", "session.status_idle"]
    );
}
