//! The session's memory stores through the environment worker on the emulator's work queue:
//! memories are files, the agent's changes go back to the store (created, updated, deleted)
//! between tool calls and at the end, a read-only store is never written back, a change on
//! both sides keeps the server's version, and a store's folder that is already there or would
//! lead outside the work directory fails the item.

use super::worker_skills::{all_files, first_item_dir, session, text, tool_results};
use crate::support::emulated::setup;
use crate::support::emulated::{drain, worker, ENV_KEY};
use crate::support::tempdir;
use managed_agents::environments::MIN_MEMORY_SYNC_INTERVAL;
use managed_agents::runner::ToolCall;
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Script, Step};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A store with memories (path, content).
pub(crate) fn store(client: &Client, name: &str, memories: &[(&str, &str)]) -> String {
    let id = client
        .memory_stores()
        .create(&MemoryStoreCreateParams::new(name))
        .unwrap()
        .id;
    for (path, content) in memories {
        client
            .memory_stores()
            .memories()
            .create(
                &id,
                &Default::default(),
                &MemoryCreateParams::new(*path).content(*content),
            )
            .unwrap();
    }
    id
}

/// A store's memories: path -> content.
pub(crate) fn contents(client: &Client, store: &str) -> BTreeMap<String, String> {
    let mems = client.memory_stores().memories();
    mems.list(store, &MemoryListParams::default())
        .unwrap()
        .auto_paging()
        .filter_map(|m| match m.unwrap() {
            MemoryListItem::Memory(m) => Some(m),
            _ => None,
        })
        .map(|m| {
            let full = mems.retrieve(store, &m.id, &Default::default()).unwrap();
            (m.path, full.content.unwrap_or_default())
        })
        .collect()
}

/// A self-hosted session with the store `notes` attached, a message sent.
pub(crate) fn with_store(client: &Client, notes: &str) -> (String, String) {
    session(
        client,
        vec![],
        vec![DeploymentCreateParamsResource::MemoryStore(
            MemoryStoreResourceParam::new(notes),
        )],
    )
}

/// The folder the worker gives the environment's first queued item in `workdir`.
pub(crate) fn item_dir(client: &Client, env: &str, workdir: &Path) -> PathBuf {
    let item = client
        .environments()
        .work()
        .list(env, &Default::default())
        .unwrap()
        .data
        .remove(0)
        .id;
    workdir.join(item.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
        "_",
    ))
}

/// Changes the memory at `path` as another session would.
pub(crate) fn update_elsewhere(client: &Client, store: &str, path: &str, content: &str) {
    let mems = client.memory_stores().memories();
    let id = mems
        .list(store, &MemoryListParams::default())
        .unwrap()
        .auto_paging()
        .find_map(|m| match m.unwrap() {
            MemoryListItem::Memory(m) if m.path == path => Some(m.id),
            _ => None,
        })
        .unwrap();
    mems.update(
        store,
        &id,
        &Default::default(),
        &MemoryUpdateParams::new().content(content),
    )
    .unwrap();
}

pub(crate) fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn memories_are_files_and_the_agents_changes_go_back_to_the_store_but_not_to_a_read_only_one() {
    let (emu, client) = setup();
    let notes = store(
        &client,
        "notes",
        &[
            ("/prefs.md", "tabs"),
            ("/old.md", "stale"),
            ("/keep.md", "keep"),
        ],
    );
    let rules = store(&client, "team-rules", &[("/rules.md", "be kind")]);
    emu.set_script(
        Script::new()
            .agent_tool("read", json!({"file_path": "mnt/memory/notes/prefs.md"}))
            .agent_tool(
                "edit",
                json!({"file_path": "mnt/memory/notes/prefs.md", "old_string": "tabs", "new_string": "spaces"}),
            )
            .agent_tool(
                "write",
                json!({"file_path": "mnt/memory/notes/ideas/new.md", "content": "a new idea"}),
            )
            .agent_tool(
                "bash",
                json!({"command": "rm mnt/memory/notes/old.md && cat mnt/memory/team-rules/rules.md \
                    && echo changed > mnt/memory/team-rules/rules.md \
                    && echo extra > mnt/memory/team-rules/extra.md"}),
            )
            .agent_tool(
                "write",
                json!({"file_path": "mnt/memory/team-rules/rules.md", "content": "overwritten"}),
            )
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![],
        vec![
            DeploymentCreateParamsResource::MemoryStore(MemoryStoreResourceParam::new(&notes)),
            DeploymentCreateParamsResource::MemoryStore(
                MemoryStoreResourceParam::new(&rules)
                    .access(MemoryStoreResourceParamAccess::ReadOnly),
            ),
        ],
    );
    let workdir = tempdir();
    let stats = drain(&client, &env, workdir.path());
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(text(&results[0]).trim_end(), "tabs", "{results:?}");
    assert!(
        results[..4].iter().all(|r| r["is_error"] != true),
        "{results:?}"
    );
    assert!(text(&results[3]).contains("be kind"), "{results:?}");
    // the file tools refuse a read-only store
    assert_eq!(results[4]["is_error"], true, "{results:?}");

    // created, updated and deleted on the server
    assert_eq!(
        contents(&client, &notes),
        map(&[
            ("/ideas/new.md", "a new idea"),
            ("/keep.md", "keep"),
            ("/prefs.md", "spaces")
        ])
    );
    // the read-only store is as it was, though bash changed its files
    assert_eq!(contents(&client, &rules), map(&[("/rules.md", "be kind")]));
    // and the folders went with the item
    let item_dir = first_item_dir(workdir.path());
    assert!(!item_dir.join("mnt/memory/notes").exists());
    assert!(!item_dir.join("mnt/memory/team-rules").exists());
}

#[test]
fn a_session_with_memory_stores_fails_when_its_folder_is_already_there() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "one")]);
    emu.set_script(Script::new().say("done"));
    let (env, _) = with_store(&client, &notes);
    let workdir = tempdir();
    // a dead run's leftovers in every item's folder would be uploaded into the store
    let stale = item_dir(&client, &env, workdir.path());
    std::fs::create_dir_all(stale.join("mnt/memory/notes")).unwrap();
    std::fs::write(stale.join("mnt/memory/notes/a.md"), "stale").unwrap();
    let stats = drain(&client, &env, workdir.path());
    assert_eq!((stats.ran, stats.failed), (0, 1), "{stats:?}");
    assert_eq!(contents(&client, &notes), map(&[("/a.md", "one")]));
    assert_eq!(
        std::fs::read_to_string(stale.join("mnt/memory/notes/a.md")).unwrap(),
        "stale",
        "left as found"
    );
}

#[test]
fn memories_sync_both_ways_while_the_session_runs() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/shared.md", "v1")]);
    // each pause starts after the last sync, so the next tool call finds a sync due
    let pause = MIN_MEMORY_SYNC_INTERVAL + Duration::from_millis(200);
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "mnt/memory/notes/mid.md", "content": "written mid-run"}),
            )
            .step(Step::Pause(pause))
            .call_tool("check", json!({}))
            .step(Step::Pause(pause))
            .agent_tool("read", json!({"file_path": "mnt/memory/notes/shared.md"}))
            .say("done"),
    );
    let (env, id) = with_store(&client, &notes);
    let seen: Arc<Mutex<Option<BTreeMap<String, String>>>> = Arc::default();
    let check = {
        let (client, notes, seen) = (client.clone(), notes.clone(), seen.clone());
        move |_: &ToolCall| {
            *seen.lock().unwrap() = Some(contents(&client, &notes));
            // another session changes a memory meanwhile
            update_elsewhere(&client, &notes, "/shared.md", "v2 from elsewhere");
            Ok::<_, String>("checked")
        }
    };
    let workdir = tempdir();
    let stats = worker(&client, &env, workdir.path())
        .memory_sync_interval(Some(MIN_MEMORY_SYNC_INTERVAL))
        .tool("check", check)
        .run()
        .unwrap();
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    // the file written before the pause was on the server while the session ran
    assert_eq!(
        seen.lock().unwrap().clone().unwrap(),
        map(&[("/mid.md", "written mid-run"), ("/shared.md", "v1")])
    );
    // and the server's change reached the file before the next tool read it
    let results = tool_results(&client, &id);
    assert_eq!(
        text(&results[1]).trim_end(),
        "v2 from elsewhere",
        "{results:?}"
    );
    assert_eq!(
        contents(&client, &notes),
        map(&[
            ("/mid.md", "written mid-run"),
            ("/shared.md", "v2 from elsewhere")
        ])
    );
}

#[test]
fn a_sync_interval_under_the_minimum_is_refused() {
    let (_emu, client) = setup();
    let e = client
        .environments()
        .work()
        .worker()
        .environment_id("env_1")
        .environment_key(ENV_KEY)
        .memory_sync_interval(Some(Duration::from_secs(1)))
        .run()
        .unwrap_err();
    assert!(e.to_string().contains("memory sync interval"), "{e}");
}

#[test]
fn a_memory_store_whose_folder_would_lead_outside_the_work_directory_fails_the_item() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "one")]);
    emu.set_script(Script::new().say("done"));
    let (env, _) = with_store(&client, &notes);
    let base = tempdir();
    let workdir = base.path().join("work");
    std::fs::create_dir_all(base.path().join("outside")).unwrap();
    // an item's folder left by an earlier run, with a link where the mount path begins
    let item_dir = item_dir(&client, &env, &workdir);
    std::fs::create_dir_all(&item_dir).unwrap();
    std::os::unix::fs::symlink(base.path().join("outside"), item_dir.join("mnt")).unwrap();
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (0, 1), "{stats:?}");
    assert!(all_files(&base.path().join("outside")).is_empty());
    assert!(std::fs::read_dir(base.path().join("outside"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn a_memory_changed_on_both_sides_keeps_the_servers_version() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/plan.md", "v1")]);
    emu.set_script(
        Script::new()
            .agent_tool(
                "write",
                json!({"file_path": "mnt/memory/notes/plan.md", "content": "the agent's"}),
            )
            .call_tool("elsewhere", json!({}))
            .say("done"),
    );
    let (env, _) = with_store(&client, &notes);
    let elsewhere = {
        let (client, notes) = (client.clone(), notes.clone());
        move |_: &ToolCall| {
            update_elsewhere(&client, &notes, "/plan.md", "another session's");
            Ok::<_, String>("changed")
        }
    };
    let workdir = tempdir();
    let stats = worker(&client, &env, workdir.path())
        .tool("elsewhere", elsewhere)
        .run()
        .unwrap();
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    assert_eq!(
        contents(&client, &notes),
        map(&[("/plan.md", "another session's")])
    );
}

#[test]
fn a_run_that_ends_early_flushes_new_and_changed_files_but_sends_no_delete() {
    let (emu, client) = setup();
    let notes = store(
        &client,
        "notes",
        &[("/a.md", "one"), ("/gone.md", "still here")],
    );
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "cd mnt/memory/notes && echo two > a.md && rm gone.md \
                    && for i in 1 2 3 4 5; do echo note $i > n$i.md; done"}),
            )
            .call_tool("stop_worker", json!({}))
            // the run is cut off here: no clean end, so no final sync, only the flush
            .step(Step::Pause(Duration::from_secs(3)))
            .say("done"),
    );
    let (env, _) = with_store(&client, &notes);
    let workdir = tempdir();
    let worker = worker(&client, &env, workdir.path());
    let stop = worker.stop_signal();
    let stats = worker
        .tool("stop_worker", move |_: &ToolCall| {
            stop.set();
            Ok::<_, String>("stopping")
        })
        .run()
        .unwrap();
    // stopped before its turn ended: the session is interrupted and the item failed
    assert_eq!((stats.ran, stats.failed), (0, 1), "{stats:?}");
    let mut expected = vec![("/a.md", "two\n"), ("/gone.md", "still here")];
    let notes_n: Vec<(String, String)> = (1..=5)
        .map(|i| (format!("/n{i}.md"), format!("note {i}\n")))
        .collect();
    expected.extend(notes_n.iter().map(|(p, c)| (p.as_str(), c.as_str())));
    assert_eq!(contents(&client, &notes), map(&expected));
}

#[test]
fn the_file_tools_reach_a_mounted_store_by_its_absolute_mount_path_and_nothing_else() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "alpha"), ("/b.md", "beta")]);
    // somewhere outside the work directory that a climb out of the mount would reach
    let outside = tempdir();
    let escape = format!("/mnt/memory/notes/../../..{}/x", outside.path().display());
    let passwd = std::fs::read("/etc/passwd").ok();
    emu.set_script(
        Script::new()
            .agent_tool("read", json!({"file_path": "/mnt/memory/notes/a.md"}))
            .agent_tool(
                "write",
                json!({"file_path": "/mnt/memory/notes/new.md", "content": "fresh"}),
            )
            .agent_tool(
                "edit",
                json!({"file_path": "/mnt/memory/notes/sub/../b.md", "old_string": "beta", "new_string": "gamma"}),
            )
            .agent_tool("grep", json!({"pattern": "alpha", "path": "/mnt/memory/notes"}))
            .agent_tool("glob", json!({"pattern": "*.md", "path": "/mnt/memory/notes"}))
            .agent_tool(
                "write",
                json!({"file_path": "/mnt/memory/other/x", "content": "no"}),
            )
            .agent_tool(
                "read",
                json!({"file_path": "/mnt/memory/notes/../../../etc/passwd"}),
            )
            .agent_tool(
                "write",
                json!({"file_path": "/mnt/memory/notes/../../../etc/passwd", "content": "no"}),
            )
            .agent_tool("write", json!({"file_path": escape, "content": "no"}))
            .agent_tool("glob", json!({"pattern": "*", "path": "/mnt/memory/other"}))
            .say("done"),
    );
    let (env, id) = with_store(&client, &notes);
    let workdir = tempdir();
    let stats = drain(&client, &env, workdir.path());
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 10, "{results:?}");
    assert!(
        results[..5].iter().all(|r| r["is_error"] != true),
        "{results:?}"
    );
    assert!(text(&results[0]).contains("alpha"), "{results:?}");
    assert!(text(&results[3]).contains("a.md"), "{results:?}");
    let listed = text(&results[4]);
    for name in ["a.md", "b.md", "new.md"] {
        assert!(listed.contains(name), "{listed}");
    }
    // not mounted, or climbing out of the mount: refused
    for r in &results[5..] {
        assert_eq!(r["is_error"], true, "{results:?}");
    }
    assert!(!text(&results[6]).contains("root:"), "{results:?}");
    // the changes reached the store
    assert_eq!(
        contents(&client, &notes),
        map(&[("/a.md", "alpha"), ("/b.md", "gamma"), ("/new.md", "fresh")])
    );
    // and nothing outside the work directory changed
    assert!(!Path::new("/mnt/memory/other/x").exists());
    assert!(!outside.path().join("x").exists());
    assert_eq!(std::fs::read("/etc/passwd").ok(), passwd);
}
