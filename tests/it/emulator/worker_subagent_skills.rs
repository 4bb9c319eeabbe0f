//! The skills of a multi-agent session's subagents are downloaded too, as the official worker
//! 2.17 does: deduplicated by skill id, and on a name clash the first skill keeps the folder.

use super::worker_skills::{text, tool_results};
use crate::support::emulated::drain;
use crate::support::emulated::{self_hosted_environment, send_message, setup};
use crate::support::tempdir;
use managed_agents::types::*;
use managed_agents::{Client, Multipart, UploadFile};
use managed_agents_emulator::Script;
use serde_json::json;

fn skill(client: &Client, name: &str, body: &str) -> String {
    let upload = Multipart::new().file(
        "files[]",
        UploadFile::bytes(
            format!("{name}/SKILL.md"),
            format!("---\nname: {name}\ndescription: d\n---\n{body}\n").into_bytes(),
        ),
    );
    client.skills().create(upload).unwrap().id
}

fn custom(id: &str) -> SkillParams {
    SkillParams::Custom(CustomSkillParams::new(id))
}

#[test]
fn subagents_skills_are_downloaded_once_and_the_first_of_a_name_wins() {
    let (emu, client) = setup();
    let alpha = skill(&client, "alpha", "the lead's alpha");
    let beta = skill(&client, "beta", "the researcher's beta");
    let other_alpha = skill(&client, "alpha", "another alpha");
    let researcher = client
        .agents()
        .create(
            &AgentCreateParams::new("Researcher", "claude-haiku-4-5").skills(vec![
                custom(&beta),
                custom(&alpha),
                custom(&other_alpha),
            ]),
        )
        .unwrap();
    let roster: Vec<MultiagentRosterEntryParams> = vec![researcher.id.as_str().into()];
    let lead = client
        .agents()
        .create(
            &AgentCreateParams::new("Lead", "claude-opus-4-5")
                .skills(vec![custom(&alpha)])
                .multiagent(MultiagentCoordinatorParams::new(roster)),
        )
        .unwrap();
    let env = self_hosted_environment(&client);
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&lead, env.as_str()))
        .unwrap();
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "ls skills; cat skills/alpha/SKILL.md"}),
            )
            .say("done"),
    );
    send_message(&client, &session.id, "go");
    let workdir = tempdir();
    let stats = drain(&client, &env, workdir.path());
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &session.id);
    assert_eq!(results.len(), 1, "{results:?}");
    let out = text(&results[0]);
    assert!(out.starts_with("alpha\nbeta\n"), "{out}");
    assert!(out.contains("the lead's alpha"), "{out}");
    assert!(!out.contains("another alpha"), "{out}");
}
