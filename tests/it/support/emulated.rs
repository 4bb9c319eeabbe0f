//! Fixtures on the emulator, written once: an emulator in strict mode with a client of it, a
//! session in a cloud environment, a self-hosted session with its work item queued, a worker
//! that drains a self-hosted queue, and a session's event log as JSON.

use managed_agents::environments::{EnvironmentWorker, PollerOptions, WorkerStats};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::Emulator;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The environment key the workers present (the emulator takes any).
pub const ENV_KEY: &str = "env-key-for-tests";

/// An emulator in strict mode (as every test runs it) and a client of it.
pub fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().unwrap();
    emu.set_strict(true);
    let client = client(emu.base_url());
    (emu, client)
}

/// A client of the emulator at `url`.
pub fn client(url: &str) -> Client {
    Client::builder()
        .api_key("k")
        .base_url(url)
        .build()
        .unwrap()
}

/// A new cloud environment and a new agent.
pub fn cloud_env_and_agent(client: &Client) -> (Environment, Agent) {
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("A", "claude-opus-4-5"))
        .unwrap();
    (env, agent)
}

/// A session of a new agent (with `tool`, if any) in a new cloud environment.
pub fn cloud_session(client: &Client, tool: Option<CustomToolParams>) -> Session {
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let mut params = AgentCreateParams::new("A", "claude-opus-4-5");
    if let Some(tool) = tool {
        params = params.tool(tool);
    }
    let agent = client.agents().create(&params).unwrap();
    client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.id))
        .unwrap()
}

/// A new self-hosted environment's id.
pub fn self_hosted_environment(client: &Client) -> String {
    client
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id
}

/// The agent the self-hosted tests run.
pub fn local_agent(client: &Client) -> Agent {
    client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5"))
        .unwrap()
}

/// Sends the session a user message (on a self-hosted environment, this queues its work item).
pub fn send_message(client: &Client, session: &str, text: &str) {
    client
        .sessions()
        .events()
        .send(
            session,
            &EventSendParams::one(UserMessageEventParams::text(text)),
        )
        .unwrap();
}

/// A session of a new local agent in `env`, sent "go"; its id.
pub fn session_with_message(client: &Client, env: &str) -> String {
    let agent = local_agent(client);
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env))
        .unwrap()
        .id;
    send_message(client, &session, "go");
    session
}

/// A new self-hosted environment and a session in it sent "go": (environment, session).
pub fn self_hosted_session(client: &Client) -> (String, String) {
    let env = self_hosted_environment(client);
    let session = session_with_message(client, &env);
    (env, session)
}

/// A worker on `env`'s queue in `workdir`, polling briskly, that stops once the queue is empty.
pub fn worker(client: &Client, env: &str, workdir: &Path) -> EnvironmentWorker {
    client
        .environments()
        .work()
        .worker()
        .environment_id(env)
        .environment_key(ENV_KEY)
        .workdir(workdir)
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20))
                .backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
}

/// Runs a worker on `env`'s queue until it is empty.
pub fn drain(client: &Client, env: &str, workdir: &Path) -> WorkerStats {
    worker(client, env, workdir).run().unwrap()
}

/// The session's whole event log, oldest first, as JSON.
pub fn events(client: &Client, session: &str) -> Vec<Value> {
    client
        .sessions()
        .events()
        .list(session, &Default::default())
        .unwrap()
        .auto_paging()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .collect()
}

/// The events of `kind` in a log.
pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}
