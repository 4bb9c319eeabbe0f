//! Multi-agent sessions on the emulator: a coordinator delegating to a child thread, the thread
//! listing and retrieve, the thread's events listing and its stream, the primary stream's
//! cross-thread events. The streams are in `thread_streams.rs`, the child's calls in
//! `thread_calls.rs`, the rosters in `rosters.rs`.

use crate::support::emulated::setup;
use managed_agents::runner::Outcome;
use managed_agents::types::*;
use managed_agents::{Client, Error};
use managed_agents_emulator::Script;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// A session whose agent ("Lead", with the custom tool `plan`) may delegate to "Researcher"
/// (with the custom tool `lookup`) and to itself.
pub(super) fn multiagent_session(c: &Client) -> Session {
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let schema = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    let researcher =
        c.agents()
            .create(
                &AgentCreateParams::new("Researcher", "claude-haiku-4-5")
                    .tool(CustomToolParams::new("lookup", "Look up", schema.clone())),
            )
            .unwrap();
    let roster: Vec<MultiagentRosterEntryParams> = vec![
        researcher.id.as_str().into(),
        MultiagentSelfParams::new().into(),
    ];
    let lead = c
        .agents()
        .create(
            &AgentCreateParams::new("Lead", "claude-opus-4-5")
                .tool(CustomToolParams::new("plan", "Plan", schema))
                .multiagent(MultiagentCoordinatorParams::new(roster)),
        )
        .unwrap();
    c.sessions()
        .create(&SessionCreateParams::new(&lead, env.id))
        .unwrap()
}

/// The coordinator's script: plan, delegate (the child looks something up), conclude.
pub(super) fn delegating(child: Script) -> Script {
    Script::new()
        .say("Planning.")
        .call_tool("plan", json!({"q": "steps"}))
        .delegate("Researcher", "Find the release date.", child)
        .say("The release is on May 4.")
}

pub(super) fn researching() -> Script {
    Script::new()
        .say("Looking it up.")
        .call_tool("lookup", json!({"q": "release date"}))
        .say("It is May 4.")
}

pub(super) fn kind(ev: &SessionEvent) -> String {
    serde_json::to_value(ev).unwrap()["type"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

pub(super) fn ids(events: &[SessionEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.id().unwrap_or_default().to_string())
        .collect()
}

/// Every event of the session's log (the primary thread's), in order.
pub(super) fn session_events(c: &Client, session: &str) -> Vec<SessionEvent> {
    let page = c
        .sessions()
        .events()
        .list(session, &Default::default())
        .unwrap();
    page.auto_paging().map(Result::unwrap).collect()
}

pub(super) fn thread_events(c: &Client, session: &str, thread: &str) -> Vec<SessionEvent> {
    let page = c
        .sessions()
        .threads()
        .events()
        .list(session, thread, &Default::default())
        .unwrap();
    page.auto_paging().map(Result::unwrap).collect()
}

pub(super) fn threads(c: &Client, session: &str) -> Vec<SessionThread> {
    c.sessions()
        .threads()
        .list(session, &ThreadListParams::default())
        .unwrap()
        .data
}

/// The child thread of a session, once it exists.
pub(super) fn wait_child(c: &Client, session: &str) -> SessionThread {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(t) = threads(c, session)
            .into_iter()
            .find(|t| t.parent_thread_id.is_some())
        {
            return t;
        }
        assert!(Instant::now() < until, "no child thread appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_all(c: &Client, session: &str, events: &mut Vec<SessionEvent>) -> Outcome {
    c.run(session)
        .message("When is the release?")
        .tool("plan", |_| {
            Ok::<_, String>("1. ask the researcher".to_string())
        })
        .tool("lookup", |_| Ok::<_, String>("May 4".to_string()))
        .on_event(|ev| events.push(ev.clone()))
        .deadline(Duration::from_secs(60))
        .until_idle()
        .unwrap()
}

#[test]
fn a_coordinator_delegates_and_the_primary_stream_shows_the_cross_thread_events() {
    let (emu, c) = setup();
    emu.set_script(delegating(researching()));
    let s = multiagent_session(&c);
    // the session's agent carries the roster with each callable agent's whole definition
    let Some(SessionMultiagent::Coordinator(roster)) = &s.agent.multiagent else {
        panic!("no coordinator roster: {:?}", s.agent.multiagent);
    };
    let names: Vec<String> = roster
        .agents
        .iter()
        .map(|a| {
            serde_json::to_value(a).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["Researcher", "Lead"]);

    let mut seen = Vec::new();
    let outcome = run_all(&c, &s.id, &mut seen);
    assert_eq!(outcome.text(), "Planning.The release is on May 4.");
    let child = threads(&c, &s.id)
        .into_iter()
        .find(|t| t.parent_thread_id.is_some())
        .unwrap();
    // the child's call came with its thread; the coordinator's own without one
    let calls: Vec<(&str, Option<&str>, bool)> = outcome
        .tool_calls
        .iter()
        .map(|t| {
            (
                t.call.name.as_str(),
                t.call.session_thread_id.as_deref(),
                t.posted,
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("plan", None, true),
            ("lookup", Some(child.id.as_str()), true)
        ]
    );

    // the primary stream: the delegation, the child's status, its cross-posted call, its report
    let primary = threads(&c, &s.id).remove(0);
    let about_child = |e: &&SessionEvent| {
        let v = serde_json::to_value(e).unwrap();
        let k = kind(e);
        (k.contains("thread") || k == "agent.custom_tool_use")
            && v["session_thread_id"] != primary.id.as_str()
    };
    let cross: Vec<String> = seen.iter().filter(about_child).map(kind).collect();
    assert_eq!(
        cross,
        [
            "agent.custom_tool_use",
            "session.thread_created",
            "agent.thread_message_sent",
            "session.thread_status_running",
            "agent.custom_tool_use",
            "session.thread_status_idle",
            "session.thread_status_running",
            "agent.thread_message_received",
            "session.thread_status_idle",
        ]
    );
    for ev in &seen {
        assert!(!matches!(ev, SessionEvent::Unknown(_)), "{ev:?}");
        match ev {
            SessionEvent::SessionThreadCreated(e) => {
                assert_eq!(
                    (e.session_thread_id.as_str(), e.agent_name.as_str()),
                    (child.id.as_str(), "Researcher")
                )
            }
            SessionEvent::AgentThreadMessageSent(e) => {
                assert_eq!(e.to_session_thread_id, child.id);
                assert_eq!(e.to_agent_name.as_deref(), Some("Researcher"));
            }
            SessionEvent::AgentThreadMessageReceived(e) => {
                assert_eq!(e.from_session_thread_id, child.id);
                assert_eq!(e.from_agent_name.as_deref(), Some("Researcher"));
                let text = serde_json::to_value(&e.content).unwrap();
                assert_eq!(text[0]["text"], "It is May 4.");
            }
            SessionEvent::SessionThreadStatusRunning(e) => {
                assert!([&child.id, &primary.id].contains(&&e.session_thread_id))
            }
            SessionEvent::SessionThreadStatusIdle(e) => {
                assert!([&child.id, &primary.id].contains(&&e.session_thread_id))
            }
            _ => {}
        }
    }
    // the primary thread's own status comes before the session's, each time
    let statuses: Vec<String> = seen
        .iter()
        .filter(|e| {
            let v = serde_json::to_value(e).unwrap();
            v["session_thread_id"] == primary.id.as_str() || kind(e).starts_with("session.status")
        })
        .map(kind)
        .collect();
    let pairs: Vec<&[String]> = statuses.chunks(2).collect();
    assert_eq!(pairs.len(), 6, "{statuses:?}");
    for p in pairs {
        assert_eq!(p[0].replace("thread_", ""), p[1], "{statuses:?}");
    }
    // the child's own messages stay on its own stream
    assert!(!seen
        .iter()
        .any(|e| matches!(e, SessionEvent::AgentMessage(m) if m.text() == "It is May 4.")));
}

#[test]
fn the_thread_listing_retrieve_and_events_show_the_child() {
    let (emu, c) = setup();
    emu.set_script(delegating(researching()));
    let s = multiagent_session(&c);
    // before any turn: the primary thread alone
    let before = threads(&c, &s.id);
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].parent_thread_id, None);
    let mut seen = Vec::new();
    run_all(&c, &s.id, &mut seen);

    let list = threads(&c, &s.id);
    assert_eq!(list.len(), 2, "{list:?}");
    let (primary, child) = (&list[0], &list[1]);
    assert_eq!(primary.id, before[0].id);
    assert_eq!(child.parent_thread_id.as_deref(), Some(primary.id.as_str()));
    assert_eq!(
        (child.session_id.as_str(), child.status.clone()),
        (s.id.as_str(), SessionThreadStatus::Idle)
    );
    let SessionThreadAgentUnion::Agent(agent) = &child.agent else {
        panic!("{:?}", child.agent)
    };
    assert_eq!(agent.name, "Researcher");
    assert!(
        child
            .usage
            .as_ref()
            .and_then(|u| u.output_tokens)
            .unwrap_or(0)
            > 0
    );
    let again = c.sessions().threads().retrieve(&s.id, &child.id).unwrap();
    assert_eq!(again.id, child.id);
    let idle = ThreadListParams::default().statuses(vec![ThreadsListStatusesItem::Running]);
    assert!(c
        .sessions()
        .threads()
        .list(&s.id, &idle)
        .unwrap()
        .data
        .is_empty());

    // the child's own events, in order, each once
    let events = thread_events(&c, &s.id, &child.id);
    let kinds: Vec<String> = events.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "agent.thread_message_received",
            "session.thread_status_running",
            "agent.message",
            "agent.custom_tool_use",
            "session.thread_status_idle",
            "user.custom_tool_result",
            "session.thread_status_running",
            "agent.message",
            "agent.thread_message_sent",
            "session.thread_status_idle",
        ]
    );
    let unique: HashSet<String> = ids(&events).into_iter().collect();
    assert_eq!(unique.len(), events.len());
    for ev in &events {
        match ev {
            // its own call names no thread; the answer routed to it names it
            SessionEvent::AgentCustomToolUse(u) => assert_eq!(u.session_thread_id, None),
            SessionEvent::UserCustomToolResult(r) => {
                assert_eq!(r.session_thread_id.as_deref(), Some(child.id.as_str()))
            }
            SessionEvent::AgentThreadMessageReceived(m) => {
                assert_eq!(
                    (
                        m.from_session_thread_id.as_str(),
                        m.from_agent_name.as_deref()
                    ),
                    (primary.id.as_str(), None)
                )
            }
            SessionEvent::AgentThreadMessageSent(m) => {
                assert_eq!(
                    (m.to_session_thread_id.as_str(), m.to_agent_name.as_deref()),
                    (primary.id.as_str(), None)
                )
            }
            SessionEvent::Unknown(v) => panic!("an event that does not read: {v}"),
            _ => {}
        }
    }
    // the primary thread's events are the session's
    assert_eq!(
        ids(&thread_events(&c, &s.id, &primary.id)),
        ids(&session_events(&c, &s.id))
    );
    // a single-agent session has no threads; a thread that is not there is a 404
    let e = c
        .sessions()
        .threads()
        .retrieve(&s.id, "sthr_missing")
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 404, .. }), "{e}");
}

#[test]
fn the_listing_shows_the_child_running_then_idle() {
    let (emu, c) = setup();
    let slow = Script::new()
        .say("Working.")
        .step(managed_agents_emulator::Step::Pause(Duration::from_millis(
            1500,
        )))
        .say("Done.");
    emu.set_script(Script::new().delegate("Researcher", "Work.", slow));
    let s = multiagent_session(&c);
    let runner = {
        let (c, id) = (c.clone(), s.id.clone());
        std::thread::spawn(move || {
            c.run(&id)
                .message("go")
                .deadline(Duration::from_secs(60))
                .until_idle()
        })
    };
    let child = wait_child(&c, &s.id);
    // a running thread cannot be archived
    let e = c
        .sessions()
        .threads()
        .archive(&s.id, &child.id)
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e}");
    let mut statuses = vec![child.status.clone()];
    while !runner.is_finished() {
        let now = c
            .sessions()
            .threads()
            .retrieve(&s.id, &child.id)
            .unwrap()
            .status;
        if statuses.last() != Some(&now) {
            statuses.push(now);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    runner.join().unwrap().unwrap();
    let last = c.sessions().threads().retrieve(&s.id, &child.id).unwrap();
    if statuses.last() != Some(&last.status) {
        statuses.push(last.status.clone());
    }
    assert_eq!(
        statuses,
        [SessionThreadStatus::Running, SessionThreadStatus::Idle]
    );
    let stats = last.stats.unwrap();
    assert!(stats.active_seconds.unwrap() >= 1.0, "{stats:?}");
}
