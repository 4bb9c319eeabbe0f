//! Measures how long `events().stream(..)` takes to open, and how long from sending a message
//! to the stream's first event, against a running emulator (or any server speaking the API).
//!
//! `cargo bench --bench stream_open -- URL RUNS` prints one JSON object: the times of each run
//! in milliseconds, `open_ms` and `first_ms`, after one warm-up run that is not counted. Each
//! run opens a stream on a new session, sends a message, reads the turn to its end. Run by
//! `benches/stream_open.sh`, which puts the official TypeScript SDK beside it.

use managed_agents::types::*;
use managed_agents::Client;
use managed_agents::StreamOptions;
use std::time::Instant;

fn main() -> managed_agents::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (Some(url), Some(runs)) = (args.first(), args.get(1).and_then(|r| r.parse().ok())) else {
        eprintln!("usage: cargo bench --bench stream_open -- URL RUNS");
        std::process::exit(2);
    };
    let runs: usize = runs;
    let client = Client::builder()
        .api_key("k")
        .base_url(url.as_str())
        .max_retries(0)
        .build()?;
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("stream-open"))?;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))?;
    let (mut open_ms, mut first_ms) = (Vec::new(), Vec::new());
    for run in 0..=runs {
        let session = client
            .sessions()
            .create(&SessionCreateParams::new(&agent, env.id.clone()))?;
        let started = Instant::now();
        let mut stream = client
            .sessions()
            .events()
            .stream(&session.id, StreamOptions::new())?;
        let open = started.elapsed();
        let sent = Instant::now();
        client.sessions().events().send(
            &session.id,
            &EventSendParams::one(UserMessageEventParams::text("hello")),
        )?;
        let mut first = None;
        for event in stream.by_ref() {
            let event = event?;
            first.get_or_insert_with(|| sent.elapsed());
            if event.ends_turn() {
                break;
            }
        }
        if run > 0 {
            open_ms.push(open.as_secs_f64() * 1e3);
            first_ms.push(first.unwrap_or_default().as_secs_f64() * 1e3);
        }
    }
    println!(
        "{}",
        serde_json::json!({"open_ms": open_ms, "first_ms": first_ms})
    );
    Ok(())
}
