//! The smallest program: a client and one request.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example one_request` lists your environments; without a
//! key it lists the (empty) environments of the embedded emulator. The benchmarks time it
//! from process start to exit against a loopback server.

mod common;

fn main() -> managed_agents::Result<()> {
    let target = common::client_or_emulator(managed_agents_emulator::Script::default_turn())?;
    let page = target.client.environments().list(&Default::default())?;
    println!("{} environments", page.data.len());
    Ok(())
}
