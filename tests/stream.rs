//! `EventStream` against servers that drop, stall, trickle and preview: every event exactly
//! once and in order, the right error at the right time, previews folded.

mod support;

use managed_agents::stream::{StreamItem, StreamOptions};
use managed_agents::types::*;
use managed_agents::{Client, Error};
use serde_json::json;
use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{respond, respond_json, TestServer};

fn client(url: &str) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

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
}

#[test]
fn ten_thousand_events_through_drops_arrive_once_and_in_order() {
    const TOTAL: usize = 10_000;
    let state = Arc::new(Mutex::new(Session {
        produced: 0,
        connections: 0,
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
            let produced = s.lock().unwrap().produced;
            let q = &req.target;
            let gte = q
                .split("created_at%5Bgte%5D=")
                .nth(1)
                .map(|v| v.split('&').next().unwrap().replace("%3A", ":"));
            let all: Vec<usize> = (1..=produced)
                .filter(|n| gte.as_ref().is_none_or(|g| stamp(*n) >= *g))
                .collect();
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

#[test]
fn a_silent_server_ends_the_stream_at_the_idle_timeout() {
    let server = TestServer::start(|_, _, conn| {
        sse_headers(conn);
        std::thread::sleep(Duration::from_secs(20));
    });
    let opts = StreamOptions::new()
        .idle_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(30));
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    let started = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { message, .. } if message.contains("idle")),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(stream.next().is_none(), "the stream ends after its error");
}

#[test]
fn heartbeats_forever_end_at_the_overall_deadline() {
    let server = TestServer::start(|_, _, conn| {
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
    assert_eq!(server.count(), 1);
}

#[test]
fn giving_up_says_how_many_events_were_delivered() {
    let server = TestServer::start(|i, req, conn| {
        if req.target.contains("/events/stream") {
            sse_headers(conn);
            if i == 0 {
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

#[test]
fn previews_fold_into_the_message_being_written() {
    let server = TestServer::start(|_, _, conn| {
        sse_headers(conn);
        let frames = [
            json!({"type": "event_start", "event": {"type": "agent.message", "id": "sevt_m"}}),
            json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "Hel"}}}),
            json!({"type": "event_delta", "event_id": "sevt_m", "delta": {"type": "content_delta", "index": 0, "content": {"type": "text", "text": "lo"}}}),
            json!({"type": "agent.message", "id": "sevt_m", "processed_at": "2026-01-01T00:00:00Z", "content": [{"type": "text", "text": "Hello"}]}),
            json!({"type": "session.status_idle", "id": "sevt_i", "processed_at": "2026-01-01T00:00:01Z", "stop_reason": {"type": "end_turn"}}),
        ];
        for f in frames {
            let _ = conn.write_all(format!("data: {f}\n\n").as_bytes());
        }
    });
    let opts = StreamOptions::new()
        .previews(vec![DeltaType::AgentMessage])
        .max_reconnects(0);
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", opts)
        .unwrap();
    assert!(
        server
            .request(0)
            .target
            .contains("event_deltas%5B%5D=agent.message"),
        "{}",
        server.request(0).target
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
            StreamItem::OtherPreview(p) => panic!("{p:?}"),
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
fn a_malformed_frame_is_an_error_naming_it_and_the_stream_goes_on() {
    let server = TestServer::start(|_, _, conn| {
        sse_headers(conn);
        let _ = conn.write_all(b"event: message\ndata: {not json\n\n");
        let _ = conn.write_all(format!("data: {}\n\n", event(2, 2)).as_bytes());
    });
    let mut stream = client(&server.url)
        .sessions()
        .events()
        .stream("sesn_1", StreamOptions::new().max_reconnects(0))
        .unwrap();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Decode { excerpt, .. } if excerpt.contains("{not json")),
        "{err:?}"
    );
    let ev = stream.next().unwrap().unwrap();
    assert!(ev.ends_turn());
}

#[test]
fn a_thread_stream_reconnects_and_reconciles_from_the_thread_listing() {
    const TOTAL: usize = 1_000;
    let state = Arc::new(Mutex::new(Session {
        produced: 0,
        connections: 0,
    }));
    let s = state.clone();
    let listed = Arc::new(Mutex::new(0usize));
    let l = listed.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req
            .target
            .starts_with("/v1/sessions/sesn_1/threads/sthr_1/stream?")
        {
            let (start, k) = {
                let mut st = s.lock().unwrap();
                st.connections += 1;
                (st.produced, 50 + st.connections * 31 % 100)
            };
            sse_headers(conn);
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
            let produced = s.lock().unwrap().produced;
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
