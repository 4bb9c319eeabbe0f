//! What every example shares: a client for the real API when ANTHROPIC_API_KEY is set, else
//! one for the embedded emulator (playing the agent with the example's script), said in one
//! line on stdout. Each example has `mod common;`.
//!
//! Recording and replaying an offline run: `MANAGED_AGENTS_RECORD_TO=FILE` records the traffic
//! into a cassette (`ClientBuilder::record_to`); `MANAGED_AGENTS_REPLAY=FILE` plays the run from
//! a cassette instead of the script (`Emulator::replay`), with `MANAGED_AGENTS_FAULTS=JSON`
//! (the emulator's `--faults` object) on top.

use managed_agents::{Client, Error, Result};
use managed_agents_emulator::{Cassette, Emulator, Faults, Script};

/// The client, and the emulator it talks to when there is no key (keep it alive: dropping it
/// stops the emulator).
pub struct Target {
    /// The client of the run.
    pub client: Client,
    /// The embedded emulator, when the run is offline.
    pub emulator: Option<Emulator>,
}

impl Target {
    /// Whether the run is on the embedded emulator.
    #[allow(dead_code)] // not every example asks
    pub fn offline(&self) -> bool {
        self.emulator.is_some()
    }
}

/// A client from the environment when ANTHROPIC_API_KEY is set; otherwise the embedded
/// emulator, started with `script` as the agent's behaviour, and a client for it.
pub fn client_or_emulator(script: Script) -> Result<Target> {
    if std::env::var_os("ANTHROPIC_API_KEY").is_some() {
        return Ok(Target {
            client: Client::from_env()?,
            emulator: None,
        });
    }
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let emulator = match var("MANAGED_AGENTS_REPLAY") {
        Some(cassette) => {
            let cassette = Cassette::from_path(&cassette)
                .map_err(|e| Error::invalid_input("MANAGED_AGENTS_REPLAY", e.to_string()))?;
            let emulator =
                Emulator::replay(cassette).map_err(|e| Error::connection(e.to_string()))?;
            emulator.set_replay_speed(0.0);
            println!(
                "Replaying a cassette on the embedded emulator at {}",
                emulator.base_url()
            );
            emulator
        }
        None => {
            let emulator = Emulator::start().map_err(|e| Error::connection(e.to_string()))?;
            emulator.set_script(script);
            println!(
                "No ANTHROPIC_API_KEY: running on the embedded emulator at {}",
                emulator.base_url()
            );
            emulator
        }
    };
    // held to the official SDKs' exact headers, as this crate's own tests hold it
    emulator.set_strict(true);
    if let Some(faults) = std::env::var("MANAGED_AGENTS_FAULTS")
        .ok()
        .filter(|f| !f.is_empty())
    {
        let faults = serde_json::from_str(&faults)
            .map_err(|e| e.to_string())
            .and_then(|v| Faults::from_json(&v))
            .map_err(|e| Error::invalid_input("MANAGED_AGENTS_FAULTS", e))?;
        emulator.set_faults(faults);
    }
    let mut builder = Client::builder()
        .api_key("emulator")
        .base_url(emulator.base_url());
    if let Some(file) = var("MANAGED_AGENTS_RECORD_TO") {
        builder = builder.record_to(file);
    }
    let client = builder.build()?;
    Ok(Target {
        client,
        emulator: Some(emulator),
    })
}

/// The session an example works on: the one named on the command line, else (offline) a new
/// one with an agent made from `agent`; with a key and no session, the usage and exit 2.
#[allow(dead_code)] // not every example needs a session
pub fn session_or_new(
    target: &Target,
    usage: &str,
    agent: &managed_agents::types::AgentCreateParams,
) -> Result<String> {
    use managed_agents::types::{EnvironmentCreateParams, SessionCreateParams};
    if let Some(id) = std::env::args().nth(1) {
        return Ok(id);
    }
    if !target.offline() {
        eprintln!("usage: {usage}");
        std::process::exit(2);
    }
    let client = &target.client;
    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("example-env"))?;
    let agent = client.agents().create(agent)?;
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, environment.id.as_str()))?;
    println!("session {}", session.id);
    Ok(session.id)
}
