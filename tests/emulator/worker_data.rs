//! What the environment worker's default handler puts in an item's work directory, on the
//! emulator's work queue: the agent's skills (there before the first tool runs, removed with
//! the item; an archive with an entry that leaves the folder is refused, nothing written
//! outside), and the session's memory stores (mirrored as files, the agent's changes synced
//! back at the end: created, updated, deleted; a read-only store never written back).

use super::setup;
use managed_agents::emulator::{Faults, Script, Step};
use managed_agents::environments::{PollerOptions, WorkerStats, MIN_MEMORY_SYNC_INTERVAL};
use managed_agents::runner::ToolCall;
use managed_agents::types::*;
use managed_agents::{Client, Multipart, UploadFile};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ENV_KEY: &str = "env-key-for-tests";

/// A fresh directory for one test.
fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("worker-data-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A self-hosted session of an agent with `skills` and `resources`, with a message sent.
fn session(
    client: &Client,
    skills: Vec<SkillParams>,
    resources: Vec<DeploymentCreateParamsResource>,
) -> (String, String) {
    let env = client
        .environments()
        .create(&EnvironmentCreateParams::new("local").config(SelfHostedConfigParams::new()))
        .unwrap()
        .id;
    let agent = client
        .agents()
        .create(&AgentCreateParams::new("Local", "claude-opus-4-5").skills(skills))
        .unwrap();
    let session = client
        .sessions()
        .create(&SessionCreateParams::new(&agent, env.as_str()).resources(resources))
        .unwrap();
    client
        .sessions()
        .events()
        .send(
            &session.id,
            &EventSendParams::one(UserMessageEventParams::text("go")),
        )
        .unwrap();
    (env, session.id)
}

/// Runs a worker on the environment's queue until it is empty.
fn drain(client: &Client, env: &str, workdir: &Path) -> WorkerStats {
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
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .run()
        .unwrap()
}

/// The session's `user.tool_result` events, in order.
fn tool_results(client: &Client, session: &str) -> Vec<Value> {
    client
        .sessions()
        .events()
        .list(session, &Default::default())
        .unwrap()
        .auto_paging()
        .map(|e| serde_json::to_value(e.unwrap()).unwrap())
        .filter(|e| e["type"] == "user.tool_result")
        .collect()
}

fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect()
}

fn skill_folder(name: &str) -> Multipart {
    Multipart::new()
        .file(
            "files[]",
            UploadFile::bytes(
                format!("{name}/SKILL.md"),
                format!("---\nname: {name}\ndescription: PDFs\n---\nUse pdftotext.\n").into_bytes(),
            ),
        )
        .file(
            "files[]",
            UploadFile::bytes(
                format!("{name}/scripts/run.sh"),
                b"echo from-the-skill\n".to_vec(),
            ),
        )
}

#[test]
fn the_agents_skill_is_in_the_work_directory_before_the_first_tool_runs() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("pdf-tools")).unwrap();
    emu.set_script(
        Script::new()
            .agent_tool("read", json!({"file_path": "skills/pdf-tools/SKILL.md"}))
            .agent_tool(
                "bash",
                json!({"command": "sh skills/pdf-tools/scripts/run.sh"}),
            )
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(CustomSkillParams::new(&skill.id))],
        vec![],
    );
    let workdir = tempdir("skill");
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results.iter().all(|r| r["is_error"] != true), "{results:?}");
    assert!(text(&results[0]).contains("Use pdftotext."), "{results:?}");
    assert!(text(&results[1]).contains("from-the-skill"), "{results:?}");
    // the skill went with the item
    let item_dir = std::fs::read_dir(&workdir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(!item_dir.join("skills/pdf-tools").exists());
    std::fs::remove_dir_all(&workdir).unwrap();
}

/// A zip archive of `entries`, as a hostile skill could be served.
fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every file below `dir`, relative.
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_skill_archive_with_a_parent_entry_is_refused_and_nothing_lands_outside() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("evil")).unwrap();
    // the work directory is `base/work`; the item's skill is staged four levels below it
    let escapes = [
        "evil/../../../../../escape.txt",
        "evil/../../../../escape-in-work.txt",
        "../escape-up.txt",
    ];
    let mut entries = vec![("evil/SKILL.md", "harmless")];
    entries.extend(escapes.iter().map(|e| (*e, "escaped")));
    emu.set_faults(Faults {
        skill_content: Some(archive(&entries)),
        ..Faults::default()
    });
    emu.set_script(
        Script::new()
            .agent_tool("bash", json!({"command": "ls -AR skills; echo end"}))
            .say("done"),
    );
    let (env, id) = session(
        &client,
        vec![SkillParams::Custom(
            CustomSkillParams::new(&skill.id).version("latest"),
        )],
        vec![],
    );
    let base = tempdir("zipslip");
    let workdir = base.join("work");
    std::fs::create_dir(&workdir).unwrap();
    let stats = drain(&client, &env, &workdir);
    // a skill that fails is left out; the item still runs
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    let results = tool_results(&client, &id);
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(!text(&results[0]).contains("SKILL.md"), "{results:?}");
    let files = all_files(&base);
    assert!(files.iter().all(|f| !f.contains("escape")), "{files:?}");
    assert!(files.iter().all(|f| !f.contains("SKILL.md")), "{files:?}");
    std::fs::remove_dir_all(&base).unwrap();
}

/// A store with memories (path, content).
fn store(client: &Client, name: &str, memories: &[(&str, &str)]) -> String {
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
fn contents(client: &Client, store: &str) -> BTreeMap<String, String> {
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

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
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
    let workdir = tempdir("memory");
    let stats = drain(&client, &env, &workdir);
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
    let item_dir = std::fs::read_dir(&workdir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(!item_dir.join("mnt/memory/notes").exists());
    assert!(!item_dir.join("mnt/memory/team-rules").exists());
    std::fs::remove_dir_all(&workdir).unwrap();
}

#[test]
fn a_session_with_memory_stores_fails_when_its_folder_is_already_there() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "one")]);
    emu.set_script(Script::new().say("done"));
    let (env, _) = session(
        &client,
        vec![],
        vec![DeploymentCreateParamsResource::MemoryStore(
            MemoryStoreResourceParam::new(&notes),
        )],
    );
    let workdir = tempdir("stale");
    // a dead run's leftovers in every item's folder would be uploaded into the store
    let item = client
        .environments()
        .work()
        .list(&env, &Default::default())
        .unwrap()
        .data
        .remove(0)
        .id;
    let stale = workdir.join(item.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
        "_",
    ));
    std::fs::create_dir_all(stale.join("mnt/memory/notes")).unwrap();
    std::fs::write(stale.join("mnt/memory/notes/a.md"), "stale").unwrap();
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (0, 1), "{stats:?}");
    assert_eq!(contents(&client, &notes), map(&[("/a.md", "one")]));
    assert_eq!(
        std::fs::read_to_string(stale.join("mnt/memory/notes/a.md")).unwrap(),
        "stale",
        "left as found"
    );
    std::fs::remove_dir_all(&workdir).unwrap();
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
    let (env, id) = session(
        &client,
        vec![],
        vec![DeploymentCreateParamsResource::MemoryStore(
            MemoryStoreResourceParam::new(&notes),
        )],
    );
    let seen: Arc<Mutex<Option<BTreeMap<String, String>>>> = Arc::default();
    let check = {
        let (client, notes, seen) = (client.clone(), notes.clone(), seen.clone());
        move |_: &ToolCall| {
            *seen.lock().unwrap() = Some(contents(&client, &notes));
            // another session changes a memory meanwhile
            let mems = client.memory_stores().memories();
            let shared = mems
                .list(&notes, &MemoryListParams::default())
                .unwrap()
                .auto_paging()
                .find_map(|m| match m.unwrap() {
                    MemoryListItem::Memory(m) if m.path == "/shared.md" => Some(m.id),
                    _ => None,
                })
                .unwrap();
            mems.update(
                &notes,
                &shared,
                &Default::default(),
                &MemoryUpdateParams::new().content("v2 from elsewhere"),
            )
            .unwrap();
            Ok::<_, String>("checked")
        }
    };
    let workdir = tempdir("interval");
    let stats = client
        .environments()
        .work()
        .worker()
        .environment_id(env.as_str())
        .environment_key(ENV_KEY)
        .workdir(&workdir)
        .memory_sync_interval(Some(MIN_MEMORY_SYNC_INTERVAL))
        .tool("check", check)
        .poller_options(
            PollerOptions::new()
                .drain(true)
                .empty_poll_sleep(Duration::from_millis(10), Duration::from_millis(20)),
        )
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
    std::fs::remove_dir_all(&workdir).unwrap();
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
fn a_link_the_agent_leaves_in_place_of_the_skills_folder_is_not_followed_when_cleaning_up() {
    let (emu, client) = setup();
    let skill = client.skills().create(skill_folder("pdf-tools")).unwrap();
    let base = tempdir("skill-link");
    let workdir = base.join("work");
    std::fs::create_dir_all(base.join("outside/pdf-tools")).unwrap();
    std::fs::write(base.join("outside/pdf-tools/keep.txt"), "mine").unwrap();
    std::fs::create_dir(&workdir).unwrap();
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "rm -rf skills && ln -s ../../outside skills && ls skills"}),
            )
            .say("done"),
    );
    let (env, _) = session(
        &client,
        vec![SkillParams::Custom(CustomSkillParams::new(&skill.id))],
        vec![],
    );
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (1, 0), "{stats:?}");
    assert_eq!(
        std::fs::read_to_string(base.join("outside/pdf-tools/keep.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_memory_store_whose_folder_would_lead_outside_the_work_directory_fails_the_item() {
    let (emu, client) = setup();
    let notes = store(&client, "notes", &[("/a.md", "one")]);
    emu.set_script(Script::new().say("done"));
    let (env, _) = session(
        &client,
        vec![],
        vec![DeploymentCreateParamsResource::MemoryStore(
            MemoryStoreResourceParam::new(&notes),
        )],
    );
    let base = tempdir("memory-link");
    let workdir = base.join("work");
    std::fs::create_dir_all(base.join("outside")).unwrap();
    // an item's folder left by an earlier run, with a link where the mount path begins
    let item = client
        .environments()
        .work()
        .list(&env, &Default::default())
        .unwrap()
        .data
        .remove(0)
        .id;
    let item_dir = workdir.join(item.replace(
        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
        "_",
    ));
    std::fs::create_dir_all(&item_dir).unwrap();
    std::os::unix::fs::symlink(base.join("outside"), item_dir.join("mnt")).unwrap();
    let stats = drain(&client, &env, &workdir);
    assert_eq!((stats.ran, stats.failed), (0, 1), "{stats:?}");
    assert!(all_files(&base.join("outside")).is_empty());
    assert!(std::fs::read_dir(base.join("outside"))
        .unwrap()
        .next()
        .is_none());
    std::fs::remove_dir_all(&base).unwrap();
}
