//! A deployment run: an agent bound to an environment with an initial message, run once by
//! hand; the run's session works through the message, and its answer is read from the
//! session's events.
//!
//! `ANTHROPIC_API_KEY=... cargo run --example deployment_run`; without a key it runs on the
//! embedded emulator.

mod common;

use managed_agents::types::*;
use managed_agents::{Error, Result};
use managed_agents_emulator::Script;
use std::time::{Duration, Instant};

fn main() -> Result<()> {
    let target = common::client_or_emulator(
        Script::new().say("Nightly report: 3 new issues, 2 closed, the build is green."),
    )?;
    let client = &target.client;
    let environment = client
        .environments()
        .create(&EnvironmentCreateParams::cloud("reports-env"))?;
    let agent = client.agents().create(
        &AgentCreateParams::new("Reporter", "claude-opus-4-5")
            .system("You write short status reports."),
    )?;
    let deployment = client.deployments().create(
        &DeploymentCreateParams::new(
            "nightly-report",
            agent.id.as_str(),
            environment.id.as_str(),
            vec![UserMessageEventParams::text("Write tonight's status report.").into()],
        )
        .description("the nightly status report"),
    )?;
    println!("deployment {} ({:?})", deployment.id, deployment.status);

    let run = client.deployments().run(&deployment.id)?;
    if let Some(error) = &run.error {
        return Err(Error::invalid_input("run", format!("{error:?}")));
    }
    let session_id = run
        .session_id
        .clone()
        .ok_or_else(|| Error::invalid_input("run", "the run has no session"))?;
    println!("run {} started session {session_id}", run.id);

    // the session works through the initial message; its turn ends with `session.status_idle`
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut text = String::new();
        let mut idle = false;
        for event in client
            .sessions()
            .events()
            .list(&session_id, &Default::default())?
        {
            match event? {
                SessionEvent::AgentMessage(m) => text.push_str(&m.text()),
                SessionEvent::SessionStatusIdle(_) => idle = !text.is_empty(),
                _ => {}
            }
        }
        if idle {
            println!("agent: {text}");
            break;
        }
        if Instant::now() > deadline {
            return Err(Error::connection(
                "the run's session did not finish its turn",
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let runs = client
        .deployment_runs()
        .list(&DeploymentRunListParams::default().deployment_id(deployment.id.as_str()))?;
    println!("{} run(s) of {}", runs.data.len(), deployment.name);
    Ok(())
}
