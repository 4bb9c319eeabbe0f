//! A batch's journal: each task's session recorded before its message and carried on after a
//! crash (an ended turn recorded without a message, a running one followed, an unmessaged one
//! messaged once), sessions named by their metadata, `batch cleanup` archiving the ones no
//! task claims, what a batch does with sessions it gives up on, and a batch killed with SIGKILL
//! again and again paying for exactly one session per task.

use crate::support::{cli, events, results, setup, stderr, temp};
use managed_agents::{types::*, Client};
use managed_agents_emulator::{Emulator, Script, Step};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn messages(c: &Client, session: &str) -> usize {
    events(c, session)
        .iter()
        .filter(|e| e["type"] == "user.message")
        .count()
}

/// Every session, archived ones too.
fn sessions(c: &Client) -> Vec<Session> {
    c.sessions()
        .list(
            &SessionListParams::default()
                .limit(100)
                .include_archived(true),
        )
        .unwrap()
        .auto_paging()
        .map(Result::unwrap)
        .collect()
}

/// A tasks file of `n` tasks `t00`.. with the messages `task 0`..
fn tasks(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("tasks.jsonl");
    let lines: Vec<String> = (0..n)
        .map(|i| json!({"id": format!("t{i:02}"), "message": format!("task {i}")}).to_string())
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn batch_args(tasks: &Path, out: &Path, agent: &str, env: &str, extra: &[&str]) -> Vec<String> {
    crate::support::batch_args(tasks, out, agent, env, extra)
        .into_iter()
        .map(String::from)
        .collect()
}

fn batch(emu: &Emulator, args: &[String]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(emu, &args)
}

/// What a run that crashed right after journaling `session` for `t00` left behind.
fn journal_one(out: &Path, session: &str) {
    let journal = format!("{}.journal", out.display());
    let text = format!(
        "{}\n{}\n",
        json!({"batch": "b1"}),
        json!({"task": "t00", "session_id": session})
    );
    std::fs::write(journal, text).unwrap();
}

fn create(c: &Client, agent: &str, env: &str, metadata: &[(&str, &str)]) -> String {
    let meta: std::collections::BTreeMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    c.sessions()
        .create(&SessionCreateParams::new(agent, env).metadata(meta))
        .unwrap()
        .id
}

fn send(c: &Client, session: &str, text: &str) {
    c.sessions()
        .events()
        .send(
            session,
            &EventSendParams::one(UserMessageEventParams::text(text)),
        )
        .unwrap();
}

/// Runs the batch over a journal that names `session` for `t00` (as a run that crashed
/// left it): its one result is that session's echo, the session got one message in all and
/// no other session was created. The result.
fn carried_on(
    emu: &Emulator,
    c: &Client,
    (tasks, out): (&Path, &Path),
    (agent, env): (&str, &str),
    session: &str,
) -> Value {
    journal_one(out, session);
    let o = batch(emu, &batch_args(tasks, out, agent, env, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = results(out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["session_id"], session);
    assert_eq!(r[0]["text"], "You said: task 0");
    assert_eq!(messages(c, session), 1);
    assert_eq!(sessions(c).len(), 1);
    r[0].clone()
}

#[test]
fn a_journaled_session_that_ended_its_turn_is_recorded_without_a_message() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("journal-ended");
    let tasks = tasks(&dir, 1);
    let out = dir.join("results.jsonl");
    let session = create(&c, &agent, &env, &[("batch", "b1"), ("task", "t00")]);
    c.run(&session).message("task 0").until_idle().unwrap();
    let r = carried_on(&emu, &c, (&tasks, &out), (&agent, &env), &session);
    assert_eq!(r["stop_reason"], "end_turn");
}

#[test]
fn a_journaled_session_still_running_is_followed_to_its_end() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(
        Script::new()
            .step(Step::Pause(Duration::from_millis(1500)))
            .step(Step::Echo),
    );
    let dir = temp("journal-running");
    let tasks = tasks(&dir, 1);
    let out = dir.join("results.jsonl");
    let session = create(&c, &agent, &env, &[("batch", "b1"), ("task", "t00")]);
    send(&c, &session, "task 0");
    carried_on(&emu, &c, (&tasks, &out), (&agent, &env), &session);
}

#[test]
fn a_journaled_session_never_messaged_gets_its_message_once() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("journal-unmessaged");
    let tasks = tasks(&dir, 1);
    let out = dir.join("results.jsonl");
    let session = create(&c, &agent, &env, &[("batch", "b1"), ("task", "t00")]);
    carried_on(&emu, &c, (&tasks, &out), (&agent, &env), &session);
}

#[test]
fn sessions_name_their_batch_and_task_and_cleanup_archives_orphans() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Echo));
    let dir = temp("journal-meta");
    let tasks = tasks(&dir, 2);
    let out = dir.join("results.jsonl");
    let o = batch(&emu, &batch_args(&tasks, &out, &agent, &env, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // the batch id is the journal's, kept by a run again
    let journal = std::fs::read_to_string(format!("{}.journal", out.display())).unwrap();
    let head: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    let id = head["batch"].as_str().unwrap().to_string();
    assert!(id.starts_with("results-"), "{id}");
    let mut by_task: HashMap<String, String> = HashMap::new();
    for s in sessions(&c) {
        assert_eq!(s.metadata.get("batch"), Some(&id), "{:?}", s.metadata);
        by_task.insert(s.metadata["task"].clone(), s.id.clone());
    }
    assert_eq!(by_task.len(), 2);
    for r in results(&out) {
        assert_eq!(by_task[r["id"].as_str().unwrap()], r["session_id"]);
    }
    let o = batch(
        &emu,
        &batch_args(&tasks, &out, &agent, &env, &["--batch-id", "other"]),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&id), "{}", stderr(&o));
    let long = "b".repeat(513);
    for bad in ["", long.as_str()] {
        let o = batch(
            &emu,
            &batch_args(&tasks, &out, &agent, &env, &["--batch-id", bad]),
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--batch-id"), "{}", stderr(&o));
    }

    // a session created by a run that crashed before journaling it, and one of another batch
    let orphan = create(&c, &agent, &env, &[("batch", &id), ("task", "t01")]);
    let foreign = create(&c, &agent, &env, &[("batch", "another"), ("task", "t01")]);
    // not while the batch runs (its results file locked), nor without a journal
    let held = std::fs::File::options().append(true).open(&out).unwrap();
    held.lock().unwrap();
    let o = cli(&emu, &["batch", "cleanup", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("in use"), "{}", stderr(&o));
    drop(held);
    let none = dir.join("none.jsonl");
    let o = cli(&emu, &["batch", "cleanup", "--out", none.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("none.jsonl.journal"), "{}", stderr(&o));
    assert!(!none.exists());
    assert!(sessions(&c).iter().all(|s| s.archived_at.is_none()));
    let o = cli(&emu, &["batch", "cleanup", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains(&orphan), "{}", stderr(&o));
    for s in sessions(&c) {
        assert_eq!(
            s.archived_at.is_some(),
            s.id == orphan,
            "{} {foreign}",
            s.id
        );
    }
}

/// A batch of one task whose session runs for five minutes, with `--deadline 2s` and
/// `--on-deadline HOW`: its one session.
fn past_deadline(how: &str) -> (Emulator, Client, Session) {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(300))));
    let dir = temp(&format!("journal-deadline-{how}"));
    let tasks = tasks(&dir, 1);
    let out = dir.join("results.jsonl");
    let extra = ["--deadline", "2s", "--on-deadline", how];
    let o = batch(&emu, &batch_args(&tasks, &out, &agent, &env, &extra));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let all = sessions(&c);
    assert_eq!(all.len(), 1);
    let s = c.sessions().retrieve(&all[0].id).unwrap();
    (emu, c, s)
}

#[test]
fn on_deadline_leave_leaves_the_session_running_and_archive_archives_it() {
    let (_emu, c, s) = past_deadline("leave");
    assert_eq!(s.status, SessionStatus::Running);
    assert!(!events(&c, &s.id)
        .iter()
        .any(|e| e["type"] == "user.interrupt"));
    let (_emu, c, s) = past_deadline("archive");
    assert!(s.archived_at.is_some());
    assert!(events(&c, &s.id)
        .iter()
        .any(|e| e["type"] == "user.interrupt"));
}

#[test]
fn a_second_ctrl_c_interrupts_the_running_sessions_before_quitting() {
    quitting_interrupts_the_running_sessions(&["INT", "INT"], 130);
}

#[test]
fn sigterm_interrupts_the_running_sessions_before_quitting() {
    quitting_interrupts_the_running_sessions(&["TERM"], 143);
}

/// A batch of two long tasks sent `signals` once both are messaged: it exits with `code`,
/// both sessions interrupted; a run again finishes both in their own sessions.
fn quitting_interrupts_the_running_sessions(signals: &[&str], code: i32) {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(Script::new().step(Step::Pause(Duration::from_secs(300))));
    let dir = temp(&format!("journal-quit-{}", signals[0]));
    let tasks = tasks(&dir, 2);
    let out = dir.join("results.jsonl");
    let mut child = crate::support::command(&emu)
        .args(batch_args(&tasks, &out, &agent, &env, &[]))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // both sessions messaged
    let t = Instant::now();
    while sessions(&c)
        .iter()
        .filter(|s| messages(&c, &s.id) == 1)
        .count()
        < 2
    {
        assert!(t.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    for sig in signals {
        let pid = child.id().to_string();
        Command::new("kill")
            .args([&format!("-{sig}"), &pid])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(child.wait().unwrap().code(), Some(code));
    for s in sessions(&c) {
        assert!(
            events(&c, &s.id)
                .iter()
                .any(|e| e["type"] == "user.interrupt"),
            "{} not interrupted",
            s.id
        );
    }
    // a run again asks each interrupted task again in its own session
    emu.set_script(Script::new().step(Step::Echo));
    let o = batch(&emu, &batch_args(&tasks, &out, &agent, &env, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sessions(&c).len(), 2);
    for r in results(&out) {
        let i: usize = r["id"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(r["text"], format!("You said: task {i}"), "{r}");
        assert_eq!(messages(&c, r["session_id"].as_str().unwrap()), 2);
    }
}

/// A pseudo-random number in `0..n` (a fixed sequence per seed: the moments vary, the test
/// is repeatable).
fn next(seed: &mut u64, n: u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) % n
}

#[test]
fn a_batch_killed_again_and_again_pays_for_one_session_per_task() {
    let (emu, c, agent, env) = setup(false);
    emu.set_script(
        Script::new()
            .step(Step::Pause(Duration::from_millis(700)))
            .step(Step::Echo),
    );
    let dir = temp("journal-sigkill");
    let n = 20;
    let tasks = tasks(&dir, n);
    let out = dir.join("results.jsonl");
    let args = batch_args(&tasks, &out, &agent, &env, &["--parallel", "4"]);
    let mut seed = u64::from(std::process::id());
    let mut kills = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 40, "the batch never finished");
        let mut child = crate::support::command(&emu)
            .args(&args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if kills < 8 {
            std::thread::sleep(Duration::from_millis(50 + next(&mut seed, 900)));
            if child.try_wait().unwrap().is_none() {
                // SIGKILL: nothing of the batch runs after it
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
                continue;
            }
        }
        let status = child.wait().unwrap();
        if status.code() == Some(0) {
            break;
        }
    }
    // every task's result, once, whole
    let all = results(&out);
    let mut by_id: HashMap<String, Value> = HashMap::new();
    for r in all {
        let id = r["id"].as_str().unwrap().to_string();
        assert!(by_id.insert(id.clone(), r).is_none(), "{id}: two results");
    }
    assert_eq!(by_id.len(), n, "a result is lost");
    for (id, r) in &by_id {
        let i: usize = id[1..].parse().unwrap();
        assert_eq!(r["text"], format!("You said: task {i}"), "{r}");
    }
    // every task's work got exactly one messaged session: the one its result names
    let mut messaged: HashMap<String, Vec<String>> = HashMap::new();
    let all_sessions = sessions(&c);
    for s in &all_sessions {
        let m = messages(&c, &s.id);
        assert!(m <= 1, "{} got {m} messages", s.id);
        if m == 1 {
            messaged
                .entry(s.metadata["task"].clone())
                .or_default()
                .push(s.id.clone());
        }
    }
    for (id, r) in &by_id {
        assert_eq!(messaged[id], [r["session_id"].as_str().unwrap()], "{id}");
    }
    eprintln!(
        "{kills} kills, {runs} runs: {} sessions, {} messaged, for {n} tasks",
        all_sessions.len(),
        messaged.values().map(Vec::len).sum::<usize>()
    );
}
