//! The reference's "Full Streaming Loop with Custom Tools": stream, answer every custom tool
//! call, stop when the turn ends.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example custom_tools -- SESSION_ID`

use managed_agents::{types::SessionEvent, Client};

fn main() -> managed_agents::Result<()> {
    let Some(session_id) = std::env::args().nth(1) else {
        eprintln!("usage: custom_tools SESSION_ID");
        std::process::exit(2);
    };
    let outcome = Client::from_env()?
        .run(&session_id)
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
