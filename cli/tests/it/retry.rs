//! Batches whose tasks failed: failures are not "done" (the re-run says how many failed and how
//! to retry them, and exits non-zero while they remain), a task whose tool was killed is tried
//! again at most `--max-attempts` times, and an error result tells the agent the exit status
//! and the end of stderr, never the command line.

use crate::support::{cli, setup, stderr, temp};
use managed_agents::types::*;
use managed_agents::Client;
use managed_agents_emulator::{Emulator, Script};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn batch(emu: &Emulator, tasks: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "batch",
        tasks.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli(emu, &args)
}

#[test]
fn failed_tasks_are_not_done_and_retry_failed_runs_them_again() {
    let (emu, _c, agent, env) = setup(false);
    emu.set_script(Script::new().say("ok"));
    let dir = temp("retryfailed");
    let tasks = dir.join("tasks.jsonl");
    let text: String = (0..5)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"go\"}}\n"))
        .collect();
    std::fs::write(&tasks, text).unwrap();
    let out = dir.join("results.jsonl");
    let missing = ["--agent", "agent_missing", "--environment", env.as_str()];
    let o = batch(&emu, &tasks, &out, &missing);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines(&out).len(), 5);

    // again: nothing is run, but the failures are reported and the exit is not a success
    let o = batch(&emu, &tasks, &out, &missing);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("5 failed before"), "{err}");
    assert!(err.contains("--retry-failed"), "{err}");
    assert_eq!(lines(&out).len(), 5);

    // retried with the right agent: every task ends its turn, and then all is done
    let good = ["--agent", agent.as_str(), "--environment", env.as_str()];
    let mut retry = good.to_vec();
    retry.push("--retry-failed");
    let o = batch(&emu, &tasks, &out, &retry);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&out).len(), 10);
    let o = batch(&emu, &tasks, &out, &good);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("5 already done"), "{err}");
    assert!(!err.contains("failed before"), "{err}");
    assert_eq!(lines(&out).len(), 10);
}

fn sessions(c: &Client) -> usize {
    c.sessions()
        .list(&SessionListParams::default().limit(100))
        .unwrap()
        .data
        .len()
}

#[test]
fn a_task_whose_tool_is_killed_is_tried_at_most_max_attempts_times() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("maxattempts");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let args = [
        "--agent",
        agent.as_str(),
        "--environment",
        env.as_str(),
        "--tool",
        "shout=kill -KILL $$",
    ];
    for attempt in 1..=3 {
        let o = batch(&emu, &tasks, &out, &args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(lines(&out).len(), attempt);
    }
    // every attempt carries on in the session of the first
    assert_eq!(sessions(&c), 1);
    // the default of 3 attempts is spent: not run again, still a failure
    let o = batch(&emu, &tasks, &out, &args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("3 attempts"), "{err}");
    assert_eq!(lines(&out).len(), 3);
    assert_eq!(sessions(&c), 1);
    // more attempts allowed: one more
    let mut more = args.to_vec();
    more.extend(["--max-attempts", "4"]);
    let o = batch(&emu, &tasks, &out, &more);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines(&out).len(), 4);
    assert_eq!(sessions(&c), 1);
    // the killed calls were never answered with an error: nothing was posted for them
    let session = &c.sessions().list(&Default::default()).unwrap().data[0];
    let answered = c
        .sessions()
        .events()
        .list(&session.id, &Default::default())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| matches!(e, SessionEvent::UserCustomToolResult(_)))
        .count();
    assert_eq!(answered, 0);
}

#[test]
fn a_task_whose_tool_was_killed_carries_on_in_its_session() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let dir = temp("carryon");
    let tasks = dir.join("tasks.jsonl");
    std::fs::write(&tasks, "{\"id\": \"t1\", \"message\": \"go\"}\n").unwrap();
    let out = dir.join("results.jsonl");
    let marker = dir.join("ran-once");
    let tool = format!(
        "shout=if [ -e {m} ]; then echo fine; else touch {m}; kill -KILL $$; fi",
        m = marker.display()
    );
    let args = [
        "--agent",
        agent.as_str(),
        "--environment",
        env.as_str(),
        "--tool",
        tool.as_str(),
    ];
    let o = batch(&emu, &tasks, &out, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = batch(&emu, &tasks, &out, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let l = lines(&out);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0]["session_id"], l[1]["session_id"]);
    assert_eq!(l[1]["stop_reason"], "end_turn", "{}", l[1]);
    assert_eq!(sessions(&c), 1);
}

#[test]
fn an_error_result_carries_the_exit_status_and_stderr_not_the_command() {
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = crate::support::run(
        &emu,
        &agent,
        &env,
        &[
            "--tool",
            "shout=echo out-text; echo first >&2; echo oops >&2; exit 3 # token=hunter2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let results = crate::support::custom_tool_results(&c);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["is_error"], true);
    let text = results[0]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("status 3"), "{text}");
    assert!(text.contains("first\noops"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("echo"), "{text}");
}

#[test]
fn run_answers_a_killed_tool_with_an_error_result_and_fails() {
    // `run` has no later attempt: the call is answered, so the session is not left waiting
    let (emu, c, agent, env) = setup(true);
    emu.set_script(Script::new().call_tool("shout", json!({})).say("ok"));
    let o = crate::support::run(&emu, &agent, &env, &["--tool", "shout=kill -KILL $$"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shout: the command was killed by signal 9"),
        "{err}"
    );
    let results = crate::support::custom_tool_results(&c);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["is_error"], true);
}
