//! Writes to memory files as the official worker 2.17 makes them: a `write` or `edit` of a
//! file in a memory store's folder goes to the store first (a create, or an update with the
//! `content_sha256` precondition) and reaches the disk only once the store took it; and a file
//! that went missing during a call that was stopped is pulled again, never deleted.

use super::worker_memories::{contents, map, store, update_elsewhere, with_store};
use super::worker_skills::{text, tool_results};
use crate::support::emulated::setup;
use crate::support::emulated::worker;
use crate::support::tempdir;
use managed_agents::runner::ToolCall;
use managed_agents::Client;
use managed_agents_emulator::Script;
use serde_json::json;

/// A worker tool that answers with the store's memories as the server has them now.
fn peek(client: &Client, store: &str) -> impl Fn(&ToolCall) -> Result<String, String> {
    let (client, store) = (client.clone(), store.to_string());
    move |_| Ok(format!("{:?}", contents(&client, &store)))
}

#[test]
fn a_write_to_a_memory_file_is_saved_in_the_store_before_the_disk() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "one"), ("/b.md", "bee")]);
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "/mnt/memory/notes/new.md", "content": "fresh"}),
            )
            .agent_tool(
                "edit",
                json!({"file_path": "mnt/memory/notes/a.md", "old_string": "one", "new_string": "two"}),
            )
            .call_tool("peek", json!({}))
            // another session changes b.md: this session's edit of it is refused
            .call_tool("change_b", json!({}))
            .agent_tool(
                "edit",
                json!({"file_path": "mnt/memory/notes/b.md", "old_string": "bee", "new_string": "mine"}),
            )
            .agent_tool("bash", json!({"command": "cat mnt/memory/notes/b.md"}))
            // the folder's marker is not a memory
            .agent_tool(
                "write",
                json!({"file_path": "mnt/memory/notes/.anthropic-memory-store", "content": "x"}),
            )
            .say("done"),
    );
    let (env, id) = with_store(&client, &notes);
    let workdir = tempdir();
    let (c2, n2) = (client.clone(), notes.clone());
    let stats = worker(&client, &env, workdir.path())
        .tool("peek", peek(&client, &notes))
        .tool("change_b", move |_: &ToolCall| {
            update_elsewhere(&c2, &n2, "/b.md", "theirs");
            Ok::<_, String>("changed")
        })
        .run()
        .unwrap();
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 5, "{results:?}");
    assert!(
        results[..2].iter().all(|r| r["is_error"] != true),
        "{results:?}"
    );
    // the two changes were in the store while the session still ran
    let peeked = client
        .sessions()
        .events()
        .list(&id, &Default::default())
        .unwrap()
        .auto_paging()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .find(|e| e["type"] == "user.custom_tool_result")
        .unwrap();
    let peeked = text(&peeked);
    assert!(peeked.contains(r#""/a.md": "two""#), "{peeked}");
    assert!(peeked.contains(r#""/new.md": "fresh""#), "{peeked}");
    // the store refused the edit of a memory changed elsewhere: the file was not changed,
    // and the agent is told so
    assert_eq!(results[2]["is_error"], true, "{results:?}");
    let refused = text(&results[2]);
    assert!(
        refused.starts_with(
            "edit: mnt/memory/notes/b.md: not saved to memory, so the change was not made: "
        ),
        "{refused}"
    );
    assert!(
        refused.ends_with("Read the file again before you retry."),
        "{refused}"
    );
    // and the store's version was pulled for the next read
    assert_eq!(text(&results[3]).trim_end(), "theirs", "{results:?}");
    assert_eq!(
        text(&results[4]),
        "write: mnt/memory/notes/.anthropic-memory-store: not saved to memory, so the change \
         was not made: this file marks the folder as a memory store."
    );
    assert_eq!(
        contents(&client, &notes),
        map(&[("/a.md", "two"), ("/b.md", "theirs"), ("/new.md", "fresh")])
    );
}

#[test]
fn a_memory_file_gone_after_a_stopped_call_is_pulled_again_not_deleted() {
    let (emu, client) = setup();
    let notes = store(
        &client,
        "notes",
        &[("/a.md", "keep me"), ("/b.md", "bee"), ("/c.md", "sea")],
    );
    emu.set_script(
        Script::new()
            // the command moves the file away and is cut off before it puts it back
            .agent_tool(
                "bash",
                json!({"command": "mv mnt/memory/notes/a.md moved.md && sleep 600 && mv moved.md mnt/memory/notes/a.md", "timeout_ms": 1000}),
            )
            // a deliberate delete of another file still goes out
            .agent_tool("bash", json!({"command": "rm mnt/memory/notes/b.md"}))
            .agent_tool("bash", json!({"command": "ls mnt/memory/notes"}))
            .say("done"),
    );
    let (env, id) = with_store(&client, &notes);
    let workdir = tempdir();
    let stats = worker(&client, &env, workdir.path()).run().unwrap();
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0]["is_error"], true, "{results:?}");
    assert_eq!(
        contents(&client, &notes),
        map(&[("/a.md", "keep me"), ("/c.md", "sea")])
    );
}
