//! The reference's "Stream Events" flow: open the stream, send a message, print as it comes.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example stream -- SESSION_ID`

use managed_agents::{stream::StreamOptions, types::*, Client};

fn main() -> managed_agents::Result<()> {
    let Some(session_id) = std::env::args().nth(1) else {
        eprintln!("usage: stream SESSION_ID");
        std::process::exit(2);
    };
    let client = Client::from_env()?;
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
