//! `worker`: its help, a missing environment key or a bad option value as a clear usage error
//! (exit 2) before anything is sent, the memory store options reaching the worker, and a
//! worker killed mid-item replaced.

use crate::support::{text, BIN};
use std::process::Command;

#[test]
fn worker_help_lists_its_options() {
    let o = Command::new(BIN)
        .args(["worker", "--help"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let help = text(&o.stdout);
    for option in [
        "--environment <ID>",
        "--environment-key-env <VAR>",
        "ANTHROPIC_ENVIRONMENT_KEY",
        "--workdir <DIR>",
        "--concurrency <N>",
        "--tool <NAME=COMMAND>",
        "--once",
        "--memory-sync-interval <DURATION>",
        "--memory-sync-deletions <MODE>",
        "log_only",
    ] {
        assert!(help.contains(option), "{option} missing from: {help}");
    }
}

#[test]
fn a_missing_environment_key_is_a_usage_error() {
    // nothing listens here: the key is checked before any request
    let o = Command::new(BIN)
        .args(["worker", "--environment", "env_1", "--once"])
        .args(["--environment-key-env", "MA_TEST_NO_SUCH_KEY"])
        .env_remove("MA_TEST_NO_SUCH_KEY")
        .env("ANTHROPIC_ENVIRONMENT_KEY", "not-this-one")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("no environment key"), "{err}");
    assert!(err.contains("MA_TEST_NO_SUCH_KEY"), "{err}");
    assert!(!err.contains("not-this-one"), "{err}");
    // the default variable, empty, is refused the same way
    let o = Command::new(BIN)
        .args(["worker", "--environment", "env_1"])
        .env("ANTHROPIC_ENVIRONMENT_KEY", "")
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("ANTHROPIC_ENVIRONMENT_KEY"));
    // no environment at all is clap's usage error
    let o = Command::new(BIN).args(["worker"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// A worker process killed (SIGKILL) while an item's tool runs: its lease lapses, a second
/// worker process reclaims the item, runs what is not answered and finishes the session, and
/// no tool result is posted twice.
#[cfg(unix)]
#[test]
fn a_worker_killed_mid_item_is_replaced_and_no_result_is_posted_twice() {
    use managed_agents::types::*;
    use managed_agents_emulator::{Faults, Script};
    use serde_json::{json, Value};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let (emu, client) = crate::support::emulator();
    // leases of 2 s: a live worker heartbeats each second, a dead one loses its item soon
    emu.set_faults(Faults {
        lease_ttl: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    // the first run of the command starts a long sleep; a run that finds its mark resumes
    emu.set_script(
        Script::new()
            .agent_tool(
                "bash",
                json!({"command": "if [ -e started ]; then echo resumed; else sleep 60 & echo $! > started; wait; echo first; fi"}),
            )
            .agent_tool("write", json!({"file_path": "after.txt", "content": "after\n"}))
            .say("done"),
    );
    let (env, agent) = crate::support::self_hosted(&client);
    let session = crate::support::session_sent_go(&client, &agent, &env);
    let workdir = crate::support::temp("worker-kill");
    let worker = |once: bool| {
        let mut c = crate::support::worker(&emu, &env);
        c.arg("--workdir")
            .arg(&workdir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if once {
            c.arg("--once");
        }
        c.spawn().unwrap()
    };
    let mut first = worker(false);
    // wait for the command to be under way in the item's work directory
    let deadline = Instant::now() + Duration::from_secs(60);
    let mark = loop {
        let found = std::fs::read_dir(&workdir)
            .unwrap()
            .flatten()
            .map(|d| d.path().join("started"))
            .find(|p| std::fs::read_to_string(p).is_ok_and(|s| s.trim().parse::<u32>().is_ok()));
        if let Some(mark) = found {
            break mark;
        }
        assert!(
            Instant::now() < deadline,
            "the first worker never ran the command"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    first.kill().unwrap(); // SIGKILL
    let _ = first.wait();
    // the command the dead worker started lives on in its own process group: end it
    let pid = std::fs::read_to_string(&mark).unwrap().trim().to_string();
    let _ = Command::new("kill").args(["-9", &pid]).status();

    let second = worker(true).wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let events = crate::support::events(&client, &session);
    let uses: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "agent.tool_use")
        .map(|e| &e["id"])
        .collect();
    assert_eq!(uses.len(), 2, "{events:?}");
    for id in &uses {
        let answers: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "user.tool_result" && &&e["tool_use_id"] == id)
            .collect();
        assert_eq!(answers.len(), 1, "{id}: {events:?}");
    }
    let first_result = events
        .iter()
        .find(|e| e["type"] == "user.tool_result")
        .unwrap();
    assert!(
        first_result["content"].to_string().contains("resumed"),
        "{first_result}"
    );
    let last = events.last().unwrap();
    assert_eq!(
        (&last["type"], &last["stop_reason"]["type"]),
        (&json!("session.status_idle"), &json!("end_turn"))
    );
    let item = &client
        .environments()
        .work()
        .list(&env, &WorkListParams::default())
        .unwrap()
        .data[0];
    assert_eq!(serde_json::to_value(&item.state).unwrap(), "stopped");
    assert_eq!(
        std::fs::read_to_string(mark.parent().unwrap().join("after.txt")).unwrap(),
        "after\n"
    );
}

#[test]
fn bad_memory_sync_values_are_usage_errors() {
    for (flag, value, says) in [
        ("--memory-sync-interval", "1s", "at least 5s"),
        ("--memory-sync-interval", "0s", "more than zero"),
        ("--memory-sync-interval", "soon", "--memory-sync-interval"),
        ("--memory-sync-deletions", "maybe", "possible values"),
        (
            "--memory-sync-deletions",
            "LogOnly",
            "--memory-sync-deletions",
        ),
    ] {
        // nothing listens here: the values are checked before any request
        let o = Command::new(BIN)
            .args(["worker", "--environment", "env_1", "--once", flag, value])
            .env("ANTHROPIC_ENVIRONMENT_KEY", "k")
            .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

/// `--memory-sync-deletions disabled` keeps the memory of a file the agent deleted;
/// `--memory-sync-interval off` runs the session without its memory stores.
#[test]
fn the_memory_options_reach_the_worker() {
    use managed_agents::types::*;
    use managed_agents_emulator::Script;
    use serde_json::json;

    let (emu, client) = crate::support::emulator();
    let store = client
        .memory_stores()
        .create(&MemoryStoreCreateParams::new("notes"))
        .unwrap()
        .id;
    for path in ["/a.md", "/b.md"] {
        client
            .memory_stores()
            .memories()
            .create(
                &store,
                &Default::default(),
                &MemoryCreateParams::new(path).content("x"),
            )
            .unwrap();
    }
    let (env, agent) = crate::support::self_hosted(&client);
    let workdir = crate::support::temp("worker-memory");
    // runs one session whose agent runs `command`, with the worker's `options`; returns the
    // command's output
    let run = |command: &str, options: &[&str]| -> String {
        emu.set_script(
            Script::new()
                .agent_tool("bash", json!({ "command": command }))
                .say("done"),
        );
        let session = crate::support::session_of(
            &client,
            &SessionCreateParams::new(agent.as_str(), env.as_str()).resources(vec![
                DeploymentCreateParamsResource::MemoryStore(MemoryStoreResourceParam::new(&store)),
            ]),
        );
        let o = crate::support::worker(&emu, &env)
            .args(["--once", "--workdir"])
            .arg(&workdir)
            .args(options)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let events = crate::support::events(&client, &session);
        let result = events
            .iter()
            .find(|e| e["type"] == "user.tool_result")
            .unwrap_or_else(|| panic!("no tool result: {events:?}"));
        result["content"].to_string()
    };
    let paths = || -> Vec<String> {
        client
            .memory_stores()
            .memories()
            .list(&store, &MemoryListParams::default())
            .unwrap()
            .auto_paging()
            .filter_map(|m| match m.unwrap() {
                MemoryListItem::Memory(m) => Some(m.path),
                _ => None,
            })
            .collect()
    };

    let out = run(
        "rm mnt/memory/notes/a.md && ls mnt/memory/notes",
        &["--memory-sync-deletions", "disabled"],
    );
    assert!(out.contains("b.md") && !out.contains("a.md"), "{out}");
    assert_eq!(paths(), ["/a.md", "/b.md"]);

    let out = run(
        "ls mnt/memory/notes 2>&1 || echo no store here",
        &["--memory-sync-interval", "off"],
    );
    assert!(out.contains("no store here"), "{out}");
}
