//! Replaying a recorded session offline: a run recorded against the strict emulator
//! (`ClientBuilder::record_to`), replayed alone by `Emulator::replay`, gives the same program
//! the same outcome, serves every recorded exchange, refuses a changed request naming the
//! closest recorded one (or lets the emulator answer it), goes through faults (529s, streams
//! dropped mid-way), keeps the recorded pace at speed 1, plays a download back as its bytes,
//! and reads no bad cassette.

use crate::support::emulated::cloud_session;
use managed_agents::types::*;
use managed_agents::{Client, StreamOptions};
use managed_agents_emulator::{Cassette, Emulator, Faults, Script};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A folder for a test's cassette (removed when dropped).
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("managed-agents-replay-{name}-"))
            .tempdir()
            .unwrap();
        Scratch(dir)
    }

    fn file(&self) -> PathBuf {
        self.0.path().join("session.cassette.jsonl")
    }
}

fn client(url: &str) -> Client {
    Client::builder()
        .api_key("replay-key")
        .base_url(url)
        .build()
        .unwrap()
}

/// The quickstart: an environment, an agent, a session, a message, its stream until idle.
/// Returns what the program saw.
fn quickstart(client: &Client, agent_name: &str) -> Result<Value, managed_agents::Error> {
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("quickstart"))?;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new(agent_name, "claude-opus-4-5"))?;
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id.as_str()))?;
    let events = client.sessions().events();
    let stream = events.stream(&session.id, StreamOptions::new())?;
    events.send(
        &session.id,
        &EventSendParams::one(UserMessageEventParams::text("Hello")),
    )?;
    let mut seen = Vec::new();
    let mut text = String::new();
    for ev in stream.until_idle() {
        let ev = ev?;
        if let SessionEvent::AgentMessage(m) = &ev {
            text.push_str(&m.text());
        }
        let v = serde_json::to_value(&ev).unwrap();
        seen.push(json!([v["type"], v["id"]]));
    }
    Ok(
        json!({"env": env.id, "agent": agent.id, "session": session.id, "text": text,
              "events": seen}),
    )
}

/// A cloud session whose agent has the `run_tests` custom tool.
fn run_tests_session(client: &Client) -> Session {
    cloud_session(
        client,
        Some(CustomToolParams::new(
            "run_tests",
            "Run the test suite",
            json!({"type": "object", "properties": {"test_path": {"type": "string"}}}),
        )),
    )
}

/// One turn of the runner on `session`, answering `run_tests`. Returns what the program saw
/// and the turn's usage.
fn run_tests_turn(client: &Client, session: &str, message: &str) -> (Value, Value) {
    let outcome = client
        .run(session)
        .message(message)
        .tool("run_tests", |call| {
            Ok::<_, String>(format!("All tests in {} passed.", call.input["test_path"]))
        })
        .until_idle()
        .unwrap();
    let events: Vec<Value> = outcome
        .events
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            json!([v["type"], v["id"]])
        })
        .collect();
    let calls: Vec<Value> = outcome
        .tool_calls
        .iter()
        .map(|c| json!([c.call.name, c.call.id, c.output]))
        .collect();
    let seen = json!({"text": outcome.text(), "events": events, "calls": calls,
                      "stop": format!("{:?}", outcome.stop_reason)});
    (seen, serde_json::to_value(&outcome.usage).unwrap())
}

/// A run of the runner that answers a custom tool. Returns what the program saw.
fn custom_tool(client: &Client) -> Value {
    let session = run_tests_session(client);
    let (mut seen, usage) = run_tests_turn(client, &session.id, "Run the tests");
    seen["session"] = json!(session.id);
    seen["usage"] = usage;
    seen
}

/// Records `program` against the strict scripted emulator; returns what it saw.
fn record(
    file: &Path,
    script: Script,
    thinking: Duration,
    program: impl Fn(&Client) -> Value,
) -> Value {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    emu.set_thinking(thinking);
    emu.set_script(script);
    let client = Client::builder()
        .api_key("recording-key")
        .base_url(emu.base_url())
        .record_to(file)
        .build()
        .unwrap();
    let seen = program(&client);
    drop(client);
    seen
}

/// A strict emulator replaying the cassette at `file`, at `speed`.
fn replay(file: &Path, speed: f64) -> Emulator {
    let emu = Emulator::replay(Cassette::from_path(file).unwrap()).unwrap();
    emu.set_strict(true);
    emu.set_replay_speed(speed);
    emu
}

fn tool_script() -> Script {
    Script::new()
        .call_tool("run_tests", json!({"test_path": "tests/"}))
        .say("The tests pass.")
}

#[test]
fn a_recorded_quickstart_replays_to_the_same_outcome() {
    let scratch = Scratch::new("quickstart");
    let recorded = record(
        &scratch.file(),
        Script::new().say("Hello from the recording."),
        Duration::from_millis(20),
        |c| quickstart(c, "Echo").unwrap(),
    );
    assert_eq!(recorded["text"], "Hello from the recording.");

    let emu = replay(&scratch.file(), 0.0);
    let replayed = quickstart(&client(emu.base_url()), "Echo").unwrap();
    assert_eq!(replayed, recorded);
    assert_eq!(emu.unplayed(), vec![], "every recorded exchange is served");
}

#[test]
fn a_recorded_custom_tool_run_replays_to_the_same_outcome() {
    let scratch = Scratch::new("custom-tool");
    let recorded = record(
        &scratch.file(),
        tool_script(),
        Duration::from_millis(20),
        custom_tool,
    );
    assert_eq!(recorded["text"], "The tests pass.");
    assert_eq!(recorded["calls"][0][0], "run_tests");
    assert!(recorded["usage"].is_object(), "{recorded}");

    let emu = replay(&scratch.file(), 0.0);
    let replayed = custom_tool(&client(emu.base_url()));
    assert_eq!(replayed, recorded);
    assert_eq!(emu.unplayed(), vec![]);
}

#[test]
fn a_changed_request_is_refused_naming_the_closest_recorded_one() {
    let scratch = Scratch::new("changed");
    record(
        &scratch.file(),
        Script::new().say("Hi."),
        Duration::from_millis(20),
        |c| quickstart(c, "Echo").unwrap(),
    );
    let emu = replay(&scratch.file(), 0.0);
    let err = quickstart(&client(emu.base_url()), "Parrot").unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    let message = err.to_string();
    assert!(message.contains("invalid_request_error"), "{message}");
    assert!(
        message.contains("the closest is exchange") && message.contains("(agents.create)"),
        "{message}"
    );
    assert!(
        message.contains(r#"/name: recorded "Echo", sent "Parrot""#),
        "{message}"
    );
    // what was not asked for is still there to be served
    let unplayed = emu.unplayed();
    assert!(
        unplayed
            .iter()
            .any(|u| u.operation.as_deref() == Some("agents.create")),
        "{unplayed:?}"
    );
    assert!(!unplayed
        .iter()
        .any(|u| u.operation.as_deref() == Some("environments.create")));
    // lenient: the emulator answers what the cassette does not have
    emu.set_replay_strict(false);
    let agent = client(emu.base_url())
        .agents()
        .create(&AgentCreateParams::new("Parrot", "claude-opus-4-5"))
        .unwrap();
    assert_eq!(agent.name, "Parrot");
}

#[test]
fn a_replay_goes_through_faults_to_the_same_outcome() {
    let scratch = Scratch::new("faults");
    let recorded = record(
        &scratch.file(),
        tool_script(),
        Duration::from_millis(20),
        custom_tool,
    );
    // streams dropped after each event (mid-line too), then after every second one
    for faults in [
        Faults {
            drop_stream_after: Some(2),
            ..Faults::default()
        },
        Faults {
            drop_stream_after: Some(1),
            drop_mid_line: true,
            ..Faults::default()
        },
        Faults {
            fail_every: 3,
            ..Faults::default()
        },
    ] {
        let emu = replay(&scratch.file(), 0.0);
        emu.set_faults(faults.clone());
        let replayed = custom_tool(&client(emu.base_url()));
        assert_eq!(replayed, recorded, "{faults:?}");
        assert_eq!(emu.unplayed(), vec![], "{faults:?}");
        if faults.drop_stream_after.is_some() {
            // the run reconnected: the replay answered requests the recording never made
            assert!(streams_opened(&emu) > 1, "{faults:?}");
        }
    }

    // the plain stream of the quickstart, dropped in the middle
    let scratch = Scratch::new("faults-stream");
    let recorded = record(
        &scratch.file(),
        Script::new().say("One.").say("Two."),
        Duration::from_millis(20),
        |c| quickstart(c, "Echo").unwrap(),
    );
    let emu = replay(&scratch.file(), 0.0);
    emu.set_faults(Faults {
        drop_stream_after: Some(2),
        ..Faults::default()
    });
    let replayed = quickstart(&client(emu.base_url()), "Echo").unwrap();
    assert_eq!(replayed, recorded);
    assert!(streams_opened(&emu) > 1);
    assert_eq!(emu.unplayed(), vec![]);
}

/// How many event streams the emulator was asked for.
fn streams_opened(emu: &Emulator) -> usize {
    emu.request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/events/stream"))
        .count()
}

/// The sum of the gaps between the events of a cassette's streams, in ms.
fn recorded_gaps(file: &Path) -> f64 {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["kind"] == "event")
        .map(|l| l["delay_ms"].as_f64().unwrap())
        .sum()
}

#[test]
fn a_replay_keeps_the_recorded_pace_at_speed_1_and_none_at_speed_0() {
    let scratch = Scratch::new("pace");
    let recorded = record(
        &scratch.file(),
        tool_script(),
        Duration::from_millis(400),
        custom_tool,
    );
    let gaps = Duration::from_secs_f64(recorded_gaps(&scratch.file()) / 1000.0);
    assert!(gaps >= Duration::from_millis(800), "{gaps:?}");

    let emu = replay(&scratch.file(), 1.0);
    let began = Instant::now();
    assert_eq!(custom_tool(&client(emu.base_url())), recorded);
    let took = began.elapsed();
    assert!(took >= gaps, "{took:?} < {gaps:?}");

    let emu = replay(&scratch.file(), 0.0);
    let began = Instant::now();
    assert_eq!(custom_tool(&client(emu.base_url())), recorded);
    let took = began.elapsed();
    assert!(took < gaps, "at speed 0 the gaps are not waited: {took:?}");
}

#[test]
fn a_cut_off_cassette_names_its_line() {
    let scratch = Scratch::new("cut");
    record(
        &scratch.file(),
        Script::new().say("Hi."),
        Duration::from_millis(20),
        |c| quickstart(c, "Echo").unwrap(),
    );
    let text = std::fs::read_to_string(scratch.file()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // the file ends in the middle of an event's line
    let event = lines
        .iter()
        .position(|l| l.contains(r#""kind":"event""#))
        .unwrap();
    let mut cut = lines[..event].join("\n");
    cut.push('\n');
    cut.push_str(&lines[event][..lines[event].len() / 2]);
    let err = Cassette::parse(&cut).unwrap_err();
    assert_eq!(err.line(), event + 1, "{err}");
    assert!(err.to_string().contains("cut off"), "{err}");
    // an event line of an exchange that is not a stream
    let plain = lines
        .iter()
        .position(|l| l.contains(r#""operation":"agents.create""#))
        .unwrap();
    let id = serde_json::from_str::<Value>(lines[plain]).unwrap()["id"].clone();
    let stray = json!({"kind": "event", "exchange": id, "seq": 0, "delay_ms": 1.0,
                       "event": "message", "data": {"type": "x"}});
    let text = format!("{}\n{stray}\n", lines.join("\n"));
    let err = Cassette::parse(&text).unwrap_err();
    assert_eq!(err.line(), lines.len() + 1, "{err}");
    assert!(err.message().contains("not a stream"), "{err}");
    // the whole cassette reads
    assert!(Cassette::parse(&text[..text.len() - stray.to_string().len() - 1]).is_ok());
}

#[test]
fn a_recorded_download_replays_as_its_bytes() {
    let content = b"a,b\n1,2\n".repeat(1000);
    let mut server = mockito::Server::new();
    let _m = server
        .mock("GET", "/v1/files/file_011AAAAAAAAAA1/content")
        .with_header("content-type", "text/csv")
        .with_chunked_body({
            let content = content.clone();
            move |w| {
                for piece in content.chunks(3000) {
                    w.write_all(piece)?;
                    w.flush()?;
                }
                Ok(())
            }
        })
        .create();
    let scratch = Scratch::new("download");
    let recording = Client::builder()
        .api_key("recording-key")
        .base_url(server.url())
        .record_to(scratch.file())
        .build()
        .unwrap();
    let got = recording
        .files()
        .download("file_011AAAAAAAAAA1")
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(got, content);
    drop(recording);

    let emu = replay(&scratch.file(), 1.0);
    let replayed = client(emu.base_url())
        .files()
        .download("file_011AAAAAAAAAA1")
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(replayed, content);
    assert_eq!(emu.unplayed(), vec![]);
}

/// Runs `program` on another thread; fails the test when it takes longer than `limit` (a
/// replay that hangs fails instead of blocking the suite).
fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    program: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(program());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: the replay did not end within {limit:?}: it hangs")
        }
        Err(e) => panic!("the replayed program panicked: {e}"),
    }
}

/// Two turns of the runner on one session, each answering a custom tool; `between` runs
/// after the first. Returns what the program saw.
fn two_turns(client: &Client, between: impl FnOnce()) -> Value {
    let session = run_tests_session(client);
    let mut turns = Vec::new();
    let mut between = Some(between);
    for message in ["Run the tests", "Run them again"] {
        turns.push(run_tests_turn(client, &session.id, message).0);
        if let Some(between) = between.take() {
            between();
        }
    }
    json!({"session": session.id, "turns": turns})
}

#[test]
fn a_two_turn_session_replays_through_a_drop_on_its_second_turn() {
    let scratch = Scratch::new("two-turns");
    let recorded = record(
        &scratch.file(),
        tool_script(),
        Duration::from_millis(20),
        |c| two_turns(c, || {}),
    );
    assert_eq!(
        recorded["turns"][1]["text"], "The tests pass.",
        "{recorded}"
    );
    assert_eq!(recorded["turns"][1]["calls"][0][0], "run_tests");

    // streams dropped after 1, 2 ... events (mid-line too), on both turns or on the second
    for n in 1..=4 {
        for (mid, both) in [(false, true), (true, true), (false, false), (true, false)] {
            let faults = Faults {
                drop_stream_after: Some(n),
                drop_mid_line: mid,
                ..Faults::default()
            };
            let emu = std::sync::Arc::new(replay(&scratch.file(), 0.0));
            if both {
                emu.set_faults(faults.clone());
            }
            let (url, faulty, set) = (emu.base_url().to_string(), emu.clone(), faults.clone());
            let what = format!("{faults:?}, both turns: {both}");
            let replayed = within(&what, Duration::from_secs(60), move || {
                two_turns(&client(&url), move || faulty.set_faults(set))
            });
            assert_eq!(replayed, recorded, "{faults:?}, both turns: {both}");
            assert!(
                streams_opened(&emu) > 2,
                "{faults:?}: the second turn reconnected"
            );
            assert_eq!(emu.unplayed(), vec![], "{faults:?}, both turns: {both}");
        }
    }
}

#[test]
fn an_answer_held_for_a_request_never_sent_is_refused_naming_it() {
    let scratch = Scratch::new("held");
    let recorded = record(
        &scratch.file(),
        tool_script(),
        Duration::from_millis(20),
        |c| two_turns(c, || {}),
    );
    let session = recorded["session"].as_str().unwrap().to_string();
    let emu = replay(&scratch.file(), 0.0);
    emu.set_replay_hold(Duration::from_millis(300));
    let url = emu.base_url().to_string();
    let (listing, streamed) = within("held answers", Duration::from_secs(60), move || {
        let client = client(&url);
        run_tests_session(&client);
        let events = client.sessions().events();
        let newest = SessionsEventListParams::default()
            .order(EventsListOrder::Desc)
            .limit(20);
        // the first listing was read before anything was sent; the next one of the recording
        // after the message, which this program never sends
        events.list(&session, &newest).unwrap();
        let listing = events.list(&session, &newest).map(|_| ()).unwrap_err();
        // the stream's first event follows the message too: the stream ends with an error
        let mut conn = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        let head = format!(
            "GET /v1/sessions/{session}/events/stream HTTP/1.1\r\nhost: x\r\n\
             anthropic-version: 2026-10-21\r\nanthropic-beta: managed-agents-2026-04-01\r\n\r\n"
        );
        std::io::Write::write_all(&mut conn, head.as_bytes()).unwrap();
        let mut streamed = String::new();
        std::io::Read::read_to_string(&mut conn, &mut streamed).unwrap();
        (listing, streamed)
    });
    assert_eq!(listing.status(), Some(400), "{listing}");
    let message = listing.to_string();
    assert!(
        message.contains("could not play exchange") && message.contains("(sessions.events.list)"),
        "{message}"
    );
    assert!(
        message.contains("(sessions.events.send): POST") && message.contains("has not sent"),
        "{message}"
    );
    assert!(streamed.contains("event: error\ndata: "), "{streamed}");
    assert!(
        streamed.contains("could not play frame 0 of exchange")
            && streamed.contains("(sessions.events.send)")
            && streamed.contains("invalid_request_error"),
        "{streamed}"
    );
    // the listing was not played
    assert!(emu
        .unplayed()
        .iter()
        .any(|u| u.operation.as_deref() == Some("sessions.events.list")));
}

/// A self-hosted session run by the environment worker: a session sent "go", a worker that
/// drains the queue running the agent's built-in tools in `workdir`. Returns what it saw.
fn worker_flow(client: &Client, workdir: &Path) -> Value {
    use crate::emulator::worker_memories::{store, with_store};
    use crate::support::emulated::{drain, events};
    // a memory store attached: the worker reaches it with the item's sessions token only
    let notes = store(client, "notes", &[("/a.md", "one")]);
    let (env, session) = with_store(client, &notes);
    let stats = drain(client, &env, workdir);
    let log: Vec<Value> = events(client, &session)
        .iter()
        .map(|e| json!([e["type"], e["id"]]))
        .collect();
    let files: Vec<String> = std::fs::read_dir(workdir)
        .unwrap()
        .map(|d| std::fs::read_to_string(d.unwrap().path().join("notes.txt")).unwrap_or_default())
        .collect();
    json!({"claimed": stats.claimed, "ran": stats.ran, "failed": stats.failed,
           "events": log, "files": files})
}

#[test]
fn a_recorded_worker_flow_replays_with_its_redacted_secret() {
    let scratch = Scratch::new("worker");
    let workdir = scratch.0.path().join("work");
    std::fs::create_dir_all(&workdir).unwrap();
    let script = Script::new()
        .agent_tool(
            "write",
            json!({"file_path": "notes.txt", "content": "from the agent\n"}),
        )
        .agent_tool("read", json!({"file_path": "notes.txt"}))
        .say("done");
    let recorded = record(&scratch.file(), script, Duration::from_millis(20), |c| {
        worker_flow(c, &workdir)
    });
    assert_eq!(recorded["ran"], 1, "{recorded}");
    assert_eq!(recorded["files"][0], "from the agent\n", "{recorded}");
    let text = std::fs::read_to_string(scratch.file()).unwrap();
    assert!(
        text.contains(r#""secret":"[REDACTED]""#),
        "the work item's secret is redacted"
    );

    std::fs::remove_dir_all(&workdir).unwrap();
    std::fs::create_dir_all(&workdir).unwrap();
    let emu = std::sync::Arc::new(replay(&scratch.file(), 0.0));
    emu.set_replay_hold(Duration::from_secs(5));
    let (url, dir) = (emu.base_url().to_string(), workdir.clone());
    let replayed = within("worker flow", Duration::from_secs(60), move || {
        worker_flow(&client(&url), &dir)
    });
    assert_eq!(replayed, recorded);
}

#[test]
fn an_answer_comes_as_long_after_its_request_as_recorded_scaled_by_the_speed() {
    let scratch = Scratch::new("answer-pace");
    let program = |c: &Client| {
        for name in ["one", "two", "three"] {
            c.agents()
                .create(&AgentCreateParams::new(name, "claude-opus-4-5"))
                .unwrap();
        }
    };
    {
        // each answer took at least 200 ms when recorded
        let emu = Emulator::start().unwrap();
        emu.set_strict(true);
        emu.set_faults(Faults {
            slow: Some(Duration::from_millis(200)),
            ..Faults::default()
        });
        let client = Client::builder()
            .api_key("recording-key")
            .base_url(emu.base_url())
            .record_to(scratch.file())
            .build()
            .unwrap();
        program(&client);
    }
    let recorded: f64 = std::fs::read_to_string(scratch.file())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["kind"] == "exchange")
        .map(|l| l["elapsed_ms"].as_f64().unwrap())
        .sum();
    let recorded = Duration::from_secs_f64(recorded / 1000.0);
    assert!(recorded >= Duration::from_millis(600), "{recorded:?}");
    for (speed, at_least, below) in [
        (1.0, recorded, recorded * 3),
        (2.0, recorded / 2, recorded),
        (0.0, Duration::ZERO, recorded / 2),
    ] {
        let emu = replay(&scratch.file(), speed);
        let began = Instant::now();
        program(&client(emu.base_url()));
        let took = began.elapsed();
        assert!(
            took >= at_least && took < below,
            "speed {speed}: {took:?} for {recorded:?} recorded"
        );
        assert_eq!(emu.unplayed(), vec![]);
    }
}
