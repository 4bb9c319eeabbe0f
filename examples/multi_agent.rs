//! A multi-agent session: a coordinator ("Lead") whose roster holds a researcher with a custom
//! tool and the coordinator itself. The lead delegates to a child thread; the runner answers the
//! child's tool calls from the session's stream (each carries its `session_thread_id`); the
//! session's stream shows the threads' lifecycle and the messages between them. Then the
//! threads are listed, the child's own events read, and the child archived.
//!
//! `cargo run --example multi_agent` uses the real API when ANTHROPIC_API_KEY is set, and the
//! embedded emulator otherwise.

mod common;

use managed_agents::{types::*, Result};
use managed_agents_emulator::Script;
use serde_json::json;
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("\nmulti_agent failed: {e}");
        std::process::exit(1);
    }
}

/// What the emulator's agents do offline: the lead delegates, the researcher reads the
/// changelog with the custom tool and reports back.
fn script() -> Script {
    let researcher = Script::new()
        .say("Checking the changelog.")
        .call_tool("read_changelog", json!({"version": "2.0"}))
        .say("v2.0 was released on 2026-05-04.");
    Script::new()
        .say("I will ask the researcher.")
        .delegate(
            "Researcher",
            "Find the release date of v2.0 in the changelog.",
            researcher,
        )
        .say("The researcher found it: v2.0 was released on 2026-05-04.")
}

fn text(content: &serde_json::Value) -> String {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

fn run() -> Result<()> {
    let target = common::client_or_emulator(script())?;
    let client = &target.client;

    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("multi-agent-env"))?;
    let researcher = client.agents().create(
        &AgentCreateParams::new("Researcher", "claude-haiku-4-5")
            .description("Finds facts in the project's changelog; give it one question.")
            .system("Answer exactly the question you are given, from the changelog.")
            .tool(CustomToolParams::new(
                "read_changelog",
                "Read the changelog entry of a version",
                json!({"type": "object", "properties": {"version": {"type": "string"}},
                       "required": ["version"]}),
            )),
    )?;
    let roster: Vec<MultiagentRosterEntryParams> = vec![
        researcher.id.as_str().into(),
        MultiagentSelfParams::new().into(),
    ];
    let lead = client.agents().create(
        &AgentCreateParams::new("Lead", "claude-opus-4-5")
            .system("Delegate fact finding to the Researcher; answer from its report.")
            .multiagent(MultiagentCoordinatorParams::new(roster)),
    )?;
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&lead, environment.id.as_str()))?;
    println!("session {} (coordinator {})\n", session.id, lead.id);

    // one runner answers every custom tool call, the child threads' included
    let outcome = client
        .run(&session.id)
        .message("When was v2.0 released?")
        .tool("read_changelog", |call| {
            let from = call
                .session_thread_id
                .as_deref()
                .unwrap_or("the primary thread");
            println!(
                "tool call from {from}: read_changelog {}",
                serde_json::Value::Object(call.input.clone())
            );
            Ok::<_, String>("## 2.0 (2026-05-04)\n- threads".to_string())
        })
        .on_event(|ev| {
            let v = serde_json::to_value(ev).unwrap_or_default();
            match ev {
                SessionEvent::AgentMessage(m) => println!("lead: {}", m.text()),
                SessionEvent::SessionThreadCreated(t) => {
                    println!("thread created: {} ({})", t.agent_name, t.session_thread_id)
                }
                SessionEvent::AgentThreadMessageSent(m) => println!(
                    "lead -> {}: {}",
                    m.to_agent_name.as_deref().unwrap_or("primary"),
                    text(&v["content"])
                ),
                SessionEvent::AgentThreadMessageReceived(m) => println!(
                    "{} -> lead: {}",
                    m.from_agent_name.as_deref().unwrap_or("primary"),
                    text(&v["content"])
                ),
                SessionEvent::SessionThreadStatusRunning(t) => {
                    println!("thread {} running", t.agent_name)
                }
                SessionEvent::SessionThreadStatusIdle(t) => {
                    println!(
                        "thread {} idle ({})",
                        t.agent_name,
                        v["stop_reason"]["type"].as_str().unwrap_or("?")
                    )
                }
                _ => {}
            }
        })
        .deadline(Duration::from_secs(900))
        .until_idle()?;
    println!(
        "\nstop reason: {:?}, tool calls: {}",
        outcome.stop_reason,
        outcome.tool_calls.len()
    );

    // the threads: the primary (no parent) and the children it started
    let threads = client
        .sessions()
        .threads()
        .list(&session.id, &ThreadListParams::default())?;
    println!("threads: {}", threads.data.len());
    for thread in &threads.data {
        let name = match &thread.agent {
            SessionThreadAgentUnion::Agent(a) => a.name.clone(),
            other => format!("{other:?}"),
        };
        let events = client.sessions().threads().events().list(
            &session.id,
            &thread.id,
            &ThreadsEventListParams::default(),
        )?;
        let role = if thread.parent_thread_id.is_none() {
            "primary"
        } else {
            "child"
        };
        println!(
            "  {} {role} {name}: {:?}, {} events",
            thread.id,
            thread.status,
            events.data.len()
        );
        if thread.parent_thread_id.is_some() {
            for ev in &events.data {
                if let SessionEvent::AgentMessage(m) = ev {
                    println!("    {name}: {}", m.text());
                }
            }
            if thread.status != SessionThreadStatus::Running {
                let archived = client
                    .sessions()
                    .threads()
                    .archive(&session.id, &thread.id)?;
                println!("  archived {name}: {:?}", archived.status);
            }
        }
    }
    Ok(())
}
