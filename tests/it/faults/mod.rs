//! The fault-injection suite: one test per class of fault, each checking that nothing is lost
//! and nothing is duplicated; a soak of 20 sessions at once on one client with faults on; and
//! rate limits with the attempt hook (`rate_limit`).

mod rate_limit;
mod soak;

use crate::support::emulated::cloud_session;
use crate::support::{respond, respond_json, TestServer};
use managed_agents::runner::StopReason;
use managed_agents::types::*;
use managed_agents::StreamOptions;
use managed_agents::{Client, Error};
use managed_agents_emulator::{Emulator, Faults, Script};
use serde_json::json;
use std::time::{Duration, Instant};

fn client(url: &str) -> Client {
    Client::builder()
        .api_key("sk-ant-fault-key")
        .base_url(url)
        .build()
        .unwrap()
}

/// A session in a cloud environment, of an agent with a `count` tool when `with_tool`.
fn session(c: &Client, with_tool: bool) -> Session {
    cloud_session(
        c,
        with_tool.then(|| CustomToolParams::new("count", "Count", json!({"type": "object"}))),
    )
}

fn messages(n: usize) -> Script {
    (0..n).fold(Script::new(), |s, i| s.say(format!("m{i}")))
}

/// The agent's message texts of a run, in order.
fn texts(events: &[SessionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            SessionEvent::AgentMessage(m) => Some(m.text()),
            _ => None,
        })
        .collect()
}

fn want(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i}")).collect()
}

#[test]
fn stream_drops_every_50_events_mid_line() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_script(messages(500));
    emu.set_faults(Faults {
        drop_stream_after: Some(50),
        drop_mid_line: true,
        ..Faults::default()
    });
    let c = client(emu.base_url());
    let s = session(&c, false);
    let stream = c
        .sessions()
        .events()
        .stream(
            &s.id,
            StreamOptions::new().reconnect_delay(Duration::from_millis(5)),
        )
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), want(500));
    let ids: std::collections::HashSet<_> =
        events.iter().map(|e| e.id().unwrap().to_string()).collect();
    assert_eq!(ids.len(), events.len(), "an event was delivered twice");
}

#[test]
fn ten_percent_of_requests_answered_529() {
    const CALLS: usize = 12;
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let script = (1..=CALLS).fold(Script::new().say("before"), |s, n| {
        s.call_tool("count", json!({"n": n}))
    });
    emu.set_script(script.say("after"));
    let c = client(emu.base_url());
    let s = session(&c, true);
    let before = emu.requests();
    emu.set_faults(Faults {
        fail_every: 10,
        fail_status: 529,
        retry_after_ms: 5,
        ..Faults::default()
    });
    let outcome = c
        .run(&s.id)
        .message("go")
        .tool("count", |call| {
            Ok::<_, String>(format!("counted {}", call["n"]))
        })
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    emu.set_faults(Faults::default());
    assert!(
        // any 10 requests in a row hold one that was answered 529
        emu.requests() - before >= 10,
        "only {} requests: no fault was injected",
        emu.requests() - before
    );
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(texts(&outcome.events), ["before", "after"]);
    let answered: Vec<String> = outcome
        .tool_calls
        .iter()
        .map(|t| t.output.clone())
        .collect();
    let want: Vec<String> = (1..=CALLS).map(|n| format!("counted {n}")).collect();
    assert_eq!(answered, want);
    assert!(outcome.tool_calls.iter().all(|t| t.posted && !t.is_error));
    // the session's own log holds each result once
    let log: Vec<SessionEvent> = c
        .sessions()
        .events()
        .list(&s.id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let results = log
        .iter()
        .filter(|e| matches!(e, SessionEvent::UserCustomToolResult(_)))
        .count();
    assert_eq!(results, CALLS);
}

#[test]
fn trickled_stream_bodies_arrive_whole() {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_script(messages(3));
    emu.set_faults(Faults {
        trickle: Some(Duration::from_micros(200)),
        ..Faults::default()
    });
    let c = client(emu.base_url());
    let s = session(&c, false);
    let stream = c
        .sessions()
        .events()
        .stream(&s.id, StreamOptions::new().timeout(Duration::from_secs(60)))
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let events: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    assert_eq!(texts(&events), want(3));
}

#[test]
fn a_stall_past_the_idle_timeout_reconnects_until_the_deadline() {
    // an idle timeout takes the connection for dead and replaces it; the deadline ends the stream
    let server = TestServer::start(|_, req, conn| {
        use std::io::Write;
        if !req.target.contains("/stream") {
            return respond_json(conn, r#"{"data": [], "next_page": null}"#);
        }
        let _ = conn
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n: hello\n\n");
        std::thread::sleep(Duration::from_secs(10));
    });
    let c = client(&server.url);
    let mut stream = c
        .sessions()
        .events()
        .stream(
            "sesn_1",
            StreamOptions::new()
                .idle_timeout(Duration::from_millis(300))
                .timeout(Duration::from_secs(2)),
        )
        .unwrap();
    let t = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { message, .. } if message.contains("deadline") && message.contains("0 events")),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(8));
    let streams = server
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.target.contains("/stream"))
        .count();
    assert!(streams >= 3, "{streams} connections");
}

#[test]
fn a_server_that_closes_before_the_status_line() {
    let server = TestServer::start(|i, _, conn| {
        if i < 2 {
            let _ = conn.shutdown(std::net::Shutdown::Both);
        } else {
            respond_json(conn, r#"{"data": [], "next_page": null}"#);
        }
    });
    let page = client(&server.url)
        .environments()
        .list(&Default::default())
        .unwrap();
    assert!(page.data.is_empty());
    assert_eq!(server.count(), 3, "two retries, one answer");
}

#[test]
fn truncated_json_is_a_decode_error_not_a_half_object() {
    let server = TestServer::start(|_, _, conn| {
        respond_json(conn, r#"{"data": [{"id": "env_1", "config": {"type": "clo"#)
    });
    let err = client(&server.url)
        .environments()
        .list(&Default::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { excerpt, .. } if excerpt.contains("env_1")),
        "{err:?}"
    );
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_the_key_stays_home() {
    let other = TestServer::start(|_, _, conn| respond_json(conn, "{}"));
    let location = format!("{}/v1/environments", other.url);
    let server =
        TestServer::start(move |_, _, conn| respond(conn, 307, &[("location", &location)], b""));
    let err = client(&server.url)
        .environments()
        .list(&Default::default())
        .unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert_eq!(
        other.count(),
        0,
        "the request (and its key) went to the other host"
    );
}

#[test]
fn plain_http_off_loopback_is_refused_unless_allowed() {
    for url in [
        "http://api.example.com",
        "http://10.0.0.7:8080",
        "http://localhost.evil.com",
    ] {
        let err = Client::builder()
            .api_key("k")
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { param, .. } if param == "base_url"),
            "{url}: {err:?}"
        );
    }
    for url in [
        "http://127.0.0.1:9",
        "http://localhost:8080",
        "http://[::1]:8080",
        "https://api.example.com",
    ] {
        Client::builder()
            .api_key("k")
            .base_url(url)
            .build()
            .unwrap();
    }
    Client::builder()
        .api_key("k")
        .base_url("http://api.example.com")
        .allow_plain_http(true)
        .build()
        .unwrap();
}

/// 20 sessions at once on one client, ~1,000 events each, with stream drops and 529s on.
#[test]
fn soak_twenty_sessions_on_one_client_with_faults() {
    const SESSIONS: usize = 20;
    const MESSAGES: usize = 990;
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_script(messages(MESSAGES).call_tool("count", json!({})));
    let c = client(emu.base_url());
    let sessions: Vec<Session> = (0..SESSIONS).map(|_| session(&c, true)).collect();
    emu.set_faults(Faults {
        drop_stream_after: Some(97),
        drop_mid_line: true,
        fail_every: 25,
        retry_after_ms: 5,
        ..Faults::default()
    });
    let handles: Vec<_> = sessions
        .into_iter()
        .map(|s| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.run(&s.id)
                    .message("go")
                    .tool("count", |_| Ok::<_, String>("done"))
                    .stream_options(
                        StreamOptions::new()
                            .reconnect_delay(Duration::from_millis(5))
                            .max_reconnects(50),
                    )
                    .deadline(Duration::from_secs(240))
                    .until_idle()
            })
        })
        .collect();
    for h in handles {
        let outcome = h.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
        assert_eq!(texts(&outcome.events), want(MESSAGES));
        assert!(
            outcome.events.len() >= MESSAGES + 6,
            "{} events",
            outcome.events.len()
        );
        let ids: std::collections::HashSet<_> =
            outcome.events.iter().filter_map(|e| e.id()).collect();
        assert_eq!(
            ids.len(),
            outcome.events.len(),
            "an event was delivered twice"
        );
        assert_eq!(outcome.tool_calls.len(), 1);
        assert!(outcome.tool_calls[0].posted);
    }
}
