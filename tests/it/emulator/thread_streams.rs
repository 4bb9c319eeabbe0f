//! Thread streams on the emulator: a child's stream delivers its events once and in order
//! across drops, the primary thread's stream is the session's, and a deleted session ends its
//! threads' streams.

use super::threads::{ids, multiagent_session, thread_events, threads, wait_child};
use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents::StreamOptions;
use managed_agents_emulator::{Faults, Script};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

#[test]
fn the_thread_stream_delivers_the_childs_events_once_and_in_order_across_drops() {
    let (emu, c) = setup();
    let child = Script::new()
        .say("One.")
        .step(managed_agents_emulator::Step::Pause(Duration::from_millis(
            300,
        )))
        .say("Two.")
        .call_tool("lookup", json!({"q": "x"}))
        .say("Three.");
    emu.set_script(Script::new().delegate("Researcher", "Count.", child));
    // every stream connection drops after three events, in the middle of a line
    emu.set_faults(Faults {
        drop_stream_after: Some(3),
        drop_mid_line: true,
        ..Faults::default()
    });
    let s = multiagent_session(&c);
    let runner = {
        let (c, id) = (c.clone(), s.id.clone());
        std::thread::spawn(move || {
            c.run(&id)
                .message("go")
                .tool("lookup", |_| Ok::<_, String>("found".to_string()))
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    let thread = wait_child(&c, &s.id);
    let options = StreamOptions::new()
        .from_beginning()
        .deadline(managed_agents::Deadline::after(Duration::from_secs(60)));
    let stream = c
        .sessions()
        .threads()
        .events()
        .stream(&s.id, &thread.id, options)
        .unwrap();
    let mut got = Vec::new();
    for ev in stream {
        let ev = ev.unwrap();
        let end = matches!(&ev, SessionEvent::SessionThreadStatusIdle(i)
            if matches!(i.stop_reason, SessionThreadStatusIdleEventStopReason::EndTurn(_)));
        got.push(ev);
        if end {
            break;
        }
    }
    let outcome = runner.join().unwrap().unwrap();
    assert_eq!(outcome.tool_calls.len(), 1);
    let listed = thread_events(&c, &s.id, &thread.id);
    assert_eq!(ids(&got), ids(&listed), "the stream and the listing differ");
    let texts: Vec<String> = got
        .iter()
        .filter_map(|e| match e {
            SessionEvent::AgentMessage(m) => Some(m.text()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["One.", "Two.", "Three."]);
}

#[test]
fn the_primary_threads_stream_is_the_sessions_and_the_listing_pages_a_thousand() {
    let (emu, c) = setup();
    // 21 children: more than a page of the other listings
    let mut script = Script::new();
    for i in 0..21 {
        script = script.delegate("Researcher", format!("task {i}"), Script::new());
    }
    emu.set_script(script.say("All done."));
    let s = multiagent_session(&c);
    let primary = threads(&c, &s.id).remove(0);
    let options =
        StreamOptions::new().deadline(managed_agents::Deadline::after(Duration::from_secs(60)));
    let stream = c
        .sessions()
        .threads()
        .events()
        .stream(&s.id, &primary.id, options)
        .unwrap();
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let streamed: Vec<SessionEvent> = stream.until_idle().map(Result::unwrap).collect();
    let listed: Vec<SessionEvent> = c
        .sessions()
        .events()
        .list(&s.id, &SessionsEventListParams::default().limit(1000))
        .unwrap()
        .data;
    // the stream opened on an empty log: it has all of it, the user's message first
    assert_eq!(ids(&streamed), ids(&listed));
    let page = c
        .sessions()
        .threads()
        .list(&s.id, &ThreadListParams::default())
        .unwrap();
    assert_eq!((page.data.len(), page.next_page.as_deref()), (22, None));
    let small = ThreadListParams::default().limit(5);
    let all: Vec<SessionThread> = c
        .sessions()
        .threads()
        .list(&s.id, &small)
        .unwrap()
        .auto_paging()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 22);
}

#[test]
fn deleting_the_session_ends_its_threads_streams() {
    let (emu, c) = setup();
    let child = Script::new().call_tool("lookup", json!({"q": "x"}));
    emu.set_script(Script::new().delegate("Researcher", "Wait.", child));
    let s = multiagent_session(&c);
    c.sessions()
        .events()
        .send(
            &s.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    let thread = wait_child(&c, &s.id);
    let mut conn =
        std::net::TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    write!(
        conn,
        "GET /v1/sessions/{}/threads/{}/stream HTTP/1.1\r\nhost: x\r\nanthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\n\r\n",
        s.id, thread.id
    )
    .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut lines = BufReader::new(conn).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "HTTP/1.1 200 OK");
    // the child waits for its call: the session is idle and can be deleted
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while c.sessions().retrieve(&s.id).unwrap().status != SessionStatus::Idle {
        assert!(
            std::time::Instant::now() < until,
            "the session did not go idle"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // the stream ends (heartbeats would keep it going for ever otherwise)
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines {
            if line.is_err() {
                break;
            }
        }
        let _ = tx.send(());
    });
    c.sessions().delete(&s.id).unwrap();
    assert!(
        rx.recv_timeout(Duration::from_secs(20)).is_ok(),
        "the thread's stream goes on after its session was deleted"
    );
    let e = c
        .sessions()
        .threads()
        .list(&s.id, &Default::default())
        .unwrap_err();
    assert!(
        matches!(e, managed_agents::Error::Api { status: 404, .. }),
        "{e}"
    );
}
