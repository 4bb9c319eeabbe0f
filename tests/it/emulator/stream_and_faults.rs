//! The live stream and the faults over real HTTP: heartbeats and previews, drops mid-line,
//! overloads and rate limits retried, trickled and stalled answers against deadlines.

use super::session;
use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents::{Client, Error};
use managed_agents::{StreamItem, StreamOptions};
use managed_agents_emulator::{Faults, Script};
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

#[test]
fn the_stream_sends_heartbeats_and_previews() {
    let (emu, c) = setup();
    emu.set_script(Script::new().say("a b c d e f g"));
    let s = session(&c, false);
    // heartbeats, read raw
    let mut conn =
        std::net::TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    write!(
        conn,
        "GET /v1/sessions/{}/events/stream HTTP/1.1\r\nhost: x\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\n\r\n",
        s.id
    )
    .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut lines = BufReader::new(conn).lines();
    let mut saw_ping = false;
    for line in lines.by_ref().take(20) {
        if line.unwrap() == "event: ping" {
            saw_ping = true;
            break;
        }
    }
    assert!(saw_ping, "no heartbeat");
    // previews
    let mut stream = c
        .sessions()
        .events()
        .stream(
            &s.id,
            StreamOptions::new().previews(vec![DeltaType::AgentMessage]),
        )
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let mut previews = Vec::new();
    while let Some(item) = stream.next_item() {
        match item.unwrap() {
            StreamItem::MessagePreview(m) => previews.push(m.text()),
            StreamItem::Event(SessionEvent::AgentMessage(m)) => {
                assert_eq!(m.text(), "a b c d e f g");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(previews, ["", "a b c ", "a b c d e f ", "a b c d e f g"]);
}

#[test]
fn stream_drops_mid_line_are_survived_by_event_stream() {
    let (emu, c) = setup();
    let mut script = Script::new();
    for i in 0..60 {
        script = script.say(format!("message {i}"));
    }
    emu.set_script(script);
    emu.set_faults(Faults {
        drop_stream_after: Some(7),
        drop_mid_line: true,
        ..Faults::default()
    });
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
    let texts: Vec<String> = stream
        .until_idle()
        .filter_map(|e| match e.unwrap() {
            SessionEvent::AgentMessage(m) => Some(m.text()),
            _ => None,
        })
        .collect();
    let want: Vec<String> = (0..60).map(|i| format!("message {i}")).collect();
    assert_eq!(texts, want);
}

#[test]
fn overload_and_rate_limit_faults_are_retried() {
    let (emu, c) = setup();
    emu.set_faults(Faults {
        fail_next: 2,
        fail_status: 529,
        retry_after_ms: 10,
        ..Faults::default()
    });
    c.environments().list(&Default::default()).unwrap();
    assert_eq!(emu.requests(), 3);
    emu.set_faults(Faults {
        fail_next: 5,
        fail_status: 429,
        retry_after_ms: 10,
        ..Faults::default()
    });
    let err = c.environments().list(&Default::default()).unwrap_err();
    assert_eq!(err.status(), Some(429));
}

#[test]
fn trickled_and_stalled_answers_meet_the_deadline() {
    let (emu, _) = setup();
    emu.set_faults(Faults {
        stall: Some(Duration::from_secs(5)),
        ..Faults::default()
    });
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .max_retries(0)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let t = Instant::now();
    assert!(matches!(
        c.environments().list(&Default::default()),
        Err(Error::Timeout { .. })
    ));
    assert!(t.elapsed() < Duration::from_secs(4));

    let (emu, c) = setup();
    let s = session(&c, false);
    emu.set_faults(Faults {
        trickle: Some(Duration::from_millis(20)),
        ..Faults::default()
    });
    let mut stream = c
        .sessions()
        .events()
        .stream(
            &s.id,
            StreamOptions::new()
                .idle_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(1)),
        )
        .unwrap();
    let t = Instant::now();
    let err = stream.next().unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { message, .. } if message.contains("deadline")),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_slow_emulator_still_answers() {
    let (emu, c) = setup();
    emu.set_faults(Faults {
        slow: Some(Duration::from_millis(100)),
        ..Faults::default()
    });
    assert!(c
        .environments()
        .list(&Default::default())
        .unwrap()
        .data
        .is_empty());
}
