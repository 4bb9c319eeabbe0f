//! The environment worker's default handler end to end on the emulator's work queue: sessions
//! whose scripted agent calls the built-in tools (write, bash, grep, read) are claimed, run in
//! a work directory of their own and stopped, several at a time.

use crate::support::emulated::{
    local_agent, self_hosted_environment, send_message, setup, ENV_KEY,
};
use crate::support::tempdir;
use managed_agents::environments::PollerOptions;
use managed_agents::types::*;
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn twenty_sessions_run_their_built_in_tools_through_one_worker_four_at_a_time() {
    let (emu, client) = setup();
    let env = self_hosted_environment(&client);
    let agent = local_agent(&client);
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "notes/plan.txt", "content": "alpha\nbeta\n"}),
            )
            .agent_tool("bash", json!({"command": "echo gamma >> notes/plan.txt"}))
            .agent_tool("grep", json!({"pattern": "gam+a"}))
            .agent_tool("read", json!({"file_path": "notes/plan.txt"}))
            .say("done"),
    );
    let mut sessions = Vec::new();
    for i in 0..20 {
        let session = client
            .sessions()
            .create(&SessionCreateParams::new(&agent, env.as_str()))
            .unwrap();
        send_message(&client, &session.id, &format!("task {i}"));
        sessions.push(session.id);
    }
    let workdir = tempdir();
    let stats = client
        .environments()
        .work()
        .worker()
        .environment_id(env.clone())
        .environment_key(ENV_KEY)
        .workdir(workdir.path())
        .concurrency(4)
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .run()
        .unwrap();
    assert_eq!(
        (stats.claimed, stats.ran, stats.failed),
        (20, 20, 0),
        "{stats:?}"
    );

    for id in &sessions {
        let events: Vec<Value> = client
            .sessions()
            .events()
            .list(id, &Default::default())
            .unwrap()
            .auto_paging()
            .map(|e| serde_json::to_value(e.unwrap()).unwrap())
            .collect();
        let results: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "user.tool_result")
            .collect();
        // each call answered once, none an error, in the order the agent asked
        assert_eq!(results.len(), 4, "{id}: {events:?}");
        assert!(results.iter().all(|r| r["is_error"] != true), "{results:?}");
        assert!(
            results[2]["content"].to_string().contains("plan.txt"),
            "{results:?}"
        );
        assert!(
            results[3]["content"].to_string().contains("gamma"),
            "{results:?}"
        );
        let last = events
            .iter()
            .rev()
            .find(|e| e["type"] == "session.status_idle");
        assert_eq!(last.unwrap()["stop_reason"]["type"], "end_turn", "{id}");
    }
    // every item stopped, each in a work directory of its own holding what the agent wrote
    let items = client
        .environments()
        .work()
        .list(&env, &WorkListParams::default())
        .unwrap()
        .auto_paging()
        .map(|w| w.unwrap())
        .collect::<Vec<_>>();
    assert_eq!(items.len(), 20);
    let dirs: Vec<_> = std::fs::read_dir(workdir.path()).unwrap().collect();
    assert_eq!(dirs.len(), 20);
    for dir in dirs {
        let plan = std::fs::read_to_string(dir.unwrap().path().join("notes/plan.txt")).unwrap();
        assert_eq!(plan, "alpha\nbeta\ngamma\n");
    }
    for w in &items {
        assert_eq!(serde_json::to_value(&w.state).unwrap(), "stopped");
    }
}
