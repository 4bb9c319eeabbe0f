//! Multi-agent rosters on the emulator: an agent's `multiagent` (`coordinator` and
//! `multiagent_20261001`) checked and resolved when it is saved, merged or cleared by an update,
//! snapshot in full by a session; a session without one has no threads.

use super::threads::{multiagent_session, threads};
use crate::support::emulated::setup;
use managed_agents::types::*;
use managed_agents::Error;
use managed_agents_emulator::Script;
use serde_json::json;
use std::time::Duration;

#[test]
fn rosters_are_checked_and_a_session_without_one_has_no_threads() {
    let (emu, c) = setup();
    let missing: Vec<MultiagentRosterEntryParams> = vec!["agent_missing".into()];
    let e = c
        .agents()
        .create(
            &AgentCreateParams::new("L", "claude-opus-4-5")
                .multiagent(MultiagentCoordinatorParams::new(missing)),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Api { status: 400, .. }), "{e}");
    // one level of delegation only
    let s = multiagent_session(&c);
    let lead = s.agent.id.clone();
    let nested: Vec<MultiagentRosterEntryParams> = vec![lead.as_str().into()];
    let e = c
        .agents()
        .create(
            &AgentCreateParams::new("Boss", "claude-opus-4-5")
                .multiagent(MultiagentCoordinatorParams::new(nested)),
        )
        .unwrap_err();
    assert!(e.to_string().contains("one level"), "{e}");
    // a single-agent session: no threads; delegating from it is a session error
    emu.set_script(
        Script::new()
            .delegate("Researcher", "x", Script::new())
            .say("still here"),
    );
    let single = super::session(&c, false);
    assert!(threads(&c, &single.id).is_empty());
    let outcome = c
        .run(&single.id)
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert_eq!(outcome.text(), "still here");
    assert!(outcome
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::SessionError(_))));
}

#[test]
fn a_multiagent_20261001_roster_is_resolved_snapshot_and_delegated_to() {
    let (emu, c) = setup();
    let env = c
        .environments()
        .create(&EnvironmentCreateParams::cloud("e"))
        .unwrap();
    let researcher = c
        .agents()
        .create(&AgentCreateParams::new("Researcher", "claude-haiku-4-5"))
        .unwrap();
    let params: AgentCreateParams = serde_json::from_value(json!({
        "name": "Lead", "model": "claude-opus-4-5",
        "multiagent": {"type": "multiagent_20261001",
            "subagents": {"type": "enabled", "predefined_agents": [researcher.id]}}
    }))
    .unwrap();
    let lead = c.agents().create(&params).unwrap();
    let Some(Multiagent::Multiagent20261001(m)) = &lead.multiagent else {
        panic!("{:?}", lead.multiagent)
    };
    // the defaults filled in, the reference resolved to a version
    let v = serde_json::to_value(m).unwrap();
    assert_eq!(v["advisor"], json!({"type": "disabled"}));
    assert_eq!(
        v["workflows"],
        json!({"type": "enabled", "inline_agents": {"type": "enabled"}, "predefined_agents": []})
    );
    assert_eq!(
        v["subagents"]["predefined_agents"],
        json!([{"type": "agent", "id": researcher.id, "version": 1}])
    );
    // an update merges member by member
    let update: AgentUpdateParams = serde_json::from_value(json!({
        "version": 1,
        "multiagent": {"type": "multiagent_20261001", "advisor": {"type": "enabled", "model": "claude-opus-4-5"}}
    }))
    .unwrap();
    let lead = c.agents().update(&lead.id, &update).unwrap();
    let v = serde_json::to_value(&lead.multiagent).unwrap();
    assert_eq!(
        v["advisor"],
        json!({"type": "enabled", "model": "claude-opus-4-5"})
    );
    assert_eq!(
        v["subagents"]["predefined_agents"][0]["id"],
        researcher.id.as_str()
    );

    // the session carries the whole definition, and the coordinator can delegate to it
    let s = c
        .sessions()
        .create(&SessionCreateParams::new(&lead, env.id))
        .unwrap();
    let Some(SessionMultiagent::Multiagent20261001(sm)) = &s.agent.multiagent else {
        panic!("{:?}", s.agent.multiagent)
    };
    let SessionMultiagentSubagents::Enabled(sub) = &sm.subagents else {
        panic!("{:?}", sm.subagents)
    };
    assert_eq!(sub.predefined_agents[0].name, "Researcher");
    emu.set_script(Script::new().delegate("Researcher", "hi", Script::new().say("hello")));
    let outcome = c
        .run(&s.id)
        .message("go")
        .deadline(Duration::from_secs(30))
        .until_idle()
        .unwrap();
    assert!(outcome.events.iter().any(|e| matches!(e, SessionEvent::AgentThreadMessageReceived(m) if m.from_agent_name.as_deref() == Some("Researcher"))));
    assert_eq!(threads(&c, &s.id).len(), 2);
}

#[test]
fn an_update_keeps_or_clears_the_roster() {
    let (_emu, c) = setup();
    let s = multiagent_session(&c);
    let lead = s.agent.id.clone();
    let kept = c
        .agents()
        .update(&lead, &AgentUpdateParams::new().system("Be brief."))
        .unwrap();
    let Some(Multiagent::Coordinator(roster)) = &kept.multiagent else {
        panic!("{:?}", kept.multiagent)
    };
    assert_eq!(roster.agents.len(), 2);
    let cleared = c
        .agents()
        .update(&lead, &AgentUpdateParams::new().clear_multiagent())
        .unwrap();
    assert_eq!(cleared.multiagent, None);
    assert_eq!(cleared.version, 3);
}
