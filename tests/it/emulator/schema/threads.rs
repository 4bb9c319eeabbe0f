//! Session threads of a multi-agent session: a coordinator whose script delegates to a child
//! thread; the threads listed and retrieved (the primary and the child), each one's events
//! listed, the child's stream read while the idle child is archived (it terminates). And the
//! refusals: unknown threads, the primary thread archived.

use super::{id, Api};
use managed_agents_emulator::Script;
use serde_json::{json, Value};

fn message(text: &str) -> Value {
    json!({"events": [{"type": "user.message", "content": [{"type": "text", "text": text}]}]})
}

pub(crate) fn check(api: &Api) {
    let env = id(&api.ok("environments.create", &[], "", json!({"name": "team"})));
    let researcher = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "Researcher", "model": "claude-haiku-4-5"}),
    ));
    let lead = id(&api.ok(
        "agents.create",
        &[],
        "",
        json!({"name": "Lead", "model": "claude-opus-4-5",
               "multiagent": {"type": "coordinator", "agents": [researcher, {"type": "self"}]}}),
    ));
    let s = id(&api.ok(
        "sessions.create",
        &[],
        "",
        json!({"agent": lead, "environment_id": env}),
    ));
    api.emu.set_script(
        Script::new()
            .say("Asking the researcher.")
            .delegate(
                "Researcher",
                "When is the release?",
                Script::new().say("It is May 4."),
            )
            .say("The release is on May 4."),
    );
    // the primary stream, with the cross-thread events, until the coordinator is done
    let types = api.stream(
        "sessions.events.stream",
        &[&s],
        "",
        || {
            api.ok("sessions.events.send", &[&s], "", message("When?"));
        },
        |e| e["type"] == "session.status_idle",
    );
    for kind in ["session.thread_created", "agent.thread_message_received"] {
        assert!(types.contains(&kind.to_string()), "no {kind} in {types:?}");
    }
    api.emu.set_script(Script::new().say("hello"));

    let threads = api.ok("sessions.threads.list", &[&s], "", ());
    let listed = threads["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2, "{threads}");
    let primary = id(&listed[0]);
    let child = id(&listed[1]);
    assert!(listed[0]["parent_thread_id"].is_null(), "{threads}");
    assert_eq!(listed[1]["parent_thread_id"], json!(primary), "{threads}");
    api.ok(
        "sessions.threads.list",
        &[&s],
        "statuses[]=idle&limit=1",
        (),
    );

    // each thread retrieved, each one's events listed
    let got = api.ok("sessions.threads.retrieve", &[&s, &primary], "", ());
    assert_eq!(got["id"], json!(primary), "{got}");
    let got = api.ok("sessions.threads.retrieve", &[&s, &child], "", ());
    assert_eq!(got["status"], "idle", "{got}");
    assert_eq!(got["agent"]["name"], "Researcher", "{got}");
    let events = api.ok("sessions.threads.events.list", &[&s, &child], "", ());
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["type"].as_str())
        .collect();
    for kind in ["agent.thread_message_received", "agent.message"] {
        assert!(kinds.contains(&kind), "no {kind} in the child's {kinds:?}");
    }
    api.ok("sessions.threads.events.list", &[&s, &child], "limit=1", ());
    api.ok("sessions.threads.events.list", &[&s, &primary], "", ());
    api.err(
        "sessions.threads.events.list",
        &[&s, &child],
        "limit=-",
        (),
        400,
    );

    // the child's stream, while the idle child is archived: it shows the termination
    let types = api.stream(
        "sessions.threads.events.stream",
        &[&s, &child],
        "",
        || {
            let archived = api.ok("sessions.threads.archive", &[&s, &child], "", ());
            assert_eq!(archived["status"], "terminated", "{archived}");
            assert!(archived["archived_at"].is_string(), "{archived}");
        },
        |e| e["type"] == "session.thread_status_terminated",
    );
    assert!(!types.is_empty());
    // archiving it again answers it as it is; the primary thread is not archived
    api.ok("sessions.threads.archive", &[&s, &child], "", ());
    api.err("sessions.threads.archive", &[&s, &primary], "", (), 400);

    // unknown threads
    for op in [
        "sessions.threads.retrieve",
        "sessions.threads.archive",
        "sessions.threads.events.list",
        "sessions.threads.events.stream",
    ] {
        api.err(op, &[&s, "sthr_missing"], "", (), 404);
    }
}
