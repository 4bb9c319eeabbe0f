//! The reference's "Full Streaming Loop with Custom Tools": stream, answer every custom tool
//! call, stop when the turn ends.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example custom_tools -- SESSION_ID`; without a key,
//! `cargo run --example custom_tools` runs it on the embedded emulator, whose agent calls
//! `run_tests` once, on a session of its own.

mod common;

use managed_agents::types::{AgentCreateParams, CustomToolParams, SessionEvent};
use managed_agents_emulator::Script;
use serde_json::json;

fn main() -> managed_agents::Result<()> {
    let target = common::client_or_emulator(
        Script::new()
            .call_tool("run_tests", json!({"test_path": "tests/"}))
            .say("The tests pass."),
    )?;
    let session_id = common::session_or_new(
        &target,
        "custom_tools SESSION_ID",
        &AgentCreateParams::new("Tester", "claude-opus-4-5").tool(CustomToolParams::new(
            "run_tests",
            "Run the test suite",
            json!({"type": "object", "properties": {"test_path": {"type": "string"}}}),
        )),
    )?;
    let outcome = target
        .client
        .run(&session_id)
        .message("Run the tests")
        .tool("run_tests", |_call| Ok::<_, String>("All tests passed."))
        .on_event(|ev| {
            if let SessionEvent::AgentMessage(m) = ev {
                print!("{}", m.text())
            }
        })
        .until_idle()?;
    println!(
        "\n{:?} after {} tool calls",
        outcome.stop_reason,
        outcome.tool_calls.len()
    );
    Ok(())
}
