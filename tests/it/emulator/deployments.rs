//! Deployments and their runs through the crate's client: create, retrieve, update, list,
//! pause/unpause with `paused_reason`, run (a session from the deployment, with its initial
//! events), runs that fail (recorded, the deployment paused), archive, and the run listing.

use crate::support::emulated::{cloud_env_and_agent, setup};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::Script;

fn deployment(c: &Client, name: &str) -> (Deployment, Agent, Environment) {
    let (env, agent) = cloud_env_and_agent(c);
    let params = DeploymentCreateParams::new(
        name,
        agent.id.as_str(),
        env.id.as_str(),
        vec![UserMessageEventParams::text("nightly report").into()],
    )
    .description("every night");
    (c.deployments().create(&params).unwrap(), agent, env)
}

#[test]
fn a_deployment_is_created_updated_listed_and_archived() {
    let (_emu, c) = setup();
    let (d, agent, _env) = deployment(&c, "nightly");
    assert!(d.id.starts_with("depl_"));
    assert_eq!(
        (d.name.as_str(), d.status.clone()),
        ("nightly", DeploymentStatus::Active)
    );
    assert_eq!(
        (d.agent.id.as_str(), d.agent.version),
        (agent.id.as_str(), 1)
    );
    assert_eq!(d.initial_events.len(), 1);
    assert!(d.paused_reason.is_none() && d.archived_at.is_none());
    assert_eq!(c.deployments().retrieve(&d.id).unwrap(), d);

    // a new agent version is not picked up until the deployment is re-pinned
    c.agents()
        .update(&agent.id, &AgentUpdateParams::new().system("v2"))
        .unwrap();
    let updated = c
        .deployments()
        .update(
            &d.id,
            &DeploymentUpdateParams::new()
                .name("nightly-2")
                .agent(agent.id.as_str()),
        )
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.agent.version),
        ("nightly-2", 2)
    );
    assert_eq!(updated.description.as_deref(), Some("every night"));

    let (other, _, _) = deployment(&c, "other");
    let listed = c.deployments().list(&Default::default()).unwrap();
    assert_eq!(listed.data.len(), 2);
    assert_eq!(listed.data[0].id, other.id, "newest first");
    let by_agent = c
        .deployments()
        .list(&DeploymentListParams::default().agent_id(agent.id.as_str()))
        .unwrap();
    assert_eq!(by_agent.data.len(), 1);

    let archived = c.deployments().archive(&d.id).unwrap();
    assert!(archived.archived_at.is_some());
    assert_eq!(
        c.deployments()
            .list(&Default::default())
            .unwrap()
            .data
            .len(),
        1
    );
    let err = c.deployments().run(&d.id).unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(
        c.deployments()
            .retrieve("depl_missing")
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[test]
fn pause_and_unpause_say_why_and_a_paused_deployment_does_not_run() {
    let (_emu, c) = setup();
    let (d, _, _) = deployment(&c, "d");
    let paused = c.deployments().pause(&d.id).unwrap();
    assert_eq!(paused.status, DeploymentStatus::Paused);
    assert!(matches!(
        paused.paused_reason,
        Some(DeploymentPausedReason::Manual(_))
    ));
    let only_paused = c
        .deployments()
        .list(&DeploymentListParams::default().status(DeploymentStatus::Paused))
        .unwrap();
    assert_eq!(only_paused.data.len(), 1);
    let err = c.deployments().run(&d.id).unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("paused"), "{err}");
    let active = c.deployments().unpause(&d.id).unwrap();
    assert_eq!(active.status, DeploymentStatus::Active);
    assert!(active.paused_reason.is_none());
}

#[test]
fn a_run_creates_a_session_with_the_initial_events_and_is_recorded() {
    let (emu, c) = setup();
    emu.set_script(Script::new().say("report done"));
    let (d, agent, env) = deployment(&c, "d");
    let run = c.deployments().run(&d.id).unwrap();
    assert!(run.id.starts_with("drun_"));
    assert!(run.error.is_none());
    assert_eq!(run.deployment_id, d.id);
    assert!(matches!(run.trigger_context, TriggerContext::Manual(_)));
    let session_id = run.session_id.clone().unwrap();
    let session = c.sessions().retrieve(&session_id).unwrap();
    assert_eq!(
        (session.agent.id.as_str(), session.environment_id.as_str()),
        (agent.id.as_str(), env.id.as_str())
    );
    assert_eq!(session.deployment_id.as_deref(), Some(d.id.as_str()));
    // the initial event started a turn: the agent answers it
    let outcome = c.run(&session_id).until_idle().unwrap();
    assert_eq!(outcome.text(), "report done");
    let events = c
        .sessions()
        .events()
        .list(&session_id, &Default::default())
        .unwrap();
    assert!(events
        .data
        .iter()
        .any(|e| matches!(e, SessionEvent::UserMessage(_))));

    assert_eq!(c.deployment_runs().retrieve(&run.id).unwrap(), run);
    let by_deployment = c
        .deployment_runs()
        .list(&DeploymentRunListParams::default().deployment_id(d.id.as_str()))
        .unwrap();
    assert_eq!(by_deployment.data, vec![run]);
    let sessions = c
        .sessions()
        .list(&SessionListParams::default().deployment_id(d.id.as_str()))
        .unwrap();
    assert_eq!(sessions.data.len(), 1);
}

#[test]
fn a_run_that_cannot_create_its_session_records_the_error_and_pauses() {
    let (_emu, c) = setup();
    let (d, _, env) = deployment(&c, "d");
    c.environments().archive(&env.id).unwrap();
    let run = c.deployments().run(&d.id).unwrap();
    assert!(run.session_id.is_none());
    assert!(
        matches!(
            run.error,
            Some(DeploymentRunError::EnvironmentArchivedError(_))
        ),
        "{:?}",
        run.error
    );
    let after = c.deployments().retrieve(&d.id).unwrap();
    assert_eq!(after.status, DeploymentStatus::Paused);
    assert!(matches!(
        after.paused_reason,
        Some(DeploymentPausedReason::Error(_))
    ));
    let failed = c
        .deployment_runs()
        .list(&DeploymentRunListParams::default().has_error(true))
        .unwrap();
    assert_eq!(failed.data.len(), 1);
    let ok = c
        .deployment_runs()
        .list(&DeploymentRunListParams::default().has_error(false))
        .unwrap();
    assert!(ok.data.is_empty());
}

#[test]
fn bad_deployments_are_refused() {
    let (_emu, c) = setup();
    let (env, agent) = cloud_env_and_agent(&c);
    let create = |agent: &str, env: &str, events: Vec<DeploymentInitialEventParams>| {
        c.deployments()
            .create(&DeploymentCreateParams::new("d", agent, env, events))
            .unwrap_err()
            .status()
    };
    let msg = || vec![UserMessageEventParams::text("go").into()];
    assert_eq!(create("agent_missing", &env.id, msg()), Some(404));
    assert_eq!(create(&agent.id, "env_missing", msg()), Some(404));
    assert_eq!(
        create(&agent.id, &env.id, vec![]),
        Some(400),
        "at least one event"
    );
    c.agents().archive(&agent.id).unwrap();
    assert_eq!(
        create(&agent.id, &env.id, msg()),
        Some(400),
        "an archived agent"
    );
}
