//! The command end to end against the emulator: a run with a tool command, a batch of 50
//! with failures, interrupted and resumed, JSON output, resource commands and bad input.

use crate::support::{cli, lines_written, results, run, setup, temp};
use managed_agents::{types::*, Client};
use managed_agents_emulator::{Script, Step};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn run_answers_a_tool_with_a_command_and_downloads_outputs() {
    let (emu, _c, agent, env) = setup(true);
    emu.set_script(
        Script::new()
            .call_tool("shout", json!({"text": "quiet please"}))
            .say("done")
            .write_file("out.txt", "result"),
    );
    let dir = temp("run");
    let out = run(
        &emu,
        &agent,
        &env,
        &[
            "--tool",
            "shout=tr a-z A-Z",
            "--download-outputs",
            dir.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "done\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "result"
    );
    // the tool ran: the session holds its upper-cased result
    let c = Client::builder()
        .api_key("k")
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let sessions = c.sessions().list(&Default::default()).unwrap();
    let log: Vec<SessionEvent> = c
        .sessions()
        .events()
        .list(&sessions.data[0].id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let result = log.iter().find_map(|e| match e {
        SessionEvent::UserCustomToolResult(r) => Some(serde_json::to_value(&r.content).unwrap()),
        _ => None,
    });
    assert_eq!(
        result,
        Some(json!([{"type": "text", "text": "{\"TEXT\":\"QUIET PLEASE\"}"}]))
    );
}

#[test]
fn run_json_prints_events_and_a_summary_and_exit_codes_tell_stops_apart() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("hi"));
    let out = run(&emu, &agent, &env, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["type"] == "agent.message")
            .count(),
        1
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["stop_reason"], "end_turn");
    assert!(summary["session_id"].as_str().unwrap().starts_with("sesn_"));

    emu.set_script(Script::new().terminate());
    assert_eq!(run(&emu, &agent, &env, &[]).status.code(), Some(3));
    emu.set_script(Script::new().fail());
    assert_eq!(run(&emu, &agent, &env, &[]).status.code(), Some(5));
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(5))));
    let out = run(&emu, &agent, &env, &["--deadline", "1s"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&emu, "agent_missing", &env, &[]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_batch_of_fifty_interrupted_and_resumed_runs_each_task_once() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(
        Script::new()
            .step(Step::Pause(Duration::from_millis(300)))
            .step(Step::Echo),
    );
    let dir = temp("batch");
    let tasks = dir.join("tasks.jsonl");
    let mut lines = Vec::new();
    for i in 0..50 {
        // every tenth task names an agent that does not exist: a failure, recorded
        let a = if i % 10 == 7 {
            "agent_missing".to_string()
        } else {
            agent.clone()
        };
        lines.push(
            json!({"id": format!("t{i:02}"), "message": format!("task {i}"), "agent": a})
                .to_string(),
        );
    }
    std::fs::write(&tasks, lines.join("\n") + "\n").unwrap();
    let out = dir.join("results.jsonl");
    let args = [
        "batch",
        tasks.to_str().unwrap(),
        "--environment",
        env.as_str(),
        "--parallel",
        "8",
        "--out",
        out.to_str().unwrap(),
    ];

    // first run: interrupted once ten results are in
    let mut child = crate::support::command(&emu)
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while lines_written(&out) < 10 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let first = results(&out);
    assert_eq!(status.code(), Some(130), "{} results", first.len());
    assert!(
        first.len() >= 10 && first.len() < 50,
        "{} results",
        first.len()
    );

    // second run: the rest
    let out2 = cli(&emu, &args);
    assert_eq!(
        out2.status.code(),
        Some(1),
        "some tasks failed: exit 1\n{}",
        String::from_utf8_lossy(&out2.stderr)
    );
    let all = results(&out);
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in &all {
        *by_id
            .entry(r["id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(by_id.len(), 50, "a task is missing");
    assert!(by_id.values().all(|n| *n == 1), "a task has two results");
    for r in &all {
        let i: usize = r["id"].as_str().unwrap()[1..].parse().unwrap();
        if i % 10 == 7 {
            assert!(r["error"].as_str().unwrap().contains("404"), "{r}");
        } else {
            assert_eq!(r["stop_reason"], "end_turn", "{r}");
            assert_eq!(r["text"], format!("You said: task {i}"));
        }
    }
    // no task ran twice: one session per successful task
    let titles: Vec<String> = c
        .sessions()
        .list(&SessionListParams::default().limit(1000))
        .unwrap()
        .data
        .into_iter()
        .filter_map(|s| s.title)
        .collect();
    assert_eq!(titles.len(), 45);
    let unique: std::collections::HashSet<_> = titles.iter().collect();
    assert_eq!(unique.len(), 45, "a task had two sessions");

    // a third run has nothing left to do, but the five failures remain
    let out3 = cli(&emu, &args);
    assert_eq!(out3.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out3.stderr).contains("5 failed before"));
    assert_eq!(results(&out).len(), 50);
}

#[test]
fn resource_commands_print_json_and_take_yaml_definitions() {
    let (emu, c, agent_id, env) = setup(false);
    let dir = temp("res");
    let def = dir.join("agent.yaml");
    std::fs::write(&def, "name: Reviewer\nmodel: claude-opus-4-5\nsystem: Be brief.\ntools:\n  - type: agent_toolset_20260401\n").unwrap();
    let out = cli(&emu, &["agents", "create", def.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(agent["system"], "Be brief.");
    let list: Value = serde_json::from_slice(&cli(&emu, &["agents", "list"]).stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let got: Value = serde_json::from_slice(
        &cli(&emu, &["agents", "get", agent["id"].as_str().unwrap()]).stdout,
    )
    .unwrap();
    assert_eq!(got["id"], agent["id"]);

    let file = dir.join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let up: Value =
        serde_json::from_slice(&cli(&emu, &["files", "upload", file.to_str().unwrap()]).stdout)
            .unwrap();
    let back = dir.join("back.txt");
    let download = |id: &str| {
        let args = ["files", "download", id, "--out", back.to_str().unwrap()];
        cli(&emu, &args)
    };
    // an uploaded file is not downloadable (as in the API); a session's output is
    assert_ne!(download(up["id"].as_str().unwrap()).status.code(), Some(0));
    emu.set_script(Script::new().write_file("notes.txt", "hello"));
    let session = c
        .sessions()
        .create(&SessionCreateParams::new(agent_id.as_str(), env.as_str()))
        .unwrap();
    c.run(&session.id).message("go").until_idle().unwrap();
    let outputs = c
        .files()
        .list(&FileListParams::default().scope_id(session.id.as_str()))
        .unwrap();
    let out = download(&outputs.data[0].id);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(back).unwrap(), "hello");
}

#[test]
fn bad_arguments_and_bad_definitions_are_one_line_errors_with_exit_2() {
    let (emu, _c, _agent, _env) = setup(false);
    let dir = temp("bad");
    let bad_yaml = dir.join("bad.yaml");
    std::fs::write(&bad_yaml, "name: [unclosed\n").unwrap();
    let not_agent = dir.join("env.json");
    std::fs::write(&not_agent, r#"{"model": 7}"#).unwrap();
    let bad_tasks = dir.join("tasks.jsonl");
    std::fs::write(
        &bad_tasks,
        "{\"id\": \"a\", \"message\": \"m\"}\nnot json\n",
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["frobnicate"], "frobnicate"),
        (
            vec!["run", "--agent", "a", "--environment", "e"],
            "--message",
        ),
        (
            vec![
                "run",
                "--agent",
                "a",
                "--environment",
                "e",
                "--message",
                "m",
                "--deadline",
                "soon",
            ],
            "--deadline",
        ),
        (
            vec![
                "run",
                "--agent",
                "a",
                "--environment",
                "e",
                "--message",
                "m",
                "--tool",
                "noequals",
            ],
            "NAME=COMMAND",
        ),
        (vec!["run", "--bogus"], "--bogus"),
        (
            vec!["agents", "create", bad_yaml.to_str().unwrap()],
            "bad.yaml",
        ),
        (
            vec!["agents", "create", not_agent.to_str().unwrap()],
            "env.json",
        ),
        (
            vec!["agents", "create", "/no/such/file.yaml"],
            "/no/such/file.yaml",
        ),
        (
            vec![
                "batch",
                bad_tasks.to_str().unwrap(),
                "--out",
                "/tmp/x",
                "--agent",
                "a",
                "--environment",
                "e",
            ],
            "tasks.jsonl:2",
        ),
        (
            vec![
                "batch",
                bad_tasks.to_str().unwrap(),
                "--agent",
                "a",
                "--environment",
                "e",
            ],
            "--out",
        ),
    ];
    for (args, want) in cases {
        let out = cli(&emu, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // one error, on one line (clap adds its usage below its own)
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{args:?}: not one error line: {stderr}"
        );
        assert!(
            stderr.starts_with("error: ") && stderr.contains(want),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // help everywhere
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["batch", "--help"],
        vec!["agents", "--help"],
        vec!["emulator", "--help"],
    ] {
        let out = cli(&emu, &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("managed-agents"),
            "{args:?}"
        );
    }
}
