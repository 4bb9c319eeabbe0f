//! Sessions: create (resources, vaults), list, retrieve, update, archive, delete; events
//! (send, list, stream); session resources; threads. And the refusals: a missing field, an
//! unknown or archived agent or environment, a vault id that does not exist, an event sent to a
//! terminated session, a running session deleted.

use super::{id, obj, Api, Body};
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Waits until the session has `status`.
fn wait_status(api: &Api, session: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = api.send("sessions.retrieve", &[session], "", Body::None);
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        if v["status"] == status {
            return;
        }
        assert!(Instant::now() < deadline, "{session} never {status}: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn message(text: &str) -> Value {
    json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": text}]}]})
}

pub(crate) fn check(api: &Api) {
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "s"})));
    let agent = api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "A", "model": "claude-opus-4-5"}),
    );
    let a = id(&agent);
    let vault = id(&api.ok("vaults.create", &[], "", json!({"display_name": "v"})));
    let store = id(&api.ok("memory_stores.create", &[], "", json!({"name": "notes"})));
    let file = id(&api.ok(
        "files.upload",
        &[],
        "",
        Body::Multipart(vec![("file", Some("in.txt".into()), b"input".to_vec())]),
    ));
    let session = api.ok(
        "sessions.create",
        &[],
        "",
        json!({
            "agent": {"type": "agent", "id": a, "version": 1}, "environment_id": env,
            "title": "t", "metadata": {"k": "v"}, "vault_ids": [vault],
            "resources": [
                {"type": "file", "file_id": file, "mount_path": "/mnt/in.txt"},
                {"type": "github_repository", "url": "https://github.com/o/r",
                 "authorization_token": "ghp_x", "checkout": {"type": "branch", "name": "main"}},
                {"type": "memory_store", "memory_store_id": store, "access": "read_only"},
            ],
        }),
    );
    let s = id(&session);
    // an agent with overrides for this session only; a version below 1 is refused
    let overridden = api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": {"type": "agent_with_overrides", "id": a, "system": "Be terse.",
                "model": "claude-sonnet-4-5", "tools": [{"type": "agent_toolset_20260401"}]},
               "environment_id": env}),
    );
    assert_eq!(overridden["agent"]["system"], "Be terse.", "{overridden}");
    assert_eq!(
        overridden["agent"]["model"]["id"], "claude-sonnet-4-5",
        "{overridden}"
    );
    assert_eq!(
        api.ok("agents.retrieve", &[&a], "", ())["tools"],
        json!([]),
        "the agent itself is unchanged"
    );
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": {"type": "agent", "id": a, "version": 0}, "environment_id": env}),
        400,
    );
    // a budget and initial events
    let started = api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": a, "environment_id": env,
               "budget": {"type": "limit", "max_list_cost": {"amount": "150", "currency": "USD"}},
               "initial_events": [{"type": "user.message",
                   "content": [{"type": "text", "text": "start"}]}]}),
    );
    assert_eq!(started["budget"]["type"], "limit", "{started}");
    let no_budget = api.ok(
        "sessions.update",
        &[&id(&started)],
        "",
        json!({"budget": null}),
    );
    assert!(no_budget["budget"].is_null(), "{no_budget}");
    api.ok("sessions.events.list", &[&id(&started)], "", ());
    // refusals of create: a missing field, unknown objects, archived ones
    api.err("sessions.create", &[], "", json!({"agent": a}), 400);
    api.err_code(
        "sessions.create",
        &[],
        "",
        json!({"agent": a, "environment_id": env, "metadata": {"": "empty key"}}),
        400,
        "invalid_metadata",
    );
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": "agent_missing", "environment_id": env}),
        404,
    );
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": a, "environment_id": "env_missing"}),
        404,
    );
    let m = api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": a, "environment_id": env, "vault_ids": [vault, "vlt_missing"]}),
        404,
    );
    assert!(m.contains("vlt_missing"), "{m}");

    // listing, retrieving, updating
    api.ok("sessions.list", &[], &format!("agent_id={a}&limit=5"), ());
    api.err("sessions.list", &[], "limit=-", (), 400);
    api.ok("sessions.retrieve", &[&s], "", ());
    api.err("sessions.retrieve", &["sesn_missing"], "", (), 404);
    api.ok(
        "sessions.update",
        &[&s],
        "",
        json!({"title": "renamed", "metadata": {"k": null}}),
    );
    api.err("sessions.update", &["sesn_missing"], "", obj(), 404);
    api.err("sessions.update", &[&s], "", json!({"title": ["t"]}), 400);
    // a session's agent takes new tools and MCP servers; vaults cannot change yet, nor can a
    // budget be added to a session created without one
    let retooled = api.ok(
        "sessions.update",
        &[&s],
        "",
        json!({"agent": {"tools": [{"type": "agent_toolset_20260401"}],
            "mcp_servers": [{"type": "url", "name": "docs", "url": "https://mcp.example.com"}]}}),
    );
    assert_eq!(
        retooled["agent"]["tools"][0]["type"], "agent_toolset_20260401",
        "{retooled}"
    );
    assert_eq!(
        retooled["agent"]["mcp_servers"][0]["name"], "docs",
        "{retooled}"
    );
    api.err("sessions.update", &[&s], "", json!({"vault_ids": []}), 400);
    api.err(
        "sessions.update",
        &[&s],
        "",
        json!({"budget": {"type": "limit", "max_list_cost": {"amount": "100", "currency": "USD"}}}),
        400,
    );

    // events: the stream first, then a message; every event checked as it arrives
    let types = api.stream(
        "sessions.events.stream",
        &[&s],
        "",
        || {
            api.ok("sessions.events.send", &[&s], "", message("hi"));
        },
        |e| e["type"] == "session.status_idle",
    );
    assert!(types.contains(&"agent.message".to_string()), "{types:?}");
    // with previews of the agent's messages
    let types = api.stream(
        "sessions.events.stream",
        &[&s],
        "event_deltas[]=agent.message",
        || {
            api.ok("sessions.events.send", &[&s], "", message("hi again"));
        },
        |e| e["type"] == "session.status_idle",
    );
    for kind in ["event_start", "event_delta", "agent.message"] {
        assert!(types.contains(&kind.to_string()), "no {kind} in {types:?}");
    }
    api.err("sessions.events.stream", &["sesn_missing"], "", (), 404);
    api.err(
        "sessions.events.send",
        &[&s],
        "",
        json!({"events": []}),
        400,
    );
    api.err(
        "sessions.events.send",
        &["sesn_missing"],
        "",
        message("x"),
        404,
    );
    api.ok("sessions.events.list", &[&s], "limit=100", ());
    api.ok(
        "sessions.events.list",
        &[&s],
        "order=desc&types[]=agent.message",
        (),
    );
    api.err("sessions.events.list", &["sesn_missing"], "", (), 404);

    // resources
    let resources = api.ok("sessions.resources.list", &[&s], "", ());
    api.err("sessions.resources.list", &["sesn_missing"], "", (), 404);
    let repo = resources["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "github_repository")
        .map(id)
        .unwrap();
    let added = api.ok(
        "sessions.resources.add",
        &[&s],
        "",
        json!({"type": "file", "file_id": file}),
    );
    api.err(
        "sessions.resources.add",
        &[&s],
        "",
        json!({"type": "file"}),
        400,
    );
    api.err(
        "sessions.resources.add",
        &[&s],
        "",
        json!({"type": "file", "file_id": "file_missing"}),
        404,
    );
    api.ok("sessions.resources.retrieve", &[&s, &repo], "", ());
    api.err(
        "sessions.resources.retrieve",
        &[&s, "sesrsc_missing"],
        "",
        (),
        404,
    );
    api.ok(
        "sessions.resources.update",
        &[&s, &repo],
        "",
        json!({"authorization_token": "ghp_y"}),
    );
    api.err("sessions.resources.update", &[&s, &repo], "", obj(), 400);
    api.ok("sessions.resources.delete", &[&s, &id(&added)], "", ());
    api.err("sessions.resources.delete", &[&s, &id(&added)], "", (), 404);

    // threads: a session without sub-agents has none
    let threads = api.ok("sessions.threads.list", &[&s], "", ());
    assert!(threads["data"].as_array().is_some(), "{threads}");
    api.err("sessions.threads.list", &["sesn_missing"], "", (), 404);
    api.err(
        "sessions.threads.retrieve",
        &[&s, "sthr_missing"],
        "",
        (),
        404,
    );
    api.err(
        "sessions.threads.archive",
        &[&s, "sthr_missing"],
        "",
        (),
        404,
    );
    api.err(
        "sessions.threads.events.list",
        &[&s, "sthr_missing"],
        "",
        (),
        404,
    );
    api.err(
        "sessions.threads.events.stream",
        &[&s, "sthr_missing"],
        "",
        (),
        404,
    );

    // wrong states: a running session is not deleted; a terminated one takes no events
    api.emu.set_script(
        Script::new()
            .step(managed_agents_emulator::Step::Pause(Duration::from_millis(
                800,
            )))
            .say("late"),
    );
    api.ok("sessions.events.send", &[&s], "", message("slow"));
    wait_status(api, &s, "running");
    api.err("sessions.delete", &[&s], "", (), 400);
    wait_status(api, &s, "idle");
    api.emu.set_script(Script::new().terminate());
    api.ok("sessions.events.send", &[&s], "", message("end"));
    wait_status(api, &s, "terminated");
    api.err("sessions.events.send", &[&s], "", message("more"), 400);
    api.emu.set_script(Script::new().say("hello"));

    // archived objects: an archived agent or environment starts no session
    api.ok("sessions.archive", &[&s], "", ());
    api.err("sessions.archive", &["sesn_missing"], "", (), 404);
    let old_agent = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "old", "model": "claude-opus-4-5"}),
    ));
    api.ok("agents.archive", &[&old_agent], "", ());
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": old_agent, "environment_id": env}),
        400,
    );
    let old_env = id(&api.ok("environments.create", &[], "", json!({"name": "old"})));
    api.ok("environments.archive", &[&old_env], "", ());
    api.err(
        "sessions.create",
        &[],
        "",
        json!({"agent": a, "environment_id": old_env}),
        400,
    );
    api.ok("sessions.delete", &[&s], "", ());
    api.err("sessions.delete", &[&s], "", (), 404);
}
