//! The reference's "Stream Events" flow: open the stream, send a message, print as it comes.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example stream -- SESSION_ID`; without a key,
//! `cargo run --example stream` runs it on the embedded emulator, on a session of its own.

mod common;

use managed_agents::{types::*, StreamOptions};
use managed_agents_emulator::Script;

fn main() -> managed_agents::Result<()> {
    let target =
        common::client_or_emulator(Script::new().say("Hello! I am streaming this answer to you."))?;
    let session_id = common::session_or_new(
        &target,
        "stream SESSION_ID",
        &AgentCreateParams::new("Streamer", "claude-opus-4-5"),
    )?;
    let client = &target.client;
    let stream = client
        .sessions()
        .stream(&session_id, StreamOptions::new())?; // stream first
    client.sessions().events().send(
        &session_id,
        &EventSendParams::one(UserMessageEventParams::text("Hello")),
    )?;
    for event in stream.until_idle() {
        match event? {
            SessionEvent::AgentMessage(m) => print!("{}", m.text()),
            SessionEvent::AgentCustomToolUse(t) => {
                println!("\nCustom tool call: {}\nInput: {:?}", t.name, t.input)
            }
            SessionEvent::SessionStatusIdle(_) => println!("\n--- Agent idle ---"),
            SessionEvent::SessionStatusTerminated(_) => println!("\n--- Session terminated ---"),
            _ => {}
        }
    }
    Ok(())
}
