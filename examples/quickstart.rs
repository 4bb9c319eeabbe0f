//! The main job: create an environment, an agent with a custom tool and a session; stream
//! while sending a message; answer the tool call; print the agent's text as it arrives and a
//! summary; list and download the session's output files.
//!
//! `cargo run --example quickstart` uses the real API when ANTHROPIC_API_KEY is set, and the
//! embedded emulator otherwise.

mod common;

use managed_agents::{types::*, Result};
use managed_agents_emulator::Script;
use serde_json::json;
use std::time::Duration;

fn main() {
    if let Err(e) = run() {
        eprintln!("\nquickstart failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let target = common::client_or_emulator(
        Script::new()
            .say("Let me run the tests of the auth module.")
            .call_tool("run_tests", json!({"test_path": "tests/test_auth.py"}))
            .say("All green: the auth module checks tokens before each request and logs failures.")
            .write_file("review.md", "# Review\n\nThe auth module is fine.\n"),
    )?;
    let client = &target.client;

    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("quickstart-env"))?;
    let agent = client.agents().create(
        &AgentCreateParams::new("Code Reviewer", "claude-opus-4-5")
            .system("You are a senior code reviewer.")
            .tool(AgentToolset20260401Params::enabled())
            .tool(CustomToolParams::new(
                "run_tests",
                "Run the test suite",
                json!({
                    "type": "object",
                    "properties": {"test_path": {"type": "string", "description": "Path to test file"}},
                    "required": ["test_path"],
                }),
            )),
    )?;
    let session = client.sessions().create(
        &SessionCreateParams::new(&agent, environment.id.as_str()).title("Quickstart review"),
    )?;
    println!(
        "session {} (agent {} v{})\n",
        session.id, agent.id, agent.version
    );

    // streams first, then sends the message; answers run_tests; stops when the turn ends
    let outcome = client
        .run(&session.id)
        .message("Review the auth module")
        .tool("run_tests", |call| {
            Ok::<_, String>(format!(
                "All 42 tests passed for {}",
                call["test_path"].as_str().unwrap_or("the suite")
            ))
        })
        .on_event(|ev| match ev {
            SessionEvent::AgentMessage(m) => println!("agent: {}", m.text()),
            SessionEvent::AgentCustomToolUse(t) => println!(
                "tool call: {} {}",
                t.name,
                serde_json::Value::Object(t.input.clone())
            ),
            _ => {}
        })
        .deadline(Duration::from_secs(600))
        .until_idle()?;

    let usage = outcome.usage.clone().unwrap_or_default();
    println!(
        "\nstop reason: {:?}\nevents: {}\ntool calls: {}\nusage: {} input tokens, {} output tokens",
        outcome
            .stop_reason
            .as_ref()
            .map(|r| format!("{r:?}"))
            .unwrap_or_default(),
        outcome.events_seen,
        outcome.tool_calls.len(),
        usage.input_tokens.unwrap_or(0),
        usage.output_tokens.unwrap_or(0),
    );
    if outcome.tool_calls.iter().any(|c| !c.posted) {
        return Err(managed_agents::Error::connection(
            "a tool result was not delivered",
        ));
    }

    // output files appear shortly after the idle
    let dir = std::env::temp_dir().join(format!("quickstart-{}", session.id));
    std::fs::create_dir_all(&dir)
        .map_err(|e| managed_agents::Error::io(format!("creating {}", dir.display()), e))?;
    let mut downloaded = 0;
    for attempt in 0..3 {
        for file in client.files().list(&FileListParams::scope(&session.id))? {
            let file = file?;
            let path = dir.join(&file.filename);
            let n = client.files().download(&file.id)?.copy_to_path(&path)?;
            println!(
                "downloaded {} ({n} bytes) to {}",
                file.filename,
                path.display()
            );
            downloaded += 1;
        }
        if downloaded > 0 || attempt == 2 {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    if downloaded == 0 {
        println!("no output files");
    }
    Ok(())
}
