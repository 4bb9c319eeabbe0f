//! A batch's budgets: `--max-cost` stops new sessions once the list cost the API reports for
//! the batch's sessions reaches it (exit 6, tasks left not run, on a resume too),
//! `--session-max-cost` is each session's API budget on create (a session ending on it is
//! `budget_reached`), and the closing line and `batch summary` total the usage and list cost.

use crate::support::{batch_args, cli, results, setup, stderr, temp, text};
use managed_agents::types::SessionListParams;
use managed_agents::Client;
use managed_agents_emulator::{Script, LIST_COST_PER_MODEL_CALL};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A tasks file of `n` tasks `t1`..`tn`.
fn tasks(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("tasks.jsonl");
    let lines: Vec<String> = (1..=n)
        .map(|i| format!("{{\"id\": \"t{i}\", \"message\": \"task {i}\"}}\n"))
        .collect();
    std::fs::write(&path, lines.concat()).unwrap();
    path
}

/// The `budget` a session was created with, as JSON.
fn budget_of(c: &Client, session: &str) -> Value {
    let s = c.sessions().retrieve(session).unwrap();
    serde_json::to_value(s).unwrap()["budget"].clone()
}

fn sessions(c: &Client) -> usize {
    c.sessions()
        .list(&SessionListParams::default().limit(100))
        .unwrap()
        .into_iter()
        .count()
}

fn cost(r: &Value) -> u64 {
    r["usage"]["list_cost"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn the_batch_budget_stops_new_sessions_and_stays_spent_on_a_resume() {
    assert_eq!(
        LIST_COST_PER_MODEL_CALL, 10,
        "the amounts below assume 10 cents a call"
    );
    let (emu, c, agent, env) = setup(false);
    // two model calls a turn: 20 cents a session
    emu.set_script(Script::new().say("one").say("two"));
    let dir = temp("budget-batch");
    let tasks = tasks(dir.as_ref(), 5);
    let out = dir.join("results.jsonl");
    let args = batch_args(
        &tasks,
        &out,
        &agent,
        &env,
        &["--parallel", "1", "--max-cost", "0.50"],
    );
    let o = cli(&emu, &args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains("budget spent: $0.50 of --max-cost $0.50; 2 tasks not run"),
        "{err}"
    );
    assert!(err.contains("list_cost $0.50"), "{err}");
    let r = results(&out);
    let ids: Vec<&str> = r.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["t1", "t2", "t3"]);
    // each session's cap: what was left of the batch's
    let caps: Vec<Value> = r
        .iter()
        .map(|l| {
            budget_of(&c, l["session_id"].as_str().unwrap())["max_list_cost"]["amount"].clone()
        })
        .collect();
    assert_eq!(caps, ["50", "30", "10"]);
    assert_eq!(r[0]["stop_reason"], "end_turn");
    assert_eq!(r[1]["stop_reason"], "end_turn");
    // the third had 10 cents: one message, then its budget
    assert_eq!(r[2]["stop_reason"], "budget_reached", "{}", r[2]);
    assert_eq!(r[2]["text"], "one");
    assert_eq!(r.iter().map(cost).sum::<u64>(), 50);

    // a run again: the prior results' cost counts, nothing starts
    let before = sessions(&c);
    let o = cli(&emu, &args);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("budget spent"), "{}", stderr(&o));
    assert_eq!(results(&out).len(), 3);
    assert_eq!(sessions(&c), before);

    // the summary totals the list cost, each session once
    let o = cli(&emu, &["batch", "summary", out.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(v["usage"]["list_cost"]["amount"], "50", "{v}");
    assert_eq!(v["usage"]["list_cost"]["currency"], "USD", "{v}");
    assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0, "{v}");
    let o = cli(&emu, &["batch", "summary", out.to_str().unwrap()]);
    assert!(
        text(&o.stdout).contains("list_cost $0.50"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn the_session_budget_is_sent_on_create_and_a_session_ends_on_it() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().say("one").say("two"));
    let dir = temp("budget-session");
    let tasks = tasks(dir.as_ref(), 2);
    let out = dir.join("results.jsonl");
    let o = cli(
        &emu,
        &batch_args(&tasks, &out, &agent, &env, &["--session-max-cost", "0.10"]),
    );
    // every failure is a session on its budget: not worth retrying
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let r = results(&out);
    assert_eq!(r.len(), 2);
    for l in &r {
        assert_eq!(l["stop_reason"], "budget_reached", "{l}");
        assert!(l["error"].is_null(), "{l}");
        assert_eq!(cost(l), 10, "{l}");
        let b = budget_of(&c, l["session_id"].as_str().unwrap());
        assert_eq!(b["type"], "limit", "{b}");
        assert_eq!(b["max_list_cost"]["amount"], "10", "{b}");
        assert_eq!(b["max_list_cost"]["currency"], "USD", "{b}");
    }
}

#[test]
fn without_a_budget_sessions_have_none_and_a_bad_amount_is_a_usage_error() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().say("one"));
    let dir = temp("budget-none");
    let tasks = tasks(dir.as_ref(), 1);
    let out = dir.join("results.jsonl");
    let o = cli(&emu, &batch_args(&tasks, &out, &agent, &env, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = results(&out);
    assert!(budget_of(&c, r[0]["session_id"].as_str().unwrap()).is_null());
    assert_eq!(cost(&r[0]), 10);
    for bad in ["-1", "1.234", "ten"] {
        let o = cli(
            &emu,
            &batch_args(&tasks, &out, &agent, &env, &["--max-cost", bad]),
        );
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
}
