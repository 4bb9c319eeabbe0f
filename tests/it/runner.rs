//! The tool-result loop against a scripted session on loopback: the server plays the agent,
//! echoes what the runner posts into the session's history, and reacts to it.

use crate::support::no_retry_client as client;
use crate::support::{
    respond, respond_json, respond_list, sse_head, tempdir, Recorded, TestServer,
};
use managed_agents::runner::{Confirmation, Decision, StopReason};
use managed_agents::Error;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

type React = dyn Fn(&Value, &mut Vec<Value>) + Send + Sync;

/// The session's history (what the list returns and the stream sends), and the agent's script.
struct Script {
    history: Mutex<Vec<Value>>,
    changed: Condvar,
    react: Box<React>,
    counter: Mutex<usize>,
    /// Stream connections to drop at once, before any event.
    drop_streams: AtomicUsize,
    /// Posts to record and then answer by closing the connection (the answer is lost).
    lose_answers: AtomicUsize,
    /// Result posts to leave unanswered for a minute, recording nothing.
    stall_results: AtomicUsize,
    /// The session's status, as a read of the session says it.
    status: Mutex<&'static str>,
}

impl Script {
    fn new(
        initial: Vec<Value>,
        react: impl Fn(&Value, &mut Vec<Value>) + Send + Sync + 'static,
    ) -> Arc<Script> {
        Arc::new(Script {
            history: Mutex::new(initial),
            changed: Condvar::new(),
            react: Box::new(react),
            counter: Mutex::new(0),
            drop_streams: AtomicUsize::new(0),
            lose_answers: AtomicUsize::new(0),
            stall_results: AtomicUsize::new(0),
            status: Mutex::new("idle"),
        })
    }

    /// Stamps events with ids and times and adds them to the history.
    fn push(&self, history: &mut Vec<Value>, mut evs: Vec<Value>) {
        for ev in evs.iter_mut() {
            let mut n = self.counter.lock().unwrap();
            *n += 1;
            if ev.get("id").is_none() {
                ev["id"] = json!(format!("sevt_{:04}", 1000 + *n));
            }
            ev["processed_at"] = json!(format!(
                "2026-01-01T00:00:{:02}.{:03}Z",
                *n / 1000,
                *n % 1000
            ));
            history.push(ev.clone());
        }
        self.changed.notify_all();
    }

    fn serve(self: &Arc<Script>) -> TestServer {
        let script = self.clone();
        TestServer::start(move |_, req, conn| script.handle(req, conn))
    }

    fn handle(&self, req: &Recorded, conn: &mut std::net::TcpStream) {
        let t = req.target.as_str();
        if t.starts_with("/v1/sessions/sesn_1/events/stream") {
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
            );
            if take_one(&self.drop_streams) {
                return;
            }
            let mut next = self.history.lock().unwrap().len();
            for _ in 0..600 {
                let h = self.history.lock().unwrap();
                let (h, _) = self
                    .changed
                    .wait_timeout(h, Duration::from_millis(50))
                    .unwrap();
                let fresh: Vec<Value> = h[next..].to_vec();
                next = h.len();
                drop(h);
                for ev in fresh {
                    if conn
                        .write_all(format!("data: {ev}\n\n").as_bytes())
                        .is_err()
                    {
                        return;
                    }
                }
                if conn.write_all(b": hb\n\n").is_err() {
                    return;
                }
            }
        } else if t.starts_with("/v1/sessions/sesn_1/events") && req.method == "POST" {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let result = body["events"][0]["type"] == "user.custom_tool_result";
            if result && take_one(&self.stall_results) {
                std::thread::sleep(Duration::from_secs(60));
                return;
            }
            let mut h = self.history.lock().unwrap();
            for ev in body["events"].as_array().unwrap() {
                // a second result for a call is refused, as the API does
                let result_of = match ev["type"].as_str() {
                    Some("user.custom_tool_result") => Some("custom_tool_use_id"),
                    Some("user.tool_result") => Some("tool_use_id"),
                    _ => None,
                };
                if let Some(key) = result_of {
                    let id = &ev[key];
                    if h.iter().any(|e| e["type"] == ev["type"] && &e[key] == id) {
                        drop(h);
                        respond(
                            conn,
                            400,
                            &[],
                            br#"{"type":"error","error":{"type":"invalid_request_error","message":"this tool use already has a result"}}"#,
                        );
                        return;
                    }
                }
                self.push(&mut h, vec![ev.clone()]);
                let mut next = Vec::new();
                (self.react)(ev, &mut next);
                self.push(&mut h, next);
            }
            drop(h);
            if take_one(&self.lose_answers) {
                // recorded, but the answer never arrives
                let _ = conn.shutdown(std::net::Shutdown::Both);
                return;
            }
            respond_json(conn, r#"{"data": []}"#);
        } else if t.starts_with("/v1/sessions/sesn_1/events") {
            let h = self.history.lock().unwrap().clone();
            respond_list(conn, t, &h);
        } else if t.starts_with("/v1/sessions/sesn_1") {
            let text = std::fs::read_to_string("tests/fixtures/types/Session.json").unwrap();
            let mut v: Value = serde_json::from_str(&text).unwrap();
            v["full"]["status"] = json!(*self.status.lock().unwrap());
            respond_json(conn, &v["full"].to_string());
        } else {
            respond(conn, 404, &[], b"{}");
        }
    }

    fn posted(&self, kind: &str) -> Vec<Value> {
        self.history
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    }
}

/// Takes one from a counter that is above zero.
fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

fn custom(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "agent.custom_tool_use", "id": id, "name": name, "input": input})
}

fn ask(id: &str, name: &str) -> Value {
    json!({"type": "agent.tool_use", "id": id, "name": name, "input": {"command": "ls"}, "evaluated_permission": "ask"})
}

fn idle(reason: Value) -> Value {
    json!({"type": "session.status_idle", "stop_reason": reason})
}

/// A turn with one call of custom tool `name` (`sevt_t1`), ended once its result comes.
fn one_call(name: &'static str) -> Arc<Script> {
    Script::new(vec![], move |ev, out| {
        if ev["type"] == "user.message" {
            out.push(custom("sevt_t1", name, json!({})));
            out.push(idle(
                json!({"type": "requires_action", "event_ids": ["sevt_t1"]}),
            ));
        }
        if ev["custom_tool_use_id"] == "sevt_t1" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    })
}

#[test]
fn two_tool_rounds_confirmations_an_unknown_tool_and_a_panic() {
    let script = Script::new(vec![], |ev, out| {
        match (
            ev["type"].as_str(),
            ev["custom_tool_use_id"].as_str(),
            ev["tool_use_id"].as_str(),
        ) {
            (Some("user.message"), _, _) => {
                out.push(custom(
                    "sevt_t1",
                    "run_tests",
                    json!({"test_path": "tests/a.py"}),
                ));
                out.push(idle(
                    json!({"type": "requires_action", "event_ids": ["sevt_t1"]}),
                ));
            }
            (Some("user.custom_tool_result"), Some("sevt_t1"), _) => {
                out.push(custom(
                    "sevt_t2",
                    "run_tests",
                    json!({"test_path": "tests/b.py"}),
                ));
                out.push(ask("sevt_c1", "bash"));
                out.push(ask("sevt_c2", "write"));
                out.push(custom("sevt_t3", "mystery", json!({})));
                out.push(custom("sevt_t4", "explode", json!({})));
                out.push(idle(json!({"type": "requires_action", "event_ids": ["sevt_t2", "sevt_c1", "sevt_c2", "sevt_t3", "sevt_t4"]})));
            }
            (Some("user.custom_tool_result"), Some("sevt_t4"), _) => {
                out.push(json!({"type": "agent.message", "content": [{"type": "text", "text": "All done."}]}));
                out.push(idle(json!({"type": "end_turn"})));
            }
            _ => {}
        }
    });
    let server = script.serve();
    let mut seen = 0;
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("Review the auth module")
        .tool("run_tests", |call| {
            Ok::<_, String>(format!(
                "All tests passed for {}",
                call["test_path"].as_str().unwrap_or("?")
            ))
        })
        .tool("explode", |_| -> Result<String, String> {
            panic!("kaboom")
        })
        .confirm(Confirmation::with(|req| {
            if req.name == "bash" {
                Decision::Allow
            } else {
                Decision::Deny("not on this repository".into())
            }
        }))
        .on_event(|_| seen += 1)
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();

    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(outcome.text(), "All done.");
    assert_eq!(seen, outcome.events.len());
    let calls: Vec<(&str, &str, bool, bool)> = outcome
        .tool_calls
        .iter()
        .map(|c| (c.call.id.as_str(), c.output.as_str(), c.is_error, c.posted))
        .collect();
    assert_eq!(
        calls[0],
        ("sevt_t1", "All tests passed for tests/a.py", false, true)
    );
    assert_eq!(
        calls[1],
        ("sevt_t2", "All tests passed for tests/b.py", false, true)
    );
    assert_eq!(calls[2].0, "sevt_t3");
    assert!(
        calls[2].1.contains("no handler") && calls[2].2 && calls[2].3,
        "{:?}",
        calls[2]
    );
    assert_eq!(calls[3].0, "sevt_t4");
    assert!(
        calls[3].1.contains("panicked: kaboom") && calls[3].2,
        "{:?}",
        calls[3]
    );
    assert_eq!(calls.len(), 4, "each call answered once");

    let results = script.posted("user.custom_tool_result");
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0]["content"],
        json!([{"type": "text", "text": "All tests passed for tests/a.py"}])
    );
    assert_eq!(results[0]["is_error"], json!(false));
    assert_eq!(results[3]["is_error"], json!(true));
    let confirmations = script.posted("user.tool_confirmation");
    assert_eq!(confirmations.len(), 2);
    assert_eq!(
        (
            confirmations[0]["tool_use_id"].as_str(),
            confirmations[0]["result"].as_str()
        ),
        (Some("sevt_c1"), Some("allow"))
    );
    assert_eq!(confirmations[1]["result"], "deny");
    assert_eq!(confirmations[1]["deny_message"], "not on this repository");
    assert!(
        outcome.usage.is_some(),
        "usage read from the settled session"
    );
}

#[test]
fn a_terminated_session_and_retries_exhausted_stop_the_run() {
    for (last, want) in [
        (
            json!({"type": "session.status_terminated"}),
            StopReason::Terminated,
        ),
        (
            idle(json!({"type": "retries_exhausted"})),
            StopReason::RetriesExhausted,
        ),
    ] {
        let script = Script::new(vec![], move |ev, out| {
            if ev["type"] == "user.message" {
                out.push(json!({"type": "agent.message", "content": [{"type": "text", "text": "trying"}]}));
                out.push(last.clone());
            }
        });
        let server = script.serve();
        let outcome = client(&server.url)
            .run("sesn_1")
            .message("go")
            .deadline(Duration::from_secs(30))
            .until_idle()
            .unwrap();
        assert_eq!(outcome.stop_reason, Some(want));
        assert_eq!(outcome.text(), "trying");
    }
}

#[test]
fn a_restarted_runner_runs_no_call_twice() {
    // the history: one call already answered, one still waiting
    let history = vec![
        custom("sevt_old", "run_tests", json!({"test_path": "done.py"})),
        json!({"type": "user.custom_tool_result", "id": "sevt_r", "custom_tool_use_id": "sevt_old", "content": [{"type": "text", "text": "ok"}]}),
        custom("sevt_open", "run_tests", json!({"test_path": "open.py"})),
        idle(json!({"type": "requires_action", "event_ids": ["sevt_open"]})),
    ];
    let script = Script::new(vec![], |ev, out| {
        if ev["custom_tool_use_id"] == "sevt_open" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    {
        let mut h = script.history.lock().unwrap();
        script.push(&mut h, history);
    }
    let server = script.serve();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c2 = calls.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .tool("run_tests", move |call| {
            c2.lock()
                .unwrap()
                .push(call["test_path"].as_str().unwrap_or("").to_string());
            Ok::<_, String>("passed")
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(*calls.lock().unwrap(), ["open.py"]);
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(script.posted("user.custom_tool_result").len(), 2);
}

#[test]
fn a_slow_handler_is_answered_timed_out_and_calls_it_does_not_own_are_left() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(custom("sevt_slow", "slow", json!({})));
            out.push(custom("sevt_theirs", "their_tool", json!({})));
            out.push(idle(
                json!({"type": "requires_action", "event_ids": ["sevt_slow", "sevt_theirs"]}),
            ));
        }
        if ev["custom_tool_use_id"] == "sevt_slow" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("slow", |_| {
            std::thread::sleep(Duration::from_secs(5));
            Ok::<_, String>("late")
        })
        .own_tools_only()
        .handler_timeout(Duration::from_millis(200))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    // recorded as each is settled: the call left to another runner at once, the slow one later
    let by_id = |id: &str| outcome.tool_calls.iter().find(|c| c.call.id == id).unwrap();
    let slow = by_id("sevt_slow");
    assert!(
        slow.is_error && slow.output.contains("timed out") && slow.posted,
        "{slow:?}"
    );
    let theirs = by_id("sevt_theirs");
    assert!(!theirs.posted && theirs.post_error.is_none(), "{theirs:?}");
    assert_eq!(
        script.posted("user.custom_tool_result").len(),
        1,
        "nothing posted for the other runner's tool"
    );
}

#[test]
fn the_deadline_ends_the_run_with_what_happened() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(json!({"type": "agent.message", "content": [{"type": "text", "text": "thinking..."}]}));
        }
    });
    let server = script.serve();
    let err = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(1))
        .until_idle()
        .unwrap_err();
    assert!(
        matches!(err.error, Error::Timeout { .. }),
        "{:?}",
        err.error
    );
    assert_eq!(err.outcome.text(), "thinking...");
    assert!(err.to_string().contains("events"), "{err}");
}

#[test]
fn a_grace_period_catches_events_after_the_idle() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(idle(json!({"type": "end_turn"})));
            out.push(json!({"type": "agent.message", "content": [{"type": "text", "text": "one more thing"}]}));
        }
    });
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .grace(Duration::from_millis(500))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(outcome.text(), "one more thing");
}

fn said(text: &str) -> Value {
    json!({"type": "agent.message", "content": [{"type": "text", "text": text}]})
}

#[test]
fn an_early_drop_does_not_stop_the_run_on_the_previous_turns_end() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(said("the new answer"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    {
        let mut h = script.history.lock().unwrap();
        let earlier = vec![
            json!({"type": "user.message", "content": [{"type": "text", "text": "earlier"}]}),
            said("the previous answer"),
            idle(json!({"type": "end_turn"})),
        ];
        script.push(&mut h, earlier);
    }
    // the first connection drops before it delivers anything
    script.drop_streams.store(1, Ordering::SeqCst);
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .stream_options(
            managed_agents::StreamOptions::new().reconnect_delay(Duration::from_millis(1)),
        )
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(outcome.text(), "the new answer");
}

#[test]
fn an_event_that_does_not_read_does_not_stop_the_run() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(json!({"type": "agent.message", "content": null}));
            out.push(said("still here"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(outcome.text(), "still here");
    assert_eq!(
        outcome.events_seen, 4,
        "the message, the unreadable event, the text, the idle"
    );
}

#[test]
fn a_message_whose_answer_was_lost_is_not_sent_twice() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(said("once"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    script.lose_answers.store(1, Ordering::SeqCst);
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        script.posted("user.message").len(),
        1,
        "the turn was sent twice"
    );
}

#[test]
fn a_message_that_did_not_arrive_is_sent_again() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(said("hello"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    let s = script.clone();
    let refused = Arc::new(AtomicUsize::new(1));
    let server = TestServer::start(move |_, req, conn| {
        if req.method == "POST" && take_one(&refused) {
            // refused before anything was recorded
            let _ = conn.shutdown(std::net::Shutdown::Both);
            return;
        }
        s.handle(req, conn)
    });
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(script.posted("user.message").len(), 1);
}

#[test]
fn a_result_whose_answer_was_lost_is_reported_posted() {
    let script = one_call("run_tests");
    let server = script.serve();
    let s = script.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("run_tests", move |_| {
            // the result's post is recorded, then its answer is lost; the retry is refused
            s.lose_answers.store(1, Ordering::SeqCst);
            Ok::<_, String>("passed")
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    let call = &outcome.tool_calls[0];
    assert!(call.posted && call.post_error.is_none(), "{call:?}");
    assert_eq!(script.posted("user.custom_tool_result").len(), 1);
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn a_handler_sees_when_its_time_is_up() {
    let script = one_call("patient");
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("patient", |call| {
            let left = call.deadline.remaining().ok_or("no deadline")?;
            if left > Duration::from_secs(5) || left.is_zero() {
                return Err(format!("{left:?} left"));
            }
            Ok::<_, String>("in time")
        })
        .handler_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    let call = &outcome.tool_calls[0];
    assert_eq!((call.output.as_str(), call.is_error), ("in time", false));
}

#[test]
fn the_transcript_keeps_the_last_events_unless_asked_for_all() {
    let react = |ev: &Value, out: &mut Vec<Value>| {
        if ev["type"] == "user.message" {
            for i in 0..10 {
                out.push(said(&i.to_string()));
            }
            out.push(idle(json!({"type": "end_turn"})));
        }
    };
    let script = Script::new(vec![], react);
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .keep_events(3)
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.events_seen, 12);
    assert_eq!(outcome.text(), "89");
    assert_eq!(outcome.events.len(), 3);
    let script = Script::new(vec![], react);
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .keep_all_events()
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.text(), "0123456789");
}

#[test]
fn a_stream_closed_after_the_turn_ends_the_grace_period_at_once() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(said("bye"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    let s = script.clone();
    let server = TestServer::start(move |_, req, conn| {
        if req.target.contains("/events/stream") {
            // this server ends the stream after the idle
            sse_head(conn);
            loop {
                let h = s.history.lock().unwrap().clone();
                if let Some(end) = h
                    .iter()
                    .position(|e| e["stop_reason"]["type"] == "end_turn")
                {
                    for ev in &h[..=end] {
                        let _ = conn.write_all(format!("data: {ev}\n\n").as_bytes());
                    }
                    return;
                }
                drop(h);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        s.handle(req, conn)
    });
    let started = std::time::Instant::now();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .grace(Duration::from_secs(20))
        .stream_options(
            managed_agents::StreamOptions::new().reconnect_delay(Duration::from_secs(2)),
        )
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    // it did not sit in reconnect backoffs until the 20 s grace period was over
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

fn builtin(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "agent.tool_use", "id": id, "name": name, "input": input})
}

#[test]
fn built_in_tool_calls_are_answered_once_with_errors_and_panics_as_error_results() {
    // the history: one built-in call already answered, one still waiting
    let history = vec![
        builtin("sevt_old", "bash", json!({"command": "echo old"})),
        json!({"type": "user.tool_result", "id": "sevt_r", "tool_use_id": "sevt_old", "content": [{"type": "text", "text": "old"}]}),
        builtin("sevt_open", "bash", json!({"command": "echo open"})),
        idle(json!({"type": "requires_action", "event_ids": ["sevt_open"]})),
    ];
    let script = Script::new(vec![], |ev, out| {
        match (ev["type"].as_str(), ev["tool_use_id"].as_str()) {
            (Some("user.tool_result"), Some("sevt_open")) => {
                out.push(builtin("sevt_b1", "read", json!({"file_path": "a.txt"})));
                out.push(builtin("sevt_b2", "grep", json!({"pattern": "x"})));
                out.push(ask("sevt_b3", "bash"));
                out.push(idle(json!({"type": "requires_action", "event_ids": ["sevt_b1", "sevt_b2", "sevt_b3"]})));
            }
            (Some("user.tool_result"), Some("sevt_b3")) => {
                out.push(idle(json!({"type": "end_turn"})))
            }
            _ => {}
        }
    });
    {
        let mut h = script.history.lock().unwrap();
        script.push(&mut h, history);
    }
    let server = script.serve();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c2 = calls.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .agent_tools(move |call| {
            c2.lock().unwrap().push(call.id.clone());
            match call.name.as_str() {
                "read" => Err("no such file".to_string()),
                "grep" => panic!("grep broke"),
                _ => Ok(format!("ran {}", call["command"].as_str().unwrap_or("?"))),
            }
        })
        .confirm(Confirmation::Allow)
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        *calls.lock().unwrap(),
        ["sevt_open", "sevt_b1", "sevt_b2", "sevt_b3"]
    );
    let results = script.posted("user.tool_result");
    let by_id = |id: &str| results.iter().find(|r| r["tool_use_id"] == id).cloned();
    assert_eq!(results.len(), 5, "{results:#?}");
    assert_eq!(
        by_id("sevt_open").unwrap()["content"][0]["text"],
        "ran echo open"
    );
    assert_eq!(by_id("sevt_b1").unwrap()["is_error"], true);
    let panicked = by_id("sevt_b2").unwrap();
    assert_eq!(panicked["is_error"], true);
    assert!(panicked["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("grep broke"));
    // the call that needed a confirmation was allowed first, then run
    let confirmations = script.posted("user.tool_confirmation");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0]["tool_use_id"], "sevt_b3");
    assert_eq!(by_id("sevt_b3").unwrap()["content"][0]["text"], "ran ls");
    assert_eq!(outcome.agent_tool_calls.len(), 4);
    assert!(outcome.agent_tool_calls.iter().all(|r| r.posted));
    assert!(outcome.tool_calls.is_empty());
}

#[test]
fn the_local_toolset_answers_built_in_calls_in_its_work_directory() {
    let dir = tempdir();
    let script = Script::new(vec![], |ev, out| {
        match (ev["type"].as_str(), ev["tool_use_id"].as_str()) {
            (Some("user.message"), _) => {
                out.push(builtin(
                    "sevt_w",
                    "write",
                    json!({"file_path": "notes.txt", "content": "hello runner\n"}),
                ));
                out.push(builtin(
                    "sevt_x",
                    "read",
                    json!({"file_path": "../outside.txt"}),
                ));
                out.push(builtin(
                    "sevt_b",
                    "bash",
                    json!({"command": "cat notes.txt"}),
                ));
                out.push(idle(
                    json!({"type": "requires_action", "event_ids": ["sevt_w", "sevt_x", "sevt_b"]}),
                ));
            }
            (Some("user.tool_result"), Some("sevt_b")) => {
                out.push(idle(json!({"type": "end_turn"})))
            }
            _ => {}
        }
    });
    let server = script.serve();
    let toolset = Arc::new(
        managed_agents::toolset::AgentToolset::new(managed_agents::toolset::AgentToolContext::new(
            dir.path(),
        ))
        .unwrap(),
    );
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("take notes")
        .toolset(toolset.clone())
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap();
    toolset.close();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "hello runner\n"
    );
    let results = script.posted("user.tool_result");
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["tool_use_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_ne!(by_id("sevt_w")["is_error"], true);
    assert_eq!(by_id("sevt_x")["is_error"], true);
    assert!(by_id("sevt_b")["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("hello runner"));
}

/// The paths and queries of the requests a server saw, in order.
fn targets(server: &TestServer) -> Vec<String> {
    server
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

#[test]
fn every_connection_opens_the_stream_then_reads_the_session_then_its_tool_and_status_history() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(said("hi"));
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    // the first connection drops: the run connects twice
    script.drop_streams.store(1, Ordering::SeqCst);
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(outcome.text(), "hi", "nothing said while away is lost");
    let t = targets(&server);
    let opens: Vec<usize> = (0..t.len())
        .filter(|&i| t[i].starts_with("GET /v1/sessions/sesn_1/events/stream"))
        .collect();
    assert_eq!(opens.len(), 2, "{t:#?}");
    for &open in &opens {
        // after the stream (and the listing that finds where it starts): the session, then
        // the history of tool and status events, a thousand a page
        let rest = &t[open + 1..];
        let session = rest
            .iter()
            .position(|r| {
                r == "GET /v1/sessions/sesn_1" || r.starts_with("GET /v1/sessions/sesn_1?")
            })
            .unwrap_or_else(|| panic!("no session read after {open}: {t:#?}"));
        let history = rest
            .iter()
            .position(|r| r.contains("types%5B%5D=agent.custom_tool_use"))
            .unwrap_or_else(|| panic!("no history after {open}: {t:#?}"));
        assert!(session < history, "{t:#?}");
        let list = &rest[history];
        assert!(list.contains("limit=1000"), "{list}");
        for kind in [
            "agent.tool_use",
            "user.custom_tool_result",
            "user.tool_confirmation",
            "session.status_idle",
            "session.status_terminated",
            "session.thread_status_idle",
            "session.thread_status_terminated",
        ] {
            assert!(
                list.contains(&format!("types%5B%5D={kind}")),
                "{kind}: {list}"
            );
        }
        assert!(!list.contains("agent.message"), "{list}");
    }
}

#[test]
fn only_the_calls_the_session_waits_on_run() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(custom("sevt_listed", "t", json!({"n": 3})));
            out.push(idle(
                json!({"type": "requires_action", "event_ids": ["sevt_listed"]}),
            ));
        }
        if ev["custom_tool_use_id"] == "sevt_listed" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    {
        // the log so far: a call never listed (the server refused it), and one listed and
        // then released by an end_turn
        let mut h = script.history.lock().unwrap();
        script.push(
            &mut h,
            vec![
                custom("sevt_unlisted", "t", json!({"n": 1})),
                custom("sevt_released", "t", json!({"n": 2})),
                idle(json!({"type": "requires_action", "event_ids": ["sevt_released"]})),
                idle(json!({"type": "end_turn"})),
            ],
        );
    }
    let server = script.serve();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let r2 = ran.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("t", move |call| {
            r2.lock().unwrap().push(call.id.clone());
            Ok::<_, String>("ok")
        })
        .max_idle(Duration::from_millis(300))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(*ran.lock().unwrap(), ["sevt_listed"]);
    assert_eq!(script.posted("user.custom_tool_result").len(), 1);
}

/// Three subagent calls (a thread's calls need no listing): two on thread A, one on B.
fn three_thread_calls(limit: usize) -> (Vec<String>, usize) {
    let script = Script::new(vec![], |ev, out| {
        let on = |id: &str, thread: &str| {
            json!({"type": "agent.custom_tool_use", "id": id, "name": "t", "input": {},
                "session_thread_id": thread})
        };
        if ev["type"] == "user.message" {
            out.push(on("sevt_a1", "sthr_a"));
            out.push(on("sevt_a2", "sthr_a"));
            out.push(on("sevt_b1", "sthr_b"));
        }
        if ev["type"] == "user.custom_tool_result" {
            out.push(json!({"type": "agent.message", "content": [{"type": "text", "text": "."}]}));
        }
    });
    let server = script.serve();
    let order = Arc::new(Mutex::new(Vec::new()));
    let running = Arc::new((Mutex::new((0usize, 0usize)), Condvar::new()));
    let (o2, r2, s2) = (order.clone(), running.clone(), script.clone());
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .max_concurrent_calls(limit)
        .tool("t", move |call| {
            o2.lock().unwrap().push(call.id.clone());
            let (lock, cv) = &*r2;
            let mut g = lock.lock().unwrap();
            g.0 += 1;
            g.1 = g.1.max(g.0);
            cv.notify_all();
            // wait a little for another call to run beside this one
            let (mut g, _) = cv
                .wait_timeout_while(g, Duration::from_millis(500), |g| g.0 < 2)
                .unwrap();
            g.1 = g.1.max(g.0);
            g.0 -= 1;
            let done = s2.posted("user.custom_tool_result").len();
            if done == 2 {
                // the last call: the session ends its turn after its result
                let mut h = s2.history.lock().unwrap();
                s2.push(&mut h, vec![idle(json!({"type": "end_turn"}))]);
            }
            Ok::<_, String>("ok")
        })
        .max_idle(Duration::from_millis(200))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.tool_calls.len(), 3, "{outcome:?}");
    assert!(outcome.tool_calls.iter().all(|c| c.posted));
    let max = running.0.lock().unwrap().1;
    let order = order.lock().unwrap().clone();
    (order, max)
}

#[test]
fn calls_of_different_threads_run_side_by_side_up_to_the_limit_and_one_per_thread_in_order() {
    let (order, max) = three_thread_calls(1);
    assert_eq!(order, ["sevt_a1", "sevt_a2", "sevt_b1"]);
    assert_eq!(max, 1);
    let (order, max) = three_thread_calls(2);
    assert_eq!(max, 2, "{order:?}");
    let pos = |id: &str| order.iter().position(|o| o == id).unwrap();
    assert!(pos("sevt_a1") < pos("sevt_a2"), "{order:?}");
}

#[test]
fn a_call_whose_result_the_session_no_longer_takes_is_stopped_and_nothing_is_posted() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(json!({"type": "session.thread_status_running", "session_thread_id": "sthr_a", "agent_name": "R"}));
            out.push(
                json!({"type": "agent.custom_tool_use", "id": "sevt_a1", "name": "long",
                "input": {}, "session_thread_id": "sthr_a"}),
            );
        }
    });
    let server = script.serve();
    let saw = Arc::new(AtomicUsize::new(0));
    let (saw2, s2) = (saw.clone(), script.clone());
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("long", move |call| {
            {
                // the subagent goes idle without the call, and the session ends its turn
                let mut h = s2.history.lock().unwrap();
                s2.push(
                    &mut h,
                    vec![
                        json!({"type": "session.thread_status_idle", "session_thread_id": "sthr_a",
                            "agent_name": "R", "stop_reason": {"type": "end_turn"}}),
                        idle(json!({"type": "end_turn"})),
                    ],
                );
            }
            if call.cancel.wait(Duration::from_secs(20)) {
                saw2.fetch_add(1, Ordering::SeqCst);
                return Err("stopped".to_string());
            }
            Ok("finished".to_string())
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(
        saw.load(Ordering::SeqCst),
        1,
        "the handler was asked to stop"
    );
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    let call = &outcome.tool_calls[0];
    assert!(!call.posted, "{call:?}");
    assert!(
        call.post_error
            .as_deref()
            .is_some_and(|e| e.contains("no longer waits")),
        "{call:?}"
    );
    assert!(script.posted("user.custom_tool_result").is_empty());
}

#[test]
fn the_idle_period_counts_only_while_no_call_runs() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            // the session reports its turn over while a subagent still works, and calls
            out.push(idle(json!({"type": "end_turn"})));
            out.push(
                json!({"type": "agent.custom_tool_use", "id": "sevt_a1", "name": "slow",
                "input": {}, "session_thread_id": "sthr_a"}),
            );
        }
    });
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("slow", |_| {
            std::thread::sleep(Duration::from_millis(800));
            Ok::<_, String>("late but taken")
        })
        .max_idle(Duration::from_millis(100))
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert!(outcome.tool_calls[0].posted, "{outcome:?}");
    assert_eq!(script.posted("user.custom_tool_result").len(), 1);
}

#[test]
fn a_long_run_keeps_the_last_thousand_records_and_counts_them_all() {
    const ROUNDS: usize = 1100;
    let script = Script::new(vec![], |ev, out| {
        let n = match ev["type"].as_str() {
            Some("user.message") => 0,
            Some("user.custom_tool_result") => {
                ev["custom_tool_use_id"].as_str().unwrap()[5..]
                    .parse::<usize>()
                    .unwrap()
                    + 1
            }
            _ => return,
        };
        if n == ROUNDS {
            out.push(idle(json!({"type": "end_turn"})));
            return;
        }
        let id = format!("call_{n}");
        out.push(custom(&id, "t", json!({"n": n})));
        out.push(idle(json!({"type": "requires_action", "event_ids": [id]})));
    });
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("t", |call| Ok::<_, String>(format!("{}", call["n"])))
        .deadline(Duration::from_secs(120))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(script.posted("user.custom_tool_result").len(), ROUNDS);
    assert_eq!(outcome.tool_calls_seen, ROUNDS as u64);
    assert_eq!(outcome.tool_calls.len(), 1000);
    assert_eq!(
        outcome.tool_calls[999].call.id,
        format!("call_{}", ROUNDS - 1)
    );
    assert_eq!(outcome.events.len(), 1000);
}

#[test]
fn a_tools_default_time_limit_is_325_s() {
    let script = one_call("t");
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("t", |call| {
            let left = call.deadline.remaining().ok_or("no limit")?;
            Ok::<_, String>(left.as_secs().to_string())
        })
        .deadline(Duration::from_secs(3600))
        .until_idle()
        .unwrap();
    let left: u64 = outcome.tool_calls[0].output.parse().unwrap();
    // longer than the bash tool's own 295 s, so that bash reports its own timeout
    assert!((300..=325).contains(&left) && left > 295, "{left} s left");
}

#[test]
fn nothing_is_posted_for_a_call_whose_thread_terminated_while_it_ran() {
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(json!({"type": "session.thread_status_running", "session_thread_id": "sthr_a", "agent_name": "R"}));
            out.push(
                json!({"type": "agent.custom_tool_use", "id": "sevt_a1", "name": "t",
                "input": {}, "session_thread_id": "sthr_a"}),
            );
        }
    });
    let server = script.serve();
    let s2 = script.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("t", move |_| {
            let mut h = s2.history.lock().unwrap();
            s2.push(
                &mut h,
                vec![
                    json!({"type": "session.thread_status_terminated", "session_thread_id": "sthr_a", "agent_name": "R"}),
                    idle(json!({"type": "end_turn"})),
                ],
            );
            drop(h);
            // the runner sees the termination before this returns
            std::thread::sleep(Duration::from_millis(300));
            Ok::<_, String>("too late")
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    let call = &outcome.tool_calls[0];
    assert!(!call.posted, "{call:?}");
    assert!(script.posted("user.custom_tool_result").is_empty());
}

#[test]
fn a_call_asking_for_confirmation_waits_for_the_first_and_only_allow_runs_it() {
    let builtin_asking = |id: &str, permission: &str| {
        json!({"type": "agent.tool_use", "id": id, "name": "bash", "input": {"command": "ls"},
            "evaluated_permission": permission})
    };
    let script = Script::new(vec![], move |ev, out| {
        if ev["type"] == "user.message" {
            // an unknown permission asks too
            out.push(builtin_asking("sevt_b1", "someday"));
            out.push(builtin_asking("sevt_b2", "ask"));
            out.push(idle(
                json!({"type": "requires_action", "event_ids": ["sevt_b1", "sevt_b2"]}),
            ));
        }
        if ev["type"] == "user.tool_result" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    let server = script.serve();
    let s2 = script.clone();
    let confirmed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let c2 = confirmed.clone();
    // someone else answers the confirmations: b1 allowed (a later deny changes nothing), b2
    // answered with a result this version does not know, which denies it
    let confirmer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let confirm = |id: &str, result: &str| json!({"type": "user.tool_confirmation", "tool_use_id": id, "result": result});
        let mut h = s2.history.lock().unwrap();
        // set before the runner can see the confirmations
        c2.store(true, Ordering::SeqCst);
        s2.push(
            &mut h,
            vec![
                confirm("sevt_b2", "maybe"),
                confirm("sevt_b1", "allow"),
                confirm("sevt_b1", "deny"),
            ],
        );
    });
    let ran = Arc::new(Mutex::new(Vec::new()));
    let r2 = ran.clone();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .agent_tools(move |call| {
            let after = confirmed.load(Ordering::SeqCst);
            r2.lock().unwrap().push((call.id.clone(), after));
            Ok::<_, String>("listed")
        })
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    confirmer.join().unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        *ran.lock().unwrap(),
        [("sevt_b1".to_string(), true)],
        "run once confirmed"
    );
    let results = script.posted("user.tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["tool_use_id"], "sevt_b1");
    assert!(outcome.confirmations.is_empty(), "left to someone else");
}

#[test]
fn a_result_post_that_gets_no_answer_is_tried_again_after_its_timeout() {
    let script = one_call("t");
    script.stall_results.store(1, Ordering::SeqCst);
    let server = script.serve();
    // the first attempt gets 15 s, well inside the run's deadline; a post that waited for
    // the answer would still be waiting at the deadline
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .tool("t", |_| Ok::<_, String>("ok"))
        .deadline(Duration::from_secs(50))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::EndTurn));
    assert!(outcome.tool_calls[0].posted, "{outcome:?}");
    assert_eq!(script.posted("user.custom_tool_result").len(), 1);
}

#[test]
fn a_session_whose_status_says_terminated_ends_the_run_before_the_message() {
    // archived: the status shows it, the history has no event of it
    let script = Script::new(vec![], |ev, out| {
        if ev["type"] == "user.message" {
            out.push(idle(json!({"type": "end_turn"})));
        }
    });
    *script.status.lock().unwrap() = "terminated";
    let server = script.serve();
    let outcome = client(&server.url)
        .run("sesn_1")
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.stop_reason, Some(StopReason::Terminated));
    assert!(script.posted("user.message").is_empty());
}
