//! The smallest program: a client from the environment and one request.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example one_request` lists your environments. The
//! benchmarks time it from process start to exit against a loopback server.

fn main() -> managed_agents::Result<()> {
    let client = managed_agents::Client::from_env()?;
    let page = client.environments().list(&Default::default())?;
    println!("{} environments", page.data.len());
    Ok(())
}
