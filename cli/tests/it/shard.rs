//! A batch over many machines: `--shard I/N` runs each task in exactly one shard (by a stable
//! hash of its id), shards run at once against one API without a task run twice, a bad shard
//! is a usage error (exit 2, the code a Kubernetes podFailurePolicy does not retry), and
//! `batch summary` merges the shards' results files.

use crate::support::{batch_args, cli, command, results, setup, stderr, temp, text};
use managed_agents::types::*;
use managed_agents_emulator::{Script, Step};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// A tasks file of `n` tasks `t1`..`tn` with the messages `task 1`..
fn tasks(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("tasks.jsonl");
    let lines: Vec<String> = (1..=n)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"task {i}\"}}\n"))
        .collect();
    std::fs::write(&path, lines.concat()).unwrap();
    path
}

fn ids(path: &Path) -> BTreeSet<String> {
    results(path)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn three_shards_at_once_run_every_task_exactly_once() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("shards");
    let tasks = tasks(dir.as_ref(), 12);
    let outs: Vec<PathBuf> = (0..3)
        .map(|i| dir.join(format!("results-{i}.jsonl")))
        .collect();
    let shards: Vec<String> = (0..3).map(|i| format!("{i}/3")).collect();
    let children: Vec<_> = (0..3)
        .map(|i| {
            command(&emu)
                .args(batch_args(
                    &tasks,
                    &outs[i],
                    &agent,
                    &env,
                    &["--shard", &shards[i], "--parallel", "2"],
                ))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // every task done once, in its own shard's file only
    let mut seen: HashMap<String, usize> = HashMap::new();
    for out in &outs {
        for r in results(out) {
            assert_eq!(r["stop_reason"], "end_turn", "{r}");
            let id = r["id"].as_str().unwrap().to_string();
            let i: usize = id[1..].parse().unwrap();
            assert_eq!(r["text"], format!("You said: task {i}"));
            *seen.entry(id).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    // the assignment is pinned: a change of the hash moves these and fails here
    assert_eq!(ids(&outs[0]), set(&["t3", "t5"]));
    assert_eq!(ids(&outs[1]), set(&["t10", "t2", "t4", "t7", "t9"]));
    assert_eq!(ids(&outs[2]), set(&["t1", "t11", "t12", "t6", "t8"]));
    // the API saw one session per task
    let sessions: Vec<Session> = c
        .sessions()
        .list(
            &SessionListParams::default()
                .limit(100)
                .include_archived(true),
        )
        .unwrap()
        .auto_paging()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sessions.len(), 12);
    let tasks_of: BTreeSet<String> = sessions
        .iter()
        .filter_map(|s| s.metadata.get("task").cloned())
        .collect();
    assert_eq!(tasks_of.len(), 12, "{tasks_of:?}");

    // the merge: 12 done, for a person and as JSON
    let mut args = vec!["batch", "summary"];
    args.extend(outs.iter().map(|p| p.to_str().unwrap()));
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let said = text(&o.stdout);
    assert!(
        said.starts_with("12 tasks in 3 files: 12 done, 0 failed\n"),
        "{said}"
    );
    args.push("--json");
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["tasks"], 12, "{v}");
    assert_eq!(v["done"], 12, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["failures"], serde_json::json!([]), "{v}");
    assert_eq!(v["in_several_files"], serde_json::json!([]), "{v}");
    let o = cli(
        &emu,
        &[
            "batch",
            "summary",
            outs[0].to_str().unwrap(),
            "--tasks",
            tasks.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["done"], 2, "{v}");
    assert_eq!(v["not_run"].as_array().unwrap().len(), 10, "{v}");

    // run again: every shard has nothing left
    let o = cli(
        &emu,
        &batch_args(&tasks, &outs[1], &agent, &env, &["--shard", "1/3"]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard 1/3: 5 of 12 tasks"),
        "{}",
        stderr(&o)
    );
    assert_eq!(results(&outs[1]).len(), 5);
}

#[test]
fn the_index_comes_from_job_completion_index() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("shard-env");
    let tasks = tasks(dir.as_ref(), 12);
    let out = dir.join("results.jsonl");
    let o = command(&emu)
        .args(batch_args(&tasks, &out, &agent, &env, &["--shard", "3"]))
        .env("JOB_COMPLETION_INDEX", "0")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ids(&out), set(&["t3", "t5"]));

    // a shard no task hashes to has nothing to do, and says so
    let two = dir.join("two.jsonl");
    std::fs::write(
        &two,
        "{\"id\": \"t1\", \"message\": \"one\"}\n{\"id\": \"t2\", \"message\": \"two\"}\n",
    )
    .unwrap();
    let empty = dir.join("empty.jsonl");
    let o = cli(
        &emu,
        &batch_args(&two, &empty, &agent, &env, &["--shard", "0/3"]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("shard 0/3: 0 of 2 tasks"),
        "{}",
        stderr(&o)
    );
    assert!(results(&empty).is_empty());
}

#[test]
fn a_bad_shard_is_a_usage_error_not_retried() {
    let (emu, c, agent, env) = setup(false);
    let dir = temp("shard-bad");
    let tasks = tasks(dir.as_ref(), 3);
    let out = dir.join("results.jsonl");
    for (shard, index, says) in [
        ("3/3", None, "out of range"),
        ("-1/3", None, "not a whole number"),
        ("1/0", None, "1 to"),
        ("a/b", None, "not a whole number"),
        ("3", Some("3"), "out of range"),
        ("3", Some("x"), "not a whole number"),
        ("3", None, "JOB_COMPLETION_INDEX"),
    ] {
        let arg = format!("--shard={shard}");
        let mut cmd = command(&emu);
        cmd.args(batch_args(&tasks, &out, &agent, &env, &[&arg]))
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some(i) = index {
            cmd.env("JOB_COMPLETION_INDEX", i);
        }
        let o = cmd.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{shard} {index:?}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(says),
            "{shard} {index:?}: {}",
            stderr(&o)
        );
    }
    // nothing ran
    assert!(c
        .sessions()
        .list(&SessionListParams::default())
        .unwrap()
        .data
        .is_empty());
    assert!(results(&out).is_empty());
}

#[test]
fn the_summary_counts_failures_and_sums_usage() {
    let (emu, _c, _agent, _env) = setup(false);
    let dir = temp("summary");
    let a = dir.join("results-0.jsonl");
    let b = dir.join("results-1.jsonl");
    std::fs::write(
        &a,
        "{\"id\":\"t1\",\"session_id\":\"s1\",\"stop_reason\":\"end_turn\",\"text\":\"x\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5},\"error\":null}\n\
         {\"id\":\"t2\",\"session_id\":\"s2\",\"stop_reason\":null,\"text\":\"\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2},\"error\":\"deadline passed\"}\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "{\"id\":\"t3\",\"session_id\":\"s3\",\"stop_reason\":\"end_turn\",\"text\":\"y\",\"usage\":null,\"error\":null}\n\
         {\"id\":\"t2\",\"session_id\":\"s4\",\"stop_reason\":\"end_turn\",\"text\":\"z\",\"usage\":{\"input_tokens\":100},\"error\":null}\n\
         {\"id\":\"t4\",\"session_id\":\"s5\",\"stop_reason\":\"retries_exhausted\",\"text\":\"\",\"usage\":null,\"error\":null}\n\
         {\"id\":\"t5\",\"sess",
    )
    .unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let o = cli(&emu, &["batch", "summary", a, b, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["tasks"], 4, "{v}");
    assert_eq!(v["done"], 3, "{v}");
    assert_eq!(v["failed"], 1, "{v}");
    assert_eq!(v["usage"]["input_tokens"], 111, "{v}");
    assert_eq!(v["usage"]["output_tokens"], 7, "{v}");
    assert_eq!(v["failures"][0]["id"], "t4", "{v}");
    assert_eq!(
        v["failures"][0]["error"], "stopped: retries_exhausted",
        "{v}"
    );
    assert_eq!(v["in_several_files"], serde_json::json!(["t2"]), "{v}");
    let o = cli(&emu, &["batch", "summary", a, b]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let said = text(&o.stdout);
    assert!(
        said.contains("4 tasks in 2 files: 3 done, 1 failed"),
        "{said}"
    );
    assert!(said.contains("input_tokens 111"), "{said}");
    assert!(said.contains("  t4: stopped: retries_exhausted"), "{said}");
    // with the tasks file: the tasks no file names did not run
    let tasks = tasks(dir.as_ref(), 6);
    let t = tasks.to_str().unwrap();
    let o = cli(&emu, &["batch", "summary", a, b, "--tasks", t, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["not_run"], serde_json::json!(["t5", "t6"]), "{v}");
    let o = cli(&emu, &["batch", "summary", a, b, "--tasks", t]);
    let said = text(&o.stdout);
    assert!(
        said.contains("not run (2 of the tasks file's 6; no results file names them): t5, t6"),
        "{said}"
    );
    // a file that is not there
    let o = cli(&emu, &["batch", "summary", a, "/nonexistent/results.jsonl"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
