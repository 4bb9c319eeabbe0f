//! Batches that never run a task twice (one runner per results file, torn lines repaired, the
//! whole tasks file checked first) and strict inputs (unknown fields and wrong types are errors
//! naming the file, line and field).

use crate::support::{cli, setup, stderr, temp};
use managed_agents_emulator::Script;
use serde_json::{json, Value};
use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_torn_last_line_is_repaired_before_appending() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().step(managed_agents_emulator::Step::Echo));
    let dir = temp("torn");
    let tasks = dir.join("tasks.jsonl");
    write(
        &tasks,
        "{\"id\": \"t1\", \"message\": \"one\"}\n{\"id\": \"t2\", \"message\": \"two\"}\n",
    );
    let out = dir.join("results.jsonl");
    // t1 finished; t2's line was cut by a crash
    let done = json!({"id": "t1", "session_id": "sesn_x", "stop_reason": "end_turn", "text": "x", "usage": null, "error": null});
    write(&out, &format!("{done}\n{{\"id\": \"t2\", \"sess"));
    let o = cli(
        &emu,
        &crate::support::batch_args(&tasks, &out, &agent, &env, &[]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["t1", "t2"]);
    assert_eq!(lines[1]["text"], "You said: two");
}

#[test]
fn a_second_runner_on_the_same_results_is_refused_and_so_is_the_tasks_file() {
    let (emu, _c, agent, env) = setup(false);
    let dir = temp("lock");
    let tasks = dir.join("tasks.jsonl");
    write(&tasks, "{\"id\": \"t1\", \"message\": \"one\"}\n");
    let out = dir.join("results.jsonl");
    let args = |out: &Path| {
        vec![
            "batch".to_string(),
            tasks.display().to_string(),
            "--agent".into(),
            agent.clone(),
            "--environment".into(),
            env.clone(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    // another runner holds the results file
    let held = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&out)
        .unwrap();
    held.lock().unwrap();
    let a = args(&out);
    let o = cli(&emu, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("in use by another batch"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "");
    drop(held);

    // results into the tasks file
    let a = args(&tasks);
    let o = cli(&emu, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is the tasks file"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&tasks).unwrap(),
        "{\"id\": \"t1\", \"message\": \"one\"}\n"
    );
}

#[test]
fn every_bad_task_line_is_reported_before_anything_runs() {
    let (emu, c, agent, env) = setup(false);
    let dir = temp("tasks");
    let tasks = dir.join("tasks.jsonl");
    write(
        &tasks,
        &[
            r#"{"id": "ok", "message": "fine"}"#,
            r#"{"id": "empty", "message": ""}"#,
            r#"{"id": "typo", "message": "m", "agnet": "agent_x"}"#,
            r#"{"id": "type", "message": "m", "agent": 123}"#,
            r#"{"id": "vaults", "message": "m", "vault_ids": "vlt_x"}"#,
            r#"not json"#,
        ]
        .join("\n"),
    );
    let out = dir.join("results.jsonl");
    let o = cli(
        &emu,
        &crate::support::batch_args(&tasks, &out, &agent, &env, &[]),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for want in [
        "tasks.jsonl:2: field `message`",
        "tasks.jsonl:3: ",
        "agnet",
        "tasks.jsonl:4: field `agent`",
        "tasks.jsonl:5: field `vault_ids`",
        "tasks.jsonl:6:",
    ] {
        assert!(err.contains(want), "{want:?} missing from:\n{err}");
    }
    // nothing ran
    assert!(c
        .sessions()
        .list(&Default::default())
        .unwrap()
        .data
        .is_empty());
}

#[test]
fn batch_text_keeps_the_breaks_between_messages() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("one").say("two"));
    let dir = temp("breaks");
    let tasks = dir.join("tasks.jsonl");
    write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n");
    let out = dir.join("results.jsonl");
    let o = cli(
        &emu,
        &crate::support::batch_args(&tasks, &out, &agent, &env, &[]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line: Value = serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(line["text"], "one\ntwo");
}

#[test]
fn definitions_are_strict_and_yaml_flow_mappings_are_yaml() {
    let (emu, c, _agent, _env) = setup(false);
    let dir = temp("strict");
    let cases = [
        (
            "env.yaml",
            "name: e\nconfg: {networking: limited}\n",
            "env.yaml:2:",
            "confg",
        ),
        (
            "agent.yaml",
            "name: A\nmodel: claude-opus-4-5\nsytem: hi\n",
            "agent.yaml:3:",
            "sytem",
        ),
        (
            "agent.json",
            "{\"model\": \"claude-opus-4-5\",\n \"name\": 7}\n",
            "agent.json:2:",
            "field `name`",
        ),
    ];
    for (file, text, at, field) in cases {
        let path = dir.join(file);
        write(&path, text);
        let group = if file.starts_with("env") {
            "environments"
        } else {
            "agents"
        };
        let o = cli(&emu, &[group, "create", path.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(at) && err.contains(field), "{file}: {err}");
    }
    assert!(
        c.environments()
            .list(&Default::default())
            .unwrap()
            .data
            .len()
            == 1
    );

    let flow = dir.join("flow.yaml");
    write(&flow, "{name: Flow, model: claude-opus-4-5}\n");
    let o = cli(&emu, &["agents", "create", flow.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let agent: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(agent["name"], "Flow");
}

#[test]
fn retry_failed_runs_again_the_tasks_that_did_not_end_their_turn() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().fail());
    let dir = temp("retry");
    let tasks = dir.join("tasks.jsonl");
    write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n");
    let out = dir.join("results.jsonl");
    let mut args = crate::support::batch_args(&tasks, &out, &agent, &env, &[]);
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // without the flag a failed task is not run again, and is still a failure
    assert_eq!(cli(&emu, &args).status.code(), Some(1));
    emu.set_script(Script::new().say("ok"));
    args.push("--retry-failed");
    assert_eq!(cli(&emu, &args).status.code(), Some(0));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["stop_reason"], "retries_exhausted");
    assert_eq!(lines[1]["stop_reason"], "end_turn");
}

#[test]
fn a_bad_line_or_an_id_used_again_far_down_is_refused_before_any_session() {
    let (emu, _c, agent, env) = setup(false);
    let dir = temp("far-down");
    let tasks = dir.join("tasks.jsonl");
    let out = dir.join("results.jsonl");
    let good: String = (1..=5000)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"task {i}\"}}\n"))
        .collect();
    for (last, want) in [
        (
            r#"{"id": "t5001", "message": "m", "agnet": "a"}"#,
            "tasks.jsonl:5001: ",
        ),
        (
            r#"{"id": "t17", "message": "again"}"#,
            "tasks.jsonl:5001: the id \"t17\" is used twice",
        ),
    ] {
        write(&tasks, &format!("{good}{last}\n"));
        emu.clear_request_log();
        let o = cli(
            &emu,
            &crate::support::batch_args(&tasks, &out, &agent, &env, &[]),
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{want:?} missing from:\n{err}");
        // no request at all: the whole file is checked before the client is used
        let sent: Vec<String> = emu
            .request_log()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert!(sent.is_empty(), "{sent:?}");
        assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "");
    }
}

#[test]
fn tasks_from_stdin_run_and_leave_no_file_beside_the_results() {
    use std::io::Write;
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().step(managed_agents_emulator::Step::Echo));
    let dir = temp("stdin-tasks");
    let out = dir.join("results.jsonl");
    let mut child = crate::support::command(&emu)
        .args([
            "batch",
            "-",
            "--agent",
            &agent,
            "--environment",
            &env,
            "--out",
            out.to_str().unwrap(),
            "--parallel",
            "2",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 1..=5 {
        writeln!(stdin, "{{\"id\": \"t{i}\", \"message\": \"task {i}\"}}").unwrap();
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut texts: Vec<String> = crate::support::results(&out)
        .iter()
        .map(|v| v["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    let want: Vec<String> = (1..=5).map(|i| format!("You said: task {i}")).collect();
    assert_eq!(texts, want);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["results.jsonl", "results.jsonl.journal"]);
}
